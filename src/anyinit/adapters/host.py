"""The host stream for ``seed=None``: NumPy's global random state, as ``np.random`` uses it.

``seed=None`` means "the library's own global generator" on every backend:
torch's default generator on torch, and on NumPy (and the backends that draw
on the host) the global state behind ``np.random.seed``, so that
``np.random.seed(0)`` makes unseeded initializers reproducible, as
``torch.manual_seed`` does on torch.

Drawing from the global MT19937 directly would be slower than PCG64 for
large arrays, so each call takes 128 bits from the global state and starts a
per-thread PCG64 there (about 1 µs). A forked child inherits the global state,
exactly as with ``np.random`` itself: seed each worker (torch's DataLoader
does it for ``np.random`` only from its ``worker_init_fn``).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["host_generator"]

_local = threading.local()
# A fixed odd increment: every call starts at a fresh point of one PCG64 cycle.
_INCREMENT = 0x5851F42D4C957F2D14057B7EF767814F


def _global_bits() -> Any:
    # The bit generator of np.random's module-level RandomState (np.random.seed reseeds it).
    return np.random.mtrand._rand._bit_generator


def host_generator() -> np.random.Generator:
    """A generator that continues NumPy's global random state (advancing it by 128 bits)."""
    rng: np.random.Generator | None = getattr(_local, "generator", None)
    if rng is None:
        rng = _local.generator = np.random.Generator(np.random.PCG64(0))
    raw = _global_bits().random_raw(2)
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (int(raw[0]) << 64) | int(raw[1]), "inc": _INCREMENT},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return rng
