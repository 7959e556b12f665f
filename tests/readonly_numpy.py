"""NumPy whose arrays are all read-only: JAX's immutable-array path, tested with NumPy alone.

Every array this namespace (and its adapter) hands to anyinit's core is a
:class:`Frozen` array: read-only, and every result computed from it (by an
operator, a ufunc or a namespace function) is read-only too. A core
that writes into an array it did not make itself, on a library whose arrays
are immutable, then fails here as it would on JAX, without JAX installed.

The adapter is the generic one (``anyinit.adapters.Backend``) with
``masked_writes = False`` and ``is_mutable`` False, as an immutable library's
would be: its draws go through the core's Array API code, not NumPy's kernels.
"""

from __future__ import annotations

import types
from typing import Any

import array_api_compat.numpy as compat_numpy
import numpy as np

import anyinit
from anyinit.adapters import Backend, host_backend
from anyinit.adapters.numpy.dtypes import NumpyDtypes

NAME = "readonly_numpy"


class Frozen(np.ndarray):
    """A read-only ndarray whose derived arrays are read-only as well."""

    # Operator and ufunc results are frozen once NumPy has filled them; a view
    # of a read-only array is read-only already.
    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        result = super().__array_wrap__(array, context, return_scalar)
        return freeze(result)


def freeze(value: Any) -> Any:
    """`value` (an array, or a tuple of arrays) as read-only :class:`Frozen` arrays."""
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        frozen = value.view(Frozen)
        frozen.flags.writeable = False
        return frozen
    return value


class _Namespace(types.ModuleType):
    """array_api_compat.numpy, with every array it returns frozen."""

    def __getattr__(self, name: str) -> Any:
        attr = getattr(compat_numpy, name)
        if not callable(attr) or isinstance(attr, type):
            return attr

        def frozen_result(*args: Any, **kwargs: Any) -> Any:
            return freeze(attr(*args, **kwargs))

        return frozen_result


namespace = _Namespace(NAME)


class ReadOnlyNumpyAdapter(NumpyDtypes, Backend):
    """The generic adapter over the read-only namespace: an immutable library's contract."""

    name = NAME
    masked_writes = False

    def is_mutable(self, array: Any) -> bool:
        return False

    def from_host(self, values: Any, dtype: Any, device: Any) -> Any:
        return freeze(super().from_host(values, dtype, device))

    def empty(self, shape: tuple[int, ...], dtype: Any, device: Any) -> Any:
        return freeze(super().empty(shape, dtype, device))

    def qr(self, matrix: Any) -> tuple[Any, Any]:
        # NumPy's adapter factorises with SciPy's LAPACK call, not numpy.linalg.
        return freeze(host_backend().qr(np.array(matrix)))

    def to_host(self, array: Any) -> Any:
        return np.asarray(array).view(np.ndarray)


def register() -> None:
    """Serve the read-only namespace with :class:`ReadOnlyNumpyAdapter`."""
    anyinit.register_backend(NAME, ReadOnlyNumpyAdapter, replace=True)
