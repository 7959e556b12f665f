"""NumPy adapter: ``numpy.random.Generator`` (PCG64), SciPy's QR when installed."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._typing import Array, Device, DType
from ._base import Backend

__all__ = ["NumpyBackend"]


class NumpyBackend(Backend):
    """Adapter for NumPy arrays (CPU only)."""

    name = "numpy"
    generator_types: ClassVar[str] = "numpy.random.Generator"

    def _lookup_dtype(self, name: str) -> DType | None:
        if name == "bfloat16":
            # NumPy has no bfloat16; ml_dtypes (a JAX and Keras dependency) adds one.
            try:
                import ml_dtypes
            except ImportError:
                return None
            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(name)

    def dtype_name(self, dtype: Any) -> str | None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return None
        return name if name in self._dtypes else None

    def default_device(self) -> Device:
        return "cpu"

    def check_device(self, device: Device) -> Device:
        if device == "cpu":
            return device
        msg = f"`device`={device!r} is not a device of numpy; NumPy arrays live on 'cpu'."
        raise ValueError(msg)

    def empty(self, shape: tuple[int, ...], dtype: DType, device: Device) -> Array:
        return np.empty(shape, dtype=dtype)

    def full(self, shape: tuple[int, ...], value: Any, dtype: DType, device: Device) -> Array:
        return np.full(shape, value, dtype=dtype)

    def _host_draw(self, values: Any, dtype: DType, device: Device) -> Array:
        return values if values.dtype == dtype else values.astype(dtype)

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        try:
            from scipy.linalg import qr as scipy_qr
        except ImportError:
            q, r = np.linalg.qr(matrix, mode="reduced")
            return q, r
        # SciPy's LAPACK call keeps float32 (NumPy's is about 2x slower here).
        q, r = scipy_qr(matrix, mode="economic", overwrite_a=True, check_finite=False)
        return q, r

    def describe_devices(self) -> list[str]:
        return ["cpu"]
