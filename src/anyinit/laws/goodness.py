"""Whether values held in a model fit a law: bounds, mean, standard deviation and a
Kolmogorov–Smirnov test, each with a limit that scales with the number of values.

Used by :func:`anyinit.audit`. Every limit is set for a false alarm of about one in
a million per test, so a model of a few hundred parameters is flagged wrongly far
less than once in a hundred; a wrong law (a missed depth scaling, a bias zeroed,
bounds in the wrong units) moves a statistic by many times its limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Fit", "cdf_array", "fit", "half_spacing", "relative_eps"]

#: Standard errors a mean or a standard deviation may stray: two-sided p ≈ 5.7e-7.
Z = 5.0
#: The Kolmogorov–Smirnov test's false-alarm probability.
KS_ALPHA = 1e-6
#: At most this many values enter the KS test (evenly strided): sorting and the CDF stay
#: cheap on a big matrix; bounds, mean and std use every value.
KS_VALUES = 1 << 16

_EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}


def relative_eps(dtype_name: str) -> float:
    """The relative rounding step of a floating dtype by name (float32's for unknown ones)."""
    for name, eps in _EPS.items():
        if name in dtype_name:  # "torch.bfloat16", "float16" (checked after "bfloat16")
            return eps
    return _EPS["float32"]


def half_spacing(values: np.ndarray, dtype_name: str) -> np.ndarray:
    """An upper bound of half the gap between neighbouring values of the dtype at `values`:
    how far a value held in that dtype may sit from the real number it rounds."""
    eps = relative_eps(dtype_name)
    return np.asarray(np.abs(values) * eps + eps * 1e-30, dtype=np.float64)


def _erfc(z: np.ndarray) -> np.ndarray:
    # Chebyshev fit of erfc (Numerical Recipes' erfcc): relative error < 1.2e-7 for every
    # z, far below what a KS limit can see; NumPy has no erf of its own.
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    result = t * np.exp(-a * a + poly)
    return np.asarray(np.where(z >= 0, result, 2.0 - result), dtype=np.float64)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * _erfc(-x / math.sqrt(2.0)), dtype=np.float64)


def cdf_array(law: Any, x: np.ndarray) -> np.ndarray:
    """`law`'s CDF at every value of `x` (vectorised for the common records)."""
    return np.asarray(_cdf(law, np.asarray(x, dtype=np.float64)), dtype=np.float64)


def _cdf(law: Any, x: np.ndarray) -> Any:
    kind = getattr(law, "kind", "")
    if kind == "uniform":
        if law.high == law.low:
            return (x >= law.low).astype(np.float64)
        return np.clip((x - law.low) / (law.high - law.low), 0.0, 1.0)
    if kind == "normal":
        if law.scale == 0:
            return (x >= law.loc).astype(np.float64)
        return _normal_cdf((x - law.loc) / law.scale)
    if kind in ("truncated_normal", "bounded_normal"):
        low, high = law.bounds
        lower = _normal_cdf(np.asarray(law.lower))
        mass = float(_normal_cdf(np.asarray(law.upper)) - lower)
        inside = (_normal_cdf((x - law.loc) / law.scale) - lower) / mass
        return np.where(x <= low, 0.0, np.where(x >= high, 1.0, np.clip(inside, 0.0, 1.0)))
    return np.frompyfunc(law.cdf, 1, 1)(x).astype(np.float64)


@dataclass(frozen=True)
class Fit:
    """The statistics of some values against a law, and what failed (empty: they fit)."""

    count: int
    mean: float
    std: float
    ks: float | None
    ks_limit: float | None
    failures: tuple[str, ...]


def _ks(values: np.ndarray, law: Any, dtype_name: str) -> tuple[float, float]:
    """The KS distance of `values` to `law`, conservative for values rounded to a dtype:
    each step is compared with the CDF at the far end of its rounding interval."""
    flat = values.ravel()
    if flat.size > KS_VALUES:
        flat = flat[:: -(-flat.size // KS_VALUES)]
    x = np.sort(flat)
    n = x.size
    half = half_spacing(x, dtype_name)
    above = cdf_array(law, x + half)
    below = cdf_array(law, x - half)
    steps = np.arange(1, n + 1) / n
    distance = max(float(np.max(steps - above)), float(np.max(below - (steps - 1 / n))), 0.0)
    limit = math.sqrt(-math.log(KS_ALPHA / 2) / 2) / math.sqrt(n)
    return distance, limit


def fit(values: np.ndarray, law: Any, dtype_name: str, *, ks: bool = True) -> Fit:
    """Test `values` (float64, as held in `dtype_name`) against the distribution record
    `law`: every value inside its bounds, the mean and the standard deviation within
    ``Z`` standard errors, and (with `ks`) the KS distance under its limit."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    failures = []
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    sigma, mu = float(law.std), float(law.mean)
    eps = relative_eps(dtype_name)
    low, high = law.bounds
    if n and (math.isfinite(low) or math.isfinite(high)):
        slack = eps * max(
            abs(low) if math.isfinite(low) else 0.0, abs(high) if math.isfinite(high) else 0.0
        )
        outside = int(np.count_nonzero((x < low - slack) | (x > high + slack)))
        if outside:
            failures.append(f"{outside} value(s) outside [{low:.4g}, {high:.4g}]")
    if n:
        rounding = eps * (abs(mu) + sigma)
        limit = Z * sigma / math.sqrt(n) + rounding
        if abs(mean - mu) > limit:
            failures.append(f"mean {mean:.4g}, expected {mu:.4g} ± {limit:.2g}")
    if n > 1:
        # The standard error of a sample std is σ·√((κ - 1)/(4n)); κ = 3 (the normal's
        # kurtosis) bounds every law used here, the uniform's 1.8 included.
        limit = Z * sigma * math.sqrt(2 / (4 * n)) + eps * sigma
        if abs(std - sigma) > limit:
            failures.append(f"std {std:.4g}, expected {sigma:.4g} ± {limit:.2g}")
    distance = ks_limit = None
    if ks and n > 1 and sigma > 0:
        distance, ks_limit = _ks(x, law, dtype_name)
        if distance > ks_limit:
            failures.append(f"KS distance {distance:.3g} > {ks_limit:.3g}: not this law's shape")
    return Fit(n, mean, std, distance, ks_limit, tuple(failures))
