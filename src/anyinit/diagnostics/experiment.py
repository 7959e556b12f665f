"""The seed's experiment on plain arrays: a deep bias-free MLP on standard normal inputs.

It needs no framework: the weights come from :func:`anyinit.initialize` on a pytree
``{"layers": [{"kernel": …}, …]}``, so layer ``k``'s kernel is the one a torch, Flax,
Keras or Equinox MLP whose layers are named ``layers.k`` gets from the same rules and
seed, and its report is the one :func:`anyinit.diagnose` gives for those models.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .. import _compat
from ..adapters.builtin import MODULES
from ..initializers.base import Initializer
from ..initializers.random import RandomNormal
from ..initializers.registry import get
from ..models.initialize import initialize
from ..plotting import to_numpy
from ..target import array_backend
from .report import DiagnosisReport, layer_statistics

__all__ = ["EXPERIMENT_ACTIVATIONS", "mlp_experiment"]

#: The activations, written with the Array API functions of the backend's namespace.
EXPERIMENT_ACTIVATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "sigmoid": lambda xp, x: 1 / (1 + xp.exp(-x)),
    "tanh": lambda xp, x: xp.tanh(x),
    "relu": lambda xp, x: xp.maximum(x, xp.zeros_like(x)),
    "linear": lambda xp, x: x,
}


def mlp_experiment(
    init: Initializer | str = "glorot_uniform",
    *,
    depth: int = 5,
    width: int = 100,
    batch: int = 1000,
    activation: str = "sigmoid",
    seed: int = 0,
    backend: str = "numpy",
    device: Any = None,
) -> DiagnosisReport:
    """Run the seed's experiment and report each layer as :func:`anyinit.diagnose` does.

    `batch` × `width` standard normal inputs (``RandomNormal(0.0, 1.0, seed=seed)``) go
    through `depth` bias-free layers of `width` units, each followed by
    `activation`; layer ``k``'s kernel is ``initialize``'s draw for
    ``layers.k.kernel`` with the rules ``{"*.kernel": init}`` and `seed`.

    Parameters
    ----------
    init : Initializer or str
        The kernels' initializer, or its name (``"glorot_uniform"``).
    depth, width, batch : int
        Layers, units per layer, rows of the input.
    activation : {"sigmoid", "tanh", "relu", "linear"}
    seed : int
    backend : str
        The array library's module: ``numpy``, ``torch``, ``jax``, ``cupy``,
        ``dask``, ``array_api_strict``, …
    device : optional
        The library's device.

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.diagnostics import mlp_experiment
    >>> report = mlp_experiment(anyinit.RandomNormal(0.0, 1.0), activation="sigmoid")
    >>> all(row["saturated"] > 0.4 for row in report.rows())
    True
    """
    if activation not in EXPERIMENT_ACTIVATIONS:
        msg = (
            f"`activation` must be one of {tuple(EXPERIMENT_ACTIVATIONS)}; received {activation!r}"
        )
        raise ValueError(msg)
    for name, value in (("depth", depth), ("width", width), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"`{name}` must be a positive integer; received {value!r}"
            raise ValueError(msg)
    law = get(init) if isinstance(init, str) else init
    if not isinstance(law, Initializer):
        msg = f"`init` must be an initializer or its name; received {type(law).__name__}"
        raise TypeError(msg)
    module = importlib.import_module(MODULES.get(backend, backend))
    inputs = RandomNormal(0.0, 1.0, seed=seed)((batch, width), xp=module, device=device)
    tree = {"layers": [{"kernel": RandomNormal()((width, width), like=inputs)}
                       for _ in range(depth)]}  # fmt: skip
    tree = initialize(tree, {"*.kernel": law}, seed=seed)
    adapter = array_backend(inputs)[1]
    if adapter.exports:  # TensorFlow, MLX (not Array API libraries): the forward on the host
        inputs = adapter.host_values(inputs)
        tree = {"layers": [{"kernel": adapter.host_values(layer["kernel"])}
                           for layer in tree["layers"]]}  # fmt: skip
    xp = _compat.array_namespace(inputs)
    act = EXPERIMENT_ACTIVATIONS[activation]
    shown = None if activation == "linear" else activation
    x, layers = inputs, []
    for k, layer in enumerate(tree["layers"]):
        x = act(xp, xp.matmul(x, layer["kernel"]))
        layers.append(layer_statistics(f"layers.{k}", "dense", f"layers.{k}.kernel",
                                       to_numpy(x), shown))  # fmt: skip
    title = (f"{depth}-layer {width}-unit {activation} MLP, {type(law).__name__}, "
             f"{batch} inputs ({backend})")  # fmt: skip
    return DiagnosisReport(layers, backend, title=title)
