"""NumPy adapter: ``numpy.random.Generator`` (PCG64), SciPy's QR when installed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._typing import Array, Device, DType, Shape
from ...sampling import MAX_REJECTION_ROUNDS
from ...stream import counters, normal_cdf
from ..base import Backend, PortableDraw, Region
from .dtypes import NumpyDtypes
from .kernel import (
    BLOCK,
    blocks_needed,
    fill_blocks,
    finish_in_place,
    fused,
    layout_job,
    run_jobs,
    runs_from_extension,
    uniform01_block,
    uniform01_from_counters,
)

__all__ = ["NumpyBackend"]


class NumpyBackend(NumpyDtypes, Backend):
    """Adapter for NumPy arrays (CPU only)."""

    name = "numpy"
    # Rejection in blocks: masks and redraws stay block-sized.
    rejection_block = BLOCK

    def as_array(self, values: Any) -> Array:
        return np.asarray(values)

    def default_device(self) -> Device:
        return "cpu"

    def check_device(self, device: Device) -> Device:
        if device == "cpu":
            return device
        msg = f"`device`={device!r} is not a device of numpy; NumPy arrays live on 'cpu'."
        raise ValueError(msg)

    def empty(self, shape: Shape, dtype: DType, device: Device) -> Array:
        return np.empty(shape, dtype=dtype)

    def full(self, shape: Shape, value: Any, dtype: DType, device: Device) -> Array:
        return np.full(shape, value, dtype=dtype)

    def from_host(self, values: Any, dtype: DType, device: Device) -> Array:
        return values if values.dtype == dtype else values.astype(dtype)

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        try:
            from scipy.linalg import qr as scipy_qr
        except ImportError:
            q, r = np.linalg.qr(matrix, mode="reduced")
            return q, r
        # SciPy's LAPACK call keeps float32 (NumPy's is about 2x slower here).
        q, r = scipy_qr(matrix, mode="economic", overwrite_a=True, check_finite=False)
        return q, r

    def orthonormal_factor(self, matrix: Array) -> tuple[Array, Array]:
        try:
            from scipy.linalg import get_lapack_funcs
        except ImportError:
            return super().orthonormal_factor(matrix)
        # SciPy's own LAPACK calls for qr(mode="economic") (so the same Q, bit for bit),
        # without forming R: the peak is the matrix and LAPACK's Fortran-ordered copy.
        (geqrf,) = get_lapack_funcs(("geqrf",), (matrix,))
        factored, tau = _lapack(geqrf, matrix, overwrite_a=True)
        diagonal = np.diagonal(factored).copy()
        (orgqr,) = get_lapack_funcs(("orgqr",), (factored,))
        (q,) = _lapack(orgqr, factored, tau, overwrite_a=True)
        return q, diagonal

    # -- the portable stream: blocked and threaded ---------------------------------

    def portable_uniform01(self, key: Any, shape: Shape, region: Region, device: Device) -> Array:
        flat = len(shape) == 1 and (region is None or region[0].step in (None, 1))
        start, stop = (region[0].start, region[0].stop) if region else (0, shape[0] if shape else 1)
        if flat and stop <= 2**32:
            return uniform01_block(key, start, stop)
        runs = runs_from_extension(key, shape, region)  # a Dask chunk: one run per row
        if runs is not None:
            return runs
        # Any other block: the counters of its elements, then the same kernel.
        high, low = counters(self.xp, shape, region, device)
        block = high.shape
        values = uniform01_from_counters(key, high.reshape(-1).copy(), low.reshape(-1).copy())
        return values.reshape(block)

    def portable_float32(
        self, kind: str, key: Any, shape: Shape, region: Region, device: Device, params: Any
    ) -> Array:
        if kind == "uniform":
            # The C kernel fuses JAX's affine step (float64 multiply-add, one rounding).
            low, high = (np.float32(p) for p in params)
            values = runs_from_extension(key, shape, region, (float(low), float(high - low)))
            if values is not None:
                return values
        return super().portable_float32(kind, key, shape, region, device, params)

    def fused_job(
        self,
        out: Any,
        law: Any,
        canonical: tuple[int, ...],
        perm: tuple[int, ...],
        region: Any = None,
    ) -> Any:
        # A parameter's own memory (a torch CPU tensor's, shared; a rank's shard), in its
        # layout, one pass.
        return layout_job(out, law, canonical, perm, region)

    def run_fused_jobs(self, jobs: list[Any]) -> None:
        run_jobs(jobs)

    def host_view(self, array: Any) -> tuple[Any, str] | None:
        # The array itself, where the kernel can store its dtype into it as it is.
        if not (type(array) is np.ndarray and array.flags.c_contiguous and array.flags.writeable):
            return None
        name = array.dtype.name
        if name == "bfloat16":  # ml_dtypes': its bits
            return array.view(np.int16), name
        return (array, name) if name in ("float32", "float16") else None

    def host_written(self, array: Any) -> None:
        return None

    def finish_in_place(self, values: Array, scale: float, shift: float, clip: Any) -> bool:
        # float32 draws for a float32 or 16-bit result: the affine step and the clip in one C
        # pass (the same roundings) where the extension is built.
        return finish_in_place(values, scale, shift, clip)

    def clip_into(self, values: Array, low: float, high: float) -> Array:
        if isinstance(values, np.ndarray) and values.flags.writeable:
            return np.clip(values, low, high, out=values)
        return np.clip(values, low, high)  # a 0-d result is a NumPy scalar

    def native_truncated_standard(
        self, rng: Any, shape: Shape, lower: float, upper: float, work: DType, device: Device
    ) -> Array | None:
        if normal_cdf(upper) - normal_cdf(lower) < 0.3:
            return None  # the core's uniform proposals (or inverse CDF in far tails)
        # The core's normal-proposal rejection, the same draws in the same order, but
        # redrawing by index: only the rejected few (4.6 % for ±2σ) are touched again.
        values = rng.standard_normal(shape, dtype=work)
        flat = values.reshape(-1)
        redo = np.flatnonzero((flat < lower) | (flat > upper))
        for _ in range(MAX_REJECTION_ROUNDS):
            if not redo.size:
                break
            fresh = rng.standard_normal(redo.size, dtype=work)
            keep = (fresh >= lower) & (fresh <= upper)
            flat[redo[keep]] = fresh[keep]
            redo = redo[~keep]
        if not redo.size:
            return values
        msg = f"truncated normal sampling on [{lower}, {upper}] did not converge"
        raise RuntimeError(msg)

    def draw_portable(self, draw: PortableDraw) -> Array:
        if draw.fused is not None:
            # The whole law in one C pass, on every core, written once into the result.
            values = fused(draw.fused, draw.shape, draw.region, draw.dtype)
            if values is not None:
                return values if values.dtype == draw.dtype else values.astype(draw.dtype)
        if draw.region is None and blocks_needed(draw.shape):
            # Counters are flat indices, so the array is drawn as 1-D blocks of the
            # flattened shape and reshaped: no block ever holds the whole array.
            size = math.prod(draw.shape)
            out = np.empty(size, dtype=draw.dtype)
            fill_blocks(
                out, lambda start, stop: draw.run(self, shape=(size,), region=(slice(start, stop),))
            )
            return out.reshape(draw.shape)
        if draw.region is not None:
            block = tuple(s.stop - s.start for s in draw.region)
            if len(block) > 1 and block[0] > 1 and blocks_needed(block):
                return self._rows_in_blocks(draw, block)
        return np.asarray(draw.run(self))

    def _rows_in_blocks(self, draw: PortableDraw, block: tuple[int, ...]) -> Array:
        assert draw.region is not None
        # A large block of a larger array (a rank's shard, a Dask chunk), drawn a few
        # rows at a time: no temporary ever holds more than one kernel block.
        out = np.empty(block, dtype=draw.dtype)
        first, rest = draw.region[0], draw.region[1:]
        rows = max(1, BLOCK // math.prod(block[1:]))
        for start in range(first.start, first.stop, rows):
            stop = min(start + rows, first.stop)
            part = (slice(start, stop), *rest)
            out[start - first.start : stop - first.start] = draw.run(self, region=part)
        return out

    def describe_devices(self) -> list[str]:
        return ["cpu"]


def _lapack(routine: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """Call a LAPACK routine with its optimal workspace, as ``scipy.linalg`` does."""
    # The query's own outputs (a Fortran-ordered copy of the matrix) go before the real call.
    lwork = int(routine(*args, lwork=-1, **kwargs)[-2][0].real)
    result = routine(*args, lwork=lwork, **kwargs)
    if result[-1] < 0:
        msg = f"illegal value in argument {-result[-1]} of LAPACK's {routine.typecode}"
        raise ValueError(msg)
    return tuple(result[:-2])
