"""TensorFlow adapter: ``tf.Tensor`` results on the tensor's device, ``tf.Variable.assign``
for the in-place functions, ``tf.random.Generator`` as a native generator.

TensorFlow is not an Array API library: the values are computed on the host by the
NumPy adapter (bit for bit NumPy's for integer seeds) and made a ``tf.Tensor`` on
the device asked for, once, at the end (see :mod:`anyinit.adapters.bridge`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from ..._typing import Array, Device, DType, Shape
from ...laws.dtypes import DTYPE_NAMES
from ..bridge import BridgedBackend

__all__ = ["TensorflowBackend"]


def _device_name(device: Any) -> str:
    return tf.DeviceSpec.from_string(device).to_string() if device else ""


class TensorflowBackend(BridgedBackend):
    """Adapter for ``tf.Tensor`` / ``tf.Variable`` on any TensorFlow device."""

    name = "tensorflow"
    generator_types: ClassVar[str] = "tf.random.Generator, numpy.random.Generator"

    def __init__(self, library: Any) -> None:
        self.native_dtypes = {name: tf.as_dtype(name) for name in DTYPE_NAMES}
        super().__init__(library)

    # -- devices -----------------------------------------------------------------

    def default_device(self) -> Device:
        return _device_name(tf.constant(0.0).device)

    def check_device(self, device: Device) -> Device:
        if not isinstance(device, str):
            msg = f"`device`={device!r} is not a TensorFlow device; pass its name, e.g. 'CPU:0'."
            raise ValueError(msg)
        text = device if "/" in device or ":" in device else f"{device}:0"
        try:
            spec = tf.DeviceSpec.from_string(text if text.startswith("/") else f"/device:{text}")
        except ValueError as error:
            msg = f"`device`={device!r} is not a TensorFlow device name: {error}"
            raise ValueError(msg) from error
        known = {
            (d.device_type.upper(), int(d.name.rpartition(":")[2]))
            for d in tf.config.list_logical_devices()
        }
        wanted = ((spec.device_type or "CPU").upper(), spec.device_index or 0)
        if wanted not in known:
            have = ", ".join(f"{kind}:{index}" for kind, index in sorted(known))
            msg = f"`device`={device!r} is not available; TensorFlow has {have}."
            raise ValueError(msg)
        return f"/job:localhost/replica:0/task:0/device:{wanted[0]}:{wanted[1]}"

    def native_device_of(self, like: Array) -> Device:
        if isinstance(like, (tf.RaggedTensor, tf.SparseTensor)):
            kind = type(like).__name__
            msg = (
                f"`like` must be a dense tf.Tensor or tf.Variable; a tf.{kind} is not one "
                "(to draw like its values, pass like=its .values)."
            )
            raise TypeError(msg)
        return _device_name(like.device) or self.default_device()

    def describe_devices(self) -> list[str]:
        return [d.name for d in tf.config.list_logical_devices()]

    # -- results and writes ------------------------------------------------------------

    def export(self, values: Any, dtype_name: str, device: Device) -> Array:
        if isinstance(values, tf.Tensor | tf.Variable):
            return values
        with tf.device(device):
            return tf.constant(np.asarray(values), dtype=self.native_dtypes[dtype_name])

    def writable(self, shape: Shape, dtype_name: str, device: Device, value: Any = 0) -> Array:
        with tf.device(device):
            return tf.Variable(super().writable(shape, dtype_name, device, value))

    def is_mutable(self, array: Array) -> bool:
        return isinstance(array, tf.Variable)

    def write(self, array: Array, values: Array) -> None:
        array.assign(tf.constant(self.host_values(values), dtype=array.dtype))

    def fill(self, array: Array, value: Any) -> None:
        array.assign(tf.fill(array.shape, tf.constant(value, dtype=array.dtype)))

    def to_host(self, array: Array) -> Any:
        if isinstance(array, np.ndarray | np.generic):
            return array
        return array.numpy()

    # -- native generators -----------------------------------------------------------

    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, tf.random.Generator) or super().is_generator(obj)

    def native_uniform(
        self, rng: Any, shape: Shape, low: float, high: float, dtype: DType, device: Device
    ) -> Array:
        if not isinstance(rng, tf.random.Generator):
            return super().native_uniform(rng, shape, low, high, dtype, device)
        return self._tf_affine(rng.uniform, shape, high - low, low, dtype)

    def native_normal(
        self, rng: Any, shape: Shape, mean: float, std: float, dtype: DType, device: Device
    ) -> Array:
        if not isinstance(rng, tf.random.Generator):
            return super().native_normal(rng, shape, mean, std, dtype, device)
        return self._tf_affine(rng.normal, shape, std, mean, dtype)

    def native_truncated_standard(
        self, rng: Any, shape: Shape, lower: float, upper: float, work: DType, device: Device
    ) -> Any:
        if isinstance(rng, tf.random.Generator):
            # NumPy's fast path calls the Generator API; the core's rejection loop draws
            # through native_normal / native_uniform, which speak TensorFlow's.
            return None
        return super().native_truncated_standard(rng, shape, lower, upper, work, device)

    def _tf_affine(self, draw: Any, shape: Shape, scale: float, shift: float, dtype: DType) -> Any:
        # TensorFlow's own numbers in the compute dtype (float32 for 16-bit results, as the
        # NumPy path does), then the same affine step on the host.
        compute = np.float64 if np.dtype(dtype) == np.float64 else np.float32
        values = draw(tuple(shape), dtype=tf.as_dtype(compute)).numpy()
        if scale != 1.0:
            values *= compute(scale)
        if shift != 0.0:
            values += compute(shift)
        return values.astype(dtype, copy=False)
