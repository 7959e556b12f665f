"""Keras 3 models and layers: trainable variables by layer class, assigned in place."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from ..slots import Slot, canonical_shape, grouped_axes, layout_permutation, normalise_path

__all__ = ["einsum_axes", "slots", "write"]

_KINDS = {
    "Dense": "dense",
    "EinsumDense": "dense",
    "Conv1D": "conv",
    "Conv2D": "conv",
    "Conv3D": "conv",
    "DepthwiseConv1D": "conv",
    "DepthwiseConv2D": "conv",
    "SeparableConv1D": "conv",
    "SeparableConv2D": "conv",
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
    "ConvLSTMCell": "lstm",
    "PReLU": "prelu",
}
_ROLES = {
    "embeddings": "embedding",
    "gamma": "scale",
    "beta": "bias",
    "alpha": "slope",
    "lora_kernel_a": "lora_a",  # Dense / EinsumDense / Embedding .enable_lora(rank)
    "lora_kernel_b": "lora_b",
}
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


def einsum_axes(equation: str) -> tuple[list[int], list[int]] | None:
    """The input and output axes of an ``EinsumDense`` kernel, as Keras counts its fans: an
    axis whose letter is in the output is an output axis, every other an input axis."""
    try:
        operands, output = equation.replace(" ", "").split("->")
        _, kernel = operands.split(",")
    except ValueError:
        return None
    if "." in kernel:
        return None
    inputs = [axis for axis, letter in enumerate(kernel) if letter not in output]
    outputs = [axis for axis, letter in enumerate(kernel) if letter in output]
    return inputs, outputs


#: MultiHeadAttention's projections (its EinsumDense sub-layers), by canonical name.
_PROJECTIONS = {
    "_query_dense": "query",
    "_key_dense": "key",
    "_value_dense": "value",
    "_output_dense": "out",
}


def _projections(layers: list[Any]) -> dict[int, str]:
    found = {}
    attention = ("MultiHeadAttention", "GroupedQueryAttention")
    for layer in layers:
        if any(cls.__name__ in attention for cls in type(layer).__mro__):
            for attribute, name in _PROJECTIONS.items():
                sub = getattr(layer, attribute, None)
                if sub is not None:
                    found[id(sub)] = name
    return found


def _kernel_layout(
    layer: Any, kind: str, shape: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]:
    """``(perm, canonical, expanded)`` of a kernel: EinsumDense's by its equation's fan axes."""
    axes = einsum_axes(layer.equation) if hasattr(layer, "equation") else None
    if axes is not None and len(shape) != 2:
        return grouped_axes(shape, *axes)
    perm = _layout(kind, len(shape))
    return perm, canonical_shape(shape, perm), None


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
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    unbuilt = [layer.name for layer in layers if layer is not model and not layer.built]
    if unbuilt:
        shown = ", ".join(repr(name) for name in unbuilt[:5])
        more = f" and {len(unbuilt) - 5} more" if len(unbuilt) > 5 else ""
        warnings.warn(
            f"the Keras layers {shown}{more} are not built, so they have no weights yet: "
            "they are left out, and take Keras's defaults when they build. Build the model "
            "first (call it on a batch, or give it a keras.Input) to initialize them too.",
            UserWarning,
            stacklevel=4,
        )
    projections = _projections(layers)
    # A wrapper (SpectralNormalization, Bidirectional) tracks its inner layer's variables
    # too: each variable belongs to the innermost layer that holds it, whose law it gets.
    owner = {id(v): layer for layer in layers for v in layer._trainable_variables}
    for layer in layers:
        kind = _kind(layer)
        projection = projections.get(id(layer))
        for variable in layer._trainable_variables:
            if id(variable) in seen or owner[id(variable)] is not layer:
                continue
            seen.add(id(variable))
            role = _ROLES.get(variable.name, variable.name)
            shape = tuple(int(n) for n in variable.shape)
            expanded = None
            if role == "kernel":
                perm, canonical, expanded = _kernel_layout(layer, kind, shape)
            elif projection is not None:  # a projection's bias (H, D), drawn flat
                perm, canonical = (0,), (math.prod(shape),)
            else:
                perm = tuple(range(len(shape)))
                canonical = shape
            info: dict[str, Any] = {}
            if kind in _GATES:
                units = getattr(layer, "units", None) or layer.filters  # ConvLSTM: filters
                info = {"hidden_size": units, "gates": _GATES[kind]}
                info["unit_forget_bias"] = bool(getattr(layer, "unit_forget_bias", True))
            parts = tuple(variable.path.split("/")[:-1])
            if layer is not model and parts[:1] == (model.name,):
                parts = parts[1:]  # a subclassed model's name is not part of its layers' paths
            if projection is not None:  # the canonical form of every framework's attention
                kind, info["attention"] = "attention", projection
                parts = (*parts[:-1], projection)
            path = normalise_path(parts, role, names)
            found.append(
                Slot(path, variable.path, kind, role, variable, perm, canonical, info, expanded)
            )
    return found


def write(model: Any, found: list[Slot], values: dict[str, Any]) -> Any:
    """Assign the new values to the variables."""
    for slot in found:
        new = values.get(slot.native_path)
        if new is not None:
            slot.value.assign(new)
    return model
