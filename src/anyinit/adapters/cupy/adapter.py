"""CuPy adapter: ``cupy.random.Generator`` (XORWOW) on the array's GPU, ``cupy.linalg.qr``."""

from __future__ import annotations

from typing import Any, ClassVar

import cupy

from ..._typing import Array, Device, DType, Shape
from ..base import Backend
from ..numpy.dtypes import NumpyDtypes

__all__ = ["CupyBackend"]


class CupyBackend(NumpyDtypes, Backend):
    """Adapter for CuPy arrays on any CUDA device."""

    name = "cupy"
    generator_types: ClassVar[str] = "cupy.random.Generator"

    def __init__(self, xp: Any) -> None:
        super().__init__(xp)
        self._defaults: dict[int, Any] = {}

    def _lookup_dtype(self, name: str) -> DType | None:
        return None if name == "bfloat16" else super()._lookup_dtype(name)

    def default_device(self) -> Device:
        return cupy.cuda.Device()

    def check_device(self, device: Device) -> Device:
        count = cupy.cuda.runtime.getDeviceCount()
        if isinstance(device, cupy.cuda.Device):
            index = device.id
        elif isinstance(device, int) and not isinstance(device, bool):
            index = device
        elif isinstance(device, str) and device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
        else:
            msg = f"`device`={device!r} is not a CuPy device; pass a cupy.cuda.Device or an index."
            raise ValueError(msg)
        if not 0 <= index < count:
            msg = f"`device`={device!r} is not available: this machine has {count} CUDA device(s)."
            raise ValueError(msg)
        return cupy.cuda.Device(index)

    def empty(self, shape: Shape, dtype: DType, device: Device) -> Array:
        with device:
            return cupy.empty(shape, dtype=dtype)

    def full(self, shape: Shape, value: Any, dtype: DType, device: Device) -> Array:
        with device:
            return cupy.full(shape, value, dtype=dtype)

    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, (cupy.random.Generator, cupy.random.RandomState))

    def default_generator(self, device: Device) -> Any:
        # One entropy-seeded generator per device, advanced by every call.
        generator = self._defaults.get(device.id)
        if generator is None:
            with device:
                generator = self._defaults[device.id] = cupy.random.default_rng()
        return generator

    def on_device(self, device: Device) -> Any:
        return device  # cupy.cuda.Device is the context that puts draws on it

    def from_host(self, values: Any, dtype: DType, device: Device) -> Array:
        # CuPy's generators already draw on the device.
        return values if values.dtype == dtype else values.astype(dtype)

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        with matrix.device:
            q, r = cupy.linalg.qr(matrix, mode="reduced")
        return q, r

    def to_host(self, array: Array) -> Any:
        return array.get()

    def describe_devices(self) -> list[str]:
        count = cupy.cuda.runtime.getDeviceCount()
        return [
            f"cuda:{i} ({cupy.cuda.runtime.getDeviceProperties(i)['name'].decode()})"
            for i in range(count)
        ]
