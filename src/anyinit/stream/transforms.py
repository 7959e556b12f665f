"""Floats from the portable stream, with JAX's constructions in float32.

* uniform: ``u·(high − low) + low``, then ``max(low, ·)`` (``jax.random.uniform``);
* normal: ``√2·erfinv(u)``, u uniform on ``[nextafter(−1, 0), 1)`` (``jax.random.normal``);
* truncated normal: u uniform on ``[erf(l/√2), erf(h/√2))``, ``√2·erfinv(u)``,
  clipped to the open interval (``jax.random.truncated_normal``), with two
  departures that make the map total (a finite value inside the interval for
  every input word): u is kept inside the open interval ``(-1, 1)`` before
  ``erfinv`` (the float32 erf of a bound beyond 5.3σ rounds to ±1, and JAX
  then returns the far bound itself, a 100σ weight for ``std=0.02, a=-2``),
  and intervals that lie wholly beyond ``TAIL_START`` standard deviations on
  one side, where the float32 erf has lost the interval, use :func:`tail`.

``erfinv`` is Giles's single-precision approximation, the one XLA uses,
written in Array API operations. Results are float32 and are rounded once
to 16-bit dtypes (JAX draws 16-bit values from 16-bit bits instead).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._typing import Array, Device
from .threefry import StreamKey

__all__ = [
    "NORMAL_INTERVAL",
    "OPEN",
    "TAIL_START",
    "clamp_open",
    "erf_interval",
    "erfinv",
    "finite_bounds",
    "in_tail",
    "log_interval_mass",
    "log_mills",
    "log_normal_sf",
    "log_sf_ratio",
    "normal",
    "normal_cdf",
    "normal_from01",
    "tail",
    "truncated_from01",
    "truncated_normal",
    "uniform",
    "uniform_from01",
    "uniform_proposal_acceptance",
]

_F32 = np.float32
_SQRT2 = float(_F32(math.sqrt(2.0)))
# np.nextafter(-1, 0) in float32: the lower end of JAX's normal uniform.
_NORMAL_LOW = float(np.nextafter(_F32(-1.0), _F32(0.0)))
# The largest float32 below 1: erfinv is finite on [-OPEN, OPEN].
OPEN = float(np.nextafter(_F32(1.0), _F32(0.0)))
# The largest uniform01 value, 1 - 2⁻²³: u ↦ this - u maps the 2²³ uniforms onto themselves.
_LAST_UNIFORM = 1.0 - 2.0**-23
#: Intervals wholly beyond this many standard deviations on one side use :func:`tail`.
TAIL_START = 3.0
# Terms of Laplace's continued fraction for the Mills ratio; 20 give float32
# accuracy (4.6e-8 relative) for x >= 3.
_MILLS_TERMS = 20

_SMALL_W = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
)  # fmt: skip
_LARGE_W = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
)  # fmt: skip


def erfinv(xp: Any, x: Array, *, mutable: bool = True) -> Array:
    """Inverse error function of float32 `x` in (-1, 1), as XLA computes it.

    Finite for every float32 in ``[-OPEN, OPEN]`` (w ≤ 15.95 there); at ±1
    it is not, so callers whose uniforms can reach ±1 clip them first.

    Giles's two branches: w = −log(1 − x²) below 5 (over 99 % of normal
    draws) and above. With `mutable`, the rare large-w entries are computed
    on their own and written back, instead of evaluating both polynomials
    everywhere.
    """
    # XLA computes -log1p(-x²) with x² rounded to float32. Where x² >= 1/2,
    # 1 - x² is then exact, so log(1 - x²) gives the same w; below, w is small
    # and the polynomial flat. NumPy's float32 log is vectorised where its
    # log1p is not (5x faster).
    w = -xp.log(1.0 - x * x)
    small = w < 5.0
    p = _horner(w - 2.5, _SMALL_W)
    if not mutable or p.ndim == 0:  # NumPy's 0-d arithmetic gives scalars, not arrays
        p = xp.where(small, p, _horner(xp.sqrt(w) - 3.0, _LARGE_W))
    elif not bool(xp.all(small)):
        large = ~small
        p[large] = _horner(xp.sqrt(w[large]) - 3.0, _LARGE_W)
    return p * x


def _horner(w: Array, coefficients: tuple[float, ...]) -> Array:
    p = coefficients[0] + 0.0 * w
    for coefficient in coefficients[1:]:
        p = coefficient + p * w
    return p


def uniform(
    backend: Any,
    key: StreamKey,
    shape: tuple[int, ...],
    low: float,
    high: float,
    device: Device,
    region: tuple[slice, ...] | None = None,
) -> Array:
    """float32 ``jax.random.uniform(key, shape, float32, low, high)`` (or a block of it)."""
    u = backend.portable_uniform01(key, shape, region, device)
    return uniform_from01(backend.xp, u, low, high, backend.wide_dtype(device))


def uniform_from01(xp: Any, u: Array, low: float, high: float, wide: Any = None) -> Array:
    """JAX's ``max(low, u·(high − low) + low)`` in float32, for float32 u in [0, 1).

    `wide` is a float64 dtype usable on u's device, or None where the device
    has none (then the step takes two float32 roundings: at most 1 ulp from JAX).
    """
    lo = float(_F32(low))
    span = float(_F32(high) - _F32(low))
    if wide is None:
        return xp.maximum(u * span + lo, lo)
    # XLA fuses u·span + lo into one fused multiply-add. In float64 the product
    # of two float32 values is exact, so one float64 add and one rounding to
    # float32 give the same result (bar a double rounding, p ≈ 2**-29).
    fused = xp.astype(xp.astype(u, wide) * span + lo, u.dtype)
    return xp.maximum(fused, lo)


def normal(
    backend: Any,
    key: StreamKey,
    shape: tuple[int, ...],
    device: Device,
    region: tuple[slice, ...] | None = None,
) -> Array:
    """float32 ``jax.random.normal(key, shape)`` (or a block of it)."""
    u = backend.portable_uniform01(key, shape, region, device)
    # A library without masked writes (immutable arrays) takes erfinv's where() form.
    return normal_from01(backend.xp, u, backend.wide_dtype(device), mutable=backend.masked_writes)


def normal_from01(xp: Any, u: Array, wide: Any = None, *, mutable: bool = True) -> Array:
    """``√2·erfinv(v)``, v uniform on ``[nextafter(−1, 0), 1)``: finite for every u in [0, 1)."""
    v = uniform_from01(xp, u, _NORMAL_LOW, 1.0, wide)
    return _SQRT2 * erfinv(xp, v, mutable=mutable)


def normal_cdf(x: float) -> float:
    """Standard normal cumulative distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _erf32(x: float) -> float:
    return float(_F32(math.erf(float(_F32(x) / _F32(_SQRT2)))))


