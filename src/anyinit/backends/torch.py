"""PyTorch adapter: ``torch.Generator`` on the tensor's device, ``torch.linalg.qr``.

Works for CPU, CUDA, MPS and ``meta`` tensors; on ``meta`` nothing is drawn.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from .._portable import truncated_from01, uniform_proposal_acceptance
from .._typing import Array, Device, DType, Interval, Shape
from . import host_backend
from ._base import Backend, PortableDraw

__all__ = ["TorchBackend"]

_FLOAT32 = np.dtype("float32")
_FLOAT64 = np.dtype("float64")


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
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as error:
            msg = f"`device`={device!r} is not a torch device: {error}"
            raise ValueError(msg) from None
        kind = resolved.type
        if kind == "cuda":
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            index = (
                resolved.index
                if resolved.index is not None
                else torch.cuda.current_device()
                if count
                else 0
            )
            if index >= count:
                msg = (
                    f"`device`={device!r} is not available: "
                    f"this machine has {count} CUDA device(s)."
                )
                raise ValueError(msg)
        elif kind == "mps" and not torch.backends.mps.is_available():
            msg = f"`device`={device!r} is not available: MPS is not available on this machine."
            raise ValueError(msg)
        elif kind not in ("cpu", "meta"):
            try:  # xla, xpu, privateuse1 …: usable only where their extension is loaded
                torch.empty(0, device=resolved)
            except RuntimeError:
                msg = f"`device`={device!r} is not available to torch on this machine."
                raise ValueError(msg) from None
        return resolved

    def wide_dtype(self, device: Device) -> DType | None:
        # MPS has no float64: the portable uniform then takes two float32 roundings.
        return None if torch.device(device).type == "mps" else torch.float64

    def is_mutable(self, array: Array) -> bool:
        # An inference tensor cannot be written outside inference mode: say so before
        # anything is written (torch writes, then raises).
        return not (array.is_inference() and not torch.is_inference_mode_enabled())

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

    def generator(self, seed: Any, device: Device) -> Any:
        rng = super().generator(seed, device)
        wanted = device.type if isinstance(device, torch.device) else torch.device(device).type
        if isinstance(rng, torch.Generator) and rng.device.type != wanted and wanted != "meta":
            msg = (
                f"`seed` is a torch.Generator on {rng.device.type!r} but the target tensor is on "
                f"{wanted!r}; use a generator on the same device type."
            )
            raise ValueError(msg)
        return rng

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

    def describe_devices(self) -> list[str]:
        devices = ["cpu"]
        if torch.cuda.is_available():
            devices += [
                f"cuda:{i} ({torch.cuda.get_device_name(i)})"
                for i in range(torch.cuda.device_count())
            ]
        if torch.backends.mps.is_available():
            devices.append("mps")
        devices.append("meta")
        return devices

    # -- the portable stream ----------------------------------------------------------
    # On the CPU, NumPy's blocked kernel computes the same float32 values faster
    # than torch ops on whole arrays, and torch.from_numpy shares its memory.

    def draw_portable(self, draw: PortableDraw) -> Array:
        if torch.device(draw.device).type == "cpu":
            host_dtype = _FLOAT64 if draw.dtype == torch.float64 else _FLOAT32
            values = host_backend().draw_portable(draw.replace(dtype=host_dtype, device="cpu"))
            return torch.from_numpy(values).to(draw.dtype)
        return super().draw_portable(draw)

    # -- the portable stream in int32 arithmetic (torch lacks uint32 add and shifts) --

    def portable_uniform01(
        self, key: Any, shape: Shape, region: tuple[slice, ...] | None, device: Device
    ) -> Array:
        region = region or tuple(slice(0, n) for n in shape)
        block = tuple(s.stop - s.start for s in region)
        index = torch.zeros(block, dtype=torch.int64, device=device)
        stride = 1
        for axis in range(len(shape) - 1, -1, -1):
            view = [1] * len(shape)
            view[axis] = block[axis]
            positions = torch.arange(region[axis].start, region[axis].stop, device=device)
            index += positions.reshape(view) * stride
            stride *= shape[axis]
        # Two's-complement int32 wraps like uint32 for +, ^, <<; >> needs a mask.
        high = (index >> 32).to(torch.int32)
        low = (index & 0xFFFFFFFF).to(torch.int32)
        y0, y1 = _threefry_int32(key, high, low)
        mantissa = ((y0 ^ y1) >> 9) & 0x7FFFFF
        return mantissa.to(torch.float32) * 2.0**-23

    # -- in-place writes: the same tensor operations as torch.nn.init ----------

    def write(self, array: Array, values: Array) -> None:
        with torch.no_grad():
            array.copy_(values)

    def fill(self, array: Array, value: Any) -> None:
        with torch.no_grad():
            array.fill_(value)

    # In-place draws with torch's own generator: the same tensor operations as
    # torch.nn.init, so the values and the generator state are torch's.

    def uniform_into(self, array: Array, low: float, high: float, clip: Interval, rng: Any) -> bool:
        if not _native(rng):
            return False
        # torch draws in the dtype from the exact bounds, so its rounding can cross
        # them (bfloat16 xavier_uniform_, bounds below float32's resolution): the
        # clamp changes nothing wherever torch is inside [low, high].
        if array.requires_grad:  # no_grad only where autograd is watching (~2 µs)
            with torch.no_grad():
                array.uniform_(low, high, generator=rng).clamp_(*clip)
        else:
            array.uniform_(low, high, generator=rng).clamp_(*clip)
        return True

    def normal_into(self, array: Array, mean: float, std: float, rng: Any) -> bool:
        if not _native(rng):
            return False
        if array.requires_grad:
            with torch.no_grad():
                array.normal_(mean, std, generator=rng)
        else:
            array.normal_(mean, std, generator=rng)
        return True

    def trunc_normal_into(
        self, array: Array, mean: float, std: float, bounds: Interval, clip: Interval, rng: Any
    ) -> bool:
        if not _native(rng):
            return False
        with torch.no_grad():
            _trunc_normal_like_torch(array, mean, std, *bounds, rng, self.wide_dtype(array.device))
            # torch rejects against the bounds cast to the dtype, which can lie
            # outside [a, b]; clamping changes nothing whenever torch is inside.
            array.clamp_(*clip)
        return True


def _native(rng: Any) -> bool:
    """torch's default generator (None) or a torch.Generator, not the portable stream."""
    return rng is None or isinstance(rng, torch.Generator)


