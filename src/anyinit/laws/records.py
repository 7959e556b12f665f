"""The distributions initializers sample from, as plain parameter records.

An initializer turns a shape into one of these records in Python floats
(fans and scales are computed once, before any array exists); the record
then draws from the target backend. The same records give the expected
moments that ``anyinit sample`` prints and the tests check against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import sampling
from .._typing import Array
from ..adapters.protocol import InPlaceDraws, supports
from ..stream import StreamKey, independent_streams, normal_cdf
from ..target import Target
from .dtypes import inward_bounds

__all__ = [
    "BoundedNormal",
    "ComplexNormal",
    "ComplexTruncatedNormal",
    "ComplexUniformDisk",
    "Distribution",
    "Normal",
    "SphereCoordinate",
    "TruncatedNormal",
    "Uniform",
    "WithZeros",
]


def _normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _modulus_pdf(x: float, scale: float) -> float:
    """Density of |z| for a circular complex normal with ``E|z|² = scale²`` (x >= 0)."""
    return 2 * x / scale**2 * math.exp(-((x / scale) ** 2))


class Distribution:
    """Base record: a distribution with known moments and a sampler."""

    kind = "distribution"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        """Draw an array of `shape` on `target`."""
        raise NotImplementedError

    def fused(self, key: StreamKey, dtype_name: str) -> Any:
        """This law's portable draw under `key` as one fused float32 pipeline
        (``anyinit.adapters.base.FusedLaw``) for a `dtype_name` result, or None where
        it has none (the default: structured and complex laws)."""
        return None

    def sample_into(self, target: Target, array: Array, rng: Any) -> None:
        """Fill `array` (of `target`'s library, device and dtype) with draws, in place: the
        library's own in-place draw for its generators, the host kernel straight into the
        array's memory for the portable stream where it can, else drawn, then written."""
        if self._native_into(target, array, rng):
            return
        if isinstance(rng, StreamKey) and sampling.fill_portable(self, rng, target, array):
            return
        target.backend.write(array, self.sample(target, rng, tuple(array.shape)))

    def _native_into(self, target: Target, array: Array, rng: Any) -> bool:
        """The adapter's own in-place draw, where it has one (torch.nn.init parity)."""
        return False

    @property
    def mean(self) -> float:
        """The exact mean."""
        raise NotImplementedError

    @property
    def std(self) -> float:
        """The exact standard deviation (of the modulus's square root for complex ones)."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float, float]:
        """The support (``±inf`` when unbounded; moduli for complex records)."""
        return -math.inf, math.inf

    @property
    def magnitude(self) -> float:
        """The largest |value| a draw can take (unbounded laws: 6 standard deviations out,
        past the ±5.4σ a float32 inverse-CDF draw reaches), for overflow checks."""
        low, high = self.bounds
        if math.isfinite(low) and math.isfinite(high):
            return max(abs(low), abs(high))
        return abs(self.mean) + 6 * self.std

    def cdf(self, x: float) -> float:
        """The cumulative distribution function (of the modulus for complex records)."""
        raise NotImplementedError

    def pdf(self, x: float) -> float:
        """The density (of the modulus for complex records; 0 outside the support)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A one-line formula for ``anyinit sample``."""
        raise NotImplementedError


@dataclass(frozen=True)
class Uniform(Distribution):
    """U[low, high); with `symmetric`, drawn as U[-1, 1) · high (JAX's variance scaling)."""

    low: float
    high: float
    symmetric: bool = False
    kind = "uniform"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        backend = target.backend
        if self.symmetric and isinstance(rng, StreamKey):
            # The portable stream follows jax.nn.initializers: uniform(-1, 1) · limit.
            return sampling.scaled_uniform(
                backend, rng, shape, self.high, target.dtype, target.device, target.region
            )
        return sampling.uniform(
            backend, rng, shape, self.low, self.high, target.dtype, target.device, target.region
        )

    def fused(self, key: StreamKey, dtype_name: str) -> Any:
        if self.symmetric:
            return sampling.fused_scaled_uniform(key, self.high, dtype_name)
        return sampling.fused_uniform(key, self.low, self.high, dtype_name)

    def _native_into(self, target: Target, array: Array, rng: Any) -> bool:
        clip = inward_bounds(self.low, self.high, target.dtype_name)
        backend = target.backend
        return supports(backend, InPlaceDraws) and backend.uniform_into(
            array, self.low, self.high, clip, rng
        )

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def magnitude(self) -> float:
        # The span enters every draw (u·(high - low) + low): it must not overflow either.
        return max(abs(self.low), abs(self.high), abs(self.high - self.low))

    def cdf(self, x: float) -> float:
        if self.high == self.low:
            return float(x >= self.low)
        return min(1.0, max(0.0, (x - self.low) / (self.high - self.low)))

    def pdf(self, x: float) -> float:
        inside = self.low <= x < self.high
        return 1 / (self.high - self.low) if inside else 0.0

    def describe(self) -> str:
        return f"U[{self.low:.6g}, {self.high:.6g})"


@dataclass(frozen=True)
class Normal(Distribution):
    """N(mean, std²)."""

    loc: float
    scale: float
    kind = "normal"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        return sampling.normal(
            target.backend,
            rng,
            shape,
            self.loc,
            self.scale,
            target.dtype,
            target.device,
            target.region,
        )

    def fused(self, key: StreamKey, dtype_name: str) -> Any:
        return sampling.fused_normal(key, self.loc, self.scale, dtype_name)

    def _native_into(self, target: Target, array: Array, rng: Any) -> bool:
        backend = target.backend
        return supports(backend, InPlaceDraws) and backend.normal_into(
            array, self.loc, self.scale, rng
        )

    @property
    def magnitude(self) -> float:
        return abs(self.loc) + 6 * self.scale  # the general rule, without its property chain

    @property
    def mean(self) -> float:
        return self.loc

    @property
    def std(self) -> float:
        return self.scale

    def cdf(self, x: float) -> float:
        if self.scale == 0:
            return float(x >= self.loc)
        return normal_cdf((x - self.loc) / self.scale)

    def pdf(self, x: float) -> float:
        return _normal_pdf((x - self.loc) / self.scale) / self.scale if self.scale else 0.0

    def describe(self) -> str:
        return f"N({self.loc:.6g}, {self.scale:.6g}²)"


@dataclass(frozen=True)
class TruncatedNormal(Distribution):
    """N(loc, scale²) restricted to ``[loc + lower·scale, loc + upper·scale]``."""

    loc: float
    scale: float
    lower: float = -2.0
    upper: float = 2.0
    kind = "truncated_normal"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        return sampling.truncated_normal(
            target.backend, rng, shape, self, target.dtype, target.device, target.region
        )

    def fused(self, key: StreamKey, dtype_name: str) -> Any:
        return sampling.fused_truncated(key, self, dtype_name)

    @property
    def _mass(self) -> float:
        return normal_cdf(self.upper) - normal_cdf(self.lower)

    @property
    def mean(self) -> float:
        shift = (_normal_pdf(self.lower) - _normal_pdf(self.upper)) / self._mass
        return self.loc + self.scale * shift

    @property
    def std(self) -> float:
        a, b, z = self.lower, self.upper, self._mass
        shift = (_normal_pdf(a) - _normal_pdf(b)) / z
        variance = 1 + (a * _normal_pdf(a) - b * _normal_pdf(b)) / z - shift * shift
        return self.scale * math.sqrt(variance)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.loc + self.lower * self.scale, self.loc + self.upper * self.scale

    def cdf(self, x: float) -> float:
        low, high = self.bounds
        if x <= low:
            return 0.0
        if x >= high:
            return 1.0
        standard = (x - self.loc) / self.scale
        return (normal_cdf(standard) - normal_cdf(self.lower)) / self._mass

    def pdf(self, x: float) -> float:
        low, high = self.bounds
        if not low <= x <= high:
            return 0.0
        return _normal_pdf((x - self.loc) / self.scale) / (self.scale * self._mass)

    def describe(self) -> str:
        low, high = self.bounds
        return f"N({self.loc:.6g}, {self.scale:.6g}²) truncated to [{low:.6g}, {high:.6g}]"


@dataclass(frozen=True)
class BoundedNormal(TruncatedNormal):
    """N(loc, scale²) restricted to the absolute interval ``[a, b]`` (torch's ``trunc_normal_``).

    ``lower``/``upper`` are derived from `a` and `b` in floating point; the
    bounds every backend clips to are the user's own `a` and `b`, so that
    neither is crossed.
    """

    a: float = -2.0
    b: float = 2.0
    kind = "bounded_normal"

    def _native_into(self, target: Target, array: Array, rng: Any) -> bool:
        clip = inward_bounds(self.a, self.b, target.dtype_name)
        backend = target.backend
        return supports(backend, InPlaceDraws) and backend.trunc_normal_into(
            array, self.loc, self.scale, (self.a, self.b), clip, rng
        )

    @classmethod
    def between(cls, mean: float, std: float, a: float, b: float) -> BoundedNormal:
        """The record for ``trunc_normal_(mean, std, a, b)``."""
        return cls(mean, std, (a - mean) / std, (b - mean) / std, a, b)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.a, self.b

    def describe(self) -> str:
        return f"N({self.loc:.6g}, {self.scale:.6g}²) truncated to [{self.a:.6g}, {self.b:.6g}]"


# -- complex records (JAX's constructions, for complex dtypes) -------------------


def _polar(target: Target, modulus: Array, angle: Array) -> Array:
    xp = target.xp
    real = modulus * xp.cos(angle)
    imag = modulus * xp.sin(angle)
    unit = xp.asarray(1j, dtype=target.dtype, device=target.xp_device)
    return xp.astype(real, target.dtype) + unit * xp.astype(imag, target.dtype)


def _component_dtype(target: Target) -> Any:
    from .dtypes import component_name

    return target.backend.dtype(component_name(target.dtype_name))


@dataclass(frozen=True)
class ComplexNormal(Distribution):
    """Circular complex normal with ``E|z|² = scale²`` (real and imaginary parts N(0, scale²/2))."""

    scale: float
    loc: float = 0.0  # a real shift of every value (Keras's `mean` on a complex dtype)
    kind = "complex_normal"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        part = _component_dtype(target)
        std = self.scale / math.sqrt(2)
        real_rng, imag_rng = independent_streams(rng, 2)  # JAX: key_re, key_im = split(key)
        real = sampling.normal(target.backend, real_rng, shape, 0.0, std, part, target.device)
        imag = sampling.normal(target.backend, imag_rng, shape, 0.0, std, part, target.device)
        unit = target.xp.asarray(1j, dtype=target.dtype, device=target.xp_device)
        values = target.xp.astype(real, target.dtype) + unit * target.xp.astype(imag, target.dtype)
        return values + self.loc if self.loc != 0.0 else values

    @property
    def mean(self) -> float:
        """The mean of the real part (the imaginary part's is 0)."""
        return self.loc

    @property
    def std(self) -> float:
        return self.scale

    @property
    def bounds(self) -> tuple[float, float]:
        return 0.0, math.inf

    def cdf(self, x: float) -> float:
        # |z - loc|² / scale² is Exp(1).
        return 0.0 if x <= 0 else 1 - math.exp(-((x / self.scale) ** 2))

    def pdf(self, x: float) -> float:
        return 0.0 if x < 0 else _modulus_pdf(x, self.scale)

    def describe(self) -> str:
        shift = f"{self.loc:.6g} + " if self.loc else ""
        return f"{shift}CN(0, {self.scale:.6g}²)"


@dataclass(frozen=True)
class ComplexUniformDisk(Distribution):
    """Uniform on the disk of radius ``radius`` (``E|z|² = radius²/2``)."""

    radius: float
    kind = "complex_uniform"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        part = _component_dtype(target)
        modulus_rng, angle_rng = independent_streams(rng, 2)  # JAX: key_r, key_theta
        u = sampling.uniform(target.backend, modulus_rng, shape, 0.0, 1.0, part, target.device)
        theta = sampling.uniform(
            target.backend, angle_rng, shape, 0.0, 2 * math.pi, part, target.device
        )
        return _polar(target, self.radius * target.xp.sqrt(u), theta)

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        return self.radius / math.sqrt(2)

    @property
    def bounds(self) -> tuple[float, float]:
        return 0.0, self.radius

    def cdf(self, x: float) -> float:
        return min(1.0, max(0.0, x / self.radius) ** 2)

    def pdf(self, x: float) -> float:
        return 2 * x / self.radius**2 if 0 <= x <= self.radius else 0.0

    def describe(self) -> str:
        return f"uniform on the complex disk |z| <= {self.radius:.6g}"


@dataclass(frozen=True)
class ComplexTruncatedNormal(Distribution):
    """Circular complex normal ``CN(0, scale²)`` with modulus truncated at ``upper·scale``."""

    scale: float
    upper: float = 2.0
    kind = "complex_truncated_normal"

    @property
    def _tail(self) -> float:
        return math.exp(-(self.upper**2))

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        # Inverse CDF of the truncated Exp(1) law of |z|²/scale², as JAX does.
        xp = target.xp
        part = _component_dtype(target)
        modulus_rng, angle_rng = independent_streams(rng, 2)  # JAX: key_r, key_theta
        u = sampling.uniform(
            target.backend, modulus_rng, shape, 0.0, 1.0 - self._tail, part, target.device
        )
        theta = sampling.uniform(
            target.backend, angle_rng, shape, 0.0, 2 * math.pi, part, target.device
        )
        modulus = self.scale * xp.sqrt(-xp.log1p(-u))
        modulus = xp.clip(modulus, 0.0, self.scale * self.upper)
        return _polar(target, modulus, theta)

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        c = self.upper**2
        return self.scale * math.sqrt((1 - (1 + c) * self._tail) / (1 - self._tail))

    @property
    def bounds(self) -> tuple[float, float]:
        return 0.0, self.scale * self.upper

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        if x >= self.scale * self.upper:
            return 1.0
        return (1 - math.exp(-((x / self.scale) ** 2))) / (1 - self._tail)

    def pdf(self, x: float) -> float:
        if not 0 <= x <= self.scale * self.upper:
            return 0.0
        return _modulus_pdf(x, self.scale) / (1 - self._tail)

    def describe(self) -> str:
        return f"CN(0, {self.scale:.6g}²) with |z| <= {self.scale * self.upper:.6g}"


# -- laws of one entry of jointly drawn weights (described, not sampled) ---------


@dataclass(frozen=True)
class SphereCoordinate(Distribution):
    """One coordinate of a uniform random point on the sphere of `radius` in ``R^dimension``.

    The law of each entry of a Haar-random semi-orthogonal matrix whose longer
    side is `dimension`, times the gain: density proportional to
    ``(1 - (x/radius)²)^((dimension - 3)/2)`` on ``[-radius, radius]``.
    Orthogonal initializers draw the matrix jointly; this record only
    describes it.
    """

    dimension: int
    radius: float
    kind = "sphere_coordinate"

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        return abs(self.radius) / math.sqrt(max(self.dimension, 1))

    @property
    def bounds(self) -> tuple[float, float]:
        return -abs(self.radius), abs(self.radius)

    def pdf(self, x: float) -> float:
        radius, n = abs(self.radius), self.dimension
        if n < 2 or radius == 0 or not -radius < x < radius:
            return 0.0
        log_norm = math.lgamma(n / 2) - math.lgamma((n - 1) / 2) - 0.5 * math.log(math.pi)
        u = x / radius
        return math.exp(log_norm + (n - 3) / 2 * math.log1p(-u * u)) / radius

    def describe(self) -> str:
        return (
            f"coordinate of a uniform point on the sphere of radius {abs(self.radius):.6g} "
            f"in R^{self.dimension} (std {self.std:.6g})"
        )


@dataclass(frozen=True)
class WithZeros(Distribution):
    """`law` for a fraction ``1 - zero_fraction`` of the entries, exact zeros for the rest."""

    law: Distribution
    zero_fraction: float
    kind = "with_zeros"

    @property
    def mean(self) -> float:
        return (1 - self.zero_fraction) * self.law.mean

    @property
    def std(self) -> float:
        keep = 1 - self.zero_fraction
        second = keep * (self.law.std**2 + self.law.mean**2)
        return math.sqrt(max(second - self.mean**2, 0.0))

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = self.law.bounds
        return min(low, 0.0), max(high, 0.0)

    def cdf(self, x: float) -> float:
        keep = 1 - self.zero_fraction
        return keep * self.law.cdf(x) + self.zero_fraction * float(x >= 0)

    def pdf(self, x: float) -> float:
        """The density of the non-zero part (without the point mass at zero)."""
        return (1 - self.zero_fraction) * self.law.pdf(x)

    def describe(self) -> str:
        return f"{self.zero_fraction:.4g} exact zeros, else {self.law.describe()}"
