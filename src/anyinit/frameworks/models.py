"""Finding a model's parameters and writing them back, per framework.

A *walker* has two functions: ``slots(model, names)`` lists the model's
parameters as :class:`~anyinit._slots.Slot` s, and ``write(model, slots,
values)`` puts new values (by native path) in place, or builds the new model.
:func:`walker_for` picks one by the model's type without importing any
framework: a type from a framework that is not imported cannot be passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from .._compat import is_array_api_obj
from .._slots import Slot, canonical_shape, layout_permutation, normalise_path

__all__ = ["leaf_slot", "walker_for"]

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


def walker_for(model: Any) -> Any:
    """The walker for `model`'s framework (a module or namespace with ``slots`` and ``write``)."""
    for cls in type(model).__mro__:
        module = cls.__module__ or ""
        if module.startswith("torch.nn") and cls.__name__ == "Module":
            from . import torch_models

            return torch_models
        if module.startswith("flax.nnx") and cls.__name__ in ("Module", "Object", "Pytree"):
            from . import jax_models

            return jax_models.NNX
        if module.startswith("equinox") and cls.__name__ == "Module":
            from . import jax_models

            return jax_models.EQUINOX
        if module.startswith("keras") and cls.__name__ == "Layer":
            from . import keras_models

            return keras_models
    if isinstance(model, (Mapping, list, tuple)):
        return PYTREE
    msg = (
        "`model` must be a torch nn.Module, a flax.nnx.Module, an Equinox module, a Keras "
        f"model or layer, or a dict/list pytree of arrays; received {type(model).__name__}."
    )
    raise TypeError(msg)


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
            for index, child in enumerate(node):
                visit(child, (*parts, str(index)), None)

    visit(tree, (), None)
    return found


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
            children = [rebuild(child, (*parts, str(i))) for i, child in enumerate(node)]
            return type(node)(children)
        return node

    return rebuild(tree, ())


def _same_mapping(node: Any, items: dict[Any, Any]) -> Any:
    try:
        return type(node)(items)
    except TypeError:
        return items


PYTREE = SimpleNamespace(slots=_pytree_slots, write=_pytree_write)
