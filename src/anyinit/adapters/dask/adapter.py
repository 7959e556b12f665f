"""Dask adapter: lazy arrays whose chunks are drawn independently from the portable stream.

Each chunk is generated, when it is computed, from the key and its own
global offset (the ``region`` of the portable stream), so no chunk ever
holds the whole array and the task graph holds no data. The result equals
the in-memory one whatever the chunking, on a laptop or a
``dask.distributed`` cluster. Chunks are NumPy arrays, or CuPy arrays when
the ``like`` array's chunks are.

Every random draw on Dask uses the portable stream: an integer seed as
everywhere; ``seed=None`` and a native generator supply a fresh 64-bit seed
instead (a stateful generator cannot be shared by independent chunks).
"""

from __future__ import annotations

import importlib
import itertools
import math
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from ..._typing import Array, DType, Shape
from ...stream import key_from_seed
from ..base import Backend, PortableDraw
from ..host import host_generator
from ..numpy.dtypes import NumpyDtypes
from ..numpy.kernel import single_threaded
from ..registry import backend_for_namespace

__all__ = ["DaskBackend", "DaskPlacement"]


@dataclass(frozen=True)
class DaskPlacement:
    """Where a Dask result's chunks live: the chunking and the chunk library."""

    chunks: Any = "auto"
    chunk_library: str = "numpy"  # the chunks' library (the module name of like='s chunks)

    def __str__(self) -> str:
        return f"dask ({self.chunk_library} chunks, chunks={self.chunks})"


