"""Random initializers: normal, uniform, truncated normal and variance scaling."""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar

import numpy as np

from .. import sampling
from .._typing import Array, Axes
from .._validation import as_axes, as_finite_float, check_choice
from ..laws.dtypes import check_fits
from ..laws.fans import compute_fans
from ..laws.records import (
    ComplexNormal,
    ComplexTruncatedNormal,
    ComplexUniformDisk,
    Distribution,
    Normal,
    Uniform,
)
from ..laws.records import (
    TruncatedNormal as _TruncatedNormalLaw,
)
from ..seeds import is_keras_seed_generator, seed_to_json
from ..target import Target, check_seed
from .base import Initializer, KeyDraw

__all__ = [
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
]

#: Standard deviation of N(0, 1) truncated to [-2, 2] (scipy.stats.truncnorm.std(-2, 2)).
TRUNCATED_STD = 0.87962566103423978
#: sqrt(E|z|² | |z| < 2) for a circular complex normal with E|z|² = 1, i.e. the
#: same correction for complex dtypes. JAX uses 0.95311164380491208 here, which
#: leaves the realised standard deviation 0.9 % above the target.
COMPLEX_TRUNCATED_STD = math.sqrt((1 - 5 * math.exp(-4.0)) / (1 - math.exp(-4.0)))


class RandomInitializer(Initializer):
    """Base class of initializers that draw random numbers.

    Parameters
    ----------
    seed : int, None, SeedGenerator or native generator
        ``int``: the same values on every call; ``None``: fresh values on
        every call; :class:`anyinit.SeedGenerator`: a reproducible stream;
        a ``numpy.random.Generator`` / ``torch.Generator`` /
        ``cupy.random.Generator``: drawn from and advanced.

    Examples
    --------
    >>> import anyinit
    >>> init = anyinit.RandomUniform(seed=3)
    >>> bool((init((4,)) == init((4,))).all())
    True
    >>> fresh = anyinit.RandomUniform(seed=None)
    >>> bool((fresh((4,)) == fresh((4,))).all())
    False
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating",)
    #: The constructor arguments that set the values' size, named when they would
    #: overflow the dtype (the larger in magnitude, where there are two).
    _size_arguments: ClassVar[tuple[str, ...]] = ("stddev",)

    def __init__(self, seed: Any = None) -> None:
        self.seed = check_seed(seed)
        self._laws: dict[tuple[tuple[int, ...], str], Distribution] = {}

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        """The law (a distribution record) this initializer samples for `shape` and a dtype kind.

        Named `law` because Keras's `distribution` attribute is a string on `VarianceScaling`.

        Examples
        --------
        >>> import anyinit
        >>> anyinit.RandomUniform(-1.0, 1.0).law((3,)).describe()
        'U[-1, 1)'
        """
        raise NotImplementedError

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        rng = sampling.generator(target.backend, self.seed, target.device)
        # Parameters depend only on the shape and the dtype kind: compute them once.
        law = self._laws.get((shape, target.kind))
        if law is None:
            law = self.law(shape, target.kind)
            if len(self._laws) < 64:
                self._laws[shape, target.kind] = law
        if law.magnitude > 6.5e4:  # only then can a dtype overflow (float16's max is 65504)
            argument = max(self._size_arguments, key=lambda name: abs(getattr(self, name)))
            check_fits(argument, getattr(self, argument), law.magnitude, target.dtype_name)
        return law.sample(target, rng, shape)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._config_seed()}

    def _config_seed(self) -> Any:
        """The seed as :meth:`get_config` writes it: a ``keras.random.SeedGenerator`` as its
        JSON config, as Keras's own ``get_config`` writes it (so a Keras model holding the
        initializer saves to JSON), and a seed config this was built from as it was."""
        held = getattr(self, "_seed_config", None)
        if held is not None and held[0] is self.seed:
            return held[1]
        if is_keras_seed_generator(self.seed):
            return seed_to_json(self.seed)
        return self.seed


class RandomNormal(RandomInitializer):
    """Samples from a normal distribution N(mean, stddev²).

    For complex dtypes, real and imaginary parts are independent with
    variance ``stddev²/2`` each (JAX's convention), so ``E|w - mean|² = stddev²``.

    Parameters
    ----------
    mean : float, default 0.0
        The mean.
    stddev : float, default 0.05
        The standard deviation, ``>= 0``.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.

    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.RandomNormal(stddev=0.1, seed=0)((64, 32))
    >>> w.shape, w.dtype
    ((64, 32), dtype('float32'))
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating", "complex floating")

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = as_finite_float("mean", mean)
        self.stddev = as_finite_float("stddev", stddev, minimum=0.0)
        super().__init__(seed)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        if kind == "complex floating":
            return ComplexNormal(self.stddev, self.mean)
        return Normal(self.mean, self.stddev)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        return KeyDraw("normal", {"stddev": self.stddev}, shift=self.mean)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self._config_seed()}


