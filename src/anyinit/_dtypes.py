"""Dtype names and kinds, independent of any array library."""

from __future__ import annotations

__all__ = [
    "COMPLEX",
    "DTYPE_NAMES",
    "INTEGRAL",
    "REAL_FLOATING",
    "component_name",
    "compute_name",
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


def component_name(name: str) -> str:
    """Return the real dtype of a complex dtype's components."""
    return {"complex64": "float32", "complex128": "float64"}.get(name, name)
