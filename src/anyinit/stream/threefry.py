"""Threefry-2x32 (20 rounds), keyed and counted exactly as JAX does.

This is the portable stream behind integer seeds: every element's bits are
a function of the key and of the element's index in the whole array, so any
block can be generated alone and the numbers are the same on every library
and device. The array code uses only Array API integer operations (uint32
add, xor, shifts); backends may replace it with a faster kernel of the same
arithmetic (see ``Backend.portable_uniform01``).

References: Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"
(SC 2011); JAX's ``jax._src.prng`` (``threefry_2x32``,
``_threefry_random_bits_partitionable``, ``threefry_seed``, ``fold_in``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .._typing import Array, ArrayNamespace, Device

__all__ = [
    "StreamKey",
    "counters",
    "independent_streams",
    "key_from_seed",
    "threefry2x32",
    "threefry2x32_scalar",
]

_MASK = 0xFFFFFFFF
_PARITY = 0x1BD11BDA
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


@dataclass(frozen=True, slots=True)
class StreamKey:
    """A Threefry key: the two 32-bit words of ``jax.random.key_data``."""

    k0: int
    k1: int

    def fold_in(self, data: int) -> StreamKey:
        """``jax.random.fold_in(key, data)`` (equal to ``split(key, n)[data]``)."""
        return StreamKey(*threefry2x32_scalar(self.k0, self.k1, (data >> 32) & _MASK, data & _MASK))

    def split(self, count: int) -> list[StreamKey]:
        """``jax.random.split(key, count)`` under JAX's default partitionable mode."""
        return [self.fold_in(i) for i in range(count)]


def independent_streams(rng: Any, count: int) -> list[Any]:
    """`count` independent sources: ``split`` for a key; a native generator serves all."""
    return rng.split(count) if isinstance(rng, StreamKey) else [rng] * count


@lru_cache(maxsize=1024)  # keys are immutable; an integer-seeded initializer asks every call
def key_from_seed(seed: int) -> StreamKey:
    """The key ``jax.random.key(seed)`` holds: ``[seed >> 32, seed & 0xFFFFFFFF]``."""
    return StreamKey((seed >> 32) & _MASK, seed & _MASK)


def _rotl(value: int, distance: int) -> int:
    return ((value << distance) | (value >> (32 - distance))) & _MASK


def threefry2x32_scalar(k0: int, k1: int, x0: int, x1: int) -> tuple[int, int]:
    """One Threefry-2x32 block on Python ints (for key derivation)."""
    keys = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = (x0 + keys[0]) & _MASK, (x1 + keys[1]) & _MASK
    for step in range(5):
        for distance in _ROTATIONS[step % 2]:
            x0 = (x0 + x1) & _MASK
            x1 = _rotl(x1, distance) ^ x0
        x0 = (x0 + keys[(step + 1) % 3]) & _MASK
        x1 = (x1 + keys[(step + 2) % 3] + step + 1) & _MASK
    return x0, x1


def threefry2x32(
    xp: ArrayNamespace, key: StreamKey, x0: Array, x1: Array, device: Device = None
) -> tuple[Array, Array]:
    """Threefry-2x32 on 1-D uint32 arrays of counters, in Array API operations."""
    u32 = xp.uint32
    keys = (key.k0, key.k1, key.k0 ^ key.k1 ^ _PARITY)

    def const(value: int) -> Array:
        return xp.asarray(value & _MASK, dtype=u32, device=device)

    x0 = x0 + const(keys[0])
    x1 = x1 + const(keys[1])
    for step in range(5):
        for distance in _ROTATIONS[step % 2]:
            x0 = x0 + x1
            x1 = ((x1 << const(distance)) | (x1 >> const(32 - distance))) ^ x0
        x0 = x0 + const(keys[(step + 1) % 3])
        x1 = x1 + const(keys[(step + 2) % 3] + step + 1)
    return x0, x1


def counters(
    xp: ArrayNamespace,
    shape: tuple[int, ...],
    region: tuple[slice, ...] | None,
    device: Device,
) -> tuple[Array, Array]:
    """The (high, low) 32-bit words of each element's row-major index in `shape`.

    With `region` (one ``slice(start, stop)`` per axis), only that block's
    counters, shaped like the block: this is what makes chunks independent.
    """
    region = region or tuple(slice(0, n) for n in shape)
    block = tuple(s.stop - s.start for s in region)
    if math.prod(shape) > 2**64:
        msg = f"the portable stream supports at most 2**64 elements; shape={shape}"
        raise ValueError(msg)
    wide = xp.uint64
    index = xp.zeros(block, dtype=wide, device=device)
    stride = 1
    for axis in range(len(shape) - 1, -1, -1):
        positions = xp.arange(region[axis].start, region[axis].stop, dtype=wide, device=device)
        view = [1] * len(shape)
        view[axis] = block[axis]
        scale = xp.asarray(stride, dtype=wide, device=device)
        index = index + xp.reshape(positions, tuple(view)) * scale
        stride *= shape[axis]
    high = xp.astype(index >> xp.asarray(32, dtype=wide, device=device), xp.uint32)
    low = xp.astype(index & xp.asarray(_MASK, dtype=wide, device=device), xp.uint32)
    return high, low


def random_bits(
    xp: ArrayNamespace,
    key: StreamKey,
    shape: tuple[int, ...],
    region: tuple[slice, ...] | None = None,
    device: Device = None,
) -> Array:
    """``jax.random.bits(key, shape, uint32)``, or the `region` block of it."""
    high, low = counters(xp, shape, region, device)
    block = tuple(high.shape)
    # 1-D, so that NumPy wraps uint32 silently (0-d arrays warn on overflow).
    y0, y1 = threefry2x32(xp, key, xp.reshape(high, (-1,)), xp.reshape(low, (-1,)), device)
    return xp.reshape(y0 ^ y1, block)


def uniform01_from_bits(xp: ArrayNamespace, bits: Array, device: Device = None) -> Array:
    """JAX's float32 in [0, 1): the top 23 bits as a mantissa.

    ``bitcast(bits >> 9 | 0x3F800000) - 1`` equals ``(bits >> 9) · 2**-23``
    exactly, which needs no bit cast (the Array API has none).
    """
    mantissa = bits >> xp.asarray(9, dtype=xp.uint32, device=device)
    return xp.astype(mantissa, xp.float32) * xp.asarray(2.0**-23, dtype=xp.float32, device=device)
