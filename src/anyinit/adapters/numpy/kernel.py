"""A fused, threaded kernel for the portable stream on the host.

The arithmetic is :func:`anyinit.stream.threefry.threefry2x32`'s and
:mod:`anyinit.stream.transforms`', with :func:`anyinit.sampling.finish`'s scale, shift
and clip. Two implementations of the same bits:

* the C extension ``_threefry_c`` (built by ``pip install`` where a C compiler
  exists): a whole draw (``anyinit.adapters.base.FusedLaw``) in one pass, Threefry,
  JAX's uniform, normal or truncated normal and the finish fused on L1-sized chunks and
  written once into the output, on every core (POSIX threads, GIL released), its vector
  loops compiled for AVX-512, AVX2 and the baseline and picked when it loads; the
  logarithm is NumPy's own float32 loop, so the values are NumPy's on every CPU;
* NumPy ufuncs in place (the reference and the fallback; NumPy releases the
  GIL inside its loops too).

``ANYINIT_NO_EXTENSION=1`` makes anyinit use the NumPy one; ``ANYINIT_NUM_THREADS``
caps the threads (default: every CPU; one inside a Dask task, see :func:`single_threaded`).
:func:`kernel_name` says which runs (``anyinit info`` prints it).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ...stream.threefry import _PARITY, _ROTATIONS, StreamKey
from ...stream.transforms import NORMAL_INTERVAL, normal_from01
from ..base import FusedLaw

__all__ = [
    "BLOCK",
    "THREADS",
    "fill_blocks",
    "finish_in_place",
    "fused",
    "kernel_name",
    "layout_job",
    "run_jobs",
    "runs_from_extension",
    "single_threaded",
    "threads_from_environment",
    "transform",
    "uniform01_block",
    "uniform01_from_counters",
]

#: Elements per block of the NumPy kernel (and of the draws the C kernel does not fuse):
#: large enough that two threads overlap well, small enough that a block's working set
#: (a few arrays of it) stays in cache.
BLOCK = 1 << 17
_MASK = 0xFFFFFFFF


def threads_from_environment(value: str | None, cpus: int) -> int:
    """Threads for large host draws from ``$ANYINIT_NUM_THREADS`` (`value`).

    Unset or empty: every CPU. Otherwise a positive integer, capped at the
    CPU count (more threads than CPUs only contend); anything else is an error naming the
    variable, raised when the kernel is first used.

    Examples
    --------
    >>> from anyinit.adapters.numpy.kernel import threads_from_environment
    >>> threads_from_environment(None, 16), threads_from_environment("2", 16)
    (16, 2)
    >>> threads_from_environment("1000", 16)
    16
    """
    if value is None or not value.strip():
        return max(1, cpus)
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


def _cpus() -> int:
    # The CPUs this process may run on (a container's or taskset's share), not the machine's.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: Threads for large host draws ($ANYINIT_NUM_THREADS, validated once, at first use).
THREADS = threads_from_environment(os.environ.get("ANYINIT_NUM_THREADS"), _cpus())

_LOCAL = threading.local()


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Draws on this thread use one thread inside the block (a Dask task: the scheduler
    already runs one task per core).

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.adapters.numpy.kernel import single_threaded
    >>> with single_threaded():
    ...     w = anyinit.GlorotNormal(seed=0)((256, 256))
    >>> bool((w == anyinit.GlorotNormal(seed=0)((256, 256))).all())
    True
    """
    saved = getattr(_LOCAL, "threads", None)
    _LOCAL.threads = 1
    try:
        yield
    finally:
        _LOCAL.threads = saved


