"""Deterministic initializers: zeros, ones, constants, identity and Dirac."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._compat import is_array_api_obj
from .._typing import Array
from .._validation import as_fill_value, as_finite_float, as_int
from ..laws.dtypes import check_fits, integer_range, kind_of
from ..target import Target, array_backend
from .base import Initializer

__all__ = ["Constant", "Dirac", "Identity", "Ones", "Zeros", "at_centre", "check_fill", "fill_for"]


def fill_for(value: bool | int | float, kind: str) -> bool | int | float:
    """The fill `value` as the Python type a library takes for dtypes of `kind`.

    An int beyond int64 (``-2**63 - 1``) is a float to a floating array: libraries
    convert Python ints through int64 first and overflow.
    """
    if kind == "bool":
        return bool(value)
    if kind == "integral":
        return int(value)
    return value if isinstance(value, bool) else float(value)


def check_fill(argument: str, value: bool | int | float, name: str) -> None:
    """Raise ValueError unless dtype `name` holds the fill `value` (floats: without overflow)."""
    kind = kind_of(name)
    if kind in ("integral", "bool"):
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            msg = (
                f"`{argument}`={value!r} cannot be stored exactly in dtype {name!r}; "
                "use an integral value or a floating dtype."
            )
            raise ValueError(msg)
        low, high = integer_range(name)
        if kind == "integral" and not low <= int(value) <= high:
            msg = f"`{argument}`={value!r} is outside the range of {name} [{low}, {high}]."
            raise ValueError(msg)
    elif not isinstance(value, bool):
        try:
            magnitude = abs(float(value))
        except OverflowError:  # an int beyond float64
            magnitude = math.inf
        if isinstance(value, int) or math.isfinite(value):  # ±inf and NaN fills are data
            check_fits(argument, value, magnitude, name)


def at_centre(
    target: Target, spatial: tuple[int, ...], centre: tuple[int, ...], matrix: Array
) -> Array:
    """A ``(*spatial, *matrix.shape)`` kernel: `matrix` at the `centre` tap, zeros elsewhere.

    Built with ``where`` rather than an indexed write, so that immutable
    arrays (JAX) work too.
    """
    xp = target.xp
    tap = xp.ones((1,) * len(spatial), dtype=xp.bool, device=target.xp_device)
    for axis, (size, index) in enumerate(zip(spatial, centre, strict=True)):
        shape = [1] * len(spatial)
        shape[axis] = size
        hit = xp.reshape(xp.arange(size, device=target.xp_device) == index, tuple(shape))
        tap = tap & hit
    tap = xp.reshape(tap, (*spatial, 1, 1))
    zero = xp.zeros((), dtype=target.dtype, device=target.xp_device)
    return xp.where(tap, xp.astype(matrix, target.dtype), zero)


class Zeros(Initializer):
    """Fills with zeros.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.zeros()((2, 3)).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        return target.xp.zeros(shape, dtype=target.dtype, device=target.xp_device)


class Ones(Initializer):
    """Fills with ones.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.ones()((3,), "int32").tolist()
    [1, 1, 1]
    """

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        return target.xp.ones(shape, dtype=target.dtype, device=target.xp_device)


