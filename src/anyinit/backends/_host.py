"""The host's entropy stream for ``seed=None``: one NumPy generator per thread.

``numpy.random.default_rng()`` reads OS entropy (about 40 µs), more than
drawing a small weight, so each thread seeds one generator once and every
unseeded call draws on from it; a forked child reseeds, so that workers
never repeat their parent's numbers.
"""

from __future__ import annotations

import os
import threading

import numpy as np

__all__ = ["host_generator"]

_local = threading.local()


def _forget_streams() -> None:
    _local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_streams)


def host_generator() -> np.random.Generator:
    """This thread's entropy-seeded NumPy generator."""
    rng: np.random.Generator | None = getattr(_local, "entropy", None)
    if rng is None:
        rng = _local.entropy = np.random.default_rng()
    return rng
