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

__all__ = ["framework_of", "walker_for"]


#: (module prefix, base class names, framework): the class in a model's MRO that says whose it is.
_BASES = (
    ("torch.nn", ("Module",), "torch"),
    ("flax.nnx", ("Module", "Object", "Pytree"), "nnx"),
    ("flax.linen", ("Module",), "linen"),
    ("equinox", ("Module",), "equinox"),
    ("keras", ("Layer",), "keras"),
    ("mlx.nn", ("Module",), "mlx"),
    ("tensorflow", ("Module",), "tensorflow"),
)


def framework_of(model: Any) -> str | None:
    """Whose model `model` is (``"torch"``, ``"nnx"``, ``"linen"``, ``"equinox"``,
    ``"keras"``, ``"mlx"``, ``"tensorflow"``), by its base classes; None for anything else."""
    for cls in type(model).__mro__:
        module = cls.__module__ or ""
        for prefix, names, framework in _BASES:
            if module.startswith(prefix) and cls.__name__ in names:
                return framework
    return None


def walker_for(model: Any) -> Any:
    """The walker for `model`'s framework (a module or namespace with ``slots`` and ``write``)."""
    framework = framework_of(model)
    if framework == "torch":
        from . import torch as torch_walker

        return torch_walker
    if framework in ("nnx", "equinox"):
        from . import jax as jax_walkers

        return jax_walkers.NNX if framework == "nnx" else jax_walkers.EQUINOX
    if framework == "keras":
        from . import keras as keras_walker

        return keras_walker
    if framework == "mlx":
        from . import mlx as mlx_walker

        return mlx_walker
    if framework == "tensorflow":
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