class Constant(Initializer):
    """Fills with a constant value.

    Parameters
    ----------
    value : float, int, bool or array, default 0
        The value: data, so ±inf and NaN are allowed for floating dtypes (as in
        torch); for integer dtypes an integral value the dtype can hold. A
        finite value that would overflow the dtype (``70000.0`` in float16) is
        a ValueError. An array (of any library, or a list) is broadcast to the
        shape, as Keras's ``Constant`` does; its config is Keras's ``__numpy__`` form.

    Examples
    --------
    >>> import anyinit, numpy as np
    >>> anyinit.constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    >>> anyinit.Constant(np.array([1.0, 2.0]))((2, 2)).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """

    def __init__(self, value: Any = 0) -> None:
        self.value: bool | int | float | np.ndarray = (
            _host_array(value) if _is_array_value(value) else as_fill_value("value", value)
        )

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if not isinstance(self.value, np.ndarray):
            check_fill("value", self.value, target.dtype_name)
            return
        try:
            fits = np.broadcast_shapes(self.value.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            msg = f"`value` of shape {self.value.shape} cannot be broadcast to the shape {shape}."
            raise ValueError(msg)
        _check_array_fill(self.value, target.dtype_name)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        if isinstance(self.value, np.ndarray):
            host = np.ascontiguousarray(np.broadcast_to(self.value, shape))
            kind = {"bool": np.bool_, "integral": np.int64}.get(target.kind, np.float64)
            return target.backend.from_host(host.astype(kind), target.dtype, target.device)
        value = fill_for(self.value, target.kind)
        return target.backend.full(shape, value, target.dtype, target.device)

    def get_config(self) -> dict[str, Any]:
        if isinstance(self.value, np.ndarray):  # Keras's own form of a NumPy array argument
            array = {"value": self.value.tolist(), "dtype": self.value.dtype.name}
            return {"value": {"class_name": "__numpy__", "config": array}}
        return {"value": self.value}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        value = config.get("value")
        if isinstance(value, Mapping) and value.get("class_name") in _KERAS_ARRAYS:
            inner = value.get("config") or {}
            config = {**config, "value": np.asarray(inner.get("value"), inner.get("dtype"))}
        return super().from_config(config)


#: How Keras's saving writes an array argument: a NumPy array, or a backend tensor.
_KERAS_ARRAYS = ("__numpy__", "__tensor__")


def _is_array_value(value: Any) -> bool:
    """An array (or a list) of rank >= 1: Keras's ``Constant`` takes those too."""
    if isinstance(value, (list, tuple)):
        return True
    return is_array_api_obj(value) and len(getattr(value, "shape", ())) > 0


def _host_array(value: Any) -> np.ndarray:
    """`value` as a read-only NumPy copy of bool, integer or real floating values."""
    if isinstance(value, (list, tuple)):
        host = np.array(value)
    else:
        host = np.array(array_backend(value)[1].to_host(value))
    if host.dtype.kind not in "biuf":
        msg = f"`value` must hold bools, integers or real floats; received dtype {host.dtype}."
        raise TypeError(msg)
    host.flags.writeable = False
    return host


def _check_array_fill(values: np.ndarray, name: str) -> None:
    """Raise ValueError unless dtype `name` holds every value (checked at the extremes)."""
    if values.size == 0:
        return
    if values.dtype.kind == "f" and kind_of(name) in ("integral", "bool"):
        integral = np.isfinite(values) & (values == np.round(values))
        if not integral.all():
            check_fill("value", float(values[~integral].flat[0]), name)
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size:
        for extreme in (finite.min(), finite.max()):
            check_fill("value", extreme.item(), name)


class Identity(Initializer):
    """The identity matrix times `gain` (2-D; non-square pads with zeros).

    Parameters
    ----------
    gain : float, default 1.0
        Multiplicative factor.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.identity(gain=2.0)((2, 3)).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("integral", "real floating", "complex floating")

    structured = True

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = as_finite_float("gain", gain)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if len(shape) != 2:
            msg = (
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
            raise ValueError(msg)
        if target.kind == "integral" and not self.gain.is_integer():
            msg = (
                f"`gain`={self.gain!r} is not integral, so dtype "
                f"{target.dtype_name!r} cannot hold it."
            )
            raise ValueError(msg)
        check_fill("gain", self.gain, target.dtype_name)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        eye = target.backend.eye(shape[0], shape[1], target.dtype, target.device)
        if self.gain == 1.0:
            return eye
        gain = int(self.gain) if target.kind == "integral" else self.gain
        return eye * gain

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


class Dirac(Initializer):
    """Dirac delta for convolution kernels: the convolution is the identity.

    The kernel layout is anyinit's (and Keras's / JAX's): ``(*spatial, in,
    out)``. Every output channel ``g·(out/groups) + d`` with
    ``d < min(out/groups, in)`` takes input channel ``d`` of its group at the
    centre tap ``k // 2`` (torch's centre); everything else is zero.

    Parameters
    ----------
    groups : int, default 1
        Number of groups; it must divide the number of output channels.

    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.Dirac()((3, 2, 2))
    >>> w[1].tolist(), float(w.sum())
    ([[1.0, 0.0], [0.0, 1.0]], 2.0)
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("integral", "real floating", "complex floating")

    structured = True

    def __init__(self, groups: int = 1) -> None:
        self.groups = as_int("groups", groups, minimum=1)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if len(shape) not in (3, 4, 5):
            msg = f"Dirac needs a 3-, 4- or 5-D shape (*spatial, in, out); received shape={shape}."
            raise ValueError(msg)
        if shape[-1] % self.groups:
            msg = (
                f"The number of output channels (shape[-1]={shape[-1]}) must be divisible by "
                f"`groups`={self.groups}."
            )
            raise ValueError(msg)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        xp = target.xp
        *spatial, fan_in, fan_out = shape
        per_group = fan_out // self.groups
        if math.prod(shape) == 0:
            return xp.zeros(shape, dtype=target.dtype, device=target.xp_device)
        block = target.backend.eye(fan_in, per_group, target.dtype, target.device)
        matrix = xp.concat([block] * self.groups, axis=1)
        return at_centre(target, tuple(spatial), tuple(k // 2 for k in spatial), matrix)

    def get_config(self) -> dict[str, Any]:
        return {"groups": self.groups}
