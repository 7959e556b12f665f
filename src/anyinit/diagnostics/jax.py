"""Probing JAX models: Flax linen ``(module, variables)``, Flax NNX and Equinox modules.

JAX models have no hooks. For one forward pass the probe wraps, and then restores,

- the ``__call__`` of the classes of the model's modules (NNX, Equinox), or uses
  linen's own ``nn.intercept_methods``, to see each layer's output;
- the activation functions of ``jax.nn``, ``flax.linen``, ``flax.nnx`` and
  ``jax.numpy.tanh``, to see the activation applied to it. An activation taken
  out of those namespaces before the call (``from jax.nn import relu``) is not
  seen: that layer's row then describes its output before the activation.

The recorded values are returned from the traced function, so a model that runs
under ``jax.vmap`` (Equinox modules act on one example) is recorded too. Nothing
in the model changes: linen is pure, NNX runs on a clone, Equinox is immutable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..models.walkers import jax as jax_walkers
from ..models.walkers.pytree import PYTREE
from .recording import (
    ACTIVATIONS,
    Layer,
    Recorder,
    StopForward,
    activation_name,
    call_on,
    main_weight,
    patched,
    watching,
)

__all__ = ["EquinoxProbe", "LinenProbe", "NNXProbe"]


def _activation_patches(recorder: Recorder) -> list[tuple[Any, str, Any]]:
    namespaces = [jax.nn] + [sys.modules[name] for name in ("flax.linen", "flax.nnx")
                             if name in sys.modules]  # fmt: skip
    patches = []
    for namespace in namespaces:
        for name in sorted(ACTIVATIONS):
            function = namespace.__dict__.get(name)
            if callable(function):
                patches.append((namespace, name, watching(recorder, name, function)))
    patches.append((jnp, "tanh", watching(recorder, "tanh", jnp.tanh)))
    return patches


def _call_patches(classes: set[type], recorder: Recorder) -> list[tuple[Any, str, Any]]:
    patches = []
    for cls in classes:
        original = cls.__call__

        def watched(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            out = __original(self, *args, **kwargs)
            recorder.layer_output(self, out)
            fn = getattr(self, "fn", None)  # eqx.nn.Lambda(jax.nn.relu): an activation module
            name = getattr(fn, "__name__", None) or type(self).__name__
            if args:
                recorder.activation(name, args[0], out)
            return out

        patches.append((cls, "__call__", watched))
    return patches


def _activation_fields(module: Any) -> dict[str, Any]:
    """A module's attributes that hold an activation function (``eqx.nn.MLP.activation``,
    ``act: Callable = nn.gelu``): taken at construction, namespaces do not reach them."""
    found = {}
    names = (
        (field.name for field in dataclasses.fields(module))
        if dataclasses.is_dataclass(module)
        else list(vars(module))
    )
    for name in names:
        value = getattr(module, name, None)
        label = getattr(value, "__name__", None)
        if callable(value) and not isinstance(value, type) and label and activation_name(label):
            found[name] = (label, value)
    return found


@contextlib.contextmanager
def _fields_watched(modules: list[Any], recorder: Recorder) -> Iterator[None]:
    """Each module's activation attributes replaced by watching wrappers, then put back
    (``object.__setattr__``: Equinox modules are frozen dataclasses)."""
    saved = []
    try:
        for module in modules:
            for name, (label, value) in _activation_fields(module).items():
                saved.append((module, name, value))
                object.__setattr__(module, name, watching(recorder, label, value))
        yield
    finally:
        for module, name, value in reversed(saved):
            object.__setattr__(module, name, value)


def _to_numpy(value: Any) -> np.ndarray:
    return np.asarray(value)


def _recorded(recorder: Recorder, forward: Callable[[], Any]) -> Any:
    """Run `forward`, returning its output and the recorded values (tracers when traced)."""
    try:
        output = forward()
    except StopForward:
        output = None
    return output, [(row.pre, row.value) for row in recorder.rows]


def _settle(rows: list[Any], values: list[tuple[Any, Any]]) -> list[Any]:
    for row, (pre, value) in zip(rows, values, strict=True):
        row.pre, row.value = pre, value
    return rows


class LinenProbe:
    """A linen module with its variables (``{"params": …}``, or the params alone)."""

    framework = "flax.linen"
    mutates = False

    def __init__(self, module: Any, variables: Any, call_kwargs: Mapping[str, Any]) -> None:
        self.module = module
        self.wrapped = not (isinstance(variables, Mapping) and "params" in variables)
        self.variables = {"params": variables} if self.wrapped else variables
        self.call_kwargs = dict(call_kwargs)
        by_layer: dict[str, list[Any]] = {}
        for slot in PYTREE.slots({"params": self.variables["params"]}, None):
            by_layer.setdefault(slot.native_path.rpartition("/")[0], []).append(slot)
        self.layers = []
        for native, slots in by_layer.items():
            weight = main_weight(slots)
            self.layers.append(Layer(weight.layer, native.partition("/")[2], weight.kind, weight,
                                     native.partition("/")[2]))  # fmt: skip
        self.to_numpy = _to_numpy

    def _apply(self, variables: Any, batch: Any, module: Any = None) -> Any:
        kwargs = {"mutable": True, **self.call_kwargs}
        args = batch if isinstance(batch, tuple) else (batch,)
        result = (module or self.module).apply(variables, *args, **kwargs)
        return result[0] if kwargs["mutable"] is not False else result

    def run(
        self, batch: Any, *, stop_after: str | None = None, loss: Callable[[Any], Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        from flax import linen as nn

        # Layers are keyed by their module path, a string: the recorder keys by id().
        keys = {layer.handle: layer for layer in self.layers}
        recorder = Recorder({id(keys[k]): keys[k] for k in keys}, stop_after=stop_after)

        def interceptor(next_fun: Any, args: Any, kwargs: Any, context: Any) -> Any:
            out = next_fun(*args, **kwargs)
            if context.method_name == "__call__":
                layer = keys.get("/".join(context.module.path))
                if layer is not None:
                    recorder.layer_output(layer, out)
            return out

        fields = _activation_fields(self.module)
        module = self.module.clone(**{name: watching(recorder, label, value)
                                      for name, (label, value) in fields.items()})  # fmt: skip
        with patched(_activation_patches(recorder)), nn.intercept_methods(interceptor):
            _, values = _recorded(
                recorder, lambda: self._apply(self.variables, batch, module=module)
            )
        rows = _settle(recorder.rows, values)
        grads: dict[str, Any] = {}
        if loss is not None:

            def objective(params: Any) -> Any:
                return loss(self._apply({**self.variables, "params": params}, batch))

            found = jax.grad(objective)(self.variables["params"])
            for layer in self.layers:
                grads[layer.path] = _at(found, layer.weight.native_path.split("/")[1:])
        return rows, grads

    def scale(self, layer: Layer, factor: float) -> None:
        steps = layer.weight.native_path.split("/")
        self.variables = _replaced(self.variables, steps, _at(self.variables, steps) * factor)

    def result(self) -> Any:
        return self.variables["params"] if self.wrapped else self.variables


def _at(tree: Any, steps: list[str]) -> Any:
    for step in steps:
        tree = tree[step]
    return tree


def _replaced(tree: Any, steps: list[str], value: Any) -> Any:
    if not steps:
        return value
    new = dict(tree)
    new[steps[0]] = _replaced(tree[steps[0]], steps[1:], value)
    return type(tree)(new) if not isinstance(tree, dict) else new


def _module_classes(modules: list[Any], base: type) -> set[type]:
    return {type(module) for module in modules if isinstance(module, base)}


def _variable_value(variable: Any) -> Any:
    if hasattr(variable, "get_value"):
        return variable.get_value()
    return getattr(variable, "value", variable)  # flax < 0.12, or a bare array


class NNXProbe:
    """A Flax NNX module: recorded on a clone, scaled in place."""

    framework = "flax.nnx"
    mutates = True

    def __init__(self, model: Any, call_kwargs: Mapping[str, Any]) -> None:
        from flax import nnx

        self.model = model
        self.call_kwargs = dict(call_kwargs)
        by_layer: dict[str, list[Any]] = {}
        for slot in jax_walkers.NNX.slots(model, None):
            by_layer.setdefault(slot.native_path.rpartition("/")[0], []).append(slot)
        self.layers = []
        for native, slots in by_layer.items():
            if not native:
                continue  # the root's own parameters describe no layer
            weight = main_weight(slots)
            self.layers.append(Layer(weight.layer, native, weight.kind, weight, native))
        self._nnx = nnx
        self.to_numpy = _to_numpy

    def _modules(self, model: Any) -> dict[str, Any]:
        return {"/".join(str(p) for p in path): node for path, node in self._nnx.iter_graph(model)
                if isinstance(node, self._nnx.Module)}  # fmt: skip

    def run(
        self, batch: Any, *, stop_after: str | None = None, loss: Callable[[Any], Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        nnx = self._nnx
        clone = nnx.clone(self.model)
        modules = self._modules(clone)
        handles = {id(modules[layer.handle]): layer for layer in self.layers}
        recorder = Recorder(handles, stop_after=stop_after)
        classes = _module_classes(list(modules.values()), nnx.Module) - {type(clone)}
        patches = _call_patches(classes, recorder) + _activation_patches(recorder)
        with patched(patches), _fields_watched(list(modules.values()), recorder):
            _, values = _recorded(recorder, lambda: call_on(clone, batch, self.call_kwargs))
        rows = _settle(recorder.rows, values)
        grads: dict[str, Any] = {}
        if loss is not None:
            found = nnx.grad(lambda m: loss(call_on(m, batch, self.call_kwargs)))(
                nnx.clone(self.model)
            )
            flat = {"/".join(str(p) for p in path): value
                    for path, value in nnx.to_flat_state(found)}  # fmt: skip
            for layer in self.layers:
                grad = flat.get(layer.weight.native_path)
                if grad is not None:
                    grads[layer.path] = _variable_value(grad)
        return rows, grads

    def scale(self, layer: Layer, factor: float) -> None:
        module = self._modules(self.model)[layer.handle]
        name = layer.weight.native_path.rpartition("/")[2]
        variable = getattr(module, name)
        if hasattr(variable, "set_value"):
            variable.set_value(variable.get_value() * factor)
        else:  # flax < 0.12
            variable.value = variable.value * factor

    def result(self) -> Any:
        return self.model


class EquinoxProbe:
    """An Equinox module, mapped over the batch's first axis with ``jax.vmap`` (Equinox
    layers act on one example, as Equinox code maps them); scaling builds a new module."""

    framework = "equinox"
    mutates = False

    def __init__(self, model: Any, call_kwargs: Mapping[str, Any]) -> None:
        self.model = model
        self.call_kwargs = dict(call_kwargs)
        self._build()
        self.to_numpy = _to_numpy

    def _build(self) -> None:
        by_layer: dict[tuple[Any, ...], list[Any]] = {}
        for slot in jax_walkers.EQUINOX.slots(self.model, None):
            by_layer.setdefault(slot.info["steps"][:-1], []).append(slot)
        self.layers = []
        for steps, slots in by_layer.items():
            if not steps:
                continue
            weight = main_weight(slots)
            native = ".".join(str(step) for step in steps)
            self.layers.append(Layer(weight.layer, native, weight.kind, weight, steps))

    def run(
        self, batch: Any, *, stop_after: str | None = None, loss: Callable[[Any], Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        import equinox as eqx

        modules = {steps: module for steps, module, _, _ in jax_walkers._equinox_walk(self.model)}
        handles = {id(modules[layer.handle]): layer for layer in self.layers}
        # Tracing the whole map records every layer: stopping early would leave no values.
        recorder = Recorder(handles)
        classes = _module_classes(list(modules.values()), eqx.Module) - {type(self.model)}
        patches = _call_patches(classes, recorder) + _activation_patches(recorder)

        def one(example: Any) -> Any:
            recorder.reset()
            return _recorded(recorder, lambda: call_on(self.model, example, self.call_kwargs))

        with patched(patches), _fields_watched(list(modules.values()), recorder):
            _, values = jax.vmap(one)(batch)
        rows = _settle(recorder.rows, values)
        if stop_after is not None:
            names = [row.layer.path for row in rows]
            rows = rows[: names.index(stop_after) + 1] if stop_after in names else rows
        grads: dict[str, Any] = {}
        if loss is not None:

            def objective(model: Any) -> Any:
                return loss(jax.vmap(lambda x: call_on(model, x, self.call_kwargs))(batch))

            found = eqx.filter_grad(objective)(self.model)
            for layer in self.layers:
                grads[layer.path] = jax_walkers._get(found, layer.weight.info["steps"])
        return rows, grads

    def scale(self, layer: Layer, factor: float) -> None:
        import equinox as eqx

        steps = layer.weight.info["steps"]
        self.model = eqx.tree_at(lambda m: jax_walkers._get(m, steps), self.model,
                                 replace=jax_walkers._get(self.model, steps) * factor)  # fmt: skip
        self._build()

    def result(self) -> Any:
        return self.model
