"""Probing a Keras model or layer, on any Keras backend.

The ``__call__`` of each of the model's layer classes is wrapped for one forward
pass (and put back), so functional, sequential and subclassed models alike show
each layer's output. A layer's own ``activation=`` is part of its output; an
``Activation``/``ReLU`` layer or a ``keras.ops``/``keras.activations`` function
applied to that output is seen as the layer's activation. Every variable
(BatchNormalization's moving statistics, seed generators' states) is put back
after the pass if it changed. Gradients (``loss=``) use the backend's own
autodiff: JAX, torch or TensorFlow; the NumPy backend has none.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import keras
import numpy as np

from ..models.walkers import keras as keras_walker
from .recording import ACTIVATIONS, Layer, Recorder, StopForward, main_weight, patched, watching

__all__ = ["KerasProbe"]


def _activation_of(layer: Any) -> str | None:
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", None)
    return None if name in (None, "linear") else name


class KerasProbe:
    framework = "keras"
    mutates = True

    def __init__(self, model: Any, call_kwargs: Mapping[str, Any]) -> None:
        self.model = model
        self.call_kwargs = dict(call_kwargs)
        owner: dict[int, Any] = {}
        layers = list(model._flatten_layers(include_self=True, recursive=True))
        for layer in layers:
            for variable in layer._trainable_variables:
                owner.setdefault(id(variable), layer)
        by_layer: dict[int, list[Any]] = {}
        handles: dict[int, Any] = {}
        for slot in keras_walker.slots(model, None):
            layer = owner[id(slot.value)]
            by_layer.setdefault(id(layer), []).append(slot)
            handles[id(layer)] = layer
        self.layers = []
        for key, slots in by_layer.items():
            layer = handles[key]
            if layer is model and len(layers) > 1:
                continue
            weight = main_weight(slots)
            native = weight.native_path.rpartition("/")[0]
            self.layers.append(Layer(weight.layer, native, weight.kind, weight, layer))
        self._all_layers = [layer for layer in layers if layer is not model]

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(keras.ops.convert_to_numpy(value))

    @contextlib.contextmanager
    def _unchanged(self) -> Iterator[None]:
        saved = [(v, np.array(keras.ops.convert_to_numpy(v.value))) for v in self.model.variables]
        try:
            yield
        finally:
            for variable, value in saved:
                if not np.array_equal(keras.ops.convert_to_numpy(variable.value), value,
                                      equal_nan=value.dtype.kind in "fc"):  # fmt: skip
                    variable.assign(value)

    def _forward(self, batch: Any) -> Any:
        if isinstance(batch, Mapping):
            return self.model(batch, **self.call_kwargs)
        if isinstance(batch, tuple):
            return self.model(*batch, **self.call_kwargs)
        return self.model(batch, **self.call_kwargs)

    def _patches(self, recorder: Recorder, quiet: Any) -> list[tuple[Any, str, Any]]:
        patches = []
        for cls in {type(layer) for layer in self._all_layers}:
            original = cls.__call__

            def watched(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
                out = __original(self, *args, **kwargs)
                activation = None if self is quiet else _activation_of(self)
                recorder.layer_output(self, out, activation)
                if args:
                    recorder.activation(_activation_of(self) or type(self).__name__, args[0], out)
                return out

            patches.append((cls, "__call__", watched))
        namespaces = [keras.ops, keras.activations]
        for namespace in namespaces:
            for name in sorted(ACTIVATIONS):
                function = getattr(namespace, name, None)
                if callable(function):
                    patches.append((namespace, name, watching(recorder, name, function)))
        return patches

    def run(
        self, batch: Any, *, stop_after: str | None = None, loss: Callable[[Any], Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        recorder = Recorder({id(layer.handle): layer for layer in self.layers},
                            stop_after=stop_after)  # fmt: skip
        # LSUV scales a layer by its output before its activation: while that layer is the
        # one asked for, its own activation= is set aside.
        quiet = next((layer.handle for layer in self.layers if layer.path == stop_after), None)
        swap = []
        if quiet is not None and _activation_of(quiet) is not None:
            swap = [(quiet, "activation", keras.activations.linear)]
        grads: dict[str, Any] = {}
        with self._unchanged():
            patches = patched(self._patches(recorder, quiet))
            with patches, patched(swap), contextlib.suppress(StopForward):
                self._forward(batch)
            if loss is not None:
                grads = self._grads(batch, loss)
        return recorder.rows, grads

    def _grads(self, batch: Any, loss: Callable[[Any], Any]) -> dict[str, Any]:
        backend = keras.backend.backend()
        weights = [layer.weight.value for layer in self.layers]
        if backend == "jax":
            import jax

            trainable = list(self.model.trainable_variables)
            index = {id(v): i for i, v in enumerate(trainable)}
            values = [v.value for v in trainable]
            others = [v.value for v in self.model.non_trainable_variables]
            args = batch if isinstance(batch, tuple) else (batch,)

            def objective(values: Any) -> Any:
                out, _ = self.model.stateless_call(values, others, *args, **self.call_kwargs)
                return loss(out)

            found = jax.grad(objective)(values)
            return {layer.path: found[index[id(w)]] for layer, w in zip(self.layers, weights,
                                                                        strict=True)}  # fmt: skip
        if backend == "torch":
            import torch

            with torch.enable_grad():
                value = loss(self._forward(batch))
                found = torch.autograd.grad(value, [w.value for w in weights], allow_unused=True)
            return {layer.path: g for layer, g in zip(self.layers, found, strict=True)
                    if g is not None}  # fmt: skip
        if backend == "tensorflow":
            tf = sys.modules.get("tensorflow") or __import__("tensorflow")
            with tf.GradientTape() as tape:
                value = loss(self._forward(batch))
            found = tape.gradient(value, [w.value for w in weights])
            return {layer.path: g for layer, g in zip(self.layers, found, strict=True)
                    if g is not None}  # fmt: skip
        msg = (
            f"diagnose(loss=...) needs gradients, which Keras's {backend!r} backend does not "
            "compute; use the jax, torch or tensorflow backend (KERAS_BACKEND), or leave out loss="
        )
        raise ValueError(msg)

    def scale(self, layer: Layer, factor: float) -> None:
        variable = layer.weight.value
        variable.assign(variable.value * factor)

    def result(self) -> Any:
        return self.model
