"""Keras 3 models and layers: trainable variables by layer class, assigned in place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..slots import Slot, canonical_shape, layout_permutation, normalise_path

__all__ = ["slots", "write"]

_KINDS = {
    "Dense": "dense",
    "EinsumDense": "dense",
    "Conv1D": "conv",
    "Conv2D": "conv",
    "Conv3D": "conv",
    "Conv1DTranspose": "conv_transpose",
    "Conv2DTranspose": "conv_transpose",
    "Conv3DTranspose": "conv_transpose",
    "Embedding": "embedding",
    "LayerNormalization": "norm",
    "BatchNormalization": "norm",
    "GroupNormalization": "norm",
    "RMSNormalization": "norm",
    "SimpleRNNCell": "rnn",
    "LSTMCell": "lstm",
    "GRUCell": "gru",
}
_ROLES = {"embeddings": "embedding", "gamma": "scale", "beta": "bias"}
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _layout(kind: str, rank: int) -> tuple[int, ...]:
    if kind == "conv_transpose":
        # Keras's transposed kernels are (*k, out, in).
        return (*range(rank - 2), rank - 1, rank - 2)
    return layout_permutation("canonical", rank)


def _kind(layer: Any) -> str:
    for cls in type(layer).__mro__:
        if cls.__name__ in _KINDS:
            return _KINDS[cls.__name__]
    return "other"


def slots(model: Any, names: Mapping[str, str] | None) -> list[Slot]:
    """Each layer's own trainable variables (moving statistics are not parameters)."""
    if not model.built and not model.weights:
        # An unbuilt model has no variables yet: initializing nothing would be silent, and
        # the model would build later with Keras's defaults.
        msg = (
            f"the Keras model {model.name!r} is not built, so it has no weights to "
            "initialize yet; build it first (model.build(input_shape), or call it on a batch, "
            "or give it a keras.Input), then call anyinit.initialize."
        )
        raise ValueError(msg)
    found: list[Slot] = []
    seen: set[int] = set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        kind = _kind(layer)
        for variable in layer._trainable_variables:
            if id(variable) in seen:
                continue
            seen.add(id(variable))
            role = _ROLES.get(variable.name, variable.name)
            rank = len(variable.shape)
            perm = _layout(kind, rank) if role == "kernel" else tuple(range(rank))
            info: dict[str, Any] = {}
            if kind in _GATES:
                info = {"hidden_size": layer.units, "gates": _GATES[kind]}
                info["unit_forget_bias"] = bool(getattr(layer, "unit_forget_bias", True))
            parts = tuple(variable.path.split("/")[:-1])
            if layer is not model and parts[:1] == (model.name,):
                parts = parts[1:]  # a subclassed model's name is not part of its layers' paths
            path = normalise_path(parts, role, names)
            shape = canonical_shape(variable.shape, perm)
            found.append(Slot(path, variable.path, kind, role, variable, perm, shape, info))
    return found


def write(model: Any, found: list[Slot], values: dict[str, Any]) -> Any:
    """Assign the new values to the variables."""
    for slot in found:
        new = values.get(slot.native_path)
        if new is not None:
            slot.value.assign(new)
    return model