class RandomUniform(RandomInitializer):
    """Samples from a uniform distribution U[minval, maxval).

    Parameters
    ----------
    minval : float, default -0.05
        The lower bound (inclusive).
    maxval : float, default 0.05
        The upper bound, ``>= minval``.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.

    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.RandomUniform(-1.0, 1.0, seed=0)((1000,))
    >>> bool((w >= -1).all() and (w <= 1).all())
    True
    """

    _size_arguments = ("maxval", "minval")

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval = as_finite_float("minval", minval)
        self.maxval = as_finite_float("maxval", maxval)
        if self.minval > self.maxval:
            msg = f"`minval` must be <= `maxval`; received minval={minval!r}, maxval={maxval!r}."
            raise ValueError(msg)
        super().__init__(seed)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        return Uniform(self.minval, self.maxval)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        if self.minval == 0.0:  # jax.nn.initializers.uniform(scale): U[0, scale)
            return KeyDraw("uniform", {"scale": self.maxval})
        # Keras's RandomUniform on JAX: jax.random.uniform(key, shape, dtype, minval, maxval)
        return KeyDraw("random.uniform", {"minval": self.minval, "maxval": self.maxval})

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self._config_seed()}


class TruncatedNormal(RandomInitializer):
    """Samples from N(mean, stddev²) truncated to ``mean ± 2·stddev`` (Keras semantics).

    `stddev` is the standard deviation *before* truncation (the realised one
    is 0.8796·stddev for ±2). The truncation is exact: values outside the
    bounds are redrawn, never clipped, on every backend.

    Parameters
    ----------
    mean : float, default 0.0
        The mean.
    stddev : float, default 0.05
        The standard deviation before truncation, ``>= 0``.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.
    lower, upper : float, default -2.0, 2.0
        The bounds in standard deviations from the mean (JAX's
        ``truncated_normal(stddev, lower=, upper=)``; Keras fixes ±2).

    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.TruncatedNormal(stddev=1.0, seed=0)((10000,))
    >>> float(abs(w).max()) <= 2.0
    True
    """

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 0.05,
        seed: Any = None,
        *,
        lower: float = -2.0,
        upper: float = 2.0,
    ) -> None:
        self.mean = as_finite_float("mean", mean)
        self.stddev = as_finite_float("stddev", stddev, minimum=0.0)
        self.lower = as_finite_float("lower", lower)
        self.upper = as_finite_float("upper", upper)
        if not self.lower < self.upper:
            msg = f"`lower` must be < `upper`; received lower={lower!r}, upper={upper!r}."
            raise ValueError(msg)
        super().__init__(seed)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        return _TruncatedNormalLaw(self.mean, self.stddev, self.lower, self.upper)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        arguments = {"stddev": self.stddev, "lower": self.lower, "upper": self.upper}
        return KeyDraw("truncated_normal", arguments, shift=self.mean)

    def get_config(self) -> dict[str, Any]:
        config = {"mean": self.mean, "stddev": self.stddev, "seed": self._config_seed()}
        if (self.lower, self.upper) != (-2.0, 2.0):  # anyinit-only: Keras fixes ±2
            config.update(lower=self.lower, upper=self.upper)
        return config


