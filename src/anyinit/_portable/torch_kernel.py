"""The portable stream's Threefry-2x32 in int32 tensor arithmetic, for torch devices.

torch has no uint32 add or logical shifts on every device, but two's-complement
int32 wraps like uint32 for ``+``, ``^`` and ``<<``; ``>>`` is made logical with a
mask. The bits are :func:`anyinit._portable.threefry.threefry2x32`'s, exactly.
"""

from __future__ import annotations

from typing import Any

import torch

from .threefry import _PARITY, _ROTATIONS, StreamKey

__all__ = ["uniform01"]


def uniform01(
    key: StreamKey, shape: tuple[int, ...], region: tuple[slice, ...] | None, device: Any
) -> Any:
    """float32 in [0, 1) for the elements of `region` of an array of `shape`."""
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
    high = (index >> 32).to(torch.int32)
    low = (index & 0xFFFFFFFF).to(torch.int32)
    y0, y1 = _threefry_int32(key, high, low)
    mantissa = ((y0 ^ y1) >> 9) & 0x7FFFFF
    return mantissa.to(torch.float32) * 2.0**-23


def _as_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def _threefry_int32(key: StreamKey, x0: Any, x1: Any) -> tuple[Any, Any]:
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
