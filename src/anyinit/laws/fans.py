"""Fan computation and the torch gain table."""

from __future__ import annotations

import math
from typing import Any

from .._typing import Axes
from .._validation import as_axes, as_shape

__all__ = ["calculate_gain", "compute_fans"]

_DEFAULT_IN_AXIS = -2
_DEFAULT_OUT_AXIS = -1


def _normalize_axes(name: str, axes: Axes, rank: int) -> tuple[int, ...]:
    items = (axes,) if isinstance(axes, int) else tuple(axes)
    result = []
    for axis in items:
        if not -rank <= axis < rank:
            msg = f"`{name}`={axes!r} is out of range for a shape of rank {rank}."
            raise ValueError(msg)
        result.append(axis % rank)
    return tuple(result)


def compute_fans(
    shape: Any,
    in_axis: Axes = _DEFAULT_IN_AXIS,
    out_axis: Axes = _DEFAULT_OUT_AXIS,
    batch_axis: Axes = (),
) -> tuple[int | float, int | float]:
    """Compute ``(fan_in, fan_out)`` for a weight of the given shape.

    The default is the Keras / JAX layout ``(*receptive_field, in, out)``.
    The receptive field (every axis that is neither an input, an output nor
    a batch axis) multiplies both fans. Shapes of rank 0 and 1 with the
    default axes follow Keras: rank 0 gives ``(1, 1)``, rank 1 ``(n, n)``.

    Parameters
    ----------
    shape : int or sequence of int
        The weight's shape.
    in_axis, out_axis : int or sequence of int, default -2 and -1
        The axes holding the inputs and the outputs. PyTorch's layout
        ``(out, in, *kernel)`` is ``in_axis=1, out_axis=0``.
    batch_axis : int or sequence of int, default ()
        Axes that are excluded from both fans (stacks of independent weights).

    Returns
    -------
    tuple
        ``(fan_in, fan_out)``: ints, or floats when overlapping axes (as in
        Flax's embedding layout) make them fractional, as in JAX.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.compute_fans((3, 3, 64, 128))
    (576, 1152)
    >>> anyinit.compute_fans((128, 64, 3, 3), in_axis=1, out_axis=0)
    (576, 1152)
    """
    dims = as_shape(shape)
    in_axes = as_axes("in_axis", in_axis)
    out_axes = as_axes("out_axis", out_axis)
    batch_axes = as_axes("batch_axis", batch_axis)
    rank = len(dims)
    defaults = in_axes == _DEFAULT_IN_AXIS and out_axes == _DEFAULT_OUT_AXIS and batch_axes == ()
    if defaults and rank == 0:
        return 1, 1
    if defaults and rank == 1:
        return dims[0], dims[0]
    ins = _normalize_axes("in_axis", in_axes, rank)
    outs = _normalize_axes("out_axis", out_axes, rank)
    batches = _normalize_axes("batch_axis", batch_axes, rank)
    in_size = math.prod(dims[a] for a in ins)
    out_size = math.prod(dims[a] for a in outs)
    named = ins + outs + batches
    if len(set(named)) == len(named):
        receptive_field = math.prod(d for a, d in enumerate(dims) if a not in named)
        return in_size * receptive_field, out_size * receptive_field
    # Overlapping axes are legal in JAX (Flax's Embed uses in_axis=-2, out_axis=0);
    # reproduce its arithmetic, which counts a shared axis twice.
    batch_size = math.prod(dims[a] for a in batches)
    denominator = in_size * out_size * batch_size
    if denominator == 0:
        return (0 if in_size == 0 else in_size), (0 if out_size == 0 else out_size)
    field = math.prod(dims) / denominator
    return _tidy(in_size * field), _tidy(out_size * field)


def _tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


_LINEAR_LIKE = frozenset(
    {
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended gain for a nonlinearity (PyTorch's table).

    ================= ==================================
    nonlinearity      gain
    ================= ==================================
    linear / conv*    1
    sigmoid           1
    tanh              5/3
    relu              sqrt(2)
    leaky_relu        sqrt(2 / (1 + negative_slope**2))
    selu              3/4
    ================= ==================================

    Parameters
    ----------
    nonlinearity : str
        The name of the nonlinearity (case-sensitive, as in torch).
    param : float, optional
        The negative slope of ``leaky_relu`` (default 0.01).

    Returns
    -------
    float
        The gain (``1`` is returned as an int for linear-like functions, as
        torch does).

    Raises
    ------
    ValueError
        For an unknown nonlinearity or a non-numeric ``param``, with torch's
        messages.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    >>> anyinit.calculate_gain("tanh")
    1.6666666666666667
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            msg = f"negative_slope {param} not a valid number"
            raise ValueError(msg)
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    msg = f"Unsupported nonlinearity {nonlinearity}"
    raise ValueError(msg)
