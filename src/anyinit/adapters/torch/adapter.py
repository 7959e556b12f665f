"""PyTorch adapter: ``torch.Generator`` on the tensor's device, ``torch.linalg.qr``.

Works for CPU, CUDA, MPS and ``meta`` tensors; on ``meta`` nothing is drawn.
"""

from __future__ import annotations

import contextlib
import math
import sys
import weakref
from typing import Any, ClassVar

import numpy as np
import torch

from ..._typing import Array, Device, DType, Interval, Shape
from ..base import Backend, PortableDraw, Region
from ..protocol import FusedLayoutFill, supports
from ..registry import host_backend
from . import devices, kernel, nn_init

__all__ = ["TorchBackend"]

#: torch.Generator -> its device type (generators outlive no entry: weak keys).
_GENERATOR_DEVICE_TYPES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_DEVICE_TYPES: dict[Any, str] = {}


def _device_type(device: Device) -> str:
    try:
        return _DEVICE_TYPES[device]
    except (KeyError, TypeError):
        pass
    kind = str(torch.device(device).type)
    with contextlib.suppress(TypeError):
        if len(_DEVICE_TYPES) < 64:
            _DEVICE_TYPES[device] = kind
    return kind


_FLOAT32 = np.dtype("float32")
_FLOAT64 = np.dtype("float64")
#: Tensors the host kernel writes directly, and the dtypes it stores.
_PLAIN = (torch.Tensor, torch.nn.Parameter)
_DIRECT = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}


