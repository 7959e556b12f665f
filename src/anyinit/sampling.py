"""The sealed sampler: every algorithm between a law and an adapter's draws, written once.

numpy.random's split: an adapter (:class:`anyinit.adapters.Backend`, the contract) supplies
its library's generator, native draws and optional hooks; everything algorithmic lives here,
as module functions that take the adapter, so no adapter can re-implement it:

* the seed policy (:func:`generator`): an int → its portable key, a
  :class:`~anyinit.SeedGenerator` → its next folded key, ``None`` → the library's default
  generator, a native generator → the library's own (advanced);
* the portable stream's dispatch (:func:`uniform`, :func:`normal`, :func:`truncated_normal`),
  the affine step, the inward-rounded clip and the final rounding (:func:`finish`);
* truncated normals from native generators: exact rejection with normal or uniform
  proposals, the total inverse CDF of native uniforms in far tails, block by block, on the
  host for libraries without masked writes (:func:`native_truncated_normal`).

An adapter changes *how* a draw runs (its kernel, blocks, chunks, shards: the hooks
``draw_portable``, ``portable_float32``, ``portable_uniform01``, ``finish_in_place``), never
*what* it draws.

Examples
--------
>>> import numpy as np
>>> from anyinit import sampling
>>> from anyinit.adapters import host_backend
>>> numpy_adapter = host_backend()
>>> key = sampling.generator(numpy_adapter, 0, "cpu")
>>> values = sampling.uniform(numpy_adapter, key, (3,), -1.0, 1.0, np.dtype("float32"), "cpu")
>>> values.shape, bool((abs(values) <= 1).all())
((3,), True)
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import stream
from ._typing import Array, Device, DType, Interval, Shape
from .adapters.base import Backend, FusedLaw, PortableDraw, Region
from .adapters.protocol import (
    FusedFinish,
    FusedLayoutFill,
    HostMemory,
    NativeTruncatedNormal,
    supports,
)
from .adapters.registry import host_backend
from .laws.dtypes import compute_name, inward_bounds
from .seeds import stream_key
from .stream import StreamKey, key_from_seed, normal_cdf

__all__ = [
    "MAX_REJECTION_ROUNDS",
    "fill_portable",
    "finish",
    "fused_normal",
    "fused_scaled_uniform",
    "fused_truncated",
    "fused_uniform",
    "generator",
    "native_truncated_normal",
    "normal",
    "portable_job",
    "scaled_uniform",
    "truncated_normal",
    "uniform",
]

MAX_REJECTION_ROUNDS = 1000


# -- the seed policy ------------------------------------------------------------------------


def generator(backend: Backend, seed: Any, device: Device) -> Any:
    """Turn an initializer's validated `seed` into what one call draws from on `backend`.

    A ``StreamKey`` (the portable stream's key) for ints, SeedGenerators and a
    parameter's key (``anyinit.initialize``); the library's default generator for ``None``;
    the library's own generator, checked for `device` by the adapter, for a native one.
    """
    if seed is None:
        return backend.default_generator(device)
    # The two common cases first, each in one test: an int (validated already) and the
    # library's own generator; then SeedGenerators and a parameter's key.
    if type(seed) is int:
        return key_from_seed(seed)
    if backend.is_generator(seed):
        if isinstance(seed, np.random.RandomState):
            # A legacy RandomState: draw from (and advance) its own bit generator.
            return np.random.Generator(seed._bit_generator)
        return backend.own_generator(seed, device)
    key = stream_key(seed)
    if key is not None:
        return key
    msg = (
        f"`seed` is a {type(seed).__module__}.{type(seed).__name__}, which cannot draw "
        f"{backend.name} arrays; pass an int, None, an anyinit.SeedGenerator or a "
        f"{backend.generator_types}."
    )
    raise TypeError(msg)


# -- the three laws: the portable stream for StreamKeys, the native RNG otherwise -------------


def uniform(
    backend: Backend,
    rng: Any,
    shape: Shape,
    low: float,
    high: float,
    dtype: DType,
    device: Device,
    region: Region = None,
) -> Array:
    """Samples of U[low, high) in `dtype` (a real floating dtype), none outside ``[low, high]``.

    With a portable key, `region` (one slice per axis) selects a block of the whole array's
    values; native generators always draw all of `shape`.
    """
    # Bounds representable in the dtype keep every rounded draw inside [low, high].
    clip = inward_bounds(low, high, backend.name_of(dtype))
    if isinstance(rng, StreamKey):

        def draw(on: Backend, at: PortableDraw) -> Array:
            return _portable_uniform(on, rng, low, high, clip, at)

        fused = fused_uniform(rng, low, high, backend.name_of(dtype))
        request = PortableDraw("uniform", shape, dtype, device, region, draw, fused)
        return backend.draw_portable(request)
    return backend.native_uniform(rng, shape, *clip, dtype, device)


def scaled_uniform(
    backend: Backend,
    key: StreamKey,
    shape: Shape,
    limit: float,
    dtype: DType,
    device: Device,
    region: Region = None,
) -> Array:
    """The portable stream's U[-limit, limit) as ``jax.nn.initializers`` draws it:
    ``uniform(-1, 1)·limit`` in float32, clipped to the bounds as representable in `dtype`."""

    # The bounds of the *result's* dtype: an adapter that draws on the host in float32 (torch
    # on the CPU, for bfloat16) rounds after, and its values must stay inside them.
    clip = inward_bounds(-limit, limit, backend.name_of(dtype))

    def draw(on: Backend, at: PortableDraw) -> Array:
        float32 = on.dtype("float32")
        values = uniform(on, key, at.shape, -1.0, 1.0, float32, at.device, at.region)
        return finish(on, values, limit, 0.0, clip, at.dtype)

    fused = fused_scaled_uniform(key, limit, backend.name_of(dtype))
    request = PortableDraw("uniform", shape, dtype, device, region, draw, fused)
    return backend.draw_portable(request)


def normal(
    backend: Backend,
    rng: Any,
    shape: Shape,
    mean: float,
    std: float,
    dtype: DType,
    device: Device,
    region: Region = None,
) -> Array:
    """Samples of N(mean, std²) in `dtype`; `region` as in :func:`uniform`."""
    if isinstance(rng, StreamKey):

        def draw(on: Backend, at: PortableDraw) -> Array:
            return _portable_normal(on, rng, mean, std, at)

        fused = fused_normal(rng, mean, std, backend.name_of(dtype))
        request = PortableDraw("normal", shape, dtype, device, region, draw, fused)
        return backend.draw_portable(request)
    return backend.native_normal(rng, shape, mean, std, dtype, device)


def truncated_normal(
    backend: Backend,
    rng: Any,
    shape: Shape,
    law: Any,
    dtype: DType,
    device: Device,
    region: Region = None,
) -> Array:
    """Draws of a truncated-normal record `law` (``loc``, ``scale``, standardised
    ``lower``/``upper`` and absolute ``bounds``) in `dtype`.

    Never returns a value outside ``law.bounds``: native draws are rejection sampled (or
    inverted, in far tails), portable ones follow JAX's inverse CDF; both are clipped to the
    bounds as representable in `dtype`. `region` as in :func:`uniform`.
    """
    # The bounds as representable in the *output* dtype, checked now (a lazy backend would
    # otherwise raise only when a chunk is computed).
    clip = inward_bounds(*law.bounds, backend.name_of(dtype))
    if not isinstance(rng, StreamKey):
        return native_truncated_normal(backend, rng, shape, law, clip, dtype, device)

    def draw(on: Backend, at: PortableDraw) -> Array:
        return _portable_truncated(on, rng, law, clip, at)

    fused = fused_truncated(rng, law, backend.name_of(dtype))
    request = PortableDraw("truncated_normal", shape, dtype, device, region, draw, fused)
    return backend.draw_portable(request)


def fill_portable(law: Any, key: StreamKey, target: Any, array: Array) -> bool:
    """Write `law`'s portable draw under `key` into `array`'s own memory in one pass, where
    its library lends the host kernel that memory (a NumPy array, a CPU tensor) and the law
    has a fused form; False (nothing written) otherwise. The values are those of
    ``law.sample`` for the array's shape, bit for bit."""
    backend, host = target.backend, host_backend()
    if not (supports(backend, HostMemory) and supports(host, FusedLayoutFill)):
        return False
    view = backend.host_view(array)
    if view is None:
        return False
    out, dtype_name = view
    shape = tuple(out.shape)
    job = portable_job(law, key, out, dtype_name, shape, tuple(range(len(shape))))
    if job is None:
        return False
    host.run_fused_jobs([job])
    backend.host_written(array)
    return True


def portable_job(
    law: Any,
    key: StreamKey,
    out: Any,
    dtype_name: str,
    canonical: Shape,
    perm: tuple[int, ...],
    region: Region = None,
) -> Any:
    """The host kernel's job writing `law`'s portable draw under `key` for an array of shape
    `canonical` into the host memory `out` (holding `dtype_name`), whose axis ``i`` is
    canonical axis ``perm[i]`` (or its block `region`); None where the law has no fused form
    or the host kernel cannot write there. Run jobs with the host's ``run_fused_jobs``."""
    host = host_backend()
    fused = law.fused(key, dtype_name)
    if fused is None or not supports(host, FusedLayoutFill):
        return None
    return host.fused_job(out, fused, canonical, perm, region)


# -- the same laws as fused float32 pipelines (FusedLaw), for kernels that run one pass ------
# Each says what the portable draw above computes for a float32 or 16-bit result (the float32
# values, then one rounding); None where a step has no fused form (float64 results, far tails).


def fused_uniform(key: StreamKey, low: float, high: float, dtype_name: str) -> FusedLaw | None:
    """:func:`uniform`'s portable draw as one fused law."""
    if dtype_name == "float64":
        return None
    low32, high32 = np.float32(low), np.float32(high)
    clip = inward_bounds(low, high, dtype_name)
    return FusedLaw(
        key, False, float(low32), float(high32 - low32), outer=clip, output=_output(dtype_name)
    )


def fused_scaled_uniform(key: StreamKey, limit: float, dtype_name: str) -> FusedLaw | None:
    """:func:`scaled_uniform` as one fused law."""
    if dtype_name == "float64":
        return None
    unit = inward_bounds(-1.0, 1.0, "float32")
    clip = inward_bounds(-limit, limit, dtype_name)
    return FusedLaw(
        key, False, -1.0, 2.0, inner=unit, scale=limit, outer=clip, output=_output(dtype_name)
    )


def fused_normal(key: StreamKey, mean: float, std: float, dtype_name: str) -> FusedLaw | None:
    """:func:`normal`'s portable draw as one fused law."""
    if dtype_name == "float64":
        return None
    return FusedLaw(
        key, True, *stream.NORMAL_INTERVAL, scale=std, shift=mean, output=_output(dtype_name)
    )


def fused_truncated(key: StreamKey, law: Any, dtype_name: str) -> FusedLaw | None:
    """:func:`truncated_normal`'s portable draw as one fused law: JAX's uniform on the erf
    interval, clipped inside (-1, 1), clamped to the open interval; None for an interval in
    a far tail (its log-domain inverse CDF) and for float64 results."""
    if dtype_name == "float64":
        return None
    central = _central_interval(law.lower, law.upper)
    if central is None:
        return None
    low, span, inner = central
    return FusedLaw(
        key,
        True,
        low,
        span,
        clip=stream.OPEN,
        inner=inner,
        scale=law.scale,
        shift=law.loc,
        outer=inward_bounds(*law.bounds, dtype_name),
        output=_output(dtype_name),
    )


@functools.lru_cache(maxsize=256)
def _central_interval(
    lower: float, upper: float
) -> tuple[float, float, tuple[float, float]] | None:
    """The erf interval's ``(low, span)`` and the open interval's float32 ends of a standard
    normal truncated to ``[lower, upper]``; None in a far tail. Remembered: a small
    integer-seeded call would spend more on these than on its draw."""
    lower, upper = stream.finite_bounds(lower, upper)
    if stream.in_tail(lower, upper):
        return None
    low, span = stream.erf_interval(lower, upper)
    return low, span, stream.transforms.open_interior(lower, upper)


def _output(dtype_name: str) -> str:
    """What a fused law stores for a `dtype_name` result: 16-bit values directly, else the
    float32 values (rounded after, to any other dtype)."""
    return dtype_name if dtype_name in ("float16", "bfloat16") else "float32"


# -- the portable stream ------------------------------------------------------------------


def _portable_uniform(
    backend: Backend, rng: StreamKey, low: float, high: float, clip: Interval, at: PortableDraw
) -> Array:
    shape, dtype, device, region = at.shape, at.dtype, at.device, at.region
    if backend.name_of(dtype) == "float64":
        # The same uniform bits, the affine step in float64: a float32 result widened could
        # lie outside bounds that float32 cannot represent.
        u = backend.portable_uniform01(rng, shape, region, device)
        return finish(backend, u, high - low, low, clip, dtype)
    values = backend.portable_float32("uniform", rng, shape, region, device, (low, high))
    return _rounded(backend, backend.clip_into(values, *clip), dtype)


def _portable_normal(
    backend: Backend, rng: StreamKey, mean: float, std: float, at: PortableDraw
) -> Array:
    values = backend.portable_float32("normal", rng, at.shape, at.region, at.device, ())
    return finish(backend, values, std, mean, None, at.dtype)


def _portable_truncated(
    backend: Backend, rng: StreamKey, law: Any, clip: Interval, at: PortableDraw
) -> Array:
    shape, dtype, device, region = at.shape, at.dtype, at.device, at.region
    bounds = (law.lower, law.upper)
    values = backend.portable_float32("truncated_normal", rng, shape, region, device, bounds)
    # Clipping to bounds representable in the output dtype keeps the final rounding inside.
    return finish(backend, values, law.scale, law.loc, clip, dtype)


def finish(
    backend: Backend, values: Array, scale: float, shift: float, clip: Interval | None, dtype: DType
) -> Array:
    """Standard float32 draws → ``values·scale + shift`` in `dtype`, clipped to `clip`.

    float32 and 16-bit results: the affine step in float32 (two roundings, as JAX and Keras
    do eagerly), then one rounding. float64 results: the step in float64, so that a narrow
    interval far from zero (``std=1e-9`` at ``mean=0.1``) keeps its resolution and its
    bounds. An adapter with a fused pass of the same roundings (NumPy's C kernel) does it
    in place through ``finish_in_place``.
    """
    xp = backend.xp
    wide = backend.name_of(dtype) == "float64"
    if not wide and _finished_in_place(backend, values, scale, shift, clip):
        return _rounded(backend, values, dtype)
    if wide:
        values = xp.astype(values, dtype)
    if backend.masked_writes:
        # The draws are ours and the library has in-place operators: no copies (the same
        # roundings as values·scale + shift).
        if scale != 1.0:
            values *= scale
        if shift != 0.0:
            values += shift
    else:
        values = _affine(values, scale, shift)
    if clip is not None:
        values = backend.clip_into(values, *clip)
    return _rounded(backend, values, dtype)


def _finished_in_place(
    backend: Backend, values: Array, scale: float, shift: float, clip: Interval | None
) -> bool:
    """Whether the adapter did the affine step and the clip in one fused pass."""
    return supports(backend, FusedFinish) and backend.finish_in_place(values, scale, shift, clip)


def _affine(values: Array, scale: float, shift: float) -> Array:
    """``values·scale + shift`` in the values' dtype, two roundings (JAX / Keras, eagerly)."""
    if scale != 1.0:
        values = values * scale
    return values + shift if shift != 0.0 else values


def _rounded(backend: Backend, values: Array, dtype: DType) -> Array:
    return values if values.dtype == dtype else backend.xp.astype(values, dtype)


# -- truncated normals from native generators ------------------------------------------------


def native_truncated_normal(
    backend: Backend, rng: Any, shape: Shape, law: Any, clip: Interval, dtype: DType, device: Device
) -> Array:
    """Draws of the truncated-normal record `law` from a native generator.

    `clip` is ``law.bounds`` rounded inward to `dtype` (the final clip, so that neither the
    scaling nor the rounding can cross the bounds).

    Exact rejection sampling: out-of-range draws are redrawn until none is left, so no value
    lies outside the bounds. When the interval holds less than 30 % of the normal's mass,
    proposals come from a uniform on the interval instead of the normal (as torch 2.13
    does); where that would not converge, the total inverse CDF of native uniforms. Arrays of
    more than the adapter's ``rejection_block`` elements are drawn block by block (peak
    memory: the output and one block); libraries without masked writes (``masked_writes``)
    draw on the host.
    """
    if not backend.masked_writes:
        # On the host in the compute dtype (float64 for float64 results).
        work = compute_name(backend.name_of(dtype))
        values = native_truncated_normal(
            host_backend(),
            rng,
            shape,
            law,
            inward_bounds(*law.bounds, work),
            np.dtype(work),
            "cpu",
        )
        return backend.from_host(np.clip(values, *clip), dtype, device)
    size = math.prod(shape)
    block = backend.rejection_block or size
    with backend.on_device(device):
        if size <= block:
            return _truncated_block(backend, rng, shape, law, clip, dtype, device)
        out = backend.empty((size,), dtype, device)
        for start in range(0, size, block):
            stop = min(start + block, size)
            out[start:stop] = _truncated_block(
                backend, rng, (stop - start,), law, clip, dtype, device
            )
        return backend.xp.reshape(out, shape)


def _truncated_block(
    backend: Backend, rng: Any, shape: Shape, law: Any, clip: Interval, dtype: DType, device: Device
) -> Array:
    xp = backend.xp
    work = backend.dtype(compute_name(backend.name_of(dtype)))
    values = None
    if supports(backend, NativeTruncatedNormal):
        values = backend.native_truncated_standard(rng, shape, law.lower, law.upper, work, device)
    if values is None:
        flat = _truncated_standard(
            backend, rng, math.prod(shape), law.lower, law.upper, work, device
        )
        values = xp.reshape(flat, shape)
    # In place: the block is ours, and a library with masked writes has in-place operators.
    if law.scale != 1.0:
        values *= law.scale
    if law.loc != 0.0:
        values += law.loc
    values = xp.clip(values, *clip)
    return values if work == dtype else xp.astype(values, dtype)


def _truncated_standard(
    backend: Backend, rng: Any, size: int, lower: float, upper: float, work: DType, device: Device
) -> Array:
    xp = backend.xp
    mass = normal_cdf(upper) - normal_cdf(lower)
    use_normal = mass >= 0.3
    if not use_normal and stream.uniform_proposal_acceptance(lower, upper) < 0.05:
        # Far tails and long one-sided intervals, where rejection would take thousands of
        # rounds or never end: the inverse CDF of native uniforms (the portable stream's total
        # map: central erfinv or the log-domain tail).
        u = backend.native_uniform(rng, (size,), 0.0, 1.0, backend.dtype("float32"), device)
        values = stream.truncated_from01(xp, u, lower, upper, backend.wide_dtype(device))
        return values if values.dtype == work else xp.astype(values, work)
    # The uniform proposal accepts x with probability exp((m² - x²) / 2), m being the point
    # of the interval nearest to 0.
    nearest = 0.0 if lower <= 0.0 <= upper else min(abs(lower), abs(upper))

    def propose(count: int) -> tuple[Array, Array]:
        if use_normal:
            candidates = backend.native_normal(rng, (count,), 0.0, 1.0, work, device)
            rejected = (candidates < lower) | (candidates > upper)
        else:
            candidates = backend.native_uniform(rng, (count,), lower, upper, work, device)
            test = backend.native_uniform(rng, (count,), 0.0, 1.0, work, device)
            rejected = (candidates < lower) | (candidates > upper)
            rejected |= test > xp.exp((nearest * nearest - candidates * candidates) / 2)
        return candidates, rejected

    values, rejected = propose(size)
    for _ in range(MAX_REJECTION_ROUNDS):
        count = int(xp.count_nonzero(rejected))
        if count == 0:
            return values
        replacement, still = propose(count)
        values[rejected] = replacement
        remaining = xp.zeros_like(rejected)
        remaining[rejected] = still
        rejected = remaining
    msg = (
        f"truncated normal sampling on [{lower}, {upper}] standard deviations did not "
        f"converge after {MAX_REJECTION_ROUNDS} rounds"
    )
    raise RuntimeError(msg)
