"""A blocked, threaded kernel for the portable stream on the host.

The arithmetic is :func:`anyinit.stream.threefry.threefry2x32`'s, done on
cache-sized blocks (no temporaries the size of the array) by several threads.
Two implementations of the same bits:

* the C extension ``_threefry_c`` (built by ``pip install`` where a C compiler
  exists): one pass per block straight into the output, GIL released, and
  the uniform law's affine step fused in;
* NumPy ufuncs in place (the reference and the fallback; NumPy releases the
  GIL inside its loops too).

``ANYINIT_NO_EXTENSION=1`` makes anyinit use the NumPy one; ``ANYINIT_NUM_THREADS``
caps the threads (default: the CPU count, at most 4). :func:`kernel_name`
says which runs (``anyinit info`` prints it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ...stream.threefry import _PARITY, _ROTATIONS, StreamKey
from ...stream.transforms import (
    _NORMAL_LOW,
    _SQRT2,
    OPEN,
    _erf32,
    finite_bounds,
    in_tail,
    open_interior,
)

__all__ = [
    "BLOCK",
    "THREADS",
    "fill_blocks",
    "finish_in_place",
    "kernel_name",
    "normal_from_extension",
    "runs_from_extension",
    "threads_from_environment",
    "truncated_from_extension",
    "uniform01_block",
    "uniform01_from_counters",
]

#: Elements per block: large enough that two threads overlap well, small
#: enough that a block's working set (a few arrays of it) stays in cache.
BLOCK = 1 << 17
_MASK = 0xFFFFFFFF


def threads_from_environment(value: str | None, cpus: int) -> int:
    """Threads for large host draws from ``$ANYINIT_NUM_THREADS`` (`value`).

    Unset or empty: the CPU count, at most 4. Otherwise a positive integer, capped at the
    CPU count (more threads than CPUs only contend); anything else is an error naming the
    variable, raised when the kernel is first used.

    Examples
    --------
    >>> from anyinit.adapters.numpy.kernel import threads_from_environment
    >>> threads_from_environment(None, 16), threads_from_environment("2", 16)
    (4, 2)
    >>> threads_from_environment("1000", 16)
    16
    """
    if value is None or not value.strip():
        return max(1, min(4, cpus))
    try:
        threads = int(value.strip())
    except ValueError:
        threads = 0
    if threads < 1:
        msg = (
            "the environment variable ANYINIT_NUM_THREADS must be a positive integer (or "
            f"unset); it is {value!r}."
        )
        raise ValueError(msg)
    return min(threads, max(1, cpus))


#: Threads for large host draws ($ANYINIT_NUM_THREADS, validated once, at first use).
THREADS = threads_from_environment(os.environ.get("ANYINIT_NUM_THREADS"), os.cpu_count() or 1)


def _load_extension() -> Any:
    if os.environ.get("ANYINIT_NO_EXTENSION", "") not in ("", "0"):
        return None
    try:
        from . import _threefry_c  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _threefry_c


_EXTENSION = _load_extension()


def kernel_name() -> str:
    """Which host kernel computes the portable stream: the C extension or NumPy's ufuncs.

    Examples
    --------
    >>> from anyinit.adapters.numpy.kernel import kernel_name
    >>> kernel_name() in ("C extension", "NumPy (C extension not built)",
    ...                   "NumPy (ANYINIT_NO_EXTENSION set)")
    True
    """
    if _EXTENSION is not None:
        return "C extension"
    if os.environ.get("ANYINIT_NO_EXTENSION", "") not in ("", "0"):
        return "NumPy (ANYINIT_NO_EXTENSION set)"
    return "NumPy (C extension not built)"


_POOL: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    # A forked child inherits the pool object but none of its threads (and its
    # idle semaphore says they are there): the child must build its own.
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def uniform01_block(key: StreamKey, start: int, stop: int) -> np.ndarray:
    """float32 in [0, 1) for flat indices ``start .. stop - 1`` (below 2**32)."""
    if _EXTENSION is not None:
        out = np.empty(stop - start, dtype=np.float32)
        _EXTENSION.fill(out, key.k0, key.k1, 0, start)
        return out
    low = np.arange(start, stop, dtype=np.uint32)
    return uniform01_from_counters(key, np.zeros_like(low), low)


def uniform01_from_counters(key: StreamKey, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """float32 in [0, 1) for 1-D uint32 counter words; both arrays are consumed."""
    keys = (key.k0, key.k1, key.k0 ^ key.k1 ^ _PARITY)
    x0, x1 = high, low
    x0 += np.uint32(keys[0])
    x1 += np.uint32(keys[1])
    spare = np.empty_like(x1)
    for step in range(5):
        for distance in _ROTATIONS[step % 2]:
            np.add(x0, x1, out=x0)
            np.left_shift(x1, np.uint32(distance), out=spare)
            np.right_shift(x1, np.uint32(32 - distance), out=x1)
            np.bitwise_or(x1, spare, out=x1)
            np.bitwise_xor(x1, x0, out=x1)
        np.add(x0, np.uint32(keys[(step + 1) % 3]), out=x0)
        np.add(x1, np.uint32((keys[(step + 2) % 3] + step + 1) & _MASK), out=x1)
    np.bitwise_xor(x0, x1, out=x0)
    np.right_shift(x0, np.uint32(9), out=x0)
    out = np.empty(x0.shape[0], dtype=np.float32)
    np.multiply(x0, np.float32(2.0**-23), out=out, casting="unsafe")
    return out


def runs_from_extension(
    key: StreamKey,
    shape: tuple[int, ...],
    region: tuple[slice, ...] | None,
    affine: tuple[float, float] | None = None,
) -> np.ndarray | None:
    """The block `region` of `shape` from the C kernel, or None where it cannot serve.

    With ``affine = (low, span)``: the uniform law ``max(low, float32(u·span + low))``
    (``low`` and ``span`` already rounded to float32). A block is a set of runs of
    consecutive flat indices (a Dask chunk: one run per row); None when the
    extension is absent or a counter passes 2**32.
    """
    if _EXTENSION is None:
        return None
    if region is None:  # the whole array: one run (the common small call, ~2 µs less)
        size = math.prod(shape)
        if size > 2**32:
            return None
        out = np.empty(shape, dtype=np.float32)
        _EXTENSION.fill(out, key.k0, key.k1, 0, 0, *(affine or ()))
        return out
    block = tuple(s.stop - s.start for s in region)
    out = np.empty(math.prod(block), dtype=np.float32)
    starts, length = _runs(shape, region)
    if starts.size and int(starts[-1]) + length > 2**32:  # starts ascend
        return None
    _EXTENSION.fill_runs(out, key.k0, key.k1, 0, starts, length, *(affine or ()))
    return out.reshape(block)


def normal_from_extension(
    key: StreamKey, shape: tuple[int, ...], region: tuple[slice, ...] | None
) -> np.ndarray | None:
    """``jax.random.normal``'s float32 values for the block, or None without the extension.

    The uniform and its affine step, and erfinv's polynomials, in C; the
    logarithm is NumPy's own, so the values are the NumPy kernel's bit for bit.
    """
    return _erfinv_of_uniform(key, shape, region, _NORMAL_AFFINE)


def truncated_from_extension(
    key: StreamKey,
    shape: tuple[int, ...],
    region: tuple[slice, ...] | None,
    lower: float,
    upper: float,
) -> np.ndarray | None:
    """``jax.random.truncated_normal``'s float32 values (made total) for a central interval.

    None without the extension, or for an interval wholly in one tail (that
    takes :func:`anyinit.stream.transforms.tail`, in NumPy).
    """
    lower, upper = finite_bounds(lower, upper)
    if _EXTENSION is None or in_tail(lower, upper):
        return None
    low, high = np.float32(_erf32(lower)), np.float32(_erf32(upper))
    affine = (float(low), float(high - low))
    # clamp_open's interval, applied by the C erfinv as it writes each value.
    return _erfinv_of_uniform(key, shape, region, affine, OPEN, open_interior(lower, upper))


#: JAX's normal draws its uniform on [nextafter(-1, 0), 1): (low, span) in float32 values.
_NORMAL_AFFINE = (float(np.float32(_NORMAL_LOW)), float(np.float32(1.0) - np.float32(_NORMAL_LOW)))


def finish_in_place(
    values: Any, scale: float, shift: float, clip: tuple[float, float] | None
) -> bool:
    """``values·scale + shift`` clipped to `clip`, in one C pass over a float32 array; False
    (nothing done) where the extension is absent or `values` is not a writable C array.

    The roundings are NumPy's in-place steps (see :func:`anyinit.sampling.finish`), bit for bit.
    """
    if not (
        _EXTENSION is not None
        and type(values) is np.ndarray
        and values.dtype == np.float32
        and values.flags.c_contiguous
        and values.flags.writeable
    ):
        return False
    lowest, highest = clip if clip is not None else (-math.inf, math.inf)
    _EXTENSION.finish(values, scale, shift != 0.0, shift, lowest, highest)
    return True


def _erfinv_of_uniform(
    key: StreamKey,
    shape: tuple[int, ...],
    region: tuple[slice, ...] | None,
    affine: tuple[float, float],
    clip: float = math.inf,
    clamp: tuple[float, float] = (-math.inf, math.inf),
) -> np.ndarray | None:
    """``√2·erfinv(v)``, v JAX's uniform ``affine = (low, high - low)`` (float32 values) on
    [low, high) clipped to ±`clip`, the result clamped to `clamp`, in float32."""
    v = runs_from_extension(key, shape, region, affine)
    if v is None:
        return None
    erfinv_in_place(v.reshape(-1), clip, clamp)
    return v


def erfinv_in_place(
    flat: np.ndarray,
    clip: float = math.inf,
    clamp: tuple[float, float] = (-math.inf, math.inf),
) -> None:
    """``√2·erfinv(v)`` of the flat float32 uniforms `flat` (clipped to ±`clip`), clamped
    to `clamp`, written over them: the C kernel's steps after the uniform."""
    complement = np.empty_like(flat)
    _EXTENSION.complement_squares(complement, flat, clip)
    # Not in place: NumPy's log loop must be the one the reference takes (its out-of-place
    # one); C then negates it (exactly), evaluates the polynomials and clamps.
    _EXTENSION.erfinv(flat, flat, np.log(complement), _SQRT2, *clamp)


