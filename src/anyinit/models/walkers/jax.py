"""Flax NNX modules (in place) and Equinox modules (a new module), by their parameters."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from ..._compat import is_array_api_obj
from ..slots import Slot, canonical_shape, grouped_axes, layout_permutation, normalise_path
from .pytree import PYTREE

__all__ = ["EQUINOX", "NNX"]


# -- Flax NNX: its Params as a nested dict, named as linen names them ------------------


def _nnx_params(
    model: Any, typed: tuple[type, ...] = ()
) -> tuple[dict[tuple[str, ...], Any], dict[str, Any]]:
    """The model's Params by path, and ``{"a/b": module}`` of the modules of `typed` types,
    in one walk of the graph."""
    from flax import nnx

    params: dict[tuple[str, ...], Any] = {}
    modules: dict[str, Any] = {}
    for path, node in nnx.iter_graph(model):
        parts = tuple(str(p) for p in path)
        if isinstance(node, nnx.Param):
            params[parts] = node
        elif typed and isinstance(node, typed):
            modules["/".join(parts)] = node
    return params, modules


def _nested(params: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, variable in params.items():
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = variable.get_value() if hasattr(variable, "get_value") else variable.value
    return tree


def _nnx_slots(model: Any, names: Mapping[str, str] | None) -> list[Slot]:
    from flax import nnx

    params, modules = _nnx_params(model, (nnx.LinearGeneral, nnx.Einsum))
    found: list[Slot] = PYTREE.slots(_nested(params), names)
    # Where names and shapes are ambiguous (a multi-axis kernel), NNX's module types say:
    # LinearGeneral draws flat, (prod(in_features), prod(out_features)), as linen's
    # DenseGeneral; Einsum draws its raw shape with JAX's fans (a convolution's, here).
    for slot in found:
        layer, _, name = slot.native_path.rpartition("/")
        module = modules.get(layer)
        if module is None or slot.kind != "ambiguous":
            continue
        shape = slot.native_shape
        if isinstance(module, nnx.Einsum):
            slot.kind = "conv" if name == "kernel" else "dense"
            slot.perm, slot.canonical = tuple(range(len(shape))), shape
            if name != "kernel":
                slot.perm, slot.canonical = (0,), (math.prod(shape),)
        elif not module.batch_axis:
            slot.kind = "dense"
            if name == "kernel":
                split = len(module.in_features)
                slot.perm, slot.canonical, slot.expanded = grouped_axes(
                    shape, range(split), range(split, len(shape))
                )
            else:
                slot.perm, slot.canonical = (0,), (math.prod(shape),)
    return found


def _nnx_write(model: Any, found: list[Slot], values: dict[str, Any]) -> Any:
    for path, variable in _nnx_params(model)[0].items():
        new = values.get("/".join(path))
        if new is None:
            continue
        if hasattr(variable, "set_value"):
            variable.set_value(new)
        else:  # flax < 0.12
            variable.value = new
    return model


NNX = SimpleNamespace(slots=_nnx_slots, write=_nnx_write)


# -- Equinox: known layers by type; torch's layouts ---------------------------------------


def _equinox_kind(module: Any) -> str | None:
    import equinox as eqx

    nn = eqx.nn
    kinds = (
        (nn.Linear, "dense"),
        (nn.ConvTranspose, "conv_transpose"),
        (nn.Conv, "conv"),
        (nn.Embedding, "embedding"),
        (nn.LayerNorm, "norm"),
        (nn.GroupNorm, "norm"),
        (nn.RMSNorm, "norm"),
        (nn.BatchNorm, "norm"),
        (nn.LSTMCell, "lstm"),
        (nn.GRUCell, "gru"),
        (nn.PReLU, "prelu"),
    )
    return next((kind for cls, kind in kinds if isinstance(module, cls)), None)


def _equinox_slot(
    parts: tuple[str, ...],
    kind: str,
    name: str,
    value: Any,
    module: Any,
    names: Mapping[str, str] | None,
) -> Slot:
    rank = len(value.shape)
    perm: tuple[int, ...] = tuple(range(rank))
    info: dict[str, Any] = {}
    role = name
    if kind in ("lstm", "gru"):
        roles = {"weight_ih": "kernel", "weight_hh": "recurrent_kernel", "bias_n": "recurrent_bias"}
        role = roles.get(name, name)
        info = {"hidden_size": module.hidden_size, "gates": 4 if kind == "lstm" else 3}
        if rank == 2:
            perm = layout_permutation("torch", 2)
    elif kind == "embedding":
        role = "embedding"
    elif kind == "prelu":
        role = "slope"
    elif kind == "norm":
        role = "scale" if name == "weight" else name
    elif name == "weight":
        role, perm = "kernel", layout_permutation("torch", rank)
    canonical: tuple[int, ...]
    if name.startswith("bias") and rank > 1:
        perm, canonical = (0,), (int(value.shape[0]),)  # Conv's bias is (out, 1, …, 1)
    else:
        canonical = canonical_shape(value.shape, perm)
    native = ".".join((*parts, name))
    return Slot(
        normalise_path(parts, role, names), native, kind, role, value, perm, canonical, info
    )


#: Equinox's MultiheadAttention projections, by their canonical names.
_EQUINOX_PROJECTIONS = {
    "query_proj": "query",
    "key_proj": "key",
    "value_proj": "value",
    "output_proj": "out",
}


def _equinox_walk(model: Any) -> list[tuple[tuple[Any, ...], Any, str | None, str | None]]:
    """``(steps, module, kind, projection)`` for every module in `model`; a step is an
    attribute or an index; `projection` names a MultiheadAttention's canonical projection."""
    import equinox as eqx

    found: list[tuple[tuple[Any, ...], Any, str | None, str | None]] = []

    def visit(node: Any, steps: tuple[Any, ...], projection: str | None) -> None:
        if isinstance(node, eqx.nn.StateIndex):  # state (BatchNorm's statistics), not parameters
            return
        if isinstance(node, eqx.Module):
            found.append((steps, node, _equinox_kind(node), projection))
            attention = isinstance(node, eqx.nn.MultiheadAttention)
            for field in dataclasses.fields(node):
                inner = _EQUINOX_PROJECTIONS.get(field.name) if attention else None
                visit(getattr(node, field.name, None), (*steps, field.name), inner)
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                visit(child, (*steps, index), None)
        elif isinstance(node, dict):
            for key, child in node.items():
                visit(child, (*steps, key), None)

    visit(model, (), None)
    return found


