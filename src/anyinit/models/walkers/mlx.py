"""An ``mlx.nn.Module``: its parameters by layer type, in MLX's layouts, written back with
``Module.update`` (in place, as MLX modules are).

MLX lays a ``Linear`` weight out ``(out, in)`` and a convolution's ``(out, *kernel, in)``;
``MultiHeadAttention``'s ``query_proj``/``key_proj``/``value_proj``/``out_proj`` are the
canonical ``query``/``key``/``value``/``out`` projections; recurrent layers' ``Wx``/``Wh``
(``Wxh``/``Whh``) are the kernel and recurrent kernel of layer ``l0``, as torch's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mlx.nn as nn
from mlx.utils import tree_flatten, tree_unflatten

from ..slots import Slot, canonical_shape, layout_permutation, normalise_path

__all__ = ["slots", "write"]

_KINDS: tuple[tuple[Any, str], ...] = (
    (nn.Linear, "dense"),
    ((nn.Conv1d, nn.Conv2d, nn.Conv3d), "conv"),
    (nn.Embedding, "embedding"),
    ((nn.LayerNorm, nn.RMSNorm, nn.GroupNorm, nn.BatchNorm, nn.InstanceNorm), "norm"),
    (nn.LSTM, "lstm"),
    (nn.GRU, "gru"),
    (nn.RNN, "rnn"),
    (nn.MultiHeadAttention, "attention"),
)
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
_RECURRENT_ROLES = {"Wx": "kernel", "Wxh": "kernel", "Wh": "recurrent_kernel",
                    "Whh": "recurrent_kernel", "bias": "bias", "b": "bias",
                    "bhn": "recurrent_bias"}  # fmt: skip
_PROJECTIONS = {"query_proj": "query", "key_proj": "key", "value_proj": "value",
                "out_proj": "out"}  # fmt: skip


def _kind(module: Any) -> str:
    return next((kind for classes, kind in _KINDS if isinstance(module, classes)), "other")


def slots(model: Any, names: Mapping[str, str] | None) -> list[Slot]:
    """Each module's own parameters (``Module.parameters``), kinds from the module types."""
    modules = dict(model.named_modules())
    attention_of = {
        f"{owner}.{child}" if owner else child: which
        for owner, module in modules.items()
        if isinstance(module, nn.MultiHeadAttention)
        for child, which in _PROJECTIONS.items()
    }
    found: list[Slot] = []
    for native, value in tree_flatten(model.parameters()):
        module_name, _, name = native.rpartition(".")
        module = modules.get(module_name, model)
        kind, role = _kind(module), name
        parts = tuple(part for part in module_name.split(".") if part)
        rank = len(value.shape)
        perm = tuple(range(rank))
        info: dict[str, Any] = {}
        which = attention_of.get(module_name)
        if which is not None:  # a MultiHeadAttention projection, in the canonical form
            kind, role = "attention", "kernel" if name == "weight" else name
            parts = (*parts[:-1], which)
            info = {"attention": which}
            perm = layout_permutation("torch", rank)  # (out, in); a bias stays as it is
        elif kind in _GATES:
            role = _RECURRENT_ROLES.get(name, name)
            parts = (*parts, "l0")
            info = {"hidden_size": module.hidden_size, "gates": _GATES[kind]}
            perm = layout_permutation("torch", rank)
        elif kind in ("dense", "conv") and name == "weight":
            role, perm = "kernel", layout_permutation("mlx", rank)
        elif kind == "embedding" and name == "weight":
            role = "embedding"
        elif kind == "norm":
            role = "scale" if name == "weight" else name
        path = normalise_path(parts, role, names)
        canonical = canonical_shape(value.shape, perm)
        found.append(Slot(path, native, kind, role, value, perm, canonical, info))
    return found


def write(model: Any, found: list[Slot], values: dict[str, Any]) -> Any:
    """``model.update`` with the new arrays: the module is changed in place."""
    new = [(slot.native_path, values[slot.native_path]) for slot in found
           if slot.native_path in values]  # fmt: skip
    if new:
        model.update(tree_unflatten(new))
    return model
