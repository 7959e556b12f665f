"""PyTorch adapter: ``torch.Generator`` on the tensor's device, ``torch.linalg.qr``.

Works for CPU, CUDA, MPS and ``meta`` tensors; on ``meta`` nothing is drawn.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch

from .._dtypes import compute_name, inward_bounds
from .._typing import Array, Device, DType
from ._base import Backend

__all__ = ["TorchBackend"]


def _derive_seed(key: tuple[int, ...]) -> int:
    # torch seeds are 64-bit; mix a multi-part key with NumPy's SeedSequence
    # so that (seed, counter) pairs give independent streams.
    if len(key) == 1:
        return key[0]
    return int(np.random.SeedSequence(list(key)).generate_state(1, dtype=np.uint64)[0])


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
        return resolved

    def materializes(self, device: Device) -> bool:
        return bool(torch.device(device).type != "meta")

    def empty(self, shape: tuple[int, ...], dtype: DType, device: Device) -> Array:
        return torch.empty(shape, dtype=dtype, device=device)

    def full(self, shape: tuple[int, ...], value: Any, dtype: DType, device: Device) -> Array:
        return torch.full(shape, value, dtype=dtype, device=device)

    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, torch.Generator)

    def new_generator(self, key: tuple[int, ...] | None, device: Device) -> Any:
        if key is None:
            # torch's default generator for the device: fresh values each call, and
            # torch.manual_seed makes them reproducible, as with torch.nn.init.
            return None
        return torch.Generator(device=device).manual_seed(_derive_seed(key))

    def generator(self, seed: Any, device: Device) -> Any:
        rng = super().generator(seed, device)
        wanted = device.type if isinstance(device, torch.device) else torch.device(device).type
        if rng is not None and rng.device.type != wanted:
            msg = (
                f"`seed` is a torch.Generator on {rng.device.type!r} but the target tensor is on "
                f"{wanted!r}; use a generator on the same device type."
            )
            raise ValueError(msg)
        return rng

    def uniform(
        self,
        rng: Any,
        shape: tuple[int, ...],
        low: float,
        high: float,
        dtype: DType,
        device: Device,
    ) -> Array:
        return torch.empty(shape, dtype=dtype, device=device).uniform_(low, high, generator=rng)

    def normal(
        self,
        rng: Any,
        shape: tuple[int, ...],
        mean: float,
        std: float,
        dtype: DType,
        device: Device,
    ) -> Array:
        return torch.empty(shape, dtype=dtype, device=device).normal_(mean, std, generator=rng)

    def truncated_normal(
        self,
        rng: Any,
        shape: tuple[int, ...],
        mean: float,
        std: float,
        lower: float,
        upper: float,
        dtype: DType,
        device: Device,
    ) -> Array:
        name = self._name_of(dtype)
        work = self.dtype(compute_name(name))
        flat = self._truncated_standard(rng, math.prod(shape), lower, upper, work, device)
        values = flat.reshape(shape)
        if std != 1.0 or mean != 0.0:
            values.mul_(std).add_(mean)
        low, high = inward_bounds(mean + lower * std, mean + upper * std, name)
        return values.clamp_(low, high).to(dtype)

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        q, r = torch.linalg.qr(matrix, mode="reduced")
        return q, r

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