def _equinox_slots(model: Any, names: Mapping[str, str] | None) -> list[Slot]:
    found = []
    for steps, module, known, projection in _equinox_walk(model):
        # A module of a type no preset knows still lists its arrays (kind "other"), so that a
        # preset names them as not covered instead of passing over them.
        kind = known or "other"
        native = tuple(str(step) for step in steps)
        parts = native
        if projection is not None:  # the canonical form of every framework's attention
            parts = (*native[:-1], projection)
        for field in dataclasses.fields(module):
            value = getattr(module, field.name, None)
            if hasattr(value, "dtype") and hasattr(value, "shape") and _is_array(value):
                slot = _equinox_slot(parts, kind, field.name, value, module, names)
                slot.info["steps"] = (*steps, field.name)
                slot.native_path = ".".join((*native, field.name))
                if projection is not None:
                    slot.kind, slot.info["attention"] = "attention", projection
                found.append(slot)
    return found


def _is_array(value: Any) -> bool:
    return is_array_api_obj(value)


def _get(node: Any, steps: tuple[Any, ...]) -> Any:
    for step in steps:
        if isinstance(step, str) and not isinstance(node, dict):
            node = getattr(node, step)
        else:
            node = node[step]
    return node


def _equinox_write(model: Any, found: list[Slot], values: dict[str, Any]) -> Any:
    import equinox as eqx

    chosen = [slot for slot in found if slot.native_path in values]
    if not chosen:
        return model
    return eqx.tree_at(
        lambda m: [_get(m, slot.info["steps"]) for slot in chosen],
        model,
        replace=[values[slot.native_path] for slot in chosen],
    )


EQUINOX = SimpleNamespace(slots=_equinox_slots, write=_equinox_write)
