"""What one forward pass shows: each parameter-owning layer's output, and the activation
applied to it.

A framework's *probe* (``diagnostics.torch``, ``.jax``, ``.keras``) calls
:meth:`Recorder.layer_output` when a layer that owns parameters returns and
:meth:`Recorder.activation` when an elementwise activation returns. An activation
whose input *is* (the same object as) the current layer's latest output belongs to
that layer: its row then describes the activation's output, as the seed's
experiment does (the histogram of ``sigmoid(x @ W)``, not of ``x @ W``). Matching by
identity needs no knowledge of the model's code, works on eager arrays and on
tracers alike, and never joins values that merely look alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models.slots import Slot

__all__ = ["ACTIVATIONS", "PASS_THROUGH", "Layer", "Recorder", "Row", "StopForward",
           "activation_name", "call_on", "main_weight", "patched", "watching"]  # fmt: skip

#: Elementwise activations by the names the frameworks give them (torch's, JAX's, Keras's).
ACTIVATIONS = frozenset(
    {
        "sigmoid", "tanh", "relu", "relu6", "gelu", "silu", "swish", "elu", "selu", "celu",
        "leaky_relu", "softplus", "softsign", "hardtanh", "hard_tanh", "hardsigmoid",
        "hard_sigmoid", "hardswish", "hard_swish", "hard_silu", "mish", "log_sigmoid",
        "logsigmoid", "prelu", "rrelu", "tanhshrink", "squareplus", "sparse_plus",
        "sparse_sigmoid", "leakyrelu",
    }
)  # fmt: skip
#: Elementwise steps after which the activation still belongs to the same layer.
PASS_THROUGH = frozenset({"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d",
                          "dropout2d", "dropout3d"})  # fmt: skip


#: Spellings of one activation, by the one the report uses.
_ALIASES = {"hardtanh": "hard_tanh", "hardsigmoid": "hard_sigmoid", "hardswish": "hard_swish",
            "logsigmoid": "log_sigmoid", "leakyrelu": "leaky_relu", "swish": "silu"}  # fmt: skip


def activation_name(name: str) -> str | None:
    """The canonical name of an activation (``relu_`` → ``relu``), or None for anything else."""
    name = name.lower().rstrip("_")
    if name in ACTIVATIONS:
        return _ALIASES.get(name, name)
    if name in PASS_THROUGH:
        return ""
    return None


class StopForward(BaseException):
    """Ends a forward pass once the layer asked for has been recorded (LSUV needs no more).

    A BaseException: frameworks that catch and re-wrap ``Exception`` around a layer's
    call (Keras) let it through unchanged.
    """


@dataclass
class Layer:
    """One layer that owns parameters: its normalised path (the one :func:`anyinit.initialize`
    gives its parameters, so ports of one architecture share it), its native name, its kind
    and its main weight (the kernel, else the embedding table, else its first parameter)."""

    path: str
    native: str
    kind: str
    weight: Slot
    handle: Any = None


@dataclass
class Row:
    """A recorded layer: its output (`pre`), and its activation's output (`value`)."""

    layer: Layer
    pre: Any
    value: Any
    activation: str | None = None
    current: Any = None  # the object an activation's input is compared with


@dataclass
class Recorder:
    """Collects rows in execution order. `copy` makes a stable copy of an output
    (torch's in-place activations overwrite their input); `stop_after` ends the pass once
    that layer's output (before any activation) is recorded."""

    layers: dict[int, Layer]
    copy: Callable[[Any], Any] = lambda value: value
    stop_after: str | None = None
    rows: list[Row] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _last: Row | None = None

    def reset(self) -> None:
        """Forget what was recorded (a traced function records again on each trace)."""
        self.rows.clear()
        self._seen.clear()
        self._last = None

    def layer_output(self, handle: Any, output: Any, activation: str | None = None) -> None:
        layer = self.layers.get(id(handle))
        if isinstance(output, (tuple, list)):  # (output, attention weights), (output, state)
            output = next((item for item in output if hasattr(item, "shape")), None)
        if layer is None or not hasattr(output, "shape"):
            return
        if layer.path in self._seen:  # a layer called again (shared weights): its first call
            self._last = None
            return
        self._seen.add(layer.path)
        value = self.copy(output)
        row = Row(layer, value, value, activation_name(activation or "") or None, output)
        self.rows.append(row)
        self._last = row
        if self.stop_after == layer.path:
            raise StopForward

    def activation(self, name: str, argument: Any, output: Any) -> None:
        canonical = activation_name(name)
        row = self._last
        if canonical is None or row is None or argument is not row.current:
            return
        if getattr(output, "shape", None) != getattr(argument, "shape", None):
            return
        row.current = output
        row.value = self.copy(output)
        if canonical:  # not a pass-through step (dropout)
            row.activation = canonical


def main_weight(slots: list[Slot]) -> Slot:
    """A layer's main weight: its kernel, else its embedding table, else its first parameter."""
    for role in ("kernel", "embedding"):
        for slot in slots:
            if slot.role == role:
                return slot
    return slots[0]


_MISSING = object()


@contextlib.contextmanager
def patched(patches: list[tuple[Any, str, Any]]) -> Iterator[None]:
    """Set ``owner.name = value`` for each ``(owner, name, value)`` (a namespace's function, a
    class's ``__call__``) for the pass, and put every one back afterwards, even on error."""
    saved = [(owner, name, owner.__dict__.get(name, _MISSING)) for owner, name, _ in patches]
    try:
        for owner, name, value in patches:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, old in reversed(saved):
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


def watching(recorder: Recorder, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` (an activation), telling `recorder` what it was applied to."""

    def watched(x: Any, *args: Any, **kwargs: Any) -> Any:
        out = function(x, *args, **kwargs)
        recorder.activation(name, x, out)
        return out

    watched.__wrapped__ = function  # type: ignore[attr-defined]
    return watched


def call_on(model: Callable[..., Any], batch: Any, kwargs: Mapping[str, Any]) -> Any:
    """``model(batch)``: a tuple as positional arguments, a mapping as keyword arguments."""
    if isinstance(batch, Mapping):
        return model(**batch, **kwargs)
    if isinstance(batch, tuple):
        return model(*batch, **kwargs)
    return model(batch, **kwargs)
