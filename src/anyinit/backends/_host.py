"""NumPy generators for the host: cached per seed, one entropy stream per thread.

``numpy.random.default_rng(seed)`` costs 12-40 µs (hashing the seed, or
reading OS entropy), more than drawing a small weight. An int seed's freshly
seeded state is therefore computed once and restored on each call (about
1.5 µs), and ``seed=None`` draws from a per-thread generator seeded once from
OS entropy and reseeded in a forked child, so that every call still gets
fresh values.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["host_generator"]

_CACHED_SEEDS = 64
_local = threading.local()


def _forget_streams() -> None:
    _local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_streams)


def host_generator(key: tuple[int, ...] | None) -> np.random.Generator:
    """A NumPy generator: ``default_rng(key)``'s stream, or the thread's entropy stream."""
    if key is None:
        rng: np.random.Generator | None = getattr(_local, "entropy", None)
        if rng is None:
            rng = _local.entropy = np.random.default_rng()
        return rng
    if len(key) != 1:  # SeedGenerator keys never repeat: nothing to cache
        return np.random.default_rng(list(key))
    cache: OrderedDict[int, tuple[Any, Any]] | None = getattr(_local, "seeds", None)
    if cache is None:
        cache = OrderedDict()
        _local.seeds = cache
    entry = cache.get(key[0])
    if entry is None:
        bit_generator = np.random.PCG64(key[0])
        entry = (bit_generator, bit_generator.state)
        cache[key[0]] = entry
        if len(cache) > _CACHED_SEEDS:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key[0])
    bit_generator, state = entry
    bit_generator.state = state
    return np.random.Generator(bit_generator)