def _runs(shape: tuple[int, ...], region: tuple[slice, ...]) -> tuple[np.ndarray, int]:
    """The flat start of each contiguous run of the block, in C order, and their length."""
    axes = len(shape)
    full = axes  # the axes from `full` on are covered whole
    while full > 0 and region[full - 1].start == 0 and region[full - 1].stop == shape[full - 1]:
        full -= 1
    if full == 0:
        return np.zeros(1, dtype=np.int64), math.prod(shape)
    inner = math.prod(shape[full:])
    length = (region[full - 1].stop - region[full - 1].start) * inner
    starts = np.full((), region[full - 1].start * inner, dtype=np.int64)
    for axis in range(full - 1):  # each outer axis adds index · stride, broadcast
        stride = math.prod(shape[axis + 1 :])
        index = np.arange(region[axis].start, region[axis].stop, dtype=np.int64)
        starts = np.add.outer(starts, index * stride)
    return starts.reshape(-1), length


def fill_blocks(out: np.ndarray, draw: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """Fill the flat array `out` with ``draw(start, stop)`` block by block, in parallel."""
    global _POOL
    size = out.shape[0]
    starts = range(0, size, BLOCK)

    def work(start: int) -> None:
        stop = min(start + BLOCK, size)
        out[start:stop] = draw(start, stop)

    if len(starts) == 1 or THREADS == 1:
        for start in starts:
            work(start)
        return out
    if _POOL is None:
        _POOL = ThreadPoolExecutor(THREADS, thread_name_prefix="anyinit")
    for _ in _POOL.map(work, starts):
        pass
    return out


def blocks_needed(shape: tuple[int, ...]) -> bool:
    """Whether an array of `shape` is worth splitting into blocks (at every size above one:
    a block past 2**32 elements builds its own 64-bit counters, never the whole array's)."""
    return math.prod(shape) > BLOCK
