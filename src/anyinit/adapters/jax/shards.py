"""Sharded JAX arrays: the draw runs under ``jit`` with ``out_shardings``, each device its shard.

The portable stream is JAX's partitionable Threefry (``jax_threefry_partitionable``,
JAX's default), so XLA computes every device's shard alone and the values equal
the unsharded result whatever the mesh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ..._typing import Array

__all__ = ["JaxShards", "shards_of"]


def shards_of(obj: Any) -> JaxShards | None:
    """A `jax.sharding.Sharding`, or the sharding of an array laid over several devices."""
    if isinstance(obj, jax.sharding.Sharding):
        return JaxShards(obj, None)
    if isinstance(obj, jax.Array) and not isinstance(obj, jax.core.Tracer):
        sharding = obj.sharding
        if len(sharding.device_set) > 1:
            return JaxShards(sharding, obj.dtype)
    return None


class JaxShards:
    """A sharding (and the dtype of the array it came from, if any)."""

    def __init__(self, sharding: Any, dtype: Any) -> None:
        self.sharding = sharding
        self.dtype = dtype

    def draw(
        self, init: Any, shape: tuple[int, ...], dtype: Any, perm: tuple[int, ...] | None = None
    ) -> Array:
        """``init(shape)`` (axes permuted by `perm`) with this sharding."""
        dtype = dtype if dtype is not None else self.dtype

        def run() -> Array:
            values = init(shape, dtype, xp=jnp)
            if perm is None or perm == tuple(range(len(perm))):
                return values
            return jnp.transpose(values, perm)

        # A new function each call: a SeedGenerator advances once per call, as unsharded.
        return jax.jit(run, out_shardings=self.sharding)()

    def distribute(self, make_whole: Callable[[Any], Array], reproducible: bool,
                   shape: tuple[int, ...]) -> Array:  # fmt: skip
        """A whole-array computation, placed with this sharding by XLA."""
        like = jnp.zeros((0,), self.dtype if self.dtype is not None else jnp.float32)
        return jax.jit(lambda: make_whole(like), out_shardings=self.sharding)()
