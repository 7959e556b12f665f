"""``mlx.nn.init``'s names, signatures, defaults and meanings, drawn by anyinit.

MLX code switches with one import::

    from anyinit import mlx_nn as init   # was: import mlx.nn.init as init

    layer.weight = init.he_uniform()(layer.weight, mode="fan_in", gain=2**0.5)

Each factory returns, as ``mlx.nn.init``'s do, a function of an array (and a
`gain` / `mode` where MLX takes them) that returns a new ``mx.array`` shaped like
it, in the factory's `dtype` (float32 by default). The fans are MLX's: an array
is read in MLX's layout ``(out, *kernel, in)``. MLX's meanings differ from the
top-level (Keras) names:

==============================  ================================  ==============================
call                            here (MLX's meaning)              ``anyinit.<name>``
==============================  ================================  ==============================
``he_normal()(a)``              N(0, (gain / √fan)²), gain 1      truncated, variance 2/fan_in
``he_uniform()(a)``             U(±gain·√(3/fan)), gain 1         U(±√(6/fan_in))
``glorot_normal()(a)``          untruncated normal                truncated normal
``normal()`` / ``uniform()``    N(0, 1) / U[0, 1)                 N(0, 0.05²) / U[-0.05, 0.05)
==============================  ================================  ==============================

`seed` (an anyinit extension) makes the values reproducible: an integer seeds a
:class:`anyinit.SeedGenerator`, so successive calls of one factory's function give
different, repeatable arrays, as MLX's global generator does. Values come from the
portable stream: the same as NumPy's, torch's or JAX's for the same seed.

Examples
--------
>>> from anyinit import mlx_nn
>>> init = mlx_nn.glorot_uniform(seed=0)
>>> init.__name__
'glorot_uniform'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..initializers.base import Initializer
from ..initializers.constant import Constant, Identity
from ..initializers.orthogonal import Orthogonal
from ..initializers.random import RandomNormal, RandomUniform, VarianceScaling
from ..seeds import SeedGenerator

__all__ = [
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "normal",
    "orthogonal",
    "uniform",
]

_MODES = ("fan_in", "fan_out")


def _seed(seed: Any) -> Any:
    """An integer seeds a generator: each call of the returned function draws anew."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        return SeedGenerator(seed)
    return seed


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    return function


def _apply(init: Initializer, array: Any, dtype: Any) -> Any:
    """`init` drawn like `array` (MLX's layout), in `dtype`."""
    return init(array, dtype)


def _mode(mode: str) -> str:
    if mode not in _MODES:
        msg = f"Invalid mode: {mode}. Valid modes are: fan_in, fan_out"
        raise ValueError(msg)
    return mode


def constant(value: float, dtype: Any = "float32") -> Callable[[Any], Any]:
    """``mlx.nn.init.constant``: every element `value`.

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.constant(0.5).__name__
    'constant'
    """
    return _named("constant", lambda a: _apply(Constant(value), a, dtype))


def normal(
    mean: float = 0.0, std: float = 1.0, dtype: Any = "float32", *, seed: Any = None
) -> Callable[[Any], Any]:
    """``mlx.nn.init.normal``: N(mean, std²), untruncated.

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.normal(seed=0).__name__
    'normal'
    """
    init = RandomNormal(mean, std, seed=_seed(seed))
    return _named("normal", lambda a: _apply(init, a, dtype))


def uniform(
    low: float = 0.0, high: float = 1.0, dtype: Any = "float32", *, seed: Any = None
) -> Callable[[Any], Any]:
    """``mlx.nn.init.uniform``: U[low, high).

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.uniform(-1.0, 1.0, seed=0).__name__
    'uniform'
    """
    init = RandomUniform(low, high, seed=_seed(seed))
    return _named("uniform", lambda a: _apply(init, a, dtype))


def identity(dtype: Any = "float32") -> Callable[[Any], Any]:
    """``mlx.nn.init.identity``: the identity of a square matrix.

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.identity().__name__
    'identity'
    """

    def initializer(a: Any) -> Any:
        if len(a.shape) != 2 or a.shape[0] != a.shape[1]:
            msg = f"The input array must be a square matrix but got shape {tuple(a.shape)}."
            raise ValueError(msg)
        return _apply(Identity(), a, dtype)

    return _named("identity", initializer)


