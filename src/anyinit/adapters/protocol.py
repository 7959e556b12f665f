"""The adapter protocol: what a library must supply, and the capabilities the core asks for.

:class:`Adapter` is the required part, eight methods: the library's dtypes and devices, its
generators, and its native uniform and normal draws. :class:`~anyinit.adapters.Backend`
implements it with defaults for any Array API library (and the generic parts every adapter
inherits: creation, writes, QR, host transfer, the portable stream's Array API kernel,
placement); an adapter overrides what its library does differently.

A *capability* is something only some libraries have. The core asks for one with
:func:`supports` (``isinstance`` against the protocol, remembered per adapter type) and
otherwise does without; no base class stubs them:

================================  ======================================================
capability                        who has it, and what for
================================  ======================================================
:class:`InPlaceDraws`             torch: ``torch.nn.init``'s own in-place draws (bit parity)
:class:`ComplexViews`             torch: a real view of a complex tensor, written in place
:class:`NativeTruncatedNormal`    NumPy, torch: the library's own truncated standard normal
:class:`FusedFinish`              NumPy: the sampler's affine step and clip in one C pass
:class:`Sharded`                  torch (DTensor), JAX: one rank's block of a global array
:class:`KeyCalls`                 JAX: ``init(key, shape, dtype)`` drawn with ``jax.random``
:class:`Chunked`                  Dask: results laid out in chunks
================================  ======================================================

Examples
--------
>>> from anyinit.adapters import host_backend
>>> from anyinit.adapters.protocol import Adapter, FusedFinish, KeyCalls, supports
>>> numpy_adapter = host_backend()
>>> isinstance(numpy_adapter, Adapter), supports(numpy_adapter, FusedFinish)
(True, True)
>>> supports(numpy_adapter, KeyCalls)
False
"""

from __future__ import annotations

from typing import Any, Protocol, TypeGuard, TypeVar, runtime_checkable

from .._typing import Array, ArrayNamespace, Device, DType, Interval, Shape

__all__ = [
    "Adapter",
    "Chunked",
    "ComplexViews",
    "FusedFinish",
    "FusedLayoutFill",
    "HostMemory",
    "InPlaceDraws",
    "KeyCalls",
    "NativeTruncatedNormal",
    "Sharded",
    "supports",
]


@runtime_checkable
class Adapter(Protocol):
    """What every library supplies (``docs/adapters.rst`` gives each method's contract)."""

    name: str
    xp: ArrayNamespace

    def dtype(self, name: str) -> DType | None:
        """The library's dtype for a canonical name (``"float32"``, …), or None."""

    def dtype_name(self, dtype: Any) -> str | None:
        """The canonical name of one of the library's dtypes, or None."""

    def default_device(self) -> Device:
        """The device arrays are made on when none is given."""

    def check_device(self, device: Device) -> Device:
        """`device` if the library has it, else ValueError naming what it has."""

    def is_generator(self, obj: Any) -> bool:
        """Whether `obj` is a native generator (decided by its type alone)."""

    def default_generator(self, device: Device) -> Any:
        """What ``seed=None`` draws from: fresh values on every call."""

    def native_uniform(
        self, rng: Any, shape: Shape, low: float, high: float, dtype: DType, device: Device
    ) -> Array:
        """U[low, high) from a native generator, the library's own way."""

    def native_normal(
        self, rng: Any, shape: Shape, mean: float, std: float, dtype: DType, device: Device
    ) -> Array:
        """N(mean, std²) from a native generator, the library's own way."""


@runtime_checkable
class InPlaceDraws(Protocol):
    """The library's own in-place draws (each returns False where it declines)."""

    def uniform_into(self, array: Array, low: float, high: float, clip: Interval, rng: Any) -> bool:
        """Fill `array` with U[low, high) from `rng` in place, clipped to `clip`."""

    def normal_into(self, array: Array, mean: float, std: float, rng: Any) -> bool:
        """Fill `array` with N(mean, std²) from `rng` in place."""

    def trunc_normal_into(
        self, array: Array, mean: float, std: float, bounds: Interval, clip: Interval, rng: Any
    ) -> bool:
        """Fill `array` with N(mean, std²) truncated to `bounds`, in place."""

    def sparse_zero_mask(
        self, rng: Any, shape: tuple[int, int], zeros: int, device: Device
    ) -> Array | None:
        """The library's own choice of `zeros` zero rows per column, or None."""


