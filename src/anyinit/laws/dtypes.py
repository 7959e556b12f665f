"""Dtype names and kinds, independent of any array library."""

from __future__ import annotations

import math
import struct
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "COMPLEX",
    "DTYPE_NAMES",
    "INTEGRAL",
    "REAL_FLOATING",
    "check_fits",
    "component_name",
    "compute_name",
    "finite_max",
    "integer_range",
    "inward_bounds",
    "kind_of",
]

REAL_FLOATING = ("float16", "bfloat16", "float32", "float64")
COMPLEX = ("complex64", "complex128")
INTEGRAL = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DTYPE_NAMES = ("bool", *INTEGRAL, *REAL_FLOATING, *COMPLEX)

_KINDS = {
    **dict.fromkeys(REAL_FLOATING, "real floating"),
    **dict.fromkeys(COMPLEX, "complex floating"),
    **dict.fromkeys(INTEGRAL, "integral"),
    "bool": "bool",
}


def kind_of(name: str) -> str:
    """Return the Array API kind of a canonical dtype name."""
    return _KINDS[name]


def compute_name(name: str) -> str:
    """Return the dtype random numbers are drawn in for an output dtype.

    Half-precision results are drawn in float32 and rounded once: no library
    has QR in 16 bits and NumPy has no 16-bit random generator.
    """
    return "float32" if name in ("float16", "bfloat16") else name


_COMPONENTS = {"complex64": "float32", "complex128": "float64"}


def component_name(name: str) -> str:
    """Return the real dtype of a complex dtype's components."""
    return _COMPONENTS.get(name, name)


def _bfloat16_neighbours(value: float) -> list[float]:
    # bfloat16 is the top half of a float32: enumerate the patterns around value.
    bits = struct.unpack("<I", struct.pack("<f", value))[0] >> 16
    found = [0.0]
    for pattern in (bits - 1, bits, bits + 1):
        if 0 <= pattern <= 0xFFFF:
            candidate = struct.unpack("<f", struct.pack("<I", pattern << 16))[0]
            if math.isfinite(candidate):
                found.append(candidate)
    return found


def _round_inward(value: float, name: str, upward: bool) -> float:
    if name in ("float64", "complex128"):
        return value
    if name == "bfloat16":
        wide = _round_inward(value, "float32", upward)
        candidates = _bfloat16_neighbours(wide)
        if upward:
            return min(c for c in candidates if c >= value)
        return max(c for c in candidates if c <= value)
    scalar: Any = {"float16": np.float16, "float32": np.float32, "complex64": np.float32}[name]
    rounded = scalar(value)
    if upward and float(rounded) < value:
        rounded = np.nextafter(rounded, scalar(np.inf))
    elif not upward and float(rounded) > value:
        rounded = np.nextafter(rounded, scalar(-np.inf))
    return float(rounded)


@lru_cache(maxsize=512)
def inward_bounds(low: float, high: float, name: str) -> tuple[float, float]:
    """``[low, high]`` shrunk to the nearest values representable in dtype `name`.

    A result drawn between these bounds and rounded to the dtype can never
    land outside ``[low, high]``.
    """
    inner_low = _round_inward(low, name, upward=True)
    inner_high = _round_inward(high, name, upward=False)
    if inner_low > inner_high:
        msg = (
            f"no {name} value lies in [{low!r}, {high!r}]; the interval is narrower than the "
            f"dtype's resolution there (use a wider dtype or a larger stddev / range)."
        )
        raise ValueError(msg)
    return inner_low, inner_high


_FINITE_MAX = {
    "float16": 65504.0,
    "bfloat16": float.fromhex("0x1.fep127"),
    "float32": float.fromhex("0x1.fffffep127"),
    "float64": float.fromhex("0x1.fffffffffffffp1023"),
}


def finite_max(name: str) -> float:
    """The largest finite value of a real or complex floating dtype (of its components)."""
    return _FINITE_MAX[component_name(name)]


def integer_range(name: str) -> tuple[int, int]:
    """``(min, max)`` of an integer dtype (``(0, 1)`` for bool)."""
    if name == "bool":
        return 0, 1
    bits = int(name.removeprefix("u").removeprefix("int"))
    if name.startswith("u"):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def check_fits(argument: str, value: Any, magnitude: float, name: str) -> None:
    """Raise ValueError when values as large as `magnitude` overflow dtype `name`.

    `argument` and `value` name the parameter responsible, for the message.
    """
    if magnitude <= _FINITE_MAX["float16"]:  # fits every floating dtype (False for NaN)
        return
    limit = _FINITE_MAX.get(component_name(name))  # None: not a floating dtype
    if limit is not None and not magnitude <= limit:  # also catches inf and NaN magnitudes
        msg = (
            f"`{argument}`={value!r} gives values up to {magnitude:.4g} in magnitude, "
            f"beyond the largest finite {name} ({limit:.4g}); use a wider dtype or a "
            f"smaller `{argument}`."
        )
        raise ValueError(msg)
