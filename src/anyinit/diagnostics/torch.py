"""Probing a torch ``nn.Module``: forward hooks on the layers that own parameters, and a
``TorchFunctionMode`` that sees every activation, be it a module (``nn.Sigmoid``), a
function (``F.relu``) or a method (``x.tanh()``).

The model is left as it was: parameters are not written (gradients come from
``torch.autograd.grad``, not ``.backward()``, so ``.grad`` is untouched), buffers
(BatchNorm's running statistics, ``num_batches_tracked``) are put back, and the
random state is forked, so dropout draws nothing the caller would see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from ..models.walkers import torch as torch_walker
from .recording import Layer, Recorder, StopForward, call_on, main_weight

__all__ = ["TorchProbe"]


class _Activations(TorchFunctionMode):  # type: ignore[misc]
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if args and isinstance(args[0], torch.Tensor):
            self.recorder.activation(getattr(func, "__name__", ""), args[0], out)
        return out


class TorchProbe:
    framework = "torch"
    mutates = True

    def __init__(self, model: torch.nn.Module, call_kwargs: Mapping[str, Any]) -> None:
        self.model = model
        self.call_kwargs = dict(call_kwargs)
        by_module: dict[str, list[Any]] = {}
        for slot in torch_walker.slots(model, None):
            by_module.setdefault(slot.native_path.rpartition(".")[0], []).append(slot)
        modules = dict(model.named_modules())
        self.layers: list[Layer] = []
        for native, slots in by_module.items():
            module = modules.get(native)
            if module is None or (module is model and len(modules) > 1):
                continue  # the root's own parameters (a ViT's cls_token) describe no layer
            weight = main_weight(slots)
            self.layers.append(Layer(weight.layer, native, weight.kind, weight, module))

    def to_numpy(self, value: Any) -> np.ndarray:
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # NumPy has no bfloat16
            value = value.float()
        host: np.ndarray = value.numpy()
        return host

    def _copy(self, value: Any) -> Any:
        return value.detach().clone()

    @contextlib.contextmanager
    def _unchanged(self) -> Iterator[None]:
        buffers = [(buffer, buffer.detach().clone()) for buffer in self.model.buffers()]
        devices = sorted({p.device.index or 0 for p in self.model.parameters()
                          if p.device.type == "cuda"})  # fmt: skip
        try:
            with torch.random.fork_rng(devices=devices):
                yield
        finally:
            with torch.no_grad():
                for buffer, saved in buffers:
                    buffer.copy_(saved)

    def run(
        self, batch: Any, *, stop_after: str | None = None, loss: Callable[[Any], Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        """One forward pass: the rows, and with `loss` the main weights' gradients by path."""
        recorder = Recorder({id(layer.handle): layer for layer in self.layers}, self._copy,
                            stop_after)  # fmt: skip

        def hook(module: Any, inputs: Any, output: Any) -> None:
            recorder.layer_output(module, output)

        handles = [layer.handle.register_forward_hook(hook) for layer in self.layers]
        grads: dict[str, Any] = {}
        try:
            with self._unchanged():
                context = torch.enable_grad() if loss is not None else torch.no_grad()
                with context, _Activations(recorder):
                    try:
                        output = call_on(self.model, batch, self.call_kwargs)
                    except StopForward:
                        return recorder.rows, grads
                if loss is not None:
                    weights = [layer.weight.value for layer in self.layers]
                    value = loss(output)
                    found = torch.autograd.grad(value, weights, allow_unused=True)
                    grads = {layer.path: grad for layer, grad in zip(self.layers, found,
                                                                       strict=True)
                             if grad is not None}  # fmt: skip
        finally:
            for handle in handles:
                handle.remove()
        return recorder.rows, grads

    def scale(self, layer: Layer, factor: float) -> None:
        with torch.no_grad():
            layer.weight.value.mul_(factor)

    def result(self) -> Any:
        return self.model