_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Samples with a standard deviation scaled to the weight's fans.

    With ``n`` = fan_in, fan_out, their mean or their geometric mean
    (`mode`), the variance of the samples is ``scale / n``:

    * ``"truncated_normal"`` (alias ``"normal"``, as in Keras): N(0, σ²)
      truncated to ±2σ with σ = sqrt(scale / n) / 0.87962566, so that the
      realised variance is exactly ``scale / n``;
    * ``"untruncated_normal"``: N(0, scale / n);
    * ``"uniform"``: U[-l, l) with l = sqrt(3·scale / n).

    Complex dtypes follow JAX: a circular normal, a uniform disk, or a normal
    whose modulus is truncated at 2σ (with the exact correction constant).

    Parameters
    ----------
    scale : float, default 1.0
        Scaling factor, ``> 0``.
    mode : {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}, default "fan_in"
        Which fan sets the variance.
    distribution : {"truncated_normal", "normal", "untruncated_normal", "uniform"}
        The distribution, default ``"truncated_normal"``.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.
    in_axis, out_axis, batch_axis : int or sequence of int
        The fan axes, as in JAX (default -2, -1 and none). PyTorch's
        ``(out, in, *kernel)`` layout is ``in_axis=1, out_axis=0``.
    input_axes, output_axes : sequence of int, optional
        Keras 3's spelling: when both are given, fan_in and fan_out are the
        products of exactly these axes (no receptive field), as in Keras.

    Examples
    --------
    >>> import anyinit
    >>> init = anyinit.VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=0)
    >>> w = init((3, 3, 64, 128))
    >>> limit = (3 * 2.0 / (3 * 3 * 64)) ** 0.5
    >>> bool(abs(w).max() <= limit)
    True
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating", "complex floating")
    _size_arguments = ("scale",)

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        *,
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        input_axes: Axes | None = None,
        output_axes: Axes | None = None,
    ) -> None:
        self.scale = as_finite_float("scale", scale, minimum=0.0, strict=True)
        self.mode = check_choice("mode", mode, _MODES)
        if isinstance(distribution, str):
            distribution = distribution.lower()
            if distribution == "normal":
                distribution = "truncated_normal"
        self.distribution = check_choice("distribution", distribution, (*_DISTRIBUTIONS, "normal"))
        self.in_axis = as_axes("in_axis", in_axis)
        self.out_axis = as_axes("out_axis", out_axis)
        self.batch_axis = as_axes("batch_axis", batch_axis)
        self.input_axes = None if input_axes is None else as_axes("input_axes", input_axes)
        self.output_axes = None if output_axes is None else as_axes("output_axes", output_axes)
        super().__init__(seed)

    def fans(self, shape: tuple[int, ...]) -> tuple[int | float, int | float]:
        """``(fan_in, fan_out)`` of `shape` under this initializer's axes."""
        if self.input_axes is not None and self.output_axes is not None:
            # Keras: products of exactly these axes, when (and only when) both are given.
            return compute_fans(shape, self.input_axes, self.output_axes, _rest(shape, self))
        return compute_fans(shape, self.in_axis, self.out_axis, self.batch_axis)

    def variance(self, shape: tuple[int, ...]) -> float:
        """The target variance ``scale / max(1, n)`` for `shape`."""
        fan_in, fan_out = self.fans(shape)
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": math.sqrt(fan_in * fan_out),
        }[self.mode]
        # Keras clamps so that zero-sized weights never divide by zero.
        return self.scale / max(1.0, n)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        # Keras's steps: fans -> variance -> stddev -> the law. The parameters are
        # computed in float32, as jax.nn.initializers does, so that integer seeds
        # reproduce JAX's weights to the last bit or two.
        exact = self.variance(shape)
        # Refuse, naming `scale`, a variance whose laws would leave float32: the
        # widest value any law below can reach is the uniform limit sqrt(3·variance);
        # three times it (about 5.2σ) leaves room for the float32 arithmetic.
        check_fits("scale", self.scale, 3 * math.sqrt(3 * exact), "float32")
        variance = np.float32(exact)
        stddev = np.sqrt(variance)
        complex_ = kind == "complex floating"
        if self.distribution == "truncated_normal":
            # A unit normal truncated to [-2, 2] has std TRUNCATED_STD (0.8796…):
            # dividing by it gives the truncated draws the target stddev.
            if complex_:
                return ComplexTruncatedNormal(float(stddev / np.float32(COMPLEX_TRUNCATED_STD)))
            return _TruncatedNormalLaw(0.0, float(stddev / np.float32(TRUNCATED_STD)))
        if self.distribution == "untruncated_normal":
            return ComplexNormal(float(stddev)) if complex_ else Normal(0.0, float(stddev))
        if complex_:  # uniform on the disk of radius sqrt(2·variance): E|z|² = variance
            return ComplexUniformDisk(float(np.sqrt(np.float32(2) * variance)))
        limit = float(np.sqrt(np.float32(3) * variance))  # U[-l, l] has variance l²/3
        return Uniform(-limit, limit, symmetric=True)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        distribution = {"untruncated_normal": "normal"}.get(self.distribution, self.distribution)
        axes: dict[str, Any] = {
            "in_axis": self.in_axis,
            "out_axis": self.out_axis,
            "batch_axis": self.batch_axis,
        }
        if self.input_axes is not None and self.output_axes is not None:
            # Keras's axes: products of exactly these, every other axis a batch axis.
            axes = {
                "in_axis": self.input_axes,
                "out_axis": self.output_axes,
                "batch_axis": _rest(shape, self),
            }
        arguments = {"scale": self.scale, "mode": self.mode, "distribution": distribution}
        return KeyDraw("variance_scaling", {**arguments, **axes})

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self._config_seed(),
        }
        config.update(self._axes_config())
        return config

    def _axes_config(self) -> dict[str, Any]:
        # anyinit-only arguments, written only where they differ from their defaults:
        # the config is then Keras's own, and plain Keras reads it.
        config: dict[str, Any] = {}
        for name, default in (("in_axis", -2), ("out_axis", -1), ("batch_axis", ())):
            value = getattr(self, name)
            if value != default:
                config[name] = _jsonable(value)
        if self.input_axes is not None or self.output_axes is not None:
            config["input_axes"] = _jsonable(self.input_axes)
            config["output_axes"] = _jsonable(self.output_axes)
        return config


