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
    "as_fill_value",
    "as_finite_float",
    "as_int",
    "as_shape",
    "check_choice",
    "is_integer",
]


def is_integer(value: Any) -> bool:
    """Whether `value` is an integer (Python, NumPy, 0-d integer arrays), bools excepted."""
    # ``operator.index`` accepts Python, NumPy and 0-d torch integers but not floats.
    if type(value) is int:
        return True
    if isinstance(value, bool):
        return False
    if "bool" in str(getattr(value, "dtype", "")):  # torch.tensor(True) indexes as 1
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


#: No array library indexes more elements than a signed 64-bit integer counts.
MAX_ELEMENTS = 2**63 - 1


def as_shape(shape: Any) -> tuple[int, ...]:
    """Return `shape` as a tuple of non-negative Python ints or raise."""
    if (
        type(shape) is tuple
        and all(type(d) is int and 0 <= d < 2**31 for d in shape)
        and (len(shape) < 3 or math.prod(shape) <= MAX_ELEMENTS)
    ):
        return shape  # the common case, without the generic checks below
    if is_integer(shape):
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
        if not is_integer(dim):
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
    if math.prod(result) > MAX_ELEMENTS:
        msg = (
            f"`shape`={shape!r} has more elements than any array library can index "
            f"(at most 2**63 - 1)."
        )
        raise ValueError(msg)
    return tuple(result)


def _real_scalar(name: str, value: Any) -> Any:
    """`value` if it is a real number or a real 0-d array (``torch.tensor(0.02)``), else raise."""
    if type(value) in (float, int):
        return value
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        return value
    # 0-d arrays of any library (torch.tensor(2.), np.array(2.), jnp.float32(2)) are
    # numbers in torch.nn.init; their dtype must be real (no bool, no complex).
    if getattr(value, "shape", None) == () and not isinstance(value, (str, bytes)):
        kind = str(getattr(value, "dtype", ""))
        if "bool" not in kind and "complex" not in kind and hasattr(value, "__float__"):
            return value.item() if hasattr(value, "item") else float(value)
    msg = f"`{name}` must be a real number; received {value!r} of type {type(value).__name__}."
    raise TypeError(msg)


def as_finite_float(
    name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> float:
    """Return `value` as a finite float, optionally bounded below, or raise."""
    scalar = _real_scalar(name, value)
    try:
        number = float(scalar)
    except OverflowError:
        number = math.inf if scalar > 0 else -math.inf
    if not math.isfinite(number):
        msg = f"`{name}` must be finite; received {name}={value!r}."
        raise ValueError(msg)
    if minimum is not None and (number <= minimum if strict else number < minimum):
        relation = ">" if strict else ">="
        msg = f"`{name}` must be {relation} {minimum:g}; received {name}={value!r}."
        raise ValueError(msg)
    return number


def as_fill_value(name: str, value: Any) -> bool | int | float:
    """A fill value: a bool, an exact int, or any float (±inf and NaN are data, as in torch)."""
    if isinstance(value, bool):
        return value
    scalar = _real_scalar(name, value)
    if is_integer(scalar):
        return operator.index(scalar)
    return float(scalar)


def as_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return `value` as a Python int (NumPy and 0-d integer arrays too), or raise."""
    if not is_integer(value):
        msg = f"`{name}` must be an int; received {value!r} of type {type(value).__name__}."
        raise TypeError(msg)
    number = operator.index(value)
    if minimum is not None and number < minimum:
        msg = f"`{name}` must be an int >= {minimum}; received {name}={value!r}."
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
    if is_integer(axes):
        return operator.index(axes)
    if isinstance(axes, (str, bytes)) or not isinstance(axes, Iterable):
        msg = f"`{name}` must be an int or a sequence of ints; received {axes!r}."
        raise TypeError(msg)
    items = tuple(axes)
    if not all(is_integer(a) for a in items):
        msg = f"`{name}` must be an int or a sequence of ints; received {axes!r}."
        raise TypeError(msg)
    return tuple(operator.index(a) for a in items)
