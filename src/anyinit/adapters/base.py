"""The adapter contract: :class:`Backend`, with defaults for any Array API library.

An adapter supplies what the Array API standard lacks (random numbers, a fast QR,
device checks); the algorithms that use it are :mod:`anyinit.sampling`'s, and the
capabilities only some libraries have are :mod:`anyinit.adapters.protocol`'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from .. import _compat, stream
from .._typing import Array, ArrayNamespace, Device, DType, Params, Shape
from ..laws.dtypes import DTYPE_NAMES, compute_name
from ..stream import StreamKey
from ..stream.threefry import random_bits, uniform01_from_bits
from .host import host_generator

__all__ = ["Backend", "FusedLaw", "PortableDraw", "Region"]

Region = tuple[slice, ...] | None

_INF = float("inf")


# Not frozen, as PortableDraw: built on every integer-seeded call. Treat it as immutable.
@dataclass(slots=True)
class FusedLaw:
    """A portable float32 draw from its key to its final values, for a kernel that runs it
    in one pass (NumPy's C kernel); :mod:`anyinit.sampling` builds it beside the steps it
    describes, and an adapter without such a kernel ignores it.

    Each element: ``v = max(low, float32(u·span + low))`` (JAX's uniform of the stream's
    ``u``); the uniform laws take ``x = v``, the erfinv laws (normal, central truncated
    normal) ``x = √2·erfinv(clip(v, -clip, clip))``; then ``clip(x, *inner)·scale (+ shift)``
    clipped to `outer`, each step rounded to float32 as :mod:`anyinit.stream.transforms` and
    :func:`anyinit.sampling.finish` round it (a unit scale is exact, and no shift is added
    where `shift` is 0).
    """

    key: StreamKey
    erfinv: bool
    low: float
    span: float
    clip: float = _INF
    inner: tuple[float, float] = (-_INF, _INF)
    scale: float = 1.0
    shift: float = 0.0
    outer: tuple[float, float] = (-_INF, _INF)
    #: What is stored: the float32 values, or them rounded once to ``"float16"`` or
    #: ``"bfloat16"`` (to nearest even, as NumPy's ``astype`` and torch's ``.to`` round).
    output: str = "float32"

    @property
    def arguments(self) -> tuple[Any, ...]:
        """The law as the C kernel's ``sample`` takes it."""
        return (
            self.erfinv, self.low, self.span, self.clip, *self.inner, self.scale,
            self.shift != 0.0, self.shift, *self.outer, _OUTPUTS[self.output],
        )  # fmt: skip


_OUTPUTS = {"float32": 0, "float16": 1, "bfloat16": 2}


# Not frozen: a frozen dataclass costs 0.6 µs more to build, a tenth of a small
# integer-seeded call. Treat it as immutable: run(**changes) and replace() copy.
@dataclass(slots=True)
class PortableDraw:
    """One portable-stream draw, handed to :meth:`Backend.draw_portable`.

    `kind` names the law (``"uniform"``, ``"normal"``, ``"truncated_normal"``);
    `shape`, `dtype` and `device` are the whole result's; `region` (one slice
    per axis, or None) the block of it asked for. `compute` is the core's
    sampling step, ``compute(backend, draw)`` (the draw with its fields as run);
    `fused`, where the law allows it, the same steps as one ``FusedLaw`` (which
    stores float32 values, or a 16-bit `dtype`'s directly; other dtypes round after).
    A record: adapters change a field with :meth:`replace` (a copy), never in place.
    """

    kind: str
    shape: Shape
    dtype: DType
    device: Device
    region: Region
    compute: Callable[..., Array]
    fused: FusedLaw | None = None

    def run(self, backend: Backend, **changes: Any) -> Array:
        """Compute on `backend`, with any of ``shape``/``dtype``/``device``/``region`` replaced.

        Counters are positions in ``shape``, so a block of a flattened array is
        ``run(backend, shape=(size,), region=(slice(start, stop),))``.
        """
        draw = replace(self, **changes) if changes else self
        return draw.compute(backend, draw)

    def replace(self, **changes: Any) -> PortableDraw:
        """The same draw with some fields replaced (e.g. ``dtype`` and ``device`` for the host)."""
        return replace(self, **changes)


class Backend:
    """The adapter contract, with defaults for a library that speaks the Array API.

    An adapter says what its library supplies; every algorithm (the seed policy, affine
    steps, inward-rounded bounds, rejection, the portable stream's dispatch) is in
    :mod:`anyinit.sampling`, module functions that take the adapter, so none is overridden
    here. ``docs/adapters.rst`` walks through a complete example
    (``examples/strict_adapter.py``).

    What a library supplies (override where the default does not fit):

    * dtypes and devices: :meth:`dtype_name`, :meth:`default_device`,
      :meth:`check_device` (defaults read the namespace and its
      ``__array_namespace_info__``);
    * generators: :meth:`is_generator`, :meth:`default_generator` (the one ``seed=None``
      uses) and :meth:`own_generator` (what a native generator draws with on a device);
    * native draws: :meth:`native_uniform` and :meth:`native_normal`, and
      :meth:`from_host` / :meth:`to_host` to move NumPy values to the device
      and back (defaults: NumPy's ``Generator`` API and ``asarray``).

    Generic parts, with defaults for any Array API library: writes (:meth:`is_mutable`,
    :meth:`write`, :meth:`fill`), :meth:`qr`, :meth:`on_device`, :attr:`rejection_block`,
    :attr:`masked_writes`, the portable stream's kernel (:meth:`portable_uniform01`,
    :meth:`portable_float32`), how a portable draw runs over blocks or chunks
    (:meth:`draw_portable`), and placement (:meth:`device_of`, :meth:`layout_key`,
    :meth:`working_device`, :meth:`place`).

    What only some libraries have is a *capability* (:mod:`anyinit.adapters.protocol`:
    the library's own in-place draws, complex views, native truncated normals, a fused
    finish, shards, JAX-key calls, chunks): an adapter defines those methods, the core asks
    with :func:`~anyinit.adapters.protocol.supports`, and nothing here stubs them.

    Parameters
    ----------
    xp : module
        The Array API namespace (an ``array_api_compat`` wrapper where the
        library needs one).

    Examples
    --------
    >>> import numpy as np
    >>> from anyinit.adapters import host_backend
    >>> draw = host_backend().native_uniform(
    ...     np.random.default_rng(0), (3,), -1.0, 1.0, np.dtype("float32"), "cpu"
    ... )
    >>> draw.shape, str(draw.dtype), bool((abs(draw) <= 1).all())
    ((3,), 'float32', True)
    """

    name: str = "generic"
    generator_types: ClassVar[str] = "numpy.random.Generator or RandomState"
    #: Native truncated normals are drawn in blocks of this many elements (None: at once).
    rejection_block: ClassVar[int | None] = None
    #: False for immutable arrays (JAX): native truncated normals are drawn on the host.
    masked_writes: ClassVar[bool] = True
    #: True where results are computed in another library and handed over by :meth:`export`
    #: (``adapters.bridge``: TensorFlow, MLX).
    exports: ClassVar[bool] = False

    def __init__(self, xp: ArrayNamespace) -> None:
        self.xp = xp
        if self.name == "generic":
            self.name = xp.__name__
        self._dtypes: dict[str, DType] = {}
        for dtype_name in DTYPE_NAMES:
            dtype = self._lookup_dtype(dtype_name)
            if dtype is not None:
                self._dtypes[dtype_name] = dtype
        # Reverse map for the hot path; keyed by (type, dtype) so that dtypes of
        # different libraries that compare equal never alias.
        self._names = {(type(d), d): n for n, d in self._dtypes.items()}
        self._wide: dict[Any, DType | None] = {}

    # -- dtypes -----------------------------------------------------------------

    def _lookup_dtype(self, name: str) -> DType | None:
        return getattr(self.xp, name, None)

    def dtype(self, name: str) -> DType | None:
        """Return the library's dtype for a canonical name, or None."""
        return self._dtypes.get(name)

    def dtype_name(self, dtype: Any) -> str | None:
        """Return the canonical name of one of the library's dtypes, or None."""
        for name, candidate in self._dtypes.items():
            # Comparing dtypes of different libraries may warn or raise: check the type first.
            if type(candidate) is type(dtype) and candidate == dtype:
                return name
        return None

    def dtype_of(self, array: Array) -> str | None:
        """Return the canonical dtype name of an array of this library."""
        return self.dtype_name(array.dtype)

    # -- devices ----------------------------------------------------------------

    def default_device(self) -> Device:
        """The device arrays are created on when none is given."""
        info = getattr(self.xp, "__array_namespace_info__", None)
        return info().default_device() if info is not None else None

    def check_device(self, device: Device) -> Device:
        """Return `device` if the library has it, else raise ValueError."""
        info = getattr(self.xp, "__array_namespace_info__", None)
        if info is None:
            return device
        devices = info().devices()
        if device not in devices:
            msg = f"`device`={device!r} is not a device of {self.name}; available: {list(devices)}."
            raise ValueError(msg)
        return device

    def namespace_device(self, device: Device) -> Device:
        """`device` as the namespace's own creation functions take it."""
        return device

    def wide_dtype(self, device: Device) -> DType | None:
        """float64 where arrays on `device` can hold it, else None (no float64 detour then)."""
        try:
            return self._wide[device]
        except (KeyError, TypeError):
            pass
        f64 = self.dtype("float64")
        info = getattr(self.xp, "__array_namespace_info__", None)
        if f64 is not None and info is not None:
            try:
                if "float64" not in info().dtypes(device=device):
                    f64 = None
            except (TypeError, ValueError, AttributeError):  # an info that takes no device
                pass
        with contextlib.suppress(TypeError):  # an unhashable device is not cached
            self._wide[device] = f64
        return f64

    def device_of(self, like: Array, device: Device, chunks: Any) -> Device:
        """The device of a result made like `like`; `device`, when given, overrides it
        (`chunks` is given to :class:`~anyinit.adapters.protocol.Chunked` adapters only)."""
        return _compat.device(like) if device is None else self.check_device(device)

    def layout_key(self, like: Array) -> Any:
        """What of `like`, beyond its type, dtype and device, decides a result's layout."""
        return None

    def working_device(self, device: Device) -> Device:
        """Where intermediates of a structured initializer (a QR's input) are made.

        Placements that describe the *result's* layout (Dask chunks) do not fit
        intermediates of other shapes: an adapter returns a neutral one here and
        applies the layout in :meth:`place`.
        """
        return device

    def place(self, values: Array, device: Device) -> Array:
        """`values` (made on :meth:`working_device`) laid out as `device` asks."""
        return values

    def materializes(self, device: Device) -> bool:
        """False for devices that hold no data (torch's ``meta``)."""
        return True

    # -- creation -----------------------------------------------------------------

    def as_array(self, values: Any) -> Array:
        """`values` as an array of the library (NumPy turns 0-d results into scalars)."""
        return values

    def export(self, values: Array, dtype_name: str, device: Device) -> Array:
        """A finished result as the caller's library holds it (where :attr:`exports`)."""
        return values

    def empty(self, shape: Shape, dtype: DType, device: Device) -> Array:
        """An uninitialised array (used for devices that hold no data)."""
        return self.xp.empty(shape, dtype=dtype, device=device)

    def full(self, shape: Shape, value: Any, dtype: DType, device: Device) -> Array:
        """An array filled with `value`."""
        return self.xp.full(shape, value, dtype=dtype, device=device)

    def eye(self, rows: int, cols: int, dtype: DType, device: Device) -> Array:
        """The ``(rows, cols)`` identity (ones on the main diagonal)."""
        return self.xp.eye(rows, cols, dtype=dtype, device=self.namespace_device(device))

    # -- random -------------------------------------------------------------------

    def is_generator(self, obj: Any) -> bool:
        """Whether `obj` is a native generator this backend can draw from (by its type:
        the answer is remembered per type)."""
        return isinstance(obj, (np.random.Generator, np.random.RandomState))

    def default_generator(self, device: Device) -> Any:
        """The native generator for ``seed=None``: fresh entropy, advanced by every call."""
        return host_generator()

    def own_generator(self, generator: Any, device: Device) -> Any:
        """What a native `generator` (``is_generator`` said yes) draws with on `device`.

        Raises ValueError where it cannot draw there (a torch.Generator on another device
        type); the default draws from it as it is.
        """
        return generator

    def draw_portable(self, draw: PortableDraw) -> Array:
        """Run a portable-stream draw: ``draw.run(self)``.

        The one hook where backends change *how* a portable draw runs (in
        blocks, on the host, lazily per chunk) without repeating what it draws:
        an override calls ``draw.run(backend, shape=…, region=…)`` per block.
        """
        return draw.run(self)

    def clip_into(self, values: Array, low: float, high: float) -> Array:
        """`values` clipped to ``[low, high]``; may reuse `values` (NumPy clips in place)."""
        return self.xp.clip(values, low, high)

    def from_host(self, values: Any, dtype: DType, device: Device) -> Array:
        """NumPy (or the generator's own) `values` as an array of this library on `device`."""
        xp = self.xp
        out = xp.asarray(values, device=device)
        return out if out.dtype == dtype else xp.astype(out, dtype)

    def on_device(self, device: Device) -> Any:
        """A context in which the library's generators draw on `device` (CuPy's ``with device``)."""
        return contextlib.nullcontext()

    def native_uniform(
        self, rng: Any, shape: Shape, low: float, high: float, dtype: DType, device: Device
    ) -> Array:
        """Native U[low, high) draws in `dtype`, the library's own way (NumPy's Generator API)."""
        return self._native_affine(rng.random, shape, high - low, low, dtype, device)

    def native_normal(
        self, rng: Any, shape: Shape, mean: float, std: float, dtype: DType, device: Device
    ) -> Array:
        """Native N(mean, std²) draws in `dtype`, the library's own way (NumPy's Generator API)."""
        return self._native_affine(rng.standard_normal, shape, std, mean, dtype, device)

    def _native_affine(
        self, draw: Any, shape: Shape, scale: float, shift: float, dtype: DType, device: Device
    ) -> Array:
        # Unit steps are skipped, not applied: x·1 and x + 0 are exact, but skipping saves a pass.
        name = compute_name(self.name_of(dtype))
        with self.on_device(device):
            values = draw(shape, dtype=np.dtype(name))
            if scale != 1.0:
                values *= scale
            if shift != 0.0:
                values += shift
            return self.from_host(values, dtype, device)

    def name_of(self, dtype: DType) -> str:
        """The canonical name of one of the library's dtypes (cached; TypeError otherwise)."""
        try:
            return self._names[type(dtype), dtype]
        except (KeyError, TypeError):
            pass
        name = self.dtype_name(dtype)
        if name is None:  # pragma: no cover - targets are resolved before sampling
            msg = f"{dtype!r} is not a dtype of {self.name}"
            raise TypeError(msg)
        return name

    # -- the portable stream -------------------------------------------------------

    def portable_float32(
        self,
        kind: str,
        key: StreamKey,
        shape: Shape,
        region: Region,
        device: Device,
        params: Params,
    ) -> Array:
        """JAX's float32 construction of the portable stream, before scaling and clipping.

        `kind` is ``"uniform"`` (`params` = low, high), ``"normal"`` or
        ``"truncated_normal"`` (`params` = the standardised lower, upper). The
        default computes it from :meth:`portable_uniform01` with
        ``anyinit.stream``; JAX lets ``jax.random`` do it.
        """
        if kind == "normal":
            return stream.normal(self, key, shape, device, region)
        low, high = params
        if kind == "uniform":
            return stream.uniform(self, key, shape, low, high, device, region)
        return stream.truncated_normal(self, key, shape, low, high, device, region)

    def portable_uniform01(self, key: Any, shape: Shape, region: Region, device: Device) -> Array:
        """float32 in [0, 1) from the Threefry stream of `key` (JAX's bits, exactly).

        The generic version runs the Array API code of ``anyinit.stream.threefry``;
        backends override it with a faster kernel of the same arithmetic.
        """
        bits = random_bits(self.xp, key, shape, region, device)
        return uniform01_from_bits(self.xp, bits, device)

    # -- the host -----------------------------------------------------------------------

    def to_host(self, array: Array) -> Any:
        """A NumPy array with `array`'s values (for the CLI, plots and tests).

        16-bit floats without a NumPy twin may come back as float32.
        """
        try:
            return np.asarray(array)
        except (TypeError, ValueError, RuntimeError):
            return np.from_dlpack(array)

    def host_values(self, values: Any) -> np.ndarray:
        """NumPy values of `values` (an array of this library, or already NumPy's)."""
        if isinstance(values, np.ndarray | np.generic):
            return np.asarray(values)
        return np.asarray(self.to_host(values))

    # -- in-place writes (the torch.nn.init-style functions) --------------------------

    def is_mutable(self, array: Array) -> bool:
        """Whether `array` can be written in place."""
        flags = getattr(array, "flags", None)
        return bool(getattr(flags, "writeable", True))

    def write(self, array: Array, values: Array) -> None:
        """Copy `values` (same shape) into `array`, which may be a strided view."""
        array[...] = values

    def fill(self, array: Array, value: Any) -> None:
        """Set every element of `array` to `value`."""
        array[...] = value

    # -- linear algebra ---------------------------------------------------------------

    def qr(self, matrix: Array) -> tuple[Array, Array]:
        """Reduced QR factorisation of a 2-D floating array."""
        q, r = self.xp.linalg.qr(matrix, mode="reduced")
        return q, r

    def orthonormal_factor(self, matrix: Array) -> tuple[Array, Array]:
        """Q of the reduced QR of a tall `matrix` (which may be overwritten) and R's diagonal.

        The default calls :meth:`qr`; an adapter may skip forming R (NumPy does).
        """
        q, r = self.qr(matrix)
        return q, self.xp.linalg.diagonal(r)

    def describe_devices(self) -> list[str]:
        """Human-readable list of devices, for ``anyinit info``."""
        info = getattr(self.xp, "__array_namespace_info__", None)
        return [str(d) for d in info().devices()] if info is not None else []