def _jsonable(axes: Any) -> Any:
    return list(axes) if isinstance(axes, tuple) else axes


def _rest(shape: tuple[int, ...], init: VarianceScaling) -> tuple[int, ...]:
    rank = len(shape)
    named = set()
    for axes in (init.input_axes, init.output_axes):
        for axis in (axes,) if isinstance(axes, int) else tuple(axes or ()):
            if not -rank <= axis < rank:
                msg = f"Keras axes {axes!r} are out of range for a shape of rank {rank}."
                raise ValueError(msg)
            named.add(axis % rank)
    return tuple(a for a in range(rank) if a not in named)


class _Preset(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed."""

    _preset: ClassVar[tuple[float, str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A wrong keyword's TypeError names the function: make it the class's own
        # (``GlorotNormal.__init__()``), not this shared base's.
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            base = _Preset.__init__
            signature = inspect.signature(base)
            name = cls.__name__

            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                try:
                    signature.bind(self, *args, **kwargs)
                except TypeError as error:
                    msg = f"{name}(): {error} (it takes seed and the fan axes)"
                    raise TypeError(msg) from None
                base(self, *args, **kwargs)

            init.__name__ = "__init__"
            init.__qualname__ = f"{name}.__init__"
            init.__signature__ = signature  # type: ignore[attr-defined]
            init.__doc__ = base.__doc__
            cls.__init__ = init  # type: ignore[method-assign]

    def __init__(
        self,
        seed: Any = None,
        *,
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        input_axes: Axes | None = None,
        output_axes: Axes | None = None,
    ) -> None:
        scale, mode, distribution = self._preset
        super().__init__(
            scale,
            mode,
            distribution,
            seed,
            in_axis=in_axis,
            out_axis=out_axis,
            batch_axis=batch_axis,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._config_seed(), **self._axes_config()}


_PRESET_PARAMETERS = """
    Parameters
    ----------
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.
    in_axis, out_axis, batch_axis, input_axes, output_axes : optional
        The fan axes; see :class:`VarianceScaling`.
"""


class GlorotNormal(_Preset):
    __doc__ = f"""Glorot (Xavier) normal: truncated normal with variance 2 / (fan_in + fan_out).

    ``VarianceScaling(scale=1.0, mode="fan_avg", distribution="truncated_normal")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.glorot_normal(seed=0)((256, 128))
    >>> w.shape, str(w.dtype)
    ((256, 128), 'float32')
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class GlorotUniform(_Preset):
    __doc__ = f"""Glorot (Xavier) uniform: U[-l, l) with l = sqrt(6 / (fan_in + fan_out)).

    ``VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.glorot_uniform(seed=0)((256, 128))
    >>> bool(abs(w).max() <= (6 / (256 + 128)) ** 0.5)
    True
    """

    _preset = (1.0, "fan_avg", "uniform")


class HeNormal(_Preset):
    __doc__ = f"""He (Kaiming) normal: truncated normal with variance 2 / fan_in.

    ``VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.he_normal(seed=0)((3, 3, 64, 128))
    >>> round(float(w.std()) * (3 * 3 * 64) ** 0.5 / 2 ** 0.5, 1)
    1.0
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_Preset):
    __doc__ = f"""He (Kaiming) uniform: U[-l, l) with l = sqrt(6 / fan_in).

    ``VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.he_uniform(seed=1, in_axis=1, out_axis=0)((64, 32, 3, 3))
    >>> bool(abs(w).max() <= (6 / (32 * 3 * 3)) ** 0.5)
    True
    """

    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    __doc__ = f"""LeCun normal: truncated normal with variance 1 / fan_in.

    ``VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.lecun_normal(seed=0)((512, 256))
    >>> round(float(w.std()) * 512 ** 0.5, 1)
    1.0
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    __doc__ = f"""LeCun uniform: U[-l, l) with l = sqrt(3 / fan_in).

    ``VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")``.
    {_PRESET_PARAMETERS}
    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.lecun_uniform(seed=0)((512, 256))
    >>> bool(abs(w).max() <= (3 / 512) ** 0.5)
    True
    """

    _preset = (1.0, "fan_in", "uniform")