def _threads() -> int:
    return getattr(_LOCAL, "threads", None) or THREADS


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
    >>> kernel_name().startswith(("C extension", "NumPy (C extension not built)",
    ...                           "NumPy (ANYINIT_NO_EXTENSION set)"))
    True
    """
    if _EXTENSION is not None:
        fused = "fused normals" if _LOG_CHECKED else "normals in NumPy (its log loop not found)"
        return f"C extension ({_EXTENSION.isa()}, {fused})"
    if os.environ.get("ANYINIT_NO_EXTENSION", "") not in ("", "0"):
        return "NumPy (ANYINIT_NO_EXTENSION set)"
    return "NumPy (C extension not built)"


#: NumPy releases whose ufunc object the C kernel reads (its leading fields, unchanged from
#: 1.0 through 2.x); a later major release keeps the erfinv laws in NumPy until checked.
_NUMPY_MAJORS = ("1", "2")


def _take_numpys_log(extension: Any) -> bool:
    """Give the C kernel NumPy's float32 log loop, once it has given np.log's bits on
    uniforms over the whole range (where it does not, the erfinv laws stay in NumPy)."""
    if extension is None or np.__version__.split(".")[0] not in _NUMPY_MAJORS:
        return False
    if not extension.use_log(np.log):
        return False
    u = np.linspace(0.0, 1.0, 1 << 16, endpoint=False, dtype=np.float32)
    u[-64:] = np.float32(1.0) - np.arange(64, 0, -1, dtype=np.float32) * np.float32(2.0**-23)
    out = np.empty_like(u)
    extension.transform(out, u, _NORMAL.arguments)
    if np.array_equal(out.view(np.int32), normal_from01(np, u, np.float64).view(np.int32)):
        return True
    extension.forget_log()
    return False


#: The standard normal as a fused law (the key is not read by ``transform``).
_NORMAL = FusedLaw(StreamKey(0, 0), True, *NORMAL_INTERVAL)
_LOG_CHECKED = _take_numpys_log(_EXTENSION)
#: JAX's uniform on [0, 1): the stream's uniforms themselves.
_UNIFORM01 = (
    False, 0.0, 1.0, math.inf, -math.inf, math.inf, 1.0, False, 0.0, -math.inf, math.inf, 0,
)  # fmt: skip


_POOL: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    # A forked child inherits the pool object but none of its threads (and its
    # idle semaphore says they are there): the child must build its own.
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def fused(
    law: FusedLaw, shape: tuple[int, ...], region: tuple[slice, ...] | None, dtype: Any = None
) -> Any:
    """The values of `law` for the block `region` of `shape`, in one C pass, as float32 or
    as the 16-bit `dtype` the law stores (a NumPy float16, or ml_dtypes' bfloat16); None
    where the extension cannot serve (not built, no log loop for an erfinv law, counters
    past 2**32)."""
    if _EXTENSION is None or (law.erfinv and not _LOG_CHECKED):
        return None
    if law.output == "float32":
        dtype = np.float32
    elif dtype is None or np.dtype(dtype).name != law.output:
        return None
    return _sample(law.key, shape, region, law.arguments, dtype, law.output == "bfloat16")


def _sample(
    key: StreamKey,
    shape: tuple[int, ...],
    region: Any,
    arguments: tuple[Any, ...],
    dtype: Any = np.float32,
    bfloat16: bool = False,
) -> np.ndarray | None:
    if region is None:  # the whole array: one run (the common small call)
        size = math.prod(shape)
        if size > 2**32:
            return None
        out = np.empty(shape, dtype=dtype)
        buffer = out.view(np.int16) if bfloat16 else out  # bfloat16 (ml_dtypes'): its bits
        _EXTENSION.sample(buffer, key.k0, key.k1, 0, 0, size, 1, arguments, _threads())
        return out
    block = tuple(s.stop - s.start for s in region)
    starts, length = _runs(shape, region)
    if starts.size and int(starts[-1]) + length > 2**32:  # starts ascend
        return None
    out = np.empty(block, dtype=dtype)
    buffer = out.view(np.int16) if bfloat16 else out
    _EXTENSION.sample(buffer, key.k0, key.k1, 0, starts, length, 1, arguments, _threads())
    return out


def layout_job(
    out: Any,
    law: FusedLaw,
    canonical: tuple[int, ...],
    perm: tuple[int, ...],
    region: tuple[slice, ...] | None = None,
) -> tuple[Any, ...] | None:
    """The C kernel's job that writes `law`'s values for an array of shape `canonical` into
    the C array `out` (float32, float16, or int16 holding bfloat16 bits, as `law` stores),
    whose axis ``i`` is canonical axis ``perm[i]`` (torch's ``(out, in)`` for a canonical
    ``(in, out)``), or its block `region` (one slice per axis of that layout: a rank's
    shard), in one pass: each run along `out`'s last axis draws the counters
    ``start + i·stride`` the canonical layout gives those elements, so neither a canonical
    array nor a transposing copy exists. None where the extension cannot serve or `out` is
    not such an array. :func:`run_jobs` runs jobs together.
    """
    if _EXTENSION is None or (law.erfinv and not _LOG_CHECKED):
        return None
    native = tuple(canonical[axis] for axis in perm)
    if region is None:
        region = tuple(slice(0, n) for n in native)
    block = tuple(s.stop - s.start for s in region)
    stored = {"float32": "float32", "float16": "float16", "bfloat16": "int16"}[law.output]
    if not (
        type(out) is np.ndarray
        and out.dtype.name == stored
        and out.flags.c_contiguous
        and out.flags.writeable
        and out.shape == block
        and all(0 <= s.start <= s.stop <= n for s, n in zip(region, native, strict=True))
        and math.prod(canonical) <= 2**32
    ):
        return None
    key = law.key
    if math.prod(block) == 0:
        return (out, key.k0, key.k1, 0, 0, 0, 1, law.arguments)
    if perm == tuple(range(len(perm))):  # the canonical layout: runs of consecutive counters
        starts, length = _runs(canonical, region)
        return (out, key.k0, key.k1, 0, starts, length, 1, law.arguments)
    # Each native axis steps the canonical flat index by its canonical axis' stride.
    strides = [math.prod(canonical[axis + 1 :]) for axis in range(len(canonical))]
    steps = [strides[axis] for axis in perm]
    starts = np.full((), region[-1].start * steps[-1], dtype=np.int64)
    for span, stride in zip(region[:-1], steps[:-1], strict=True):
        starts = np.add.outer(starts, np.arange(span.start, span.stop, dtype=np.int64) * stride)
    return (out, key.k0, key.k1, 0, starts.reshape(-1), block[-1], steps[-1], law.arguments)


def run_jobs(jobs: list[tuple[Any, ...]]) -> None:
    """Run :func:`layout_job`'s jobs in one C call: every job checked first, then all drawn
    together, the threads sharing their elements (a model's many small parameters keep every
    core busy, as one large one does)."""
    if jobs:
        _EXTENSION.sample_many(jobs, _threads())


def transform(law: FusedLaw, uniforms: np.ndarray) -> np.ndarray:
    """`law`'s values for the given float32 uniforms (in place of the stream's): the C
    kernel's steps after Threefry, for tests over every uniform the stream can produce."""
    out = np.empty_like(uniforms)
    _EXTENSION.transform(out, uniforms, law.arguments)
    return out


def uniform01_block(key: StreamKey, start: int, stop: int) -> np.ndarray:
    """float32 in [0, 1) for flat indices ``start .. stop - 1`` (below 2**32)."""
    if _EXTENSION is not None:
        out = np.empty(stop - start, dtype=np.float32)
        _EXTENSION.sample(out, key.k0, key.k1, 0, start, stop - start, 1, _UNIFORM01, _threads())
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
    """The uniforms of the block `region` of `shape` from the C kernel, or None where it
    cannot serve (not built, or a counter past 2**32).

    With ``affine = (low, span)``: the uniform law ``max(low, float32(u·span + low))``
    (``low`` and ``span`` already rounded to float32). A block is a set of runs of
    consecutive flat indices (a Dask chunk: one run per row).
    """
    if _EXTENSION is None:
        return None
    arguments = _UNIFORM01 if affine is None else (False, *affine, *_UNIFORM01[3:])
    return _sample(key, shape, region, arguments)


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
