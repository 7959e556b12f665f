"""Sharded results: each rank computes only its block of the whole array.

The portable stream makes every element a function of (key, global index), so
a rank's shard of an integer-seeded draw is the same block of the same values
whatever the mesh and placements: it draws that block alone (memory ≈ the
shard). What is not elementwise (QR, the identity, Dirac, Sparse's per-column
zeros) or not reproducible across ranks (``seed=None``, native generators) is
computed whole on every rank; non-reproducible draws are then made to agree
(the mesh's first rank's values are broadcast), so replicas never differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ._typing import Array
from .seeds import SeedGenerator
from .stream import StreamKey
from .target import resolve_target

__all__ = ["WHOLE_LIMIT", "check_whole", "draw_block", "reproducible"]

#: The most elements a sharded result may compute whole on every rank (4 GiB of float32).
WHOLE_LIMIT = 2**30


def check_whole(shape: tuple[int, ...], what: str) -> None:
    """Refuse to compute a whole array of more than WHOLE_LIMIT elements on every rank."""
    size = math.prod(shape)
    if size > WHOLE_LIMIT:
        msg = (
            f"{what} on a sharded result computes the whole {shape} array ({size} elements) "
            f"on every rank, past the limit of {WHOLE_LIMIT}; use an integer-seeded random "
            "initializer (drawn shard by shard) or initialise a smaller parameter."
        )
        raise ValueError(msg)


def reproducible(seed: Any) -> bool:
    """Whether every rank draws the same values from `seed` without talking to the others."""
    if isinstance(seed, bool):
        return False
    return isinstance(seed, (int, SeedGenerator, StreamKey))


def _by_region(init: Any, kind: str) -> bool:
    from .initializers.random import RandomInitializer

    return (
        isinstance(init, RandomInitializer)
        and not init.structured
        and type(init)._generate is RandomInitializer._generate
        and kind == "real floating"
        and reproducible(init.seed)
    )


def draw_block(
    init: Any,
    shape: tuple[int, ...],
    region: tuple[slice, ...],
    dtype: Any,
    local_like: Array,
    agree: Callable[[Array], Array],
) -> Array:
    """The block `region` of ``init(shape)``, on `local_like`'s library and device.

    Drawn alone where the values are elementwise functions of the global
    index (integer-seeded random laws); otherwise computed whole, made to
    agree across ranks by `agree` when the seed is not reproducible, and sliced.
    """
    target = resolve_target(like=local_like, dtype=dtype if dtype is not None else local_like.dtype)
    init._check_target(shape, target)
    if _by_region(init, target.kind) and target.materializes:
        return init._generate(shape, replace(target, region=region))
    check_whole(shape, type(init).__name__)
    whole = init(shape, target.dtype, like=local_like)
    if not reproducible(getattr(init, "seed", 0)):
        whole = agree(whole)
    return whole[region]
