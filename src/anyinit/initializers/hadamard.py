"""ZerO's deterministic weights: a partial identity, or a normalised Hadamard where the
layer widens (Zhao et al. 2022, "ZerO Initialization", Algorithms 1 and 2)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .._typing import Array
from ..target import Target
from .base import Initializer

__all__ = ["ZerO", "sylvester_hadamard", "zero_matrix"]


def sylvester_hadamard(order: int) -> np.ndarray:
    """The Hadamard matrix of `order` (a power of two) by Sylvester's construction, the one
    ``scipy.linalg.hadamard`` returns."""
    if order < 1 or order & (order - 1):
        msg = f"a Sylvester Hadamard matrix needs a power of two; received order={order}."
        raise ValueError(msg)
    matrix = np.ones((1, 1))
    while matrix.shape[0] < order:
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    return matrix


def zero_matrix(fan_in: int, fan_out: int) -> np.ndarray:
    """ZerO's matrix in the canonical ``(in, out)`` layout.

    The reference works on torch's ``(out, in)`` weight ``W``: the partial identity
    where ``out <= in``; else ``W = I(out×p) · H_p / 2^(c/2) · I(p×in)`` with
    ``c = ⌈log₂ out⌉`` and ``p = 2^c``. Its transpose is returned (``H_p`` is symmetric).
    """
    if fan_out <= fan_in:
        return np.eye(fan_in, fan_out)
    c = math.ceil(math.log2(fan_out))
    return sylvester_hadamard(2**c)[:fan_in, :fan_out] / 2 ** (c / 2)


class ZerO(Initializer):
    """ZerO's deterministic init: an identity where the layer keeps or narrows the width,
    a normalised Hadamard where it widens; convolutions at the centre tap, zero elsewhere.

    The shape is canonical, ``(*spatial, in, out)``; the centre tap is ``k // 2`` on each
    spatial axis (the reference's ``weight[:, :, k // 2, k // 2]``).

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.initializers.hadamard import ZerO
    >>> ZerO()((2, 3)).tolist()  # widens 2 → 3: H₄[:2, :3] / 2
    [[0.5, 0.5, 0.5], [0.5, -0.5, 0.5]]
    >>> ZerO()((3, 2)).tolist()  # narrows: the partial identity
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """

    structured = True
    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating",)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if len(shape) < 2:
            msg = f"ZerO needs a kernel shape (*spatial, in, out); received shape={shape}."
            raise ValueError(msg)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        *spatial, fan_in, fan_out = shape
        values = np.zeros(shape)
        centre = tuple(k // 2 for k in spatial)
        if math.prod(shape):
            values[centre] = zero_matrix(fan_in, fan_out)
        return target.backend.from_host(values, target.dtype, target.device)

    def get_config(self) -> dict[str, Any]:
        return {}
