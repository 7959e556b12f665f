"""Libraries that are not Array API libraries (TensorFlow), or only in part (MLX): computed on
the host with NumPy, then handed to the library.

A *bridged* adapter is the NumPy adapter (its fast portable-stream kernel, its QR,
its rejection) whose results the core gives, at the very end, to :meth:`export`,
which makes the library's own array on its device and dtype. Integer seeds thus
give NumPy's values bit for bit; a native generator (``tf.random.Generator``)
supplies the uniform or normal numbers the laws are built from. In-place writes
go through :meth:`write` (``tf.Variable.assign``, MLX's ``a[...] = v``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._typing import Array, Device, DType, Shape
from .numpy.adapter import NumpyBackend

__all__ = ["BridgedBackend"]


class BridgedBackend(NumpyBackend):
    """The NumPy adapter, exporting its results to another library (`library`).

    Subclasses give the library's dtypes (:attr:`native_dtypes`), devices
    (:meth:`native_device_of`, :meth:`check_device`, :meth:`default_device`),
    :meth:`export` and :meth:`write`, and :meth:`to_host`.
    """

    exports: ClassVar[bool] = True
    #: canonical dtype name -> the library's dtype (filled by the subclass).
    native_dtypes: dict[str, Any]

    def __init__(self, library: Any) -> None:
        import array_api_compat.numpy

        self.library = library
        super().__init__(array_api_compat.numpy)

    def _lookup_dtype(self, name: str) -> DType | None:
        if name not in self.native_dtypes:
            return None
        return super()._lookup_dtype(name)

    def dtype_name(self, dtype: Any) -> str | None:
        for name, native in self.native_dtypes.items():
            if type(native) is type(dtype) and native == dtype:
                return name
        if isinstance(dtype, np.dtype | type | str):
            return super().dtype_name(dtype)
        return None

    def namespace_device(self, device: Device) -> Device:
        return "cpu"  # the computation is NumPy's, on the host

    def device_of(self, like: Array, device: Device, chunks: Any) -> Device:
        return self.native_device_of(like) if device is None else self.check_device(device)

    def native_device_of(self, like: Array) -> Device:
        raise NotImplementedError

    def export(self, values: Any, dtype_name: str, device: Device) -> Array:
        """`values` (NumPy) as the library's array of `dtype_name` on `device`."""
        raise NotImplementedError

    def writable(self, shape: Shape, dtype_name: str, device: Device, value: Any = 0) -> Array:
        """An array the in-place functions can write (``tf.Variable``, ``mx.array``), filled
        with `value`."""
        return self.export(np.full(shape, value, self.dtype(dtype_name)), dtype_name, device)