def _trunc_normal_like_torch(
    tensor: Any, mean: float, std: float, a: float, b: float, generator: Any, wide: Any
) -> None:
    """torch 2.13's ``_no_grad_trunc_normal_``, step for step, for bit-identical draws."""

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    lower, upper = (a - mean) / std, (b - mean) / std
    if p <= 0.3 and uniform_proposal_acceptance(lower, upper) < 1e-3:
        # torch's loop would run for thousands of full-tensor rounds, or forever
        # ([1000σ, 2000σ]): the inverse CDF of torch uniforms instead (total).
        u = torch.empty(tensor.shape, dtype=torch.float32, device=tensor.device)
        u.uniform_(generator=generator)
        values = truncated_from01(_compat_torch(), u, lower, upper, wide)
        tensor.copy_(values.mul_(std).add_(mean))
        return
    if p > 0.3:
        lo = tensor.new_tensor(a, device="cpu").item()
        hi = tensor.new_tensor(b, device="cpu").item()
        result = tensor.normal_(mean, std, generator=generator)
        while True:
            mask = (result < lo) | (result > hi)
            if not mask.any():
                break
            result = torch.where(
                mask, torch.empty_like(result).normal_(mean, std, generator=generator), result
            )
        if tensor is not result:
            tensor.copy_(result)
        return
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    candidates = torch.empty_like(tensor)
    accept_buf = torch.empty_like(tensor)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
    pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
    if not pending.any():
        return
    result = tensor
    while True:
        candidates.uniform_(a, b, generator=generator)
        result = torch.where(pending, candidates, result)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = torch.where(
            pending, accept_buf.uniform_(generator=generator).log_().gt(candidates), pending
        )
        if not pending.any():
            break
    tensor.copy_(result)


def _as_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def _threefry_int32(key: Any, x0: Any, x1: Any) -> tuple[Any, Any]:
    """Threefry-2x32 (as :func:`anyinit._threefry.threefry2x32`) on int32 tensors."""
    from .._threefry import _PARITY, _ROTATIONS

    keys = (key.k0, key.k1, key.k0 ^ key.k1 ^ _PARITY)
    x0 = x0 + _as_int32(keys[0])
    x1 = x1 + _as_int32(keys[1])
    for step in range(5):
        for distance in _ROTATIONS[step % 2]:
            x0 += x1
            x1 = ((x1 << distance) | ((x1 >> (32 - distance)) & ((1 << distance) - 1))) ^ x0
        x0 += _as_int32(keys[(step + 1) % 3])
        x1 += _as_int32(keys[(step + 2) % 3] + step + 1)
    return x0, x1


def _compat_torch() -> Any:
    import array_api_compat.torch

    return array_api_compat.torch
