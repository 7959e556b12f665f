"""``jax.nn.initializers``' names, signatures, defaults and meanings, on every backend.

A JAX codebase switches with one import::

    from anyinit import jax_nn as initializers   # was: from jax.nn import initializers

Each factory returns an anyinit initializer with JAX's meaning, so the
names keep JAX's defaults where anyinit's top-level (Keras) names differ:

=============================================  ========================  ====================
call                                           here (JAX's meaning)      ``anyinit.<name>``
=============================================  ========================  ====================
``normal()``                                   N(0, 0.01²)               N(0, 0.05²)
``uniform()``                                  U[0, 0.01)                U[-0.05, 0.05)
``variance_scaling(1, "fan_in", "normal")``    untruncated normal        truncated (Keras)
``truncated_normal()``                         stddev 0.01, any bounds   stddev 0.05, ±2
=============================================  ========================  ====================

Called as JAX calls them, ``init(key, shape, dtype)``, the result is
``jax.nn.initializers``' own, bit for bit, and traceable. They are also
anyinit initializers: ``init(shape, like=a_torch_tensor)`` or ``xp=`` draws
on any backend; pass ``seed=`` (an anyinit extension) for reproducible
values there. The factories' `dtype` is the default dtype of a call that
names none, as in JAX.

Examples
--------
>>> from anyinit import jax_nn as initializers
>>> init = initializers.variance_scaling(1.0, "fan_in", "normal", seed=0)
>>> init.distribution
'untruncated_normal'
>>> init((3, 4)).shape
(3, 4)
"""

from __future__ import annotations

from typing import Any

from .._typing import Axes, DType
from ..initializers import random as _random
from ..initializers.constant import Constant, Ones, Zeros
from ..initializers.orthogonal import DeltaOrthogonal, Orthogonal

__all__ = [
    "constant",
    "delta_orthogonal",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

#: JAX's distribution names → anyinit's (JAX's "normal" is untruncated).
_DISTRIBUTIONS = {
    "normal": "untruncated_normal",
    "truncated_normal": "truncated_normal",
    "uniform": "uniform",
}


def _with_dtype(init: Any, dtype: DType | str | None) -> Any:
    init.default_dtype = dtype
    return init


def normal(stddev: float = 1e-2, dtype: DType | str | None = None, *, seed: Any = None) -> Any:
    """N(0, stddev²), as ``jax.nn.initializers.normal``.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> jax_nn.normal().stddev
    0.01
    """
    return _with_dtype(_random.RandomNormal(0.0, stddev, seed=seed), dtype)


def uniform(scale: float = 1e-2, dtype: DType | str | None = None, *, seed: Any = None) -> Any:
    """U[0, scale), as ``jax.nn.initializers.uniform``.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> init = jax_nn.uniform(seed=0)
    >>> (init.minval, init.maxval)
    (0.0, 0.01)
    """
    return _with_dtype(_random.RandomUniform(0.0, scale, seed=seed), dtype)


def truncated_normal(
    stddev: float = 1e-2,
    dtype: DType | str | None = None,
    lower: float = -2.0,
    upper: float = 2.0,
    *,
    seed: Any = None,
) -> Any:
    """N(0, stddev²) truncated to ``[lower·stddev, upper·stddev]``, as JAX's.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> init = jax_nn.truncated_normal(0.02, lower=-3.0, upper=3.0, seed=0)
    >>> float(abs(init((1000,))).max()) <= 0.06
    True
    """
    init = _random.TruncatedNormal(0.0, stddev, seed, lower=lower, upper=upper)
    return _with_dtype(init, dtype)


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: DType | str | None = None,
    *,
    seed: Any = None,
) -> Any:
    """JAX's ``variance_scaling``: ``"normal"`` is the *untruncated* normal here, as in JAX.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> jax_nn.variance_scaling(2.0, "fan_in", "truncated_normal").distribution
    'truncated_normal'
    """
    if distribution not in _DISTRIBUTIONS:
        msg = (
            f"`distribution` must be one of {tuple(_DISTRIBUTIONS)} (JAX's names); "
            f"received distribution={distribution!r}."
        )
        raise ValueError(msg)
    init = _random.VarianceScaling(
        scale,
        mode,
        _DISTRIBUTIONS[distribution],
        seed,
        in_axis=in_axis,
        out_axis=out_axis,
        batch_axis=batch_axis,
    )
    return _with_dtype(init, dtype)


def _preset(cls: type, name: str) -> Any:
    def factory(
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        dtype: DType | str | None = None,
        *,
        seed: Any = None,
    ) -> Any:
        init = cls(seed, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
        return _with_dtype(init, dtype)

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"""{cls.__name__}, with ``jax.nn.initializers``' signature.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> type(jax_nn.{name}()).__name__
    '{cls.__name__}'
    """
    return factory


glorot_normal = _preset(_random.GlorotNormal, "glorot_normal")
glorot_uniform = _preset(_random.GlorotUniform, "glorot_uniform")
he_normal = _preset(_random.HeNormal, "he_normal")
he_uniform = _preset(_random.HeUniform, "he_uniform")
lecun_normal = _preset(_random.LecunNormal, "lecun_normal")
lecun_uniform = _preset(_random.LecunUniform, "lecun_uniform")
xavier_normal = glorot_normal
xavier_uniform = glorot_uniform
kaiming_normal = he_normal
kaiming_uniform = he_uniform


def _orthogonal_factory(cls: type, name: str, summary: str) -> Any:
    channels_last_only = cls is DeltaOrthogonal

    def factory(
        scale: float = 1.0,
        column_axis: int = -1,
        dtype: DType | str | None = None,
        *,
        seed: Any = None,
    ) -> Any:
        if not channels_last_only:
            return _with_dtype(cls(scale, seed, column_axis=column_axis), dtype)
        if column_axis != -1:
            msg = (
                f"`column_axis` must be -1 (channels last) here; "
                f"received column_axis={column_axis!r}."
            )
            raise ValueError(msg)
        return _with_dtype(cls(scale, seed), dtype)

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"""{summary}

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> type(jax_nn.{name}(2.0)).__name__
    '{cls.__name__}'
    """
    return factory


orthogonal = _orthogonal_factory(
    Orthogonal, "orthogonal", "A (semi-)orthogonal matrix times `scale`, as JAX's ``orthogonal``."
)
delta_orthogonal = _orthogonal_factory(
    DeltaOrthogonal,
    "delta_orthogonal",
    "JAX's ``delta_orthogonal`` (channels last: `column_axis` must be -1).",
)


def constant(value: Any, dtype: DType | str | None = None) -> Any:
    """Fills with `value`, as JAX's ``constant``.

    Examples
    --------
    >>> from anyinit import jax_nn
    >>> jax_nn.constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    """
    return _with_dtype(Constant(value), dtype)


#: ``zeros(key, shape, dtype)``, as JAX's (also ``zeros(shape, like=...)``).
zeros = Zeros()
#: ``ones(key, shape, dtype)``, as JAX's (also ``ones(shape, like=...)``).
ones = Ones()
