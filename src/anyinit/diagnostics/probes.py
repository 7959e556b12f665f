"""The probe for a model's framework, picked by its type without importing any framework."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.walkers import framework_of

__all__ = ["is_linen_pair", "probe_for"]


def is_linen_pair(model: Any) -> bool:
    """Whether `model` is a Flax linen ``(module, variables)`` pair."""
    return isinstance(model, tuple) and len(model) == 2 and framework_of(model[0]) == "linen"


def probe_for(model: Any, call_kwargs: Mapping[str, Any] | None) -> Any:
    """A probe (``layers``, ``run``, ``scale``, ``result``, ``to_numpy``) for `model`."""
    kwargs = dict(call_kwargs or {})
    if is_linen_pair(model):
        from .jax import LinenProbe

        return LinenProbe(model[0], model[1], kwargs)
    framework = framework_of(model)
    if framework == "torch":
        from .torch import TorchProbe

        return TorchProbe(model, kwargs)
    if framework == "nnx":
        from .jax import NNXProbe

        return NNXProbe(model, kwargs)
    if framework == "equinox":
        from .jax import EquinoxProbe

        return EquinoxProbe(model, kwargs)
    if framework == "keras":
        from .keras import KerasProbe

        return KerasProbe(model, kwargs)
    if framework == "linen":
        msg = (
            "a Flax linen module holds no weights: pass it with its variables, "
            "`(module, variables)` (what module.init returns, or its 'params')"
        )
        raise TypeError(msg)
    msg = (
        "`model` must be a torch nn.Module, a Flax linen `(module, variables)` pair, a "
        f"flax.nnx.Module, an Equinox module or a Keras model; received {type(model).__name__}."
    )
    raise TypeError(msg)
