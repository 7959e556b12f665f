"""The ``"own"`` preset on Flax linen: the modules' own initializers, re-run by path.

A linen params tree has no module, so the code that created it is named:
``anyinit.presets.own(lambda key: module.init(key, x))``. It runs once with every
``self.param(name, init_fn, *args)`` recorded by its path; then each parameter is
drawn by its own ``init_fn`` with a key from the seed and the path. JAX's and
Flax's built-in initializers (``variance_scaling`` and its presets, ``normal``,
``uniform``, ``truncated_normal``, ``orthogonal``, ``constant``, ``zeros``,
``ones``) are read back from their closures as anyinit's :mod:`anyinit.jax_nn`
initializers of the same arguments: the same law, drawn from the portable stream,
so "own" and the ``"flax"`` preset give the same bits where they name the same
law. Any other ``init_fn`` (a module's own wrapper) is called with a JAX key made
from the parameter's stream key, and the report says so.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

from ...dialects import jax_nn
from ...initializers.constant import Ones, Zeros
from ...stream import StreamKey
from ..slots import Slot
from .native import NativeShape

__all__ = ["anyinit_of", "linen_rule"]

#: jax.nn.initializers' factories, by the qualified name of the function each returns, and
#: how to build anyinit's from the closure's values.
_FACTORIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "variance_scaling.<locals>.init": lambda c: jax_nn.variance_scaling(
        c["scale"],
        c["mode"],
        c["distribution"],
        in_axis=c["in_axis"],
        out_axis=c["out_axis"],
        batch_axis=c["batch_axis"],
    ),
    "normal.<locals>.init": lambda c: jax_nn.normal(c["stddev"]),
    "uniform.<locals>.init": lambda c: jax_nn.uniform(c["scale"]),
    "truncated_normal.<locals>.init": lambda c: jax_nn.truncated_normal(
        c["stddev"], lower=c["lower"], upper=c["upper"]
    ),
    "orthogonal.<locals>.init": lambda c: jax_nn.orthogonal(
        c["scale"], column_axis=c["column_axis"]
    ),
    "constant.<locals>.init": lambda c: jax_nn.constant(c["value"]),
}


def anyinit_of(function: Any) -> Any:
    """JAX's initializer `function` as anyinit's of the same arguments, or None."""
    module = getattr(function, "__module__", "") or ""
    if not module.startswith("jax"):
        return None
    name = getattr(function, "__qualname__", "")
    if name == "zeros":
        return Zeros()
    if name == "ones":
        return Ones()
    build = _FACTORIES.get(name)
    closure = getattr(function, "__closure__", None)
    if build is None or closure is None:
        return None
    values = dict(
        zip(function.__code__.co_freevars, (c.cell_contents for c in closure), strict=True)
    )
    try:
        return build(values)
    except (KeyError, TypeError, ValueError):
        return None


@contextlib.contextmanager
def _recording(found: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> Iterator[None]:
    """Every ``Scope.param(name, init_fn, *args, **kwargs)`` by its path ``a/b/name``."""
    scope = importlib.import_module("flax.core.scope").Scope
    original = scope.param

    def param(self: Any, name: str, init_fn: Any, *args: Any, **kwargs: Any) -> Any:
        options = {k: kwargs[k] for k in ("unbox",) if k in kwargs}
        arguments = {k: v for k, v in kwargs.items() if k != "unbox"}
        found.setdefault("/".join((*self.path, name)), (init_fn, args, arguments))
        return original(self, name, init_fn, *args, **options, **arguments)

    scope.param = param
    try:
        yield
    finally:
        scope.param = original


def _jax_key(seed: Any) -> Any:
    import numpy as np

    jax = importlib.import_module("jax")
    if isinstance(seed, StreamKey):
        return jax.random.wrap_key_data(np.array([seed.k0, seed.k1], np.uint32))
    return jax.random.key(0 if seed is None else int(seed))


def linen_rule(function: Callable[[Any], Any]) -> Callable[[Slot], tuple[Any, str]]:
    """Run `function(key)` (the code that creates the params: ``module.init(key, x)``) once,
    recording each parameter's ``init_fn``; for each slot: that initializer, and the label."""
    jax = importlib.import_module("jax")
    found: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {}
    with _recording(found):
        # Shapes only, nothing drawn; a fresh function each time, for JAX caches the trace
        # of one it has seen (and would not run the code again to record it).
        jax.eval_shape(lambda key: function(key), jax.random.key(0))

    def choose(slot: Slot) -> tuple[Any, str]:
        path = slot.native_path.removeprefix("params/")
        record = found.get(path)
        if record is None:
            return None, ""
        init_fn, args, kwargs = record
        law = anyinit_of(init_fn)
        shaped = bool(args) and isinstance(args[0], (tuple, list))
        shape = tuple(int(n) for n in args[0]) if shaped else None
        simple = law is not None and not kwargs and shape == slot.native_shape and len(args) <= 2
        if simple:
            label = f"{law!r} (its module's initializer)"
            permuted = slot.perm != tuple(range(len(slot.perm))) or slot.expanded is not None
            if not permuted:
                return law, label
            return NativeShape(law, slot, label, _call_custom(init_fn, args, kwargs)), label
        name = getattr(init_fn, "__qualname__", repr(init_fn))
        label = f"{name} (its module's own, called with a key from the path)"
        return NativeShape(init_fn, slot, label, _call_custom(init_fn, args, kwargs)), label

    return choose


def _call_custom(
    init_fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Callable[[Any, tuple[int, ...], Any, Any], Any]:
    def call(function: Any, shape: tuple[int, ...], like: Any, seed: Any) -> Any:
        import numpy as np

        value = init_fn(_jax_key(seed), *args, **kwargs)
        return np.asarray(getattr(value, "value", value))

    return call
