"""The sparse initializer of Martens (2010), as ``torch.nn.init.sparse_``."""

from __future__ import annotations

import math
from typing import Any

from .. import sampling
from .._typing import Array
from .._validation import as_finite_float
from ..laws.dtypes import check_fits
from ..laws.records import Distribution, Normal, WithZeros
from ..stream import independent_streams
from ..target import Target
from .base import KeyDraw
from .random import RandomInitializer

__all__ = ["Sparse"]


class Sparse(RandomInitializer):
    """A 2-D matrix of N(0, stddev²) values with a fraction of each column zeroed.

    In every column, ``ceil(sparsity · rows)`` entries chosen at random are
    set to zero, as ``torch.nn.init.sparse_`` does. Unlike torch, the choice
    of zeros is drawn from the same seeded generator as the values, so a
    seed reproduces the whole matrix.

    Parameters
    ----------
    sparsity : float
        Fraction of each column set to zero, in ``[0, 1]``.
    stddev : float, default 0.01
        Standard deviation of the non-zero values.
    seed : int, None, SeedGenerator or native generator, optional
        See :class:`RandomInitializer`.

    Examples
    --------
    >>> import anyinit
    >>> w = anyinit.Sparse(sparsity=0.25, seed=0)((8, 3))
    >>> [(w[:, j] == 0).sum().item() for j in range(3)]
    [2, 2, 2]
    """

    def __init__(self, sparsity: float, stddev: float = 0.01, seed: Any = None) -> None:
        self.sparsity = as_finite_float("sparsity", sparsity, minimum=0.0)
        if self.sparsity > 1.0:
            msg = f"`sparsity` must be in [0, 1]; received sparsity={sparsity!r}."
            raise ValueError(msg)
        self.stddev = as_finite_float("stddev", stddev, minimum=0.0)
        super().__init__(seed)

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        super()._check_target(shape, target)
        if len(shape) != 2:
            msg = f"Sparse needs a 2-D shape; received shape={shape} of rank {len(shape)}."
            raise ValueError(msg)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        """The law of each entry: ``ceil(sparsity · rows) / rows`` zeros, else N(0, stddev²)."""
        rows = shape[0] if shape else 1
        zeros = self._zeros_per_column(rows) / rows if rows else 0.0
        return WithZeros(Normal(0.0, self.stddev), zeros)

    def _zeros_per_column(self, rows: int) -> int:
        return math.ceil(self.sparsity * rows)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        check_fits("stddev", self.stddev, Normal(0.0, self.stddev).magnitude, target.dtype_name)
        xp, backend = target.xp, target.backend
        rows, _ = shape
        value_rng, mask_rng = independent_streams(
            sampling.generator(backend, self.seed, target.device), 2
        )
        values = sampling.normal(
            backend, value_rng, shape, 0.0, self.stddev, target.dtype, target.device
        )
        zeros_per_column = self._zeros_per_column(rows)
        if zeros_per_column == 0 or math.prod(shape) == 0:
            return values
        # A random permutation of each column's rows: rank of i.i.d. uniform keys.
        work = backend.dtype("float32")
        keys = sampling.uniform(backend, mask_rng, shape, 0.0, 1.0, work, target.device)
        ranks = xp.argsort(xp.argsort(keys, axis=0), axis=0)
        return xp.where(ranks < zeros_per_column, xp.zeros_like(values), values)

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw:
        return KeyDraw("sparse", {"sparsity": self.sparsity, "stddev": self.stddev})

    def get_config(self) -> dict[str, Any]:
        return {"sparsity": self.sparsity, "stddev": self.stddev, "seed": self._config_seed()}
