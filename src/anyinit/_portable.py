"""Floats from the portable stream, with JAX's constructions in float32.

* uniform: ``u·(high − low) + low``, then ``max(low, ·)`` (``jax.random.uniform``);
* normal: ``√2·erfinv(u)``, u uniform on ``[nextafter(−1, 0), 1)`` (``jax.random.normal``);
* truncated normal: u uniform on ``[erf(l/√2), erf(h/√2))``, ``√2·erfinv(u)``,
  clipped to the open interval (``jax.random.truncated_normal``).

``erfinv`` is Giles's single-precision approximation, the one XLA uses,
written in Array API operations. Results are float32 and are rounded once
to 16-bit dtypes (JAX draws 16-bit values from 16-bit bits instead).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._threefry import StreamKey
from ._typing import Array, Device

__all__ = ["erfinv", "normal", "truncated_normal", "uniform"]

_F32 = np.float32
_SQRT2 = float(_F32(math.sqrt(2.0)))
# np.nextafter(-1, 0) in float32: the lower end of JAX's normal uniform.
_NORMAL_LOW = float(np.nextafter(_F32(-1.0), _F32(0.0)))

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
    if not mutable:
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
    xp = backend.xp
    f32, f64 = backend.dtype("float32"), backend.dtype("float64")
    u = backend.portable_uniform01(key, shape, region, device)
    lo = float(_F32(low))
    span = float(_F32(high) - _F32(low))
    if f64 is None:  # pragma: no cover - every built-in backend has float64
        return xp.maximum(xp.asarray(lo, dtype=f32, device=device), u * span + lo)
    # XLA fuses u·span + lo into one fused multiply-add. In float64 the product
    # of two float32 values is exact, so one float64 add and one rounding to
    # float32 give the same result (bar a double rounding, p ≈ 2**-29).
    fused = xp.astype(xp.astype(u, f64) * span + lo, f32)
    return xp.maximum(fused, xp.asarray(lo, dtype=f32, device=device))


def normal(
    backend: Any,
    key: StreamKey,
    shape: tuple[int, ...],
    device: Device,
    region: tuple[slice, ...] | None = None,
) -> Array:
    """float32 ``jax.random.normal(key, shape)`` (or a block of it)."""
    u = uniform(backend, key, shape, _NORMAL_LOW, 1.0, device, region)
    return _SQRT2 * erfinv(backend.xp, u)


def _erf32(x: float) -> float:
    return float(_F32(math.erf(float(_F32(x) / _F32(_SQRT2)))))


def truncated_normal(
    backend: Any,
    key: StreamKey,
    shape: tuple[int, ...],
    lower: float,
    upper: float,
    device: Device,
    region: tuple[slice, ...] | None = None,
) -> Array:
    """float32 ``jax.random.truncated_normal(key, lower, upper, shape)`` (or a block)."""
    xp = backend.xp
    u = uniform(backend, key, shape, _erf32(lower), _erf32(upper), device, region)
    values = _SQRT2 * erfinv(xp, u)
    # JAX clamps to the open interval (lower, upper) in float32.
    inside_low = float(np.nextafter(_F32(lower), _F32(np.inf)))
    inside_high = float(np.nextafter(_F32(upper), _F32(-np.inf)))
    return xp.clip(values, inside_low, inside_high)