def erf_interval(lower: float, upper: float) -> tuple[float, float]:
    """``(low, high - low)`` in float32 values: the uniform whose ``√2·erfinv`` is the normal
    on ``[lower, upper]`` (finite bounds), as JAX's truncated normal draws it."""
    low, high = _F32(_erf32(lower)), _F32(_erf32(upper))
    return float(low), float(high - low)


#: ``(low, high - low)`` of JAX's normal's uniform, ``[nextafter(-1, 0), 1)``, in float32 values.
NORMAL_INTERVAL = (float(_F32(_NORMAL_LOW)), float(_F32(1.0) - _F32(_NORMAL_LOW)))


def truncated_normal(
    backend: Any,
    key: StreamKey,
    shape: tuple[int, ...],
    lower: float,
    upper: float,
    device: Device,
    region: tuple[slice, ...] | None = None,
) -> Array:
    """float32 ``jax.random.truncated_normal(key, lower, upper, shape)`` (or a block), made total.

    Equal to JAX wherever JAX returns a value strictly inside the interval
    that is not its clamp of an ``erfinv(±1)``; see the module docstring for
    the two departures.
    """
    u = backend.portable_uniform01(key, shape, region, device)
    return truncated_from01(backend.xp, u, lower, upper, backend.wide_dtype(device))


