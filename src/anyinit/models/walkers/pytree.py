"""Plain pytrees of arrays (dicts, lists, tuples: Flax linen params, a state dict) and the
slot of a leaf named by the frameworks' conventions (used by the NNX and Equinox walkers too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from ..._compat import is_array_api_obj
from ..slots import Slot, canonical_shape, layout_permutation, normalise_path

__all__ = ["PYTREE", "leaf_slot"]

#: Leaf names → (kind, role) where the name alone says it (Flax, Keras, NNX).
_NAMED_ROLES = {
    "embedding": ("embedding", "embedding"),
    "embeddings": ("embedding", "embedding"),
    "scale": ("norm", "scale"),
    "gamma": ("norm", "scale"),
    "beta": ("norm", "bias"),
}
#: Flax's recurrent cells: one Dense per gate, named by input (i·) or hidden (h·) side.
_CELLS = {
    "lstm": frozenset({"ii", "if", "ig", "io", "hi", "hf", "hg", "ho"}),
    "gru": frozenset({"ir", "iz", "in", "hr", "hz", "hn"}),
}


def leaf_slot(
    parts: Sequence[str],
    name: str,
    value: Any,
    siblings: Sequence[str],
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
        gate_side = parts[-1][0] if parts else "i"
        kind = cell
        role = name if gate_side == "i" else f"recurrent_{name}"
        if role == "recurrent_bias":
            role = "bias"
        info = {"hidden_size": int(value.shape[-1]), "gates": 1}
    elif name in _NAMED_ROLES:
        kind, role = _NAMED_ROLES[name]
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
    elif name == "recurrent_kernel":
        kind, role = "rnn", "recurrent_kernel"
    else:
        kind, role = "other", name
    perm = layout_permutation(layout, rank)
    path = normalise_path(parts, role, names)
    return Slot(
        path, native_path, kind, role, value, perm, canonical_shape(value.shape, perm), info
    )


def _pytree_slots(tree: Any, names: Mapping[str, str] | None) -> list[Slot]:
    found: list[Slot] = []

    def visit(node: Any, parts: tuple[str, ...], cell: str | None) -> None:
        if isinstance(node, Mapping):
            keys = {str(k) for k in node}
            inner = next((c for c, gates in _CELLS.items() if gates <= keys), None)
            for key, child in node.items():
                if is_array_api_obj(child) or (hasattr(child, "shape") and hasattr(child, "dtype")):
                    native = "/".join((*parts, str(key)))
                    found.append(
                        leaf_slot(_layer(parts), str(key), child, list(keys), names, native, cell)
                    )
                else:
                    visit(child, (*parts, str(key)), inner if inner else None)
        elif isinstance(node, (list, tuple)):
            for label, child in zip(_labels(node), node, strict=True):
                visit(child, (*parts, label), None)

    visit(tree, (), None)
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
