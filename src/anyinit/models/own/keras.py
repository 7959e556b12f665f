"""The ``"own"`` preset on Keras: each layer's own configured initializers.

A Keras layer keeps the initializer of each of its weights as an attribute
(``kernel_initializer``, ``recurrent_initializer``, ``embeddings_initializer``,
``gamma_initializer``, …). Keras's built-in classes become anyinit's classes of
the same name and config (the same law, drawn from the portable stream by the
parameter's path); anyinit's own are themselves; any other callable is called
as Keras would call it, with a seed derived from the seed and the path, and the
report says so. Each is applied to the variable's own shape, as Keras applies it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ...initializers.base import Initializer
from ...initializers.constant import Ones
from ...initializers.registry import deserialize
from ...stream import StreamKey
from ..presets import Blocks
from ..slots import Slot
from .native import NativeShape

__all__ = ["rule"]

#: The layer attributes that may hold a variable's initializer, by the variable's name,
#: after ``<name>_initializer``.
_ATTRIBUTES = {
    "recurrent_kernel": ("recurrent_initializer",),
    "depthwise_kernel": ("depthwise_initializer",),
    "pointwise_kernel": ("pointwise_initializer",),
    "kernel": ("depthwise_initializer",),  # DepthwiseConv's kernel
    "scale": ("gamma_initializer",),
    "reverse_embeddings": ("embeddings_initializer",),  # ReversibleEmbedding's
}


def _call_keras(initializer: Any, shape: tuple[int, ...], like: Any, seed: Any) -> Any:
    """A custom Keras initializer, called as Keras calls it, its seed from the path's key."""
    import numpy as np

    if hasattr(initializer, "seed"):
        initializer.seed = seed.k0 if isinstance(seed, StreamKey) else seed
    values = initializer(shape, dtype=getattr(like, "dtype", None))
    ops = importlib.import_module("keras").ops
    return np.asarray(ops.convert_to_numpy(values))


def _anyinit(initializer: Any) -> tuple[Any, str]:
    """An initializer as anyinit's (the same law), or the callable as it is."""
    if isinstance(initializer, Initializer):
        return initializer, repr(initializer)
    module = type(initializer).__module__ or ""
    if module.startswith("keras") and hasattr(initializer, "get_config"):
        config = {"class_name": type(initializer).__name__, "config": initializer.get_config()}
        try:
            converted = deserialize(config)
        except (ValueError, TypeError):
            pass
        else:
            return converted, f"{converted!r} (Keras's {type(initializer).__name__})"
    name = getattr(initializer, "__name__", type(initializer).__name__)
    return initializer, f"{name} (a custom initializer, seeded from the path)"


def rule(model: Any) -> Callable[[Slot], tuple[Any, str]]:
    """For each slot of `model`: its layer's own initializer, and what to report."""
    owner: dict[int, Any] = {}
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for variable in layer._trainable_variables:
            owner[id(variable)] = layer  # the innermost layer holding it (a wrapper's inner)

    def choose(slot: Slot) -> tuple[Any, str]:
        layer = owner.get(id(slot.value))
        name = str(slot.value.name)
        candidates = (f"{name}_initializer", *_ATTRIBUTES.get(name, ()))
        initializer = next(
            (found for a in candidates if (found := getattr(layer, a, None)) is not None), None
        )
        if initializer is None:
            return None, ""
        law, label = _anyinit(initializer)
        if name == "bias" and getattr(layer, "unit_forget_bias", False) and slot.kind == "lstm":
            # LSTMCell(unit_forget_bias=True) builds its bias as [init, ones, init, init].
            units = slot.info["hidden_size"]
            blocks = Blocks(((law, units), (Ones(), units), (law, 2 * units)))
            if isinstance(law, Initializer):
                return blocks, f"{label}, forget gate ones"
        # Keras applies it to the variable's shape; where the canonical layout only permutes
        # the axes (transposed convolutions), the same fans need that shape. A grouped
        # kernel (EinsumDense's) is drawn flat, as Keras counts its fans.
        permuted = slot.perm != tuple(range(len(slot.perm))) and slot.expanded is None
        if isinstance(law, Initializer) and not permuted:
            return law, label
        return NativeShape(law, slot, label, _call_keras), label

    return choose
