"""Plain pytrees of arrays (dicts, lists, tuples: Flax linen params, a state dict) and the
slot of a leaf named by the frameworks' conventions (used by the NNX and Equinox walkers too)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from ..._compat import is_array_api_obj
from ..slots import Slot, canonical_shape, grouped_axes, layout_permutation, normalise_path

__all__ = ["PYTREE", "attention_group", "leaf_slot", "projection_slot"]

#: Leaf names → (kind, role) where the name alone says it (Flax, Keras, NNX).
_NAMED_ROLES = {
    "embedding": ("embedding", "embedding"),
    "embeddings": ("embedding", "embedding"),
    "scale": ("norm", "scale"),
    "gamma": ("norm", "scale"),
    "beta": ("norm", "bias"),
    "negative_slope": ("prelu", "slope"),  # Flax's PReLU
    "lora_a": ("lora", "lora_a"),  # NNX's LoRA
    "lora_b": ("lora", "lora_b"),
}
#: Flax's recurrent cells: one Dense per gate, named by input (i·) or hidden (h·) side.
_CELLS = (
    ("lstm", frozenset({"ii", "if", "ig", "io", "hi", "hf", "hg", "ho"})),
    ("gru", frozenset({"ir", "iz", "in", "hr", "hz", "hn"})),
    ("gru", frozenset({"if", "in", "hf", "hn"})),  # MGUCell: a gated unit, GRU's laws
    ("rnn", frozenset({"i", "h"})),  # SimpleCell
    # NNX's fused cells (GRUCell, OptimizedLSTMCell): one input and one recurrent Linear.
    ("gru", frozenset({"dense_i", "dense_h"})),
)


_PROJECTIONS = ("query", "key", "value", "out")


def attention_group(node: Mapping[str, Any]) -> bool:
    """Whether `node` holds Flax's attention projections (linen's MultiHeadDotProductAttention,
    NNX's MultiHeadAttention): ``query``/``key``/``value`` kernels ``(E, H, D)`` and an ``out``
    kernel ``(H, D, E)``, told apart from convolutions by these names and shapes together."""
    try:
        kernels = [node[name]["kernel"].shape for name in _PROJECTIONS]
    except (KeyError, TypeError, AttributeError):
        return False
    *qkv, out = (tuple(int(n) for n in shape) for shape in kernels)
    return all(len(k) == 3 and k[1:] == out[:2] for k in qkv) and len(out) == 3


def projection_slot(
    parts: Sequence[str],
    name: str,
    value: Any,
    projection: str,
    names: Mapping[str, str] | None,
    native_path: str,
) -> Slot:
    """A kernel or bias of an attention projection, in the canonical form: kernels drawn flat
    as ``(fan_in, fan_out)`` (``query``: ``(E, H·D)``, ``out``: ``(H·D, E)``), biases flat."""
    shape = tuple(int(n) for n in value.shape)
    if name == "kernel":
        split = 1 if projection != "out" else len(shape) - 1
        perm, canonical, expanded = grouped_axes(shape, range(split), range(split, len(shape)))
        return Slot(
            normalise_path(parts, "kernel", names),
            native_path,
            "attention",
            "kernel",
            value,
            perm,
            canonical,
            {"attention": projection},
            expanded,
        )
    canonical = (math.prod(shape),)
    return Slot(
        normalise_path(parts, name, names),
        native_path,
        "attention",
        name,
        value,
        (0,),
        canonical,
        {"attention": projection},
    )


def leaf_slot(
    parts: Sequence[str],
    name: str,
    value: Any,
    siblings: Mapping[str, Any] | Sequence[str],
    names: Mapping[str, str] | None,
    native_path: str,
    cell: str | None = None,
) -> Slot:
    """A slot from the names alone: Flax / NNX / Keras conventions, torch's in plain dicts.

    ``kernel`` is canonical, ``weight`` (rank ≥ 2) is torch's layout (an
    embedding where its layer's name says ``emb``), a ``bias`` belongs to its
    layer's kernel, and Flax's recurrent cells (``ii``…``ho``) are recurrent.
    """
    rank = len(value.shape)
    layout: Any = "canonical"
    info: dict[str, Any] = {}
    if cell is not None and name in ("kernel", "bias"):
        gate_side = parts[-1].removeprefix("dense_")[0] if parts else "i"
        kind = cell
        role = name if gate_side == "i" else f"recurrent_{name}"
        if role == "recurrent_bias":
            role = "bias"
        info = {"hidden_size": int(value.shape[-1]), "gates": 1, "gate": parts[-1] if parts else ""}
    elif name in _NAMED_ROLES:
        kind, role = _NAMED_ROLES[name]
    elif name == "kernel" and rank >= 3 and _rank(siblings, "bias") >= 2:
        # A multi-axis kernel with a multi-axis bias: DenseGeneral (flattened: fan_in of its
        # input axes) or Einsum (JAX's fans of the raw shape)? A tree of arrays cannot say;
        # no preset guesses (the kind "ambiguous" is left as it is, with the warning).
        kind, role = "ambiguous", "kernel"
    elif name == "kernel" or (name == "weight" and rank >= 2):
        if name == "weight" and any("emb" in p.lower() for p in parts[-1:]):
            kind, role = "embedding", "embedding"
        else:
            kind, role = ("dense" if rank == 2 else "conv"), "kernel"
            layout = "torch" if name == "weight" else layout
    elif name == "weight":
        kind, role = "norm", "scale"
    elif name == "bias":
        has_kernel = "kernel" in siblings or "weight" in siblings
        kind, role = ("dense" if has_kernel else "norm"), "bias"
        if rank >= 2 and _rank(siblings, "kernel") >= 3:
            kind = "ambiguous"  # the bias of an ambiguous kernel (above)
    elif name == "recurrent_kernel":
        kind, role = "rnn", "recurrent_kernel"
    else:
        kind, role = "other", name
    perm = layout_permutation(layout, rank)
    path = normalise_path(parts, role, names)
    return Slot(
        path, native_path, kind, role, value, perm, canonical_shape(value.shape, perm), info
    )


def _rank(siblings: Any, name: str) -> int:
    value = siblings.get(name) if isinstance(siblings, Mapping) else None
    return len(getattr(value, "shape", ()))


def _pytree_slots(tree: Any, names: Mapping[str, str] | None) -> list[Slot]:
    found: list[Slot] = []

    def visit(node: Any, parts: tuple[str, ...], cell: str | None, projection: str | None) -> None:
        if isinstance(node, Mapping):
            keys = {str(k) for k in node}
            inner = next((c for c, gates in _CELLS if gates <= keys), None)
            attention = attention_group(node)
            for key, child in node.items():
                if is_array_api_obj(child) or (hasattr(child, "shape") and hasattr(child, "dtype")):
                    native = "/".join((*parts, str(key)))
                    if projection is not None and str(key) in ("kernel", "bias"):
                        found.append(
                            projection_slot(
                                _layer(parts), str(key), child, projection, names, native
                            )
                        )
                        continue
                    found.append(
                        leaf_slot(_layer(parts), str(key), child, node, names, native, cell)
                    )
                else:
                    which = str(key) if attention and str(key) in _PROJECTIONS else None
                    visit(child, (*parts, str(key)), inner if inner else None, which)
        elif isinstance(node, (list, tuple)):
            for label, child in zip(_labels(node), node, strict=True):
                visit(child, (*parts, label), None, None)

    visit(tree, (), None, None)
    return found


def _labels(node: Any) -> list[str]:
    """A sequence's children by position; a namedtuple's by field name (as JAX's paths)."""
    fields = getattr(node, "_fields", None)
    return [str(f) for f in fields] if fields is not None else [str(i) for i in range(len(node))]


def _layer(parts: tuple[str, ...]) -> tuple[str, ...]:
    # Flax's collection name is not part of a parameter's path.
    return parts[1:] if parts[:1] == ("params",) else parts


def _pytree_write(tree: Any, slots: list[Slot], values: dict[str, Any]) -> Any:
    def rebuild(node: Any, parts: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            items = {}
            for key, child in node.items():
                native = "/".join((*parts, str(key)))
                items[key] = (
                    values[native] if native in values else rebuild(child, (*parts, str(key)))
                )
            if isinstance(node, defaultdict):  # its factory comes first
                return type(node)(node.default_factory, items)
            return type(node)(items) if isinstance(node, dict) else _same_mapping(node, items)
        if isinstance(node, (list, tuple)):
            children = [
                rebuild(child, (*parts, label))
                for label, child in zip(_labels(node), node, strict=True)
            ]
            if hasattr(node, "_fields"):  # a namedtuple takes its fields one by one
                return type(node)(*children)
            return type(node)(children)
        return node

    return rebuild(tree, ())


def _same_mapping(node: Any, items: dict[Any, Any]) -> Any:
    try:
        return type(node)(items)
    except TypeError:
        return items


PYTREE = SimpleNamespace(slots=_pytree_slots, write=_pytree_write)
