"""JAX adapter: ``jax.random`` for the portable stream, host NumPy for native draws.

JAX arrays are immutable, so nothing here writes in place; the in-place
``*_`` functions raise and name the out-of-place form instead.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ... import stream
from ..._typing import Array, Device, DType, Params, Shape
from ...stream import StreamKey
from ..base import Backend, Region
from ..numpy.dtypes import NumpyDtypes
from . import keys

__all__ = ["JaxBackend"]

_WIDE = frozenset({"float64", "complex128", "int64", "uint64"})


def _jax_key(key: StreamKey) -> Any:
    return jax.random.wrap_key_data(jnp.asarray([key.k0, key.k1], dtype=jnp.uint32))


def _select(values: Array, region: Region) -> Array:
    return values if region is None else values[region]


@functools.partial(jax.jit, static_argnums=(1, 2))
def truncated_from01(u: Array, lower: float, upper: float) -> Array:
    """The portable truncated normal from float32 u in [0, 1), computed by XLA.

    The central case is ``jax.random.truncated_normal``'s own steps (XLA's erf
    and erfinv, the same fusion), bit for bit, with u kept off ±1; far tails
    take :func:`anyinit.stream.transforms.tail`.
    """
    lower, upper = stream.finite_bounds(lower, upper)
    if stream.in_tail(lower, upper):
        return stream.truncated_from01(jnp, u, lower, upper)
    sqrt2 = np.float32(np.sqrt(2))
    lo = jax.lax.erf(jnp.float32(lower) / sqrt2)
    hi = jax.lax.erf(jnp.float32(upper) / sqrt2)
    v = jax.lax.max(lo, u * (hi - lo) + lo)  # jax.random.uniform(minval=lo, maxval=hi)
    v = jnp.clip(v, -stream.OPEN, stream.OPEN)
    return stream.clamp_open(jnp, sqrt2 * jax.lax.erf_inv(v), lower, upper)


class JaxBackend(NumpyDtypes, Backend):
    """Adapter for ``jax.Array`` on any JAX device."""

    name = "jax"
    masked_writes = False  # immutable arrays: native truncated normals on the host

    def _lookup_dtype(self, name: str) -> DType | None:
        if name in _WIDE and jax.dtypes.canonicalize_dtype(np.float64) != np.float64:
            return None  # JAX would silently give 32-bit arrays
        return super()._lookup_dtype(name)

    def default_device(self) -> Device:
        return jax.devices()[0]

    def check_device(self, device: Device) -> Device:
        if isinstance(device, str):
            try:
                return jax.devices(device)[0]
            except RuntimeError as error:
                msg = f"`device`={device!r} is not available to JAX: {error}"
                raise ValueError(msg) from None
        if device not in jax.devices():
            msg = f"`device`={device!r} is not a JAX device; available: {jax.devices()}."
            raise ValueError(msg)
        return device

    def empty(self, shape: Shape, dtype: DType, device: Device) -> Array:
        return jnp.zeros(shape, dtype=dtype, device=device)

    def is_mutable(self, array: Array) -> bool:
        return False

    def shards(self, like: Any) -> Any:
        from .shards import shards_of

        return shards_of(like)

    def from_host(self, values: Any, dtype: DType, device: Device) -> Array:
        return jnp.asarray(values, device=device).astype(dtype)

    # The portable stream is JAX's own: let jax.random compute it.

    def portable_uniform01(self, key: Any, shape: Shape, region: Region, device: Device) -> Array:
        with jax.default_device(device):
            return _select(jax.random.uniform(_jax_key(key), shape, jnp.float32), region)

    def portable_float32(
        self, kind: str, key: Any, shape: Shape, region: Region, device: Device, params: Params
    ) -> Array:
        jax_key = _jax_key(key)
        with jax.default_device(device):
            if kind == "uniform":
                values = jax.random.uniform(jax_key, shape, jnp.float32, *params)
            elif kind == "normal":
                values = jax.random.normal(jax_key, shape, jnp.float32)
            else:
                u = jax.random.uniform(jax_key, shape, jnp.float32)
                values = truncated_from01(u, *params)
        return _select(values, region)

    # -- JAX's calling convention: init(key, shape, dtype) ---------------------------

    def is_key(self, obj: Any) -> bool:
        return keys.is_key(obj)

    def call_with_key(self, initializer: Any, key: Any, shape: Shape, dtype: Any) -> Array:
        recipe = initializer.key_draw(shape)
        if recipe is not None:
            return keys.draw_with_key(recipe, key, shape, dtype)
        # Values that need no randomness: computed as usual, in JAX's default dtype.
        dtype = jax.dtypes.canonicalize_dtype(jnp.float_) if dtype is None else dtype
        return initializer(shape, dtype, xp=jnp)

    def describe_devices(self) -> list[str]:
        return [str(d) for d in jax.devices()]
