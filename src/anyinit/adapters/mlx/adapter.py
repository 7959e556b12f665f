"""MLX adapter: ``mx.array`` results (``xp=mlx.core`` or ``like=`` an ``mx.array``).

MLX speaks only part of the Array API (no ``device`` attribute, no ``nextafter``, no
complex128), so the values are computed on the host by the NumPy adapter (bit for
bit NumPy's for integer seeds) and made an ``mx.array`` at the end (see
:mod:`anyinit.adapters.bridge`). MLX's unified memory has no per-array device;
``device`` names the default device a result is made with.
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np

from ..._typing import Array, Device
from ...laws.dtypes import DTYPE_NAMES
from ..bridge import BridgedBackend

__all__ = ["MlxBackend"]


class MlxBackend(BridgedBackend):
    """Adapter for ``mlx.core`` arrays."""

    name = "mlx"

    def __init__(self, library: Any) -> None:
        # MLX has no complex128; its bool is mx.bool_.
        spelled = {name: "bool_" if name == "bool" else name for name in DTYPE_NAMES}
        self.native_dtypes = {
            name: getattr(mx, spelling)
            for name, spelling in spelled.items()
            if hasattr(mx, spelling)
        }
        super().__init__(library)

    def default_device(self) -> Device:
        return mx.default_device()

    def check_device(self, device: Device) -> Device:
        if isinstance(device, mx.Device):
            return device
        if isinstance(device, mx.DeviceType):
            return mx.Device(device)
        if isinstance(device, str) and device.partition(":")[0] in ("cpu", "gpu"):
            kind = mx.cpu if device.startswith("cpu") else mx.gpu
            if kind == mx.gpu and not mx.is_available(mx.gpu):
                msg = f"`device`={device!r} is not available: this MLX build has no GPU."
                raise ValueError(msg)
            return mx.Device(kind, int(device.partition(":")[2] or 0))
        msg = f"`device`={device!r} is not an MLX device; pass mx.cpu, mx.gpu or 'cpu'/'gpu'."
        raise ValueError(msg)

    def native_device_of(self, like: Array) -> Device:
        return mx.default_device()

    def describe_devices(self) -> list[str]:
        kinds = [mx.cpu] + ([mx.gpu] if mx.is_available(mx.gpu) else [])
        return [str(mx.Device(kind)) for kind in kinds]

    def export(self, values: Any, dtype_name: str, device: Device) -> Array:
        if isinstance(values, mx.array):
            return values
        host = np.asarray(values)
        native = self.native_dtypes[dtype_name]
        if dtype_name == "bfloat16":  # MLX takes no NumPy bfloat16: exact through float32
            return mx.array(host.astype(np.float32)).astype(native)
        return mx.array(host, dtype=native)

    def is_mutable(self, array: Array) -> bool:
        return isinstance(array, mx.array)

    def write(self, array: Array, values: Array) -> None:
        array[...] = self.export(self.host_values(values), self.dtype_of(array) or "float32",
                                 None)  # fmt: skip

    def fill(self, array: Array, value: Any) -> None:
        array[...] = value

    def to_host(self, array: Array) -> Any:
        if isinstance(array, np.ndarray | np.generic):
            return array
        if array.dtype == mx.bfloat16:  # NumPy has no bfloat16: exact in float32
            array = array.astype(mx.float32)
        return np.array(array)