class TorchBackend(Backend):
    """Adapter for ``torch.Tensor`` on any device."""

    name = "torch"
    generator_types: ClassVar[str] = "torch.Generator on the tensor's device type"

    def _lookup_dtype(self, name: str) -> DType | None:
        dtype = getattr(torch, name, None)
        return dtype if isinstance(dtype, torch.dtype) else None

    def dtype_name(self, dtype: Any) -> str | None:
        if not isinstance(dtype, torch.dtype):
            return None
        name = str(dtype).removeprefix("torch.")
        return name if name in self._dtypes else None

    def default_device(self) -> Device:
        return torch.get_default_device()

    def check_device(self, device: Device) -> Device:
        return devices.check(device)

    def wide_dtype(self, device: Device) -> DType | None:
        # MPS has no float64: the portable uniform then takes two float32 roundings.
        return None if torch.device(device).type == "mps" else torch.float64

    def is_mutable(self, array: Array) -> bool:
        # An inference tensor cannot be written outside inference mode: say so before
        # anything is written (torch writes, then raises).
        return not (array.is_inference() and not torch.is_inference_mode_enabled())

    def layout_key(self, array: Array) -> Any:
        # Sparse and other non-strided tensors resolve (and are refused) apart from dense ones.
        return array.layout

    def materializes(self, device: Device) -> bool:
        return bool(torch.device(device).type != "meta")

    def empty(self, shape: Shape, dtype: DType, device: Device) -> Array:
        return torch.empty(shape, dtype=dtype, device=device)

    def full(self, shape: Shape, value: Any, dtype: DType, device: Device) -> Array:
        return torch.full(shape, value, dtype=dtype, device=device)

    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, torch.Generator)

    def default_generator(self, device: Device) -> Any:
        # torch's default generator for the device: fresh values each call, and
        # torch.manual_seed makes them reproducible, as with torch.nn.init.
        return None

    def own_generator(self, generator: Any, device: Device) -> Any:
        # A generator's device never changes, and reading .device / .type builds objects
        # (~0.6 µs of a 5 µs in-place call): both answers are remembered.
        have = _GENERATOR_DEVICE_TYPES.get(generator)
        if have is None:
            have = _GENERATOR_DEVICE_TYPES[generator] = generator.device.type
        wanted = _device_type(device)
        if have != wanted and wanted != "meta":
            msg = (
                f"`seed` is a torch.Generator on {have!r} but the target tensor is on "
                f"{wanted!r}; use a generator on the same device type."
            )
            raise ValueError(msg)
        return generator

    def native_uniform(
        self, rng: Any, shape: Shape, low: float, high: float, dtype: DType, device: Device
    ) -> Array:
        return torch.empty(shape, dtype=dtype, device=device).uniform_(low, high, generator=rng)

    def native_normal(
        self, rng: Any, shape: Shape, mean: float, std: float, dtype: DType, device: Device
    ) -> Array:
        return torch.empty(shape, dtype=dtype, device=device).normal_(mean, std, generator=rng)

    def native_truncated_standard(
        self, rng: Any, shape: Shape, lower: float, upper: float, work: DType, device: Device
    ) -> Array | None:
        if max(abs(lower), abs(upper)) > 3.0:
            return None  # rejection (or the total inverse CDF in far tails)
        # Inverse CDF in place (uniform_, erfinv_), as torch did before 2.13: exact
        # for bounds this close, where u stays far from ±1 (torch's outliers came
        # from u rounding to ±1 with bounds at ±100σ, which take rejection instead).
        low_u, high_u = math.erf(lower / math.sqrt(2.0)), math.erf(upper / math.sqrt(2.0))
        values = torch.empty(shape, dtype=work, device=device)
        return values.uniform_(low_u, high_u, generator=rng).erfinv_().mul_(math.sqrt(2.0))

    def real_view(self, array: Array) -> Array | None:
        return torch.view_as_real(array)

    def sparse_zero_mask(
        self, rng: Any, shape: tuple[int, int], zeros: int, device: Device
    ) -> Array | None:
        if rng is not None:
            return None  # a generator draws the positions too (torch ignores it there)
        # torch.nn.init.sparse_: one randperm per column from the default CPU
        # generator, even when no zero is asked for (so its state moves as torch's).
        rows, cols = shape
        mask = torch.zeros(shape, dtype=torch.bool)
        for column in range(cols):
            mask[torch.randperm(rows)[:zeros], column] = True
        return mask.to(device)

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        q, r = torch.linalg.qr(matrix, mode="reduced")
        return q, r

    def to_host(self, array: Array) -> Any:
        host = array.detach().cpu()
        if host.dtype == torch.bfloat16:  # NumPy has no bfloat16
            host = host.float()
        return host.resolve_conj().numpy()

    def shards(self, like: Array) -> Any:
        # A DTensor exists only once torch.distributed.tensor is imported: never import it here.
        if "torch.distributed.tensor" not in sys.modules:
            return None
        from . import dtensor

        return dtensor.shards_of(like)

    def describe_devices(self) -> list[str]:
        return devices.describe()

    # -- the portable stream ----------------------------------------------------------
    # On the CPU, NumPy's blocked kernel computes the same float32 values faster
    # than torch ops on whole arrays, and torch.from_numpy shares its memory.

    def draw_portable(self, draw: PortableDraw) -> Array:
        if torch.device(draw.device).type == "cpu":
            direct = self._fused_on_cpu(draw)
            if direct is not None:
                return direct
            host_dtype = _FLOAT64 if draw.dtype == torch.float64 else _FLOAT32
            values = host_backend().draw_portable(draw.replace(dtype=host_dtype, device="cpu"))
            return torch.from_numpy(values).to(draw.dtype)
        return super().draw_portable(draw)

    def portable_uniform01(self, key: Any, shape: Shape, region: Region, device: Device) -> Array:
        return kernel.uniform01(key, shape, region, device)

    def _fused_on_cpu(self, draw: PortableDraw) -> Array | None:
        """A fused draw written by the host kernel straight into a new CPU tensor of the
        result's dtype (float32, float16, bfloat16: no NumPy array, no conversion after)."""
        if draw.fused is None or draw.dtype not in _DIRECT:
            return None
        host = host_backend()
        if not supports(host, FusedLayoutFill):
            return None
        region = draw.region
        block = draw.shape if region is None else tuple(s.stop - s.start for s in region)
        out = torch.empty(block, dtype=draw.dtype)
        view = self.host_view(out)
        if view is None:
            return None
        axes = tuple(range(len(draw.shape)))
        job = host.fused_job(view[0], draw.fused, tuple(draw.shape), axes, region)
        if job is None:
            return None
        host.run_fused_jobs([job])
        return out

    # -- the host kernel's direct writes into CPU tensors --------------------------

    def host_view(self, array: Any) -> tuple[Any, str] | None:
        name = _DIRECT.get(array.dtype) if type(array) in _PLAIN else None
        if (
            name is None
            or array.device.type != "cpu"
            or not array.is_contiguous()
            or array.is_conj()
            or array.is_neg()
            or array.is_inference()
        ):
            return None
        held = array.detach()
        if name == "bfloat16":  # NumPy has no bfloat16: its bits
            held = held.view(torch.int16)
        return held.numpy(), name

    def host_written(self, array: Any) -> None:
        # Memory written behind torch's back: tell autograd, as copy_ would have.
        torch.autograd.graph.increment_version(array)

    # -- in-place writes: the same tensor operations as torch.nn.init ----------

    def write(self, array: Array, values: Array) -> None:
        if getattr(values, "requires_grad", False):  # a write is data, never a graph edge
            values = values.detach()
        nn_init.writable(array).copy_(values)

    def fill(self, array: Array, value: Any) -> None:
        nn_init.writable(array).fill_(value)

    # In-place draws with torch's own generator: torch.nn.init's own tensor
    # operations (in _torch_nn_init), so the values and the generator state are torch's.

    def uniform_into(self, array: Array, low: float, high: float, clip: Interval, rng: Any) -> bool:
        return nn_init.uniform_(array, low, high, clip, rng)

    def normal_into(self, array: Array, mean: float, std: float, rng: Any) -> bool:
        return nn_init.normal_(array, mean, std, rng)

    def trunc_normal_into(
        self, array: Array, mean: float, std: float, bounds: Interval, clip: Interval, rng: Any
    ) -> bool:
        wide = self.wide_dtype(array.device)
        return nn_init.trunc_normal_(array, mean, std, bounds, clip, rng, wide)
