"""A complete anyinit adapter, written as a third party would: ``array_api_strict``.

``array_api_strict`` has no random numbers of its own. This adapter gives it
NumPy's ``Generator`` as its native generator, draws on the host and hands the
values to the array's device; everything else (fans, laws, bounds, the
rejection sampler, the portable stream, seeds) is anyinit's core. The test
suite registers it and runs the whole conformance suite against it
(``nox -s tests-adapter-example``); ``docs/adapters.rst`` walks through it.

Register it with ``register()``, or in a package's ``pyproject.toml``::

    [project.entry-points."anyinit.backends"]
    array_api_strict = "strict_adapter:StrictAdapter"
"""

from __future__ import annotations

from typing import Any

import numpy as np

import anyinit
from anyinit.adapters import Backend

NAMESPACE = "array_api_strict"


class StrictAdapter(Backend):
    """array_api_strict arrays, with NumPy's Generator as their native generator."""

    name = "array_api_strict"
    generator_types = "numpy.random.Generator"

    # Generators: which objects are native ones. seed=None uses default_generator(device),
    # inherited here: it continues NumPy's global state, so np.random.seed applies.
    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, np.random.Generator)

    # Native draws: U[low, high) and N(mean, std²) in `dtype` on `device`.
    def native_uniform(self, rng: Any, shape: tuple[int, ...], low: float, high: float,
                       dtype: Any, device: Any) -> Any:  # fmt: skip
        values = rng.random(shape, dtype=self._host_dtype(dtype))
        if (low, high) != (0.0, 1.0):
            values = values * (high - low) + low
        return self.from_host(values, dtype, device)

    def native_normal(self, rng: Any, shape: tuple[int, ...], mean: float, std: float,
                      dtype: Any, device: Any) -> Any:  # fmt: skip
        values = rng.standard_normal(shape, dtype=self._host_dtype(dtype))
        if std != 1.0:
            values = values * std
        if mean != 0.0:
            values = values + mean
        return self.from_host(values, dtype, device)

    # Back to NumPy (plots, the CLI): array_api_strict's other devices go to its CPU first.
    # (Values reach the device with the inherited from_host: xp.asarray(..., device=).)
    def to_host(self, array: Any) -> Any:
        return np.from_dlpack(array.to_device(self.xp.Device("CPU_DEVICE")))

    def _host_dtype(self, dtype: Any) -> Any:
        # Draw float32 or float64; 16-bit dtypes (not in array_api_strict) would draw float32.
        return np.float64 if self.dtype_name(dtype) == "float64" else np.float32


def register() -> None:
    """Serve ``array_api_strict`` with this adapter (instead of the generic fallback)."""
    anyinit.register_backend(NAMESPACE, StrictAdapter, replace=True)
