"""``anyinit.lsuv``: layer-sequential unit-variance initialisation (Mishkin & Matas, 2016)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..initializers.base import Initializer
from ..initializers.registry import get
from ..models.initialize import initialize
from ..models.presets import PRESETS
from ..models.recipes import RECIPES, Recipe
from ..models.walkers import walker_for
from .probes import is_linen_pair, probe_for

__all__ = ["LSUVLayer", "lsuv"]

#: The layers LSUV rescales: those that mix their inputs through a weight matrix.
_SCALED = ("dense", "conv", "conv_transpose")


@dataclass(frozen=True)
class LSUVLayer:
    """What :func:`anyinit.lsuv` did to one layer: how many rescalings, the output variance it ended
    with (before the activation), and the product of the factors applied to its weight.

    Examples
    --------
    >>> from anyinit.diagnostics import LSUVLayer
    >>> LSUVLayer("fc1", 2, 1.0, 0.5).iterations
    2
    """

    layer: str
    iterations: int
    variance: float
    scale: float


def _weights(model: Any) -> Any:
    """What ``initialize`` walks: the variables of a linen pair, else the model."""
    return model[1] if is_linen_pair(model) else model


def _rules(tree: Any, init: Any) -> Any:
    """`init` as ``initialize`` rules: a preset, a recipe, a mapping or a callable as they
    are; an initializer (or its name) for every dense and convolution kernel, zero biases."""
    if isinstance(init, Recipe) or (callable(init) and not isinstance(init, Initializer)):
        return init
    if isinstance(init, Mapping):
        return init
    if isinstance(init, str) and (init in PRESETS or init in RECIPES):
        return init
    if isinstance(init, str):
        try:
            init = get(init)
        except ValueError as error:
            msg = (
                f"`init` must be an initializer (or its name, e.g. 'orthogonal'), a preset "
                f"{tuple(PRESETS)}, a recipe {tuple(RECIPES)}, rules for anyinit.initialize, or "
                f"None to keep the model's weights; received {init!r}."
            )
            raise ValueError(msg) from error
    if not isinstance(init, Initializer):
        msg = (
            "`init` must be an initializer, a preset or recipe name, rules for "
            f"anyinit.initialize, or None; received {type(init).__name__}."
        )
        raise TypeError(msg)
    from ..initializers.constant import Zeros

    rules: dict[str, Initializer] = {}
    for slot in walker_for(tree).slots(tree, None):
        for leaf in slot.info.get("parts", (slot,)):
            if leaf.kind in _SCALED and leaf.role == "kernel":
                rules[leaf.path] = init
            elif leaf.kind in _SCALED and leaf.role == "bias":
                rules[leaf.path] = Zeros()
    return rules


def lsuv(
    model: Any,
    batch: Any,
    *,
    seed: Any,
    tol: float = 0.1,
    max_iter: int = 10,
    init: Any = "orthogonal",
    call_kwargs: Mapping[str, Any] | None = None,
    return_report: bool = False,
) -> Any:
    """Layer-sequential unit-variance initialisation (LSUV; Mishkin & Matas, 2016).

    First every dense and convolution kernel is drawn from `init` (orthogonal
    by default, biases zero; or any preset, recipe or rules of
    :func:`anyinit.initialize`), with `seed`. Then, layer by layer in the
    order the forward pass runs them, the layer's weight is divided by the
    standard deviation of its output on `batch` (before its activation) until
    that variance is within ``1 ± tol``, at most `max_iter` times.

    Parameters
    ----------
    model
        A torch ``nn.Module``, ``flax.nnx.Module`` or Keras model (changed in
        place), a Flax linen ``(module, variables)`` pair or an Equinox module
        (a new one is returned).
    batch
        The data LSUV measures on, as :func:`anyinit.diagnose` takes it.
    seed : int, SeedGenerator, native generator or None
        The seed of the pre-initialisation (as :func:`anyinit.initialize`).
    tol : float, default 0.1
        The tolerance on each output variance.
    max_iter : int, default 10
        The most rescalings per layer; a layer still outside ``1 ± tol``
        after them gets a warning.
    init : default "orthogonal"
        The pre-initialisation; None keeps the model's weights.
    call_kwargs : mapping, optional
        Keyword arguments of the model's call.
    return_report : bool, default False
        Also return a list of :class:`~anyinit.diagnostics.LSUVLayer`.

    Returns
    -------
    model
        The model (in place), or the new variables (linen: in the form given)
        or module (Equinox); with `return_report`, ``(model, report)``.

    Examples
    --------
    >>> import torch, anyinit
    >>> model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(),
    ...                             torch.nn.Linear(64, 64), torch.nn.Tanh())
    >>> batch = anyinit.RandomNormal(0.0, 1.0, seed=0)((256, 64), like=torch.empty(0))
    >>> _, report = anyinit.lsuv(model, batch, seed=0, return_report=True)
    >>> all(abs(step.variance - 1) < 0.1 for step in report)
    True
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        msg = f"`tol` must be a number in (0, 1); received {tol!r}."
        raise ValueError(msg)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        msg = f"`max_iter` must be an integer >= 1; received {max_iter!r}."
        raise ValueError(msg)
    if init is not None:
        tree = _weights(model)
        new = initialize(tree, _rules(tree, init), seed=seed)
        model = (model[0], new) if is_linen_pair(model) else new
    probe = probe_for(model, call_kwargs)
    rows, _ = probe.run(batch)
    order = [row.layer.path for row in rows if row.layer.kind in _SCALED]
    if not order:
        msg = (
            f"`model` ({type(model).__name__}) ran no dense or convolution layer on the batch: "
            "LSUV has nothing to rescale"
        )
        raise ValueError(msg)
    report = []
    for path in order:
        variance = _variance(probe, batch, path)
        iterations, product = 0, 1.0
        while abs(variance - 1) >= tol and iterations < max_iter:
            factor = 1 / math.sqrt(variance)
            probe.scale(_layer(probe, path), factor)
            product *= factor
            iterations += 1
            variance = _variance(probe, batch, path)
        if abs(variance - 1) >= tol:
            warnings.warn(
                f"LSUV: the output variance of {path!r} is {variance:.4g} after {max_iter} "
                f"rescalings, outside 1 ± {tol}; raise max_iter or tol",
                RuntimeWarning,
                stacklevel=2,
            )
        report.append(LSUVLayer(path, iterations, variance, product))
    result = probe.result()
    return (result, report) if return_report else result


def _layer(probe: Any, path: str) -> Any:
    return next(layer for layer in probe.layers if layer.path == path)


def _variance(probe: Any, batch: Any, path: str) -> float:
    rows, _ = probe.run(batch, stop_after=path)
    row = next(row for row in rows if row.layer.path == path)
    variance = float(np.var(probe.to_numpy(row.pre).astype(np.float64)))
    if not math.isfinite(variance) or variance == 0:
        msg = (
            f"LSUV: the output of {path!r} has variance {variance} on the batch, so no "
            "rescaling can make it 1; check the batch and the layers before it"
        )
        raise ValueError(msg)
    return variance