class DaskBackend(NumpyDtypes, Backend):
    """Adapter for ``dask.array.Array`` (lazy, chunked)."""

    name = "dask"

    def default_device(self) -> DaskPlacement:
        return DaskPlacement()

    def check_device(self, device: Any) -> DaskPlacement:
        if isinstance(device, DaskPlacement):
            return device
        if device == "cpu":
            return DaskPlacement()
        msg = (
            f"`device`={device!r} is not a Dask placement; Dask arrays take their chunk "
            "library from `like` (NumPy or CuPy chunks)."
        )
        raise ValueError(msg)

    def device_of(self, like: Array, device: Any, chunks: Any) -> DaskPlacement:
        """The placement for a result made like `like` (its chunk library)."""
        return DaskPlacement("auto" if chunks is None else chunks, _placement_library(like))

    def with_chunks(self, device: Any, chunks: Any) -> DaskPlacement:
        return DaskPlacement(chunks, _placement(device).chunk_library)

    def layout_key(self, like: Array) -> Any:
        return _placement_library(like)

    def working_device(self, device: Any) -> DaskPlacement:
        return DaskPlacement("auto", _placement(device).chunk_library)

    def place(self, values: Array, device: Any) -> Array:
        chunks = _placement(device).chunks
        return values if chunks == "auto" else values.rechunk(chunks)

    def namespace_device(self, device: Any) -> Any:
        return None  # dask.array's creation functions take no placement

    def is_mutable(self, array: Array) -> bool:
        return False

    def from_host(self, values: Any, dtype: DType, device: Any) -> Array:
        # Host values (a Constant's array) as a lazy array in the placement's chunks, each
        # chunk moved by the chunk library's own adapter.
        placement = _placement(device)
        array = da.from_array(np.asarray(values), chunks=placement.chunks)
        if placement.chunk_library != "numpy":
            chunk = _chunk_backend(placement.chunk_library)
            meta = chunk.empty((0,) * array.ndim, array.dtype, chunk.default_device())
            array = array.map_blocks(
                lambda block: chunk.from_host(block, block.dtype, chunk.default_device()),
                meta=meta,
            )
        return array if array.dtype == dtype else array.astype(dtype)

    def to_host(self, array: Array) -> Any:
        return _chunk_backend(_placement_library(array)).to_host(array.compute())

    def describe_devices(self) -> list[str]:
        return ["cpu (NumPy chunks)", "CuPy chunks where like= has them"]

    # -- creation: lazy, chunked like the draws --------------------------------------

    def empty(self, shape: Shape, dtype: DType, device: Any) -> Array:
        return da.zeros(shape, dtype=dtype, chunks=_placement(device).chunks)

    def full(self, shape: Shape, value: Any, dtype: DType, device: Any) -> Array:
        return da.full(shape, value, dtype=dtype, chunks=_placement(device).chunks)

    def eye(self, rows: int, cols: int, dtype: DType, device: Any) -> Array:
        # dask.array.eye(N, M) with M > N builds a broken graph (dask 2026.8):
        # slice a square one instead.
        side = max(rows, cols)
        return da.eye(side, dtype=dtype, chunks=-1)[:rows, :cols]

    # -- random: always the portable stream, chunk by chunk --------------------------------

    # Chunks are drawn lazily and independently, so every draw of a call comes from one
    # portable key: a native generator or fresh entropy chooses the key.

    def default_generator(self, device: Any) -> Any:
        return key_from_seed(int(host_generator().integers(0, 2**63)))

    def own_generator(self, generator: Any, device: Any) -> Any:
        return key_from_seed(int(generator.integers(0, 2**63)))

    def is_generator(self, obj: Any) -> bool:
        return isinstance(obj, np.random.Generator)

    def draw_portable(self, draw: PortableDraw) -> Array:
        """A lazy array of `shape` (or of its `region`) whose chunks each draw their part."""
        shape, dtype, region = draw.shape, draw.dtype, draw.region
        placement = _placement(draw.device)
        origin = [0] * len(shape) if region is None else [s.start for s in region]
        extent = shape if region is None else tuple(s.stop - s.start for s in region)
        chunks = da.core.normalize_chunks(placement.chunks, extent, dtype=np.dtype(dtype))
        name = f"anyinit-{draw.kind}-" + tokenize(
            draw.kind, shape, origin, str(dtype), chunks, id(draw.compute)
        )
        library = placement.chunk_library
        starts = [
            list(itertools.accumulate((start, *sizes)))
            for start, sizes in zip(origin, chunks, strict=True)
        ]
        graph = {}
        for index in itertools.product(*(range(len(sizes)) for sizes in chunks)):
            part = tuple(slice(starts[a][i], starts[a][i + 1]) for a, i in enumerate(index))
            graph[(name, *index)] = (_draw_chunk, draw, library, part)
        chunk_backend = _chunk_backend(library)
        meta = chunk_backend.empty((0,) * len(shape), dtype, chunk_backend.default_device())
        return da.Array(graph, name, chunks, meta=meta)

    # -- linear algebra: tall-and-skinny QR ------------------------------------------------

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        rows, cols = matrix.shape
        if cols > 8192:
            msg = (
                "Orthogonal on Dask factorises the smaller side with a tall-and-skinny QR "
                f"(dask.array.linalg.tsqr); it supports a smaller side of at most 8192, "
                f"received a ({rows}, {cols}) factorisation."
            )
            raise ValueError(msg)
        # tsqr needs a single chunk across the columns.
        q, r = da.linalg.qr(matrix.rechunk({0: "auto", 1: -1}))
        return q, r


def _placement_library(array: Array) -> str:
    return type(array._meta).__module__.partition(".")[0]


def _placement(device: Any) -> DaskPlacement:
    return device if isinstance(device, DaskPlacement) else DaskPlacement()


def _chunk_backend(library: str) -> Backend:
    """The adapter of the chunks' library (NumPy, or CuPy where ``like=`` has CuPy chunks):
    Dask's code never names it."""
    namespace = importlib.import_module(f"array_api_compat.{library}")
    return backend_for_namespace(namespace)


def _draw_chunk(draw: PortableDraw, library: str, part: tuple[slice, ...]) -> Array:
    """Run on a worker: draw one chunk from the chunk library's own backend."""
    backend = _chunk_backend(library)
    # The chunk library's own draw_portable, on this one thread: Dask's scheduler already
    # runs a task per core, and threads inside each would only contend.
    with single_threaded():
        values = backend.draw_portable(draw.replace(device=backend.default_device(), region=part))
    size = math.prod(s.stop - s.start for s in part)
    return values.reshape(tuple(s.stop - s.start for s in part)) if size else values
