"""Dtype lookups for libraries whose dtypes are NumPy's (NumPy, CuPy, JAX, Dask)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._typing import DType

__all__ = ["NumpyDtypes"]


class NumpyDtypes:
    """Mixin for :class:`~anyinit.adapters.Backend`: dtypes are ``numpy.dtype`` objects."""

    _dtypes: dict[str, DType]

    def _lookup_dtype(self, name: str) -> DType | None:
        if name == "bfloat16":
            # NumPy has no bfloat16; ml_dtypes (a JAX and Keras dependency) adds one.
            try:
                import ml_dtypes
            except ImportError:
                return None
            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(name)

    def dtype_name(self, dtype: Any) -> str | None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return None
        return name if name in self._dtypes else None