@runtime_checkable
class ComplexViews(Protocol):
    """A writable real ``(*shape, 2)`` view of a complex array."""

    def real_view(self, array: Array) -> Array | None:
        """The view, or None where there is none."""


@runtime_checkable
class NativeTruncatedNormal(Protocol):
    """The library's own N(0, 1) on ``[lower, upper]`` (None: the sampler's rejection)."""

    def native_truncated_standard(
        self, rng: Any, shape: Shape, lower: float, upper: float, work: DType, device: Device
    ) -> Array | None:
        """Draws in `work` dtype, or None to let the sampler reject."""


@runtime_checkable
class FusedFinish(Protocol):
    """The sampler's ``values·scale + shift`` and clip, same roundings, in one fused pass."""

    def finish_in_place(
        self, values: Array, scale: float, shift: float, clip: Interval | None
    ) -> bool:
        """Done in place (True), or False to let the sampler do it."""


@runtime_checkable
class HostMemory(Protocol):
    """Arrays whose memory the host kernel can write directly (a NumPy array, a CPU tensor)."""

    def host_view(self, array: Any) -> tuple[Any, str] | None:
        """A writable C-contiguous NumPy view of `array`'s own memory and the dtype it holds
        (``"float32"``, ``"float16"``, ``"bfloat16"``: its bits as int16), or None."""

    def host_written(self, array: Any) -> None:
        """`array` was written through :meth:`host_view` (torch: bump its version counter,
        as an in-place operation would)."""


@runtime_checkable
class FusedLayoutFill(Protocol):
    """A whole fused portable draw written straight into an existing host array, in any
    axis order: a model's parameter filled in its framework's layout in one pass."""

    def fused_job(
        self,
        out: Any,
        law: Any,
        canonical: tuple[int, ...],
        perm: tuple[int, ...],
        region: Any = None,
    ) -> Any:
        """A job that writes `law`'s (a FusedLaw) values for an array of shape `canonical`
        into `out`, whose axis ``i`` is canonical axis ``perm[i]`` (or into its block
        `region`, one slice per axis of that layout); None where it cannot."""

    def run_fused_jobs(self, jobs: list[Any]) -> None:
        """Run jobs of :meth:`fused_job` together; checked before any is written, they
        cannot fail part way."""


@runtime_checkable
class Sharded(Protocol):
    """Distributed arrays: one rank's block of a global array (``anyinit.sharding``)."""

    def shards(self, like: Any) -> Any:
        """The sharding of `like`, or None for an ordinary array."""


@runtime_checkable
class KeyCalls(Protocol):
    """JAX's calling convention, ``init(key, shape, dtype)``."""

    def is_key(self, obj: Any) -> bool:
        """Whether `obj` is a random key of the library, passed where a shape goes."""

    def call_with_key(self, initializer: Any, key: Any, shape: Shape, dtype: Any) -> Array:
        """``initializer(key, shape, dtype)`` drawn from `key` with the library's own RNG."""


@runtime_checkable
class Chunked(Protocol):
    """Results laid out in chunks (``chunks=``, or ``like=`` a chunked array)."""

    def with_chunks(self, device: Device, chunks: Any) -> Device:
        """`device` with the chunked layout `chunks` (validated)."""


_SUPPORTS: dict[tuple[type, type], bool] = {}
_Capability = TypeVar("_Capability")


def supports(adapter: object, capability: type[_Capability]) -> TypeGuard[_Capability]:
    """Whether `adapter` has `capability` (one of this module's protocols).

    Decided by the adapter's type and remembered on the adapter itself (adapters are one
    per library), so a hot path pays an attribute and a dict lookup (~60 ns); type checkers
    then know the adapter has the capability's methods.
    """
    try:
        return adapter._anyinit_capabilities[capability]  # type: ignore[attr-defined, no-any-return]
    except (AttributeError, KeyError):
        pass
    key = (type(adapter), capability)
    found = _SUPPORTS.get(key)
    if found is None:
        found = _SUPPORTS[key] = isinstance(adapter, capability)
    try:
        known = adapter.__dict__.setdefault("_anyinit_capabilities", {})
    except AttributeError:  # an adapter without instance attributes: the table above serves
        return found
    known[capability] = found
    return found
