"""Resolve ``like`` / ``xp`` / ``device`` / ``dtype`` into one target.

Lookups are cached by array type and namespace name, so the per-call cost
is a few dictionary hits rather than an ``array_namespace`` call.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import _compat
from ._typing import Array, ArrayNamespace, Device, DType
from ._validation import is_integer
from .adapters import Backend, backend_for_namespace, known_backends
from .adapters.builtin import BRIDGED, WRAPPED
from .adapters.protocol import Chunked, supports
from .laws.dtypes import DTYPE_NAMES, kind_of
from .seeds import SeedGenerator, check_int_seed, is_keras_seed_generator

__all__ = ["Target", "array_backend", "check_seed", "resolve_target", "workable"]

_DEFAULT_DTYPE = "float32"


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how an initializer's result is made."""

    xp: ArrayNamespace
    backend: Backend
    device: Device
    dtype: DType
    dtype_name: str
    kind: str = ""  # the Array API kind of the dtype; derived from dtype_name
    materializes: bool = True  # False on devices that hold no data (torch's meta)
    #: One slice per axis: the block of the whole result to draw (a rank's shard), or None.
    region: tuple[slice, ...] | None = None

    @property
    def xp_device(self) -> Device:
        """The device to pass to the namespace's own functions (``xp.zeros`` …)."""
        return self.backend.namespace_device(self.device)

    def working(self) -> Target:
        """This target on the backend's working device (see ``Backend.working_device``)."""
        device = self.backend.working_device(self.device)
        if device is self.device:
            return self
        return Target(self.xp, self.backend, device, self.dtype, self.dtype_name)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", kind_of(self.dtype_name))
        object.__setattr__(self, "materializes", self.backend.materializes(self.device))


_BY_TYPE: dict[type, tuple[ArrayNamespace, Backend]] = {}
_BY_MODULE: dict[str, tuple[ArrayNamespace, Backend]] = {}


def _for_array(like: Any) -> tuple[ArrayNamespace, Backend]:
    cls = type(like)
    found = _BY_TYPE.get(cls)
    if found is None:
        bridged = BRIDGED.get(_library(cls))
        if bridged is not None:  # TensorFlow, MLX: computed by NumPy, then exported
            found = _BY_TYPE[cls] = _for_module(importlib.import_module(bridged))
            return found
        if not _compat.is_array_api_obj(like):
            msg = (
                "`like` must be an array (NumPy, torch, CuPy, …); "
                f"received an object of type {cls.__name__}."
            )
            raise TypeError(msg)
        xp = _compat.array_namespace(like)
        found = (xp, backend_for_namespace(xp))
        _BY_TYPE[cls] = found
    return found


def array_backend(array: Array) -> tuple[ArrayNamespace, Backend]:
    """The namespace and adapter of an array (cached by its type)."""
    return _for_array(array)


def workable(value: Array) -> tuple[ArrayNamespace, Array, Any]:
    """``(namespace, value, back)``: the Array API namespace to reshape, transpose and join
    `value` with, and ``back(result)`` that hands a result to `value`'s library. TensorFlow
    and MLX arrays (``adapters.bridge``) are taken to the host and exported again; others
    stay where they are."""
    backend = array_backend(value)[1]
    if not backend.exports:
        return _compat.array_namespace(value), value, lambda result: result
    host = backend.host_values(value)
    name, device = str(backend.dtype_of(value)), backend.device_of(value, None, None)
    return (_compat.array_namespace(host), host,
            lambda result: backend.export(result, name, device))  # fmt: skip


def _for_module(xp: Any) -> tuple[ArrayNamespace, Backend]:
    if not isinstance(xp, ModuleType):
        msg = (
            "`xp` must be an array namespace module (numpy, torch, cupy, jax.numpy, "
            f"array_api_strict, or an array_api_compat namespace); received {xp!r}."
        )
        raise TypeError(msg)
    name = xp.__name__
    found = _BY_MODULE.get(name)
    if found is None and name in BRIDGED.values():
        bridge = backend_for_namespace(xp)
        found = _BY_MODULE[name] = (bridge.xp, bridge)
    if found is None:
        if name in WRAPPED:
            namespace: ArrayNamespace = importlib.import_module(f"array_api_compat.{name}")
        elif name.startswith("array_api_compat.") or hasattr(xp, "__array_namespace_info__"):
            namespace = xp
        elif hasattr(xp, "asarray"):
            namespace = _compat.array_namespace(xp.asarray(0.0))
        else:
            msg = f"`xp`={name!r} is not an array namespace: it has no `asarray`."
            raise TypeError(msg)
        found = (namespace, backend_for_namespace(namespace))
        _BY_MODULE[name] = found
    return found


def adapters_for_library(library: str) -> list[Backend]:
    """The adapters registered for namespaces of the (imported) top-level module `library`."""
    found: list[Backend] = []
    if library not in sys.modules:
        return found
    for name in known_backends():
        if name.partition(".")[0] != library:
            continue
        try:
            found.append(_for_module(importlib.import_module(name))[1])
        except (ImportError, TypeError):  # a registered namespace that cannot be used here
            continue
    return found


def _dtype_for(backend: Backend, dtype: Any) -> tuple[DType, str]:
    if isinstance(dtype, str):
        resolved = backend.dtype(dtype)
        if resolved is None:
            if dtype in DTYPE_NAMES:
                msg = f"`dtype`={dtype!r} is not available in {backend.name}."
            else:
                msg = f"Unknown `dtype` name {dtype!r}; expected one of {list(DTYPE_NAMES)}."
            raise ValueError(msg)
        return resolved, dtype
    # An array is no dtype (NumPy would read one with a warning, or fail): say where it goes.
    is_array = not isinstance(dtype, type) and hasattr(dtype, "shape") and hasattr(dtype, "dtype")
    name = None if is_array else backend.dtype_name(dtype)
    if name is None:
        msg = (
            f"`dtype`={dtype!r} is not one of the {backend.name} dtypes anyinit supports "
            f"({', '.join(DTYPE_NAMES)}); pass one of those dtype objects or a name such as "
            "'float32'."
        )
        if is_array:
            msg += " To draw on an array's library, device and dtype, pass it as like=array."
        raise TypeError(msg)
    return backend.dtype(name), name


