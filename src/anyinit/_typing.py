"""Type aliases used in signatures.

The Array API has no runtime array type to check against, so these are
documentation for readers and type checkers, as in array-api-extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, TypeAlias

Array: TypeAlias = Any
ArrayNamespace: TypeAlias = ModuleType
DType: TypeAlias = Any
Device: TypeAlias = Any
Shape: TypeAlias = tuple[int, ...]
Interval: TypeAlias = tuple[float, float]
#: A portable draw's law parameters (bounds, or none for the normal).
Params: TypeAlias = tuple[float, ...]
ShapeLike: TypeAlias = int | Sequence[int]
Axes: TypeAlias = int | Sequence[int]

__all__ = ["Array", "ArrayNamespace", "Axes", "DType", "Device", "Interval", "Shape", "ShapeLike"]
