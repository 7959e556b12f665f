"""``anyinit.diagnose``: what each layer of a model does to a batch, before training."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .probes import probe_for
from .report import DiagnosisReport, layer_statistics

__all__ = ["diagnose"]


def _selected(found: Sequence[Any], layers: Sequence[str] | str | None) -> set[str]:
    """The paths of the layers that `layers` (glob patterns on the normalised or native layer
    path) names; a pattern that names none is an error, listing the layers."""
    if layers is None:
        return {layer.path for layer in found}
    patterns = [layers] if isinstance(layers, str) else list(layers)
    chosen: set[str] = set()
    for pattern in patterns:
        if not isinstance(pattern, str):
            msg = f"`layers` must hold glob patterns on layer paths; received {pattern!r}"
            raise TypeError(msg)
        named = {layer.path for layer in found
                 if fnmatch.fnmatchcase(layer.path, pattern)
                 or fnmatch.fnmatchcase(str(layer.native).replace("/", "."), pattern)}  # fmt: skip
        if not named:
            shown = ", ".join(layer.path for layer in found[:6])
            more = ", …" if len(found) > 6 else ""
            msg = f"`layers` pattern {pattern!r} matches no layer; the layers are: {shown}{more}"
            raise ValueError(msg)
        chosen |= named
    return chosen


def diagnose(
    model: Any,
    batch: Any,
    *,
    loss: Callable[[Any], Any] | None = None,
    layers: Sequence[str] | str | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
) -> DiagnosisReport:
    """Per-layer statistics of one forward pass (and one backward pass with `loss`).

    For each layer that owns parameters, in the order the forward pass runs
    them: the mean and standard deviation of its output after its activation,
    the fraction of saturated units (``|tanh| > 0.99``, sigmoid ``< 0.01`` or
    ``> 0.99``), the fraction of exact zeros (dead ReLUs) and, with `loss`,
    the standard deviation of the gradient of the layer's main weight. The
    model is left exactly as it was: parameters, buffers, BatchNorm
    statistics, gradients and random state.

    Parameters
    ----------
    model
        A torch ``nn.Module``, a Flax linen ``(module, variables)`` pair, a
        ``flax.nnx.Module``, an Equinox module (mapped over the batch's first
        axis with ``jax.vmap``) or a Keras model or layer.
    batch
        The input, in the framework's own array type or NumPy; a tuple is
        passed as positional arguments, a mapping as keyword arguments.
    loss : callable, optional
        ``loss(output) -> scalar``; adds each layer's weight-gradient std.
    layers : str or sequence of str, optional
        Glob patterns on the layer paths (``"blocks.*.mlp.fc1"``) to report;
        default all.
    call_kwargs : mapping, optional
        Keyword arguments of the model's call (``{"train": True}``; for linen
        also ``rngs=``).

    Returns
    -------
    DiagnosisReport
        Prints as a table; ``rows()`` gives one dict per layer; ``plot(path)``
        draws the histograms and the std by depth.

    Examples
    --------
    >>> import torch, anyinit
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = torch.nn.Sequential(torch.nn.Linear(100, 100), torch.nn.Tanh(),
    ...                             torch.nn.Linear(100, 100), torch.nn.Tanh())
    >>> report = anyinit.diagnose(model, torch.randn(1000, 100))
    >>> [row["layer"] for row in report.rows()]
    ['layers.0', 'layers.2']
    >>> report[0].activation
    'tanh'
    """
    probe = probe_for(model, call_kwargs)
    if not probe.layers:
        msg = f"`model` ({type(model).__name__}) has no layers that own parameters to diagnose"
        raise ValueError(msg)
    chosen = _selected(probe.layers, layers)
    rows, grads = probe.run(batch, loss=loss)
    found = []
    for row in rows:
        layer = row.layer
        if layer.path not in chosen:
            continue
        grad = grads.get(layer.path)
        found.append(
            layer_statistics(
                layer.path,
                layer.kind,
                layer.weight.path,
                probe.to_numpy(row.value),
                row.activation,
                None if grad is None else probe.to_numpy(grad),
            )
        )
    return DiagnosisReport(found, probe.framework, with_grad=loss is not None)
