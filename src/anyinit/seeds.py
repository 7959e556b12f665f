"""Seeds: what an initializer's ``seed`` argument may be and what it means.

* an ``int``: the same values on every call with the same shape and dtype;
* ``None``: fresh entropy on every call;
* a :class:`SeedGenerator`: a reproducible stream, new values on every call;
* a backend's native generator (``numpy.random.Generator``,
  ``torch.Generator``, ``cupy.random.Generator``): used and advanced.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._validation import is_integer
from .stream.threefry import StreamKey, key_from_seed

__all__ = ["SeedGenerator", "check_int_seed", "seed_from_json", "seed_to_json", "stream_key"]

_MAX_SEED = 2**64


def check_int_seed(name: str, value: Any) -> int:
    if isinstance(value, bool):
        msg = (
            f"`{name}` must be an int, None, a SeedGenerator or a native generator; "
            f"received {value!r}."
        )
        raise TypeError(msg)
    seed = operator.index(value)
    if not 0 <= seed < _MAX_SEED:
        msg = f"`{name}` must be an int in [0, 2**64); received {name}={seed}."
        raise ValueError(msg)
    return seed


class SeedGenerator:
    """A reproducible stream of seeds: each draw gives a new, repeatable key.

    An initializer built with ``seed=SeedGenerator(s)`` returns new values on
    every call, and the same sequence of values every time the program runs,
    as Keras 3's ``keras.random.SeedGenerator`` does.

    Parameters
    ----------
    seed : int, default 0
        The stream's seed, in ``[0, 2**64)``.

    Examples
    --------
    >>> import anyinit
    >>> gen = anyinit.SeedGenerator(7)
    >>> init = anyinit.RandomNormal(seed=gen)
    >>> a, b = init((2,)), init((2,))
    >>> bool((a != b).any())
    True
    >>> gen2 = anyinit.SeedGenerator(7)
    >>> bool((anyinit.RandomNormal(seed=gen2)((2,)) == a).all())
    True
    """

    __slots__ = ("_counter", "_lock", "seed")

    def __init__(self, seed: int = 0) -> None:
        if isinstance(seed, SeedGenerator) or not is_integer(seed):
            msg = f"`seed` of a SeedGenerator must be an int; received {seed!r}."
            raise TypeError(msg)
        self.seed = check_int_seed("seed", seed)
        self._counter = 0
        self._lock = threading.Lock()

    def next_key(self) -> tuple[int, int]:
        """Return the next ``(seed, counter)`` key and advance the stream."""
        with self._lock:
            counter = self._counter
            self._counter += 1
        return self.seed, counter

    @property
    def counter(self) -> int:
        """How many keys have been drawn so far."""
        return self._counter

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (the stream restarts when rebuilt)."""
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        """Build a SeedGenerator from :meth:`get_config`'s output."""
        return cls(seed=config.get("seed", 0))

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed})"

    # Equal when built from the same seed: the position in the stream is state,
    # not identity (so a config round trip, which restarts it, compares equal).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SeedGenerator):
            return NotImplemented
        return self.seed == other.seed

    def __hash__(self) -> int:
        return hash((SeedGenerator, self.seed))

    # The lock is not state: copies and pickles get their own, and keep the position.
    def __getstate__(self) -> dict[str, int]:
        return {"seed": self.seed, "counter": self._counter}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.seed = state["seed"]
        self._counter = state["counter"]
        self._lock = threading.Lock()


def is_keras_seed_generator(seed: Any) -> bool:
    """Whether `seed` is a ``keras.random.SeedGenerator`` (without importing Keras)."""
    cls = type(seed)
    return cls.__name__ == "SeedGenerator" and cls.__module__.startswith("keras")


def _keras_next_key(seed: Any) -> tuple[int, int]:
    """Advance a ``keras.random.SeedGenerator`` (its shared state, as Keras's own
    initializers do) and return the ``(seed, counter)`` state it was at."""
    state = seed.next()  # a tensor of Keras's backend: NumPy, JAX, torch (maybe on a GPU), TF
    if hasattr(state, "detach"):
        state = state.detach().cpu()
    words = np.asarray(state).astype(np.uint64).ravel()
    return int(words[0]), int(words[-1])


def stream_key(seed: Any) -> StreamKey | None:
    """The portable stream's key for a validated `seed`, or None for ``None`` and native
    generators (an int is its key; a SeedGenerator's next key is folded into its seed's).

    A ``keras.random.SeedGenerator`` advances its own state, as Keras's
    initializers advance it, and reads like an anyinit one: its state is
    ``(seed, counter)``, so ``keras.random.SeedGenerator(7)`` draws what
    ``anyinit.SeedGenerator(7)`` draws.
    """
    if isinstance(seed, StreamKey):
        return seed
    if isinstance(seed, SeedGenerator):
        base, counter = seed.next_key()
        return key_from_seed(base).fold_in(counter)
    if is_keras_seed_generator(seed):
        base, counter = _keras_next_key(seed)
        return key_from_seed(base).fold_in(counter)
    if isinstance(seed, int) and not isinstance(seed, bool):
        return key_from_seed(seed)
    return None


def seed_to_json(seed: Any) -> Any:
    """A `seed` as JSON: an int, None, or a SeedGenerator's Keras-style config."""
    if seed is None or isinstance(seed, int):
        return seed
    if isinstance(seed, Mapping) and seed.get("class_name") == "SeedGenerator":
        return dict(seed)  # already its config (get_config writes a Keras generator so)
    if isinstance(seed, SeedGenerator):
        return {
            "module": "anyinit",
            "class_name": "SeedGenerator",
            "config": seed.get_config(),
            "registered_name": "anyinit>SeedGenerator",
        }
    if is_keras_seed_generator(seed):  # as Keras writes it: its seed, the stream restarts
        return {
            "module": "keras.random",
            "class_name": "SeedGenerator",
            "config": {"seed": seed.get_config().get("seed")},
            "registered_name": None,
        }
    msg = (
        f"cannot serialize `seed`={seed!r}: a native generator has no portable config; "
        "use an int or an anyinit.SeedGenerator."
    )
    raise TypeError(msg)


def seed_from_json(seed: Any) -> Any:
    """The seed a config holds (a SeedGenerator config dict becomes a SeedGenerator)."""
    if isinstance(seed, Mapping):
        if seed.get("class_name") != "SeedGenerator":
            msg = f"Could not interpret seed config: {dict(seed)!r}"
            raise ValueError(msg)
        # Keras writes {"seed": s, "name": ...}; anyinit writes {"seed": s}.
        inner = seed.get("config")
        if inner is None:
            inner = {}
        if not isinstance(inner, Mapping):
            msg = f"A SeedGenerator config must be a dict; received config={inner!r}."
            raise ValueError(msg)
        value = inner.get("seed", 0)
        return SeedGenerator(0 if value is None else value)
    return seed