_RESOLVED: dict[tuple[Any, ...], Target] = {}
_RESOLVED_LIMIT = 256


def resolve_target(
    *,
    like: Array | None = None,
    xp: ArrayNamespace | None = None,
    device: Device | None = None,
    dtype: DType | str | None = None,
    chunks: Any = None,
) -> Target:
    """Combine the call's keywords into a :class:`Target` or raise.

    Results are memoised by what determines them (the array type, its dtype
    and device, and the keywords), so a repeated call costs a dict lookup.
    """
    if like is not None and type(like) not in _BY_TYPE:
        like = _held_array(like)
    try:
        if like is not None:
            key: tuple[Any, ...] = (type(like), like.dtype, like.device, xp, device, dtype, chunks)
            found_backend = _BY_TYPE.get(type(like))
            if found_backend is not None:  # what else of `like` decides (Dask: chunk library)
                key += (found_backend[1].layout_key(like),)
        else:
            key = (None, xp, device, dtype, chunks)
        found = _RESOLVED.get(key)
    except (AttributeError, TypeError):  # unhashable devices / dtypes, arrays without .device
        key, found = (), None
    if found is not None:
        return found
    target = _resolve(like=like, xp=xp, device=device, dtype=dtype, chunks=chunks)
    if key and len(_RESOLVED) < _RESOLVED_LIMIT:
        _RESOLVED[key] = target
    return target


def _chunked(backend: Backend) -> Any:
    """`backend` where it lays results out in chunks (Dask); a clear error elsewhere."""
    if not supports(backend, Chunked):
        msg = f"`chunks` applies to Dask arrays only; the target library is {backend.name}."
        raise ValueError(msg)
    return backend


def _held_array(like: Any) -> Any:
    """The array a framework variable holds (``keras.Variable.value``), or `like` itself."""
    if _compat.is_array_api_obj(like):
        return like
    value = getattr(like, "value", None)
    if value is None:
        return like
    # Keras on TensorFlow holds a tf.Variable: a library computed on the host (BRIDGED).
    held = _compat.is_array_api_obj(value) or _library(type(value)) in BRIDGED
    return value if held else like


def _library(cls: type) -> str:
    return (cls.__module__ or "").partition(".")[0]


def _resolve(
    *,
    like: Array | None,
    xp: ArrayNamespace | None,
    device: Device | None,
    dtype: DType | str | None,
    chunks: Any = None,
) -> Target:
    if like is not None:
        namespace, backend = _for_array(like)
        if xp is not None and _for_module(xp)[1] is not backend:
            msg = f"`xp`={xp.__name__!r} does not match `like`, which is a {backend.name} array."
            raise ValueError(msg)
        if chunks is not None:
            _chunked(backend)
        device = backend.device_of(like, device, chunks)
        if dtype is None:
            like_name = backend.dtype_of(like)
            if like_name is not None and kind_of(like_name) in (
                "real floating",
                "complex floating",
            ):
                dtype = backend.dtype(like_name) if backend.exports else like.dtype
                return Target(namespace, backend, device, dtype, like_name)
    else:
        if xp is None:
            import numpy

            xp = numpy
        namespace, backend = _for_module(xp)
        device = backend.default_device() if device is None else backend.check_device(device)
        if chunks is not None:
            device = _chunked(backend).with_chunks(device, chunks)
    resolved, name = _dtype_for(backend, _DEFAULT_DTYPE if dtype is None else dtype)
    return Target(namespace, backend, device, resolved, name)


def check_seed(seed: Any) -> Any:
    """Validate a ``seed`` argument at construction time and return it.

    The seed policy itself is :mod:`anyinit.seeds`'; this check lives beside the adapter
    lookups because a native generator is recognised by the adapters registered for its
    library (without importing anything new), and checked against the target backend again
    when the initializer is called.
    """
    if seed is None or isinstance(seed, SeedGenerator) or type(seed) in _GENERATOR_TYPES:
        return seed
    if is_keras_seed_generator(seed):  # Keras's meaning: each call advances it
        return seed
    if is_integer(seed):
        return check_int_seed("seed", seed)
    if _looks_like_native_generator(seed):
        return seed
    msg = (
        "`seed` must be an int, None, an anyinit.SeedGenerator, a keras.random.SeedGenerator or "
        "a native generator (numpy.random.Generator, torch.Generator, cupy.random.Generator); "
        f"received {seed!r} "
        f"of type {type(seed).__name__}."
    )
    if type(seed).__module__.partition(".")[0] in ("jax", "jaxlib"):
        msg += (
            " A JAX key goes positionally, as jax.nn.initializers take it: init(key, shape, dtype)."
        )
    raise TypeError(msg)


_GENERATOR_TYPES: set[type] = set()


def _looks_like_native_generator(seed: Any) -> bool:
    # A generator's library is imported already (the object exists), so asking
    # the adapters registered for that library imports nothing new; a third
    # party's registered adapter is asked the same way. The answer is one per
    # type (adapters test isinstance), so it is remembered (check_seed looks there
    # first): ~5 µs once, not per call.
    cls = type(seed)
    library = cls.__module__.partition(".")[0]
    if any(adapter.is_generator(seed) for adapter in adapters_for_library(library)):
        _GENERATOR_TYPES.add(cls)
        return True
    return False
