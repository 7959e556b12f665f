"""Orthogonal and delta-orthogonal initializers (QR of a Gaussian matrix)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .. import sampling
from .._typing import Array
from .._validation import as_axes, as_finite_float
from ..laws.dtypes import check_fits, compute_name
from ..laws.records import Distribution, SphereCoordinate, WithZeros
from ..target import Target
from .base import Initializer, KeyDraw
from .constant import at_centre
from .random import RandomInitializer

__all__ = ["DeltaOrthogonal", "Orthogonal", "orthogonal_matrix"]


def orthogonal_matrix(
    target: Target, rng: Any, rows: int, cols: int, *, rows_first: bool = False
) -> Array:
    """A Haar-random ``(rows, cols)`` matrix with orthonormal rows or columns.

    The QR runs in float32 for 16-bit dtypes (no library has a 16-bit QR)
    and the result is rounded once. Only the smaller side is factorised.
    With `rows_first`, the Gaussian matrix is drawn ``(rows, cols)`` and
    transposed, in the order ``torch.nn.init.orthogonal_`` draws it.
    """
    xp, backend = target.xp, target.backend
    work_name = compute_name(target.dtype_name)
    work = backend.dtype(work_name)
    tall, short = max(rows, cols), min(rows, cols)
    if target.kind == "complex floating":
        from ..laws.records import ComplexNormal

        sub = Target(target.xp, backend, target.device, work, work_name)
        gaussian = ComplexNormal(1.0).sample(sub, rng, (tall, short))
    elif rows_first:
        gaussian = sampling.normal(backend, rng, (rows, cols), 0.0, 1.0, work, target.device)
        if rows < cols:
            gaussian = xp.matrix_transpose(gaussian)
    else:
        gaussian = sampling.normal(backend, rng, (tall, short), 0.0, 1.0, work, target.device)
    q, diagonal = backend.orthonormal_factor(gaussian)
    del gaussian  # the factor may be all that is left of it
    # Multiplying by the phases of diag(R) makes Q Haar-distributed (Mezzadri 2007);
    # an exact zero on the diagonal counts as phase 1 instead of zeroing a column.
    magnitude = xp.abs(diagonal)
    safe = xp.where(magnitude == 0, xp.ones_like(magnitude), magnitude)
    phase = xp.where(
        magnitude == 0, xp.ones_like(diagonal), diagonal / xp.astype(safe, diagonal.dtype)
    )
    if backend.masked_writes:
        q *= phase[None, :]  # ours: no copy
    else:
        q = q * phase[None, :]
    if rows < cols:
        q = xp.matrix_transpose(q)
    return q


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR of a Gaussian matrix.

    The weight is flattened to ``(prod(other axes), shape[column_axis])``;
    the rows (or columns, whichever are fewer) are orthonormal. Works for
    float16 and bfloat16 (the QR runs in float32) and for complex dtypes
    (a unitary matrix).

    Parameters
    ----------
    gain : float, default 1.0
        Multiplicative factor.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.
    column_axis : int, default -1
        The axis that becomes the columns (JAX's ``column_axis``).

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> q = anyinit.orthogonal(gain=2.0, seed=0)((64, 32), dtype="float64")
    >>> bool(np.allclose(q.T @ q, 4 * np.eye(32)))
    True
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating", "complex floating")

    structured = True

    def __init__(self, gain: float = 1.0, seed: Any = None, *, column_axis: int = -1) -> None:
        self.gain = as_finite_float("gain", gain)
        axis = as_axes("column_axis", column_axis)
        if not isinstance(axis, int):
            msg = f"`column_axis` must be an int; received {column_axis!r}."
            raise TypeError(msg)
        self.column_axis = axis
        super().__init__(seed)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if len(shape) < 2:
            msg = (
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
            raise ValueError(msg)
        if not -len(shape) <= self.column_axis < len(shape):
            msg = f"`column_axis`={self.column_axis} is out of range for shape={shape}."
            raise ValueError(msg)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        """The law of each entry (the matrix itself is drawn jointly, by QR).

        Examples
        --------
        >>> import anyinit
        >>> anyinit.Orthogonal(gain=2.0).law((100, 400)).std
        0.1
        """
        if kind != "real floating":
            msg = "the law of one entry is described for real dtypes only"
            raise NotImplementedError(msg)
        rows, cols = self._matrix_sides(shape)
        return SphereCoordinate(max(rows, cols), self.gain)

    def _matrix_sides(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """``(rows, cols)`` of the matrix the weight is flattened to."""
        cols = shape[self.column_axis]
        return math.prod(shape) // max(cols, 1), cols

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        check_fits("gain", self.gain, abs(self.gain), target.dtype_name)
        xp = target.xp
        if math.prod(shape) == 0:
            return xp.zeros(shape, dtype=target.dtype, device=target.xp_device)
        axis = self.column_axis % len(shape)
        rows, cols = self._matrix_sides(shape)
        rng = sampling.generator(target.backend, self.seed, target.device)
        q = orthogonal_matrix(target, rng, rows, cols)
        other = tuple(d for i, d in enumerate(shape) if i != axis)
        q = xp.moveaxis(xp.reshape(q, (*other, cols)), -1, axis)
        if self.gain != 1.0:
            if target.backend.masked_writes:
                q *= self.gain
            else:
                q = q * self.gain
        return q if q.dtype == target.dtype else xp.astype(q, target.dtype)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        return KeyDraw("orthogonal", {"scale": self.gain, "column_axis": self.column_axis})

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"gain": self.gain, "seed": self._config_seed()}
        if self.column_axis != -1:
            config["column_axis"] = self.column_axis
        return config


class DeltaOrthogonal(RandomInitializer):
    """Delta-orthogonal convolution kernel (Xiao et al. 2018), as in JAX.

    The kernel, laid out ``(*spatial, in, out)``, is zero except at the
    centre tap ``(k - 1) // 2`` (JAX's centre), which holds an orthogonal
    ``(in, out)`` matrix times `scale`. Requires ``in <= out``.

    Parameters
    ----------
    scale : float, default 1.0
        Multiplicative factor.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.DeltaOrthogonal(seed=0)((3, 3, 16, 32), dtype="float64")
    >>> centre = w[1, 1]
    >>> bool(np.allclose(centre @ centre.T, np.eye(16))), float(abs(w[0, 0]).max())
    (True, 0.0)
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = ("real floating", "complex floating")
    structured = True

    def __init__(self, scale: float = 1.0, seed: Any = None) -> None:
        self.scale = as_finite_float("scale", scale)
        super().__init__(seed)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        Initializer._check_target(self, shape, target)
        if len(shape) not in (3, 4, 5):
            msg = (
                "Delta orthogonal initializer requires a 3D, 4D or 5D shape; "
                f"received shape={shape}."
            )
            raise ValueError(msg)
        if shape[-2] > shape[-1]:
            msg = (
                "`fan_in` must be less or equal than `fan_out`; received shape="
                f"{shape} with in={shape[-2]} > out={shape[-1]}."
            )
            raise ValueError(msg)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        """The law of each entry: zeros off the centre tap, an orthogonal matrix on it."""
        if kind != "real floating":
            msg = "the law of one entry is described for real dtypes only"
            raise NotImplementedError(msg)
        taps = math.prod(shape[:-2])
        return WithZeros(SphereCoordinate(shape[-1], self.scale), 1 - 1 / max(taps, 1))

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        check_fits("scale", self.scale, abs(self.scale), target.dtype_name)
        if math.prod(shape) == 0:
            return target.xp.zeros(shape, dtype=target.dtype, device=target.xp_device)
        rng = sampling.generator(target.backend, self.seed, target.device)
        centre_matrix = orthogonal_matrix(target, rng, shape[-2], shape[-1]) * self.scale
        spatial = shape[:-2]
        return at_centre(target, spatial, tuple((k - 1) // 2 for k in spatial), centre_matrix)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        return KeyDraw("delta_orthogonal", {"scale": self.scale})

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "seed": self._config_seed()}
