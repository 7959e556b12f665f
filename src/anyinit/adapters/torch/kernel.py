"""The portable stream's Threefry-2x32 in int32 tensor arithmetic, for torch devices.

torch has no uint32 add or logical shifts on every device, but two's-complement
int32 wraps like uint32 for ``+``, ``^`` and ``<<``; ``>>`` is made logical with a
mask. The bits are :func:`anyinit.stream.threefry.threefry2x32`'s, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from ...stream.threefry import _PARITY, _ROTATIONS, StreamKey

__all__ = ["BLOCK", "uniform01"]

#: Elements per block: each block's counters (int64) and Threefry words (int32) are the
#: only temporaries, so a draw's peak is the float32 result plus a few BLOCK-sized arrays,
#: at every size (a GiB result no longer builds a GiB-sized int64 index).
BLOCK = 1 << 24


def uniform01(
    key: StreamKey, shape: tuple[int, ...], region: tuple[slice, ...] | None, device: Any
) -> Any:
    """float32 in [0, 1) for the elements of `region` of an array of `shape`.

    Drawn block by block (at most :data:`BLOCK` elements each) into the result.
    """
    region = region or tuple(slice(0, n) for n in shape)
    block = tuple(s.stop - s.start for s in region)
    if math.prod(block) <= BLOCK:
        return _uniform01_block(key, shape, region, device)
    out = torch.empty(block, dtype=torch.float32, device=device)
    for part in _parts(region, BLOCK):
        local = tuple(
            slice(p.start - r.start, p.stop - r.start) for p, r in zip(part, region, strict=True)
        )
        out[local] = _uniform01_block(key, shape, part, device)
    return out


def _parts(region: tuple[slice, ...], limit: int) -> Iterator[tuple[slice, ...]]:
    """Sub-regions of `region` of at most `limit` elements (whole rows where they fit), in
    C order, covering it once."""
    first, rest = region[0], region[1:]
    inner = math.prod(s.stop - s.start for s in rest)
    if inner <= limit:
        rows = limit // max(inner, 1)
        for start in range(first.start, first.stop, rows):
            yield (slice(start, min(start + rows, first.stop)), *rest)
        return
    for row in range(first.start, first.stop):
        for part in _parts(rest, limit):
            yield (slice(row, row + 1), *part)


def _uniform01_block(
    key: StreamKey, shape: tuple[int, ...], region: tuple[slice, ...], device: Any
) -> Any:
    high, low = _counters(shape, region, device)
    y0, y1 = _threefry_int32_(key, high, low)
    y0 ^= y1
    del y1
    y0 >>= 9
    y0 &= 0x7FFFFF
    return y0.to(torch.float32).mul_(2.0**-23)


def _counters(shape: tuple[int, ...], region: tuple[slice, ...], device: Any) -> tuple[Any, Any]:
    """The high and low int32 words of each element's position in the whole array."""
    block = tuple(s.stop - s.start for s in region)
    # Below 2**31 elements every position fits in int32 and the high word is 0: no int64 index.
    wide = math.prod(shape) > 2**31 - 1
    index = torch.zeros(block, dtype=torch.int64 if wide else torch.int32, device=device)
    stride = 1
    for axis in range(len(shape) - 1, -1, -1):
        view = [1] * len(shape)
        view[axis] = block[axis]
        positions = torch.arange(region[axis].start, region[axis].stop, dtype=index.dtype,
                                 device=device)  # fmt: skip
        index += positions.reshape(view) * stride
        stride *= shape[axis]
    if not wide:
        return torch.zeros_like(index), index
    high = (index >> 32).to(torch.int32)
    return high, (index & 0xFFFFFFFF).to(torch.int32)


def _as_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def _threefry_int32_(key: StreamKey, x0: Any, x1: Any) -> tuple[Any, Any]:
    """Threefry-2x32 of the counter words `x0`, `x1`, computed in place in them (integer
    arithmetic is exact, so in-place steps change no bit; one rotation temporary at a time)."""
    keys = (key.k0, key.k1, key.k0 ^ key.k1 ^ _PARITY)
    x0 += _as_int32(keys[0])
    x1 += _as_int32(keys[1])
    for step in range(5):
        for distance in _ROTATIONS[step % 2]:
            x0 += x1
            # A left rotation: int32 ">>" is arithmetic, so the wrapped-in bits are masked.
            wrapped = x1 >> (32 - distance)
            wrapped &= (1 << distance) - 1
            x1 <<= distance
            x1 |= wrapped
            del wrapped
            x1 ^= x0
        x0 += _as_int32(keys[(step + 1) % 3])
        x1 += _as_int32(keys[(step + 2) % 3] + step + 1)
    return x0, x1
