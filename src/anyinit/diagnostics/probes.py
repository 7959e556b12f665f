"""The probe for a model's framework, picked by its type without importing any framework."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["probe_for"]


def _framework(model: Any) -> str | None:
    for cls in type(model).__mro__:
        module = cls.__module__ or ""
        if module.startswith("torch.nn") and cls.__name__ == "Module":
            return "torch"
        if module.startswith("flax.nnx") and cls.__name__ in ("Module", "Object", "Pytree"):
            return "nnx"
        if module.startswith("flax.linen") and cls.__name__ == "Module":
            return "linen"
        if module.startswith("equinox") and cls.__name__ == "Module":
            return "equinox"
        if module.startswith("keras") and cls.__name__ == "Layer":
            return "keras"
    return None


def probe_for(model: Any, call_kwargs: Mapping[str, Any] | None) -> Any:
    """A probe (``layers``, ``run``, ``scale``, ``result``, ``to_numpy``) for `model`."""
    kwargs = dict(call_kwargs or {})
    if isinstance(model, tuple) and len(model) == 2 and _framework(model[0]) == "linen":
        from .jax import LinenProbe

        return LinenProbe(model[0], model[1], kwargs)
    framework = _framework(model)
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
