"""Backend registry: which adapter serves which array namespace.

Adapters are imported on first use, by dotted path, so that importing
anyinit never imports torch or cupy. Third parties add their own with
:func:`anyinit.register_backend` or the ``anyinit.backends`` entry-point
group (``name = "package.module:AdapterClass"``).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from .._typing import ArrayNamespace
from .base import Backend
from .builtin import ADAPTERS

__all__ = [
    "backend_for_namespace",
    "host_backend",
    "known_backends",
    "register_backend",
]

# namespace name (as ``xp.__name__``) -> "module:Class" or a factory
_REGISTRY: dict[str, str | Callable[[ArrayNamespace], Backend]] = dict(ADAPTERS)
_CACHE: dict[str, Backend] = {}
_LOCK = threading.Lock()
_ENTRY_POINTS_LOADED = False


def _library_name(xp: ArrayNamespace) -> str:
    # array-api-compat wraps numpy/torch/cupy as ``array_api_compat.<name>``.
    name = xp.__name__
    return name.removeprefix("array_api_compat.")


def register_backend(
    namespace: str, adapter: str | Callable[[ArrayNamespace], Backend], *, replace: bool = False
) -> None:
    """Register the adapter that serves an array namespace.

    Parameters
    ----------
    namespace : str
        The namespace's ``__name__`` (``"numpy"``, ``"torch"``, ``"jax.numpy"``, …).
    adapter : str or callable
        A :class:`anyinit.adapters.Backend` subclass (or any callable taking
        the namespace and returning one), or its ``"module:Class"`` path, which
        is imported on first use.
    replace : bool, default False
        Allow replacing an existing registration.

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.adapters import Backend
    >>> class MyBackend(Backend):
    ...     name = "mylib"
    >>> anyinit.register_backend("mylib", MyBackend, replace=True)
    >>> "mylib" in anyinit.adapters.known_backends()
    True
    """
    if not isinstance(namespace, str) or not namespace:
        msg = f"`namespace` must be a non-empty string; received {namespace!r}."
        raise TypeError(msg)
    if not (isinstance(adapter, str) or callable(adapter)):
        msg = f"`adapter` must be a 'module:Class' string or a callable; received {adapter!r}."
        raise TypeError(msg)
    with _LOCK:
        if namespace in _REGISTRY and not replace:
            msg = (
                f"a backend for {namespace!r} is already registered; pass replace=True to override."
            )
            raise ValueError(msg)
        _REGISTRY[namespace] = adapter
        _CACHE.pop(namespace, None)


def known_backends() -> list[str]:
    """Names of the namespaces with a registered adapter (others use the generic one)."""
    _load_entry_points()
    return sorted(_REGISTRY)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for point in entry_points(group="anyinit.backends"):
        _REGISTRY.setdefault(point.name, point.value)


def _instantiate(spec: str | Callable[[ArrayNamespace], Backend], xp: ArrayNamespace) -> Backend:
    if isinstance(spec, str):
        module_name, _, attribute = spec.partition(":")
        factory: Any = getattr(importlib.import_module(module_name), attribute)
    else:
        factory = spec
    return factory(xp)  # type: ignore[no-any-return]


def host_backend() -> Backend:
    """The NumPy adapter: where adapters draw what their library cannot (masked writes).

    Examples
    --------
    >>> from anyinit.adapters import host_backend
    >>> host_backend().name
    'numpy'
    """
    import array_api_compat.numpy

    return backend_for_namespace(array_api_compat.numpy)


def backend_for_namespace(xp: ArrayNamespace) -> Backend:
    """Return the (cached) adapter for an Array API namespace."""
    name = _library_name(xp)
    backend = _CACHE.get(name)
    if backend is not None:
        return backend
    _load_entry_points()
    spec = _REGISTRY.get(name)
    backend = Backend(xp) if spec is None else _instantiate(spec, xp)
    with _LOCK:
        return _CACHE.setdefault(name, backend)