def in_tail(lower: float, upper: float) -> bool:
    """Whether ``[lower, upper]`` lies wholly beyond ``TAIL_START`` on one side."""
    return lower >= TAIL_START or upper <= -TAIL_START


#: Standardised bounds are held inside ±1e30: float32 holds them (and their squares'
#: halves stay finite in float64), and no draw can tell a bound there from a farther one.
_FAR = 1e30


def finite_bounds(lower: float, upper: float) -> tuple[float, float]:
    """``(lower, upper)`` held inside ±1e30 standard deviations (``std=1e-300`` gives 1e300)."""
    return min(max(lower, -_FAR), _FAR), min(max(upper, -_FAR), _FAR)


def truncated_from01(xp: Any, u: Array, lower: float, upper: float, wide: Any = None) -> Array:
    """Standard normal on ``[lower, upper]`` from float32 u in [0, 1): total (see the module)."""
    lower, upper = finite_bounds(lower, upper)
    if in_tail(lower, upper):
        if upper <= -TAIL_START:
            # A lower tail is the upper one mirrored; drawing it from the mirrored u
            # (exact: u is k·2⁻²³) keeps the map increasing in u, as the central one is.
            return -tail(xp, _LAST_UNIFORM - u, -upper, -lower, wide)
        return tail(xp, u, lower, upper, wide)
    v = uniform_from01(xp, u, _erf32(lower), _erf32(upper), wide)
    return central_truncated(xp, v, lower, upper)


def central_truncated(xp: Any, u: Array, lower: float, upper: float) -> Array:
    """JAX's ``√2·erfinv(u)`` step, clipped, for u already uniform on the erf interval."""
    values = _SQRT2 * erfinv(xp, xp.clip(u, -OPEN, OPEN))
    return clamp_open(xp, values, lower, upper)


def clamp_open(xp: Any, values: Array, lower: float, upper: float) -> Array:
    """JAX's final clamp to the open interval (lower, upper) in float32."""
    return xp.clip(values, *open_interior(lower, upper))


def open_interior(lower: float, upper: float) -> tuple[float, float]:
    """The float32 values next inside ``(lower, upper)``: what :func:`clamp_open` clips to."""
    inside_low = float(np.nextafter(_F32(lower), _F32(np.inf)))
    inside_high = float(np.nextafter(_F32(upper), _F32(-np.inf)))
    return inside_low, inside_high


def log_mills(x: float) -> float:
    """``log(S(x)/φ(x))`` (S the standard normal survival function), stable for every x."""
    if x < 30.0:
        sf = 0.5 * math.erfc(x / math.sqrt(2.0))
        return math.log(sf) + 0.5 * x * x + 0.5 * math.log(2.0 * math.pi)
    # 60 terms of the continued fraction are exact in float64 for x >= 30.
    return -math.log(_laplace_fraction(x, 60))


def log_normal_sf(x: float) -> float:
    """``log P(N(0, 1) > x)``, accurate for every finite x (no underflow in the far tail)."""
    return log_mills(x) - 0.5 * x * x - 0.5 * math.log(2.0 * math.pi)


def log_sf_ratio(near: float, far: float) -> float:
    """``log(S(far)/S(near))`` for ``0 <= near <= far`` without cancelling the x²/2 terms."""
    if not math.isfinite(far):
        return -math.inf
    return log_mills(far) - log_mills(near) - 0.5 * (far - near) * (far + near)


def log_interval_mass(lower: float, upper: float) -> float:
    """``log P(lower <= N(0, 1) <= upper)``, accurate in the far tails."""
    if upper <= 0.0:
        lower, upper = -upper, -lower
    if lower >= 0.0:
        return log_normal_sf(lower) + math.log1p(-math.exp(log_sf_ratio(lower, upper)))
    mass = 0.5 * (math.erfc(-upper / math.sqrt(2.0)) - math.erfc(-lower / math.sqrt(2.0)))
    return math.log(mass)


