"""Argument checks shared by every initializer.

Every message names the argument, shows the value received and says what
is allowed, so that a bad call can be fixed from the message alone.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from typing import Any

__all__ = [
    "as_axes",
    "as_finite_float",
    "as_shape",
    "check_choice",
]


def _is_integer(value: Any) -> bool:
    # ``operator.index`` accepts Python, NumPy and 0-d torch integers but not floats.
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def as_shape(shape: Any) -> tuple[int, ...]:
    """Return `shape` as a tuple of non-negative Python ints or raise."""
    if type(shape) is tuple and all(type(d) is int and d >= 0 for d in shape):
        return shape  # the common case, without the generic checks below
    if _is_integer(shape):
        dims: Iterable[Any] = (shape,)
    elif isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        msg = (
            f"`shape` must be an int or a sequence of non-negative ints; "
            f"received {shape!r} of type {type(shape).__name__}."
        )
        raise TypeError(msg)
    else:
        dims = shape
    result = []
    for dim in dims:
        if not _is_integer(dim):
            msg = (
                f"`shape` must contain only non-negative ints; received {shape!r}, "
                f"whose entry {dim!r} is of type {type(dim).__name__}."
            )
            raise TypeError(msg)
        value = operator.index(dim)
        if value < 0:
            msg = f"`shape` must contain only non-negative ints; received {shape!r}."
            raise ValueError(msg)
        result.append(value)
    return tuple(result)


def as_finite_float(
    name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> float:
    """Return `value` as a finite float, optionally bounded below, or raise."""
    # numbers.Real covers Python and NumPy reals; bools and strings are refused.
    # (The exact-type test first: the ABC check costs a microsecond per call.)
    if type(value) not in (float, int) and (
        isinstance(value, bool) or not isinstance(value, numbers.Real)
    ):
        msg = f"`{name}` must be a real number; received {value!r} of type {type(value).__name__}."
        raise TypeError(msg)
    number = float(value)
    if not math.isfinite(number):
        msg = f"`{name}` must be finite; received {name}={value!r}."
        raise ValueError(msg)
    if minimum is not None and (number <= minimum if strict else number < minimum):
        relation = ">" if strict else ">="
        msg = f"`{name}` must be {relation} {minimum:g}; received {name}={value!r}."
        raise ValueError(msg)
    return number


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return `value` if it is one of `allowed` (as a string), else raise."""
    options = tuple(allowed)
    if not isinstance(value, str) or value not in options:
        msg = f"Invalid `{name}`: {value!r}. Expected one of {list(options)}."
        raise ValueError(msg)
    return value


def as_axes(name: str, axes: Any) -> int | tuple[int, ...]:
    """Return an int or a tuple of ints for an axis argument, or raise."""
    if _is_integer(axes):
        return operator.index(axes)
    if isinstance(axes, (str, bytes)) or not isinstance(axes, Iterable):
        msg = f"`{name}` must be an int or a sequence of ints; received {axes!r}."
        raise TypeError(msg)
    items = tuple(axes)
    if not all(_is_integer(a) for a in items):
        msg = f"`{name}` must be an int or a sequence of ints; received {axes!r}."
        raise TypeError(msg)
    return tuple(operator.index(a) for a in items)
