"""The inverse softplus of a log-uniform time step: the law of Mamba's ``dt_proj`` bias."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from .. import sampling
from .._typing import Array
from .._validation import as_finite_float
from ..laws.records import Distribution
from ..target import Target
from .random import RandomInitializer

__all__ = ["InverseSoftplusLogUniform"]


def _inverse_softplus(x: float) -> float:
    """``x + log(-expm1(-x))`` = ``log(expm1(x))``, as the references write it."""
    return x + math.log(-math.expm1(-x))


@functools.lru_cache(maxsize=64)
def _moments(low: float, high: float, floor: float) -> tuple[float, float]:
    # The law is a smooth map of one uniform: a midpoint rule on 2¹⁴ points is exact to
    # far below what any test of 10⁸ values could see.
    points = 1 << 14
    span = math.log(high) - math.log(low)
    total = square = 0.0
    for i in range(points):
        dt = max(math.exp((i + 0.5) / points * span + math.log(low)), floor)
        y = _inverse_softplus(dt)
        total += y
        square += y * y
    mean = total / points
    return mean, math.sqrt(max(square / points - mean * mean, 0.0))


@dataclass(frozen=True)
class InverseSoftplusLogUniformLaw(Distribution):
    """``log(expm1(dt))`` with ``dt = max(exp(U[log low, log high)), floor)``."""

    low: float
    high: float
    floor: float
    kind = "inverse_softplus_log_uniform"

    def sample(self, target: Target, rng: Any, shape: tuple[int, ...]) -> Array:
        u = sampling.uniform(
            target.backend, rng, shape, 0.0, 1.0, target.dtype, target.device, target.region
        )
        return self.transform(target.xp, u)

    def transform(self, xp: Any, u: Array) -> Array:
        """The bias for uniforms `u` in [0, 1), in `u`'s dtype (the references' formula)."""
        log_low = math.log(self.low)
        span = math.log(self.high) - log_low
        dt = xp.exp(u * span + log_low)
        floor = xp.full_like(dt, self.floor)  # on dt's device, in its dtype
        dt = xp.where(dt < floor, floor, dt)
        return dt + xp.log(-xp.expm1(-dt))

    @property
    def mean(self) -> float:
        return _moments(self.low, self.high, self.floor)[0]

    @property
    def std(self) -> float:
        return _moments(self.low, self.high, self.floor)[1]

    @property
    def bounds(self) -> tuple[float, float]:
        return _inverse_softplus(max(self.low, self.floor)), _inverse_softplus(
            max(self.high, self.floor)
        )

    def cdf(self, x: float) -> float:
        low, high = self.bounds
        if x < low:
            return 0.0
        if x >= high:
            return 1.0
        dt = math.log1p(math.exp(x))  # softplus: the time step this bias stands for
        if self.high == self.low:
            return 1.0
        return min(
            1.0, max(0.0, (math.log(dt) - math.log(self.low)) / math.log(self.high / self.low))
        )

    def describe(self) -> str:
        return f"softplus⁻¹(max(exp(U[log {self.low:.6g}, log {self.high:.6g})), {self.floor:.6g}))"


class InverseSoftplusLogUniform(RandomInitializer):
    """The inverse softplus of a time step drawn log-uniform in ``[dt_min, dt_max]``.

    Mamba's ``dt_proj`` bias (``mamba_ssm`` ``Mamba.__init__``, HF
    ``MambaMixer.init_mamba_weights``): ``dt = exp(u·(log dt_max - log dt_min) + log dt_min)``
    with ``u ~ U[0, 1)``, clamped below at `floor`, then ``dt + log(-expm1(-dt))``, so
    that ``softplus(bias)`` is the time step.

    Parameters
    ----------
    dt_min, dt_max : float, default 0.001, 0.1
        The range of the time step, ``0 < dt_min <= dt_max``.
    floor : float, default 1e-4
        The smallest time step, ``>= 0``.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`anyinit.RandomInitializer`.

    Examples
    --------
    >>> import numpy as np
    >>> from anyinit.initializers.softplus import InverseSoftplusLogUniform
    >>> bias = InverseSoftplusLogUniform(seed=0)((1000,))
    >>> dt = np.log1p(np.exp(bias))
    >>> bool(dt.min() >= 0.001 * 0.999 and dt.max() <= 0.1 * 1.001)
    True
    """

    _size_arguments = ("dt_max",)

    def __init__(
        self, dt_min: float = 0.001, dt_max: float = 0.1, floor: float = 1e-4, seed: Any = None
    ) -> None:
        self.dt_min = as_finite_float("dt_min", dt_min)
        self.dt_max = as_finite_float("dt_max", dt_max)
        self.floor = as_finite_float("floor", floor, minimum=0.0)
        if not 0 < self.dt_min <= self.dt_max:
            msg = (
                f"`dt_min` and `dt_max` must satisfy 0 < dt_min <= dt_max; received "
                f"dt_min={dt_min!r}, dt_max={dt_max!r}."
            )
            raise ValueError(msg)
        super().__init__(seed)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        return InverseSoftplusLogUniformLaw(self.dt_min, self.dt_max, self.floor)

    def get_config(self) -> dict[str, Any]:
        return {
            "dt_min": self.dt_min,
            "dt_max": self.dt_max,
            "floor": self.floor,
            "seed": self._config_seed(),
        }