def uniform_proposal_acceptance(lower: float, upper: float) -> float:
    """The acceptance rate of rejection from uniform proposals on ``[lower, upper]``.

    A proposal x is kept with probability ``exp((m² - x²)/2)``, m the point of
    the interval nearest to 0: the rate is ``mass·√(2π)·exp(m²/2) / (upper - lower)``
    (about ``1/(m·(upper - lower))`` in a far tail, where such a loop never ends).
    """
    if lower < 0.0 < upper:
        log_rate = log_interval_mass(lower, upper) + 0.5 * math.log(2 * math.pi)
    else:
        near, far = (-upper, -lower) if upper <= 0.0 else (lower, upper)
        # mass·√(2π)·exp(near²/2) = (S(near)/φ(near))·(1 - S(far)/S(near)): no x² terms.
        log_rate = log_mills(near) + math.log1p(-math.exp(log_sf_ratio(near, far)))
    return math.exp(min(log_rate - math.log(upper - lower), 0.0))


def _laplace_fraction(x: Any, terms: int) -> Any:
    """``x + 1/(x + 2/(x + 3/(x + …)))`` to `terms` terms, which is ``φ(x)/S(x)``."""
    t = x
    for k in range(terms, 0, -1):
        t = x + float(k) / t
    return t


def _mills(x: Any) -> Any:
    """``x·S(x)/φ(x)`` for x >= 3 (an array or a float), by Laplace's continued fraction."""
    return x / _laplace_fraction(x, _MILLS_TERMS)


def tail(xp: Any, u: Array, near: float, far: float, wide: Any = None) -> Array:
    """N(0, 1) restricted to ``[near, far]`` with ``near >= TAIL_START``, from float32 u in [0, 1).

    The inverse CDF in the log domain: with ``x = near + y``, the conditional
    survival ``S(x)/S(near) = 1 - u·(1 - S(far)/S(near))`` becomes
    ``near·y + y²/2 + log(x/near) - log(M(x)/M(near)) = E`` with
    ``E = -log((1 - u) + u·S(far)/S(near))`` and M the Mills ratio, solved for y by three Newton
    steps (the derivative is the hazard ``x/M(x)``) from the root of the
    quadratic part. Every step is finite for every u in [0, 1), however far
    the tail.

    With `wide` (a float64 dtype on u's device) the steps run in float64 and
    round once to float32: the map is then non-decreasing in u, as the central
    one is. Without it (JAX without x64, MPS) they run in float32, and the
    rounding of the Newton steps steps back by one ulp in places (47 of the 2²³
    uniforms on ``[5.2, 5.4]``), within the portable stream's ulp bound.
    """
    r = math.exp(log_sf_ratio(near, far))
    single = wide is None
    a = float(_F32(near)) if single else near
    floor = float(_F32(near))
    if floor < near:
        floor = float(np.nextafter(_F32(near), _F32(np.inf)))
    log_m_near = math.log(_mills(near))
    if single:
        log_m_near, r = float(_F32(log_m_near)), float(_F32(r))
    else:
        u = xp.astype(u, wide)
    # 1 - u·(1 - r) as (1 - u) + u·r: 1 - u is exact for u = k·2⁻²³, so E keeps
    # its precision (and its monotonicity) as u approaches 1.
    exponential = -xp.log((1.0 - u) + u * r)
    # The root of a·y + y²/2 = E, written so that nothing overflows for huge a.
    ratio = exponential / a
    y = ratio / (0.5 + 0.5 * xp.sqrt(1.0 + (2.0 / a) * ratio))
    for _ in range(3):
        x = a + y
        m = _mills(x)
        residual = a * y + 0.5 * y * y + xp.log1p(y / a) - (xp.log(m) - log_m_near) - exponential
        y = xp.maximum(y - residual * m / x, 0.0)
    values = a + y
    if not single:
        values = xp.astype(values, xp.float32)
    values = xp.maximum(values, floor)
    if math.isfinite(far):
        values = xp.minimum(values, float(np.nextafter(_F32(far), _F32(-np.inf))))
    return values
