"""JAX's calling convention, ``init(key, shape, dtype)``: the draw is ``jax.nn.initializers``'.

An anyinit initializer called with a JAX key states its recipe
(:meth:`anyinit.Initializer.key_draw`: a ``jax.nn.initializers`` factory and
its arguments); this module builds that factory and calls it, so the result
equals JAX's own bit for bit in every dtype JAX supports, and traces under
``jit``, ``vmap`` and ``eval_shape`` like any JAX initializer.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["draw_with_key", "is_key", "jax_initializer"]


def _defining_module() -> ModuleType:
    """The module that defines jax.nn.initializers' functions (the public one re-exports it);
    the public module itself in a JAX that moved it (read once, below)."""
    try:
        return importlib.import_module("jax._src.nn.initializers")
    except ImportError:
        public: ModuleType = jax.nn.initializers
        return public


#: JAX's own factories, taken once: code that switches a codebase over by assigning anyinit's
#: functions to ``jax.nn.initializers.<name>`` must not make anyinit call itself.
_JAX_FACTORIES = {
    name: value
    for name, value in vars(_defining_module()).items()
    if callable(value) and not name.startswith("_")
}


def jax_initializer(name: str) -> Any:
    """JAX's own ``jax.nn.initializers.<name>``, whatever that attribute holds now."""
    factory = _JAX_FACTORIES.get(name)
    if factory is None or str(getattr(factory, "__module__", "")).startswith("anyinit"):
        msg = f"JAX has no initializer {name!r} of its own here (jax {jax.__version__})."
        raise RuntimeError(msg)
    return factory


def is_key(obj: Any) -> bool:
    """A typed key (``jax.random.key``) or a legacy ``uint32[..., 2]`` ``PRNGKey``."""
    dtype = getattr(obj, "dtype", None)
    if dtype is None or not isinstance(obj, jax.Array):
        return False
    if jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return True
    return bool(dtype == jnp.uint32 and obj.shape[-1:] == (2,))


def draw_with_key(recipe: Any, key: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """Run `recipe` (an :class:`anyinit.KeyDraw`) with `key` for `shape` and `dtype`."""
    if recipe.name == "sparse":
        values = _sparse(key, shape, dtype, **recipe.arguments)
    elif recipe.name == "random.uniform":
        dtype = jax.dtypes.canonicalize_dtype(jnp.float_) if dtype is None else dtype
        values = jax.random.uniform(key, shape, dtype, **recipe.arguments)
    elif recipe.name in _THROUGH_QR and _is_16_bit(dtype):
        # JAX's QR has no 16-bit kernel (it raises NotImplementedError): JAX's own float32
        # construction, rounded once, as the other backends compute 16-bit orthogonals.
        factory = jax_initializer(recipe.name)(**recipe.arguments)
        values = factory(key, shape, jnp.float32).astype(dtype)
    else:
        values = jax_initializer(recipe.name)(**recipe.arguments)(key, shape, dtype)
    if recipe.shift:
        values = values + jnp.asarray(recipe.shift, values.dtype)
    return values


_THROUGH_QR = ("orthogonal", "delta_orthogonal")


def _is_16_bit(dtype: Any) -> bool:
    return dtype is not None and jnp.dtype(dtype) in (
        jnp.dtype(jnp.float16),
        jnp.dtype(jnp.bfloat16),
    )


def _sparse(key: Any, shape: tuple[int, ...], dtype: Any, sparsity: float, stddev: float) -> Any:
    """torch's sparse_ with JAX's RNG: N(0, stddev²), ceil(sparsity·rows) zeros per column."""
    if len(shape) != 2:
        msg = f"Sparse needs a 2-D shape; received shape={shape}."
        raise ValueError(msg)
    dtype = jax.dtypes.canonicalize_dtype(jnp.float_) if dtype is None else dtype
    values_key, positions_key = jax.random.split(key)
    values = jax.random.normal(values_key, shape, dtype) * jnp.asarray(stddev, dtype)
    zeros = math.ceil(sparsity * shape[0])
    # Rank of each entry in a random order of its column: the first `zeros` become zero.
    order = jnp.argsort(jax.random.uniform(positions_key, shape), axis=0)
    ranks = jnp.argsort(order, axis=0)
    return jnp.where(ranks < zeros, jnp.zeros((), dtype), values)
