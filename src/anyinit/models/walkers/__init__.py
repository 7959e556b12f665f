"""Finding a model's parameters and writing them back, per framework.

A *walker* has two functions: ``slots(model, names)`` lists the model's
parameters as :class:`~anyinit.models.slots.Slot` s, and ``write(model, slots,
values)`` puts new values (by native path) in place, or builds the new model.
:func:`walker_for` picks one by the model's type without importing any
framework: a type from a framework that is not imported cannot be passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .pytree import PYTREE

__all__ = ["walker_for"]


def walker_for(model: Any) -> Any:
    """The walker for `model`'s framework (a module or namespace with ``slots`` and ``write``)."""
    for cls in type(model).__mro__:
        module = cls.__module__ or ""
        if module.startswith("torch.nn") and cls.__name__ == "Module":
            from . import torch as torch_walker

            return torch_walker
        if module.startswith("flax.nnx") and cls.__name__ in ("Module", "Object", "Pytree"):
            from . import jax as jax_walkers

            return jax_walkers.NNX
        if module.startswith("equinox") and cls.__name__ == "Module":
            from . import jax as jax_walkers

            return jax_walkers.EQUINOX
        if module.startswith("keras") and cls.__name__ == "Layer":
            from . import keras as keras_walker

            return keras_walker
        if module.startswith("mlx.nn") and cls.__name__ == "Module":
            from . import mlx as mlx_walker

            return mlx_walker
        if module.startswith("tensorflow") and cls.__name__ == "Module":
            from . import tensorflow as tensorflow_walker

            return tensorflow_walker
    if isinstance(model, (Mapping, list, tuple)):
        return PYTREE
    msg = (
        "`model` must be a torch nn.Module, a flax.nnx.Module, an Equinox module, a Keras "
        "model or layer, a tf.Module, an mlx.nn.Module, or a dict/list pytree of arrays; "
        "received "
        f"{type(model).__name__}."
    )
    raise TypeError(msg)