def _variance_scaling(
    name: str, distribution: str, fan: str | None, dtype: Any, seed: Any
) -> Callable[..., Any]:
    seeds = _seed(seed)

    def initializer(a: Any, *args: Any, **kwargs: Any) -> Any:
        if fan is None:  # glorot: (a, gain)
            (gain,) = _arguments(name, ("gain",), (1.0,), args, kwargs)
            mode = "fan_avg"
        else:  # he: (a, mode, gain)
            mode, gain = _arguments(name, ("mode", "gain"), ("fan_in", 1.0), args, kwargs)
            mode = _mode(mode)
        # MLX's he_*: std gain/√fan (normal), limit gain·√(3/fan) (uniform); glorot_*:
        # gain·√(2/(in+out)) and gain·√(6/(in+out)): variance scaling by gain².
        init = VarianceScaling(gain * gain, mode, distribution, seed=seeds)
        return _apply(init, a, dtype)

    return _named(name, initializer)


def _arguments(
    name: str, names: tuple[str, ...], defaults: tuple[Any, ...], args: Any, kwargs: Any
) -> tuple[Any, ...]:
    if len(args) > len(names) or set(kwargs) - set(names):
        msg = f"{name}'s initializer takes (a, {', '.join(names)}); received {args} {kwargs}."
        raise TypeError(msg)
    values = dict(zip(names, defaults, strict=True))
    values.update(zip(names, args, strict=False))
    values.update(kwargs)
    return tuple(values[n] for n in names)


def glorot_normal(dtype: Any = "float32", *, seed: Any = None) -> Callable[..., Any]:
    """``mlx.nn.init.glorot_normal``: ``init(a, gain=1.0)``, N(0, gain²·2/(in+out)), untruncated.

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.glorot_normal(seed=0).__name__
    'glorot_normal'
    """
    return _variance_scaling("glorot_normal", "untruncated_normal", None, dtype, seed)


def glorot_uniform(dtype: Any = "float32", *, seed: Any = None) -> Callable[..., Any]:
    """``mlx.nn.init.glorot_uniform``: ``init(a, gain=1.0)``, U(±gain·√(6/(in+out))).

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.glorot_uniform(seed=0).__name__
    'glorot_uniform'
    """
    return _variance_scaling("glorot_uniform", "uniform", None, dtype, seed)


def he_normal(dtype: Any = "float32", *, seed: Any = None) -> Callable[..., Any]:
    """``mlx.nn.init.he_normal``: ``init(a, mode="fan_in", gain=1.0)``, N(0, (gain/√fan)²).

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.he_normal(seed=0).__name__
    'he_normal'
    """
    return _variance_scaling("he_normal", "untruncated_normal", "he", dtype, seed)


def he_uniform(dtype: Any = "float32", *, seed: Any = None) -> Callable[..., Any]:
    """``mlx.nn.init.he_uniform``: ``init(a, mode="fan_in", gain=1.0)``, U(±gain·√(3/fan)).

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.he_uniform(seed=0).__name__
    'he_uniform'
    """
    return _variance_scaling("he_uniform", "uniform", "he", dtype, seed)


def orthogonal(
    gain: float = 1.0, dtype: Any = "float32", *, seed: Any = None
) -> Callable[..., Any]:
    """``mlx.nn.init.orthogonal``: ``init(a)``, a (semi-)orthogonal 2-D array times `gain`.

    Examples
    --------
    >>> from anyinit import mlx_nn
    >>> mlx_nn.orthogonal(seed=0).__name__
    'orthogonal'
    """
    init = Orthogonal(gain, seed=_seed(seed))

    def initializer(a: Any) -> Any:
        if len(a.shape) != 2:
            msg = f"Orthogonal initialization requires a 2D array but got a {len(a.shape)}D array."
            raise ValueError(msg)
        return _apply(init, a, dtype)

    return _named("orthogonal", initializer)
