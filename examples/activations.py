"""Why initialization matters: activations layer after layer in a 5-layer MLP.

Random inputs go through five fully connected layers of 100 units with
sigmoid, tanh or ReLU activations, with the weights drawn from N(0, 1),
N(0, 0.01²), Glorot (uniform) and He (normal). The histograms of each
layer's activations show the classic picture: N(0, 1) saturates sigmoid and
tanh (and explodes ReLU), N(0, 0.01²) makes the activations collapse to a
constant, Glorot keeps sigmoid and tanh alive, He keeps ReLU's scale.

Runs on any backend anyinit supports, with the same weights everywhere
(integer seeds draw from the portable stream)::

    python examples/activations.py --backend numpy --output figures/
    python examples/activations.py --backend torch --device cpu
    python examples/activations.py --backend jax

It prints the standard deviation of every layer's activations and, with
``--output``, writes one figure per activation (needs matplotlib).
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import anyinit

LAYERS = 5
WIDTH = 100
BATCH = 1000

#: Initializer factories by label, each taking a seed.
INITIALIZERS: dict[str, Callable[[int], anyinit.Initializer]] = {
    "N(0, 1)": lambda seed: anyinit.RandomNormal(0.0, 1.0, seed=seed),
    "N(0, 0.01²)": lambda seed: anyinit.RandomNormal(0.0, 0.01, seed=seed),
    "Glorot uniform": lambda seed: anyinit.glorot_uniform(seed=seed),
    "He normal": lambda seed: anyinit.he_normal(seed=seed),
}

#: The activations, written with Array API functions of the backend's namespace.
ACTIVATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "sigmoid": lambda xp, x: 1 / (1 + xp.exp(-x)),
    "tanh": lambda xp, x: xp.tanh(x),
    "relu": lambda xp, x: xp.maximum(x, xp.zeros_like(x)),
}

_MODULES = {"jax": "jax.numpy", "dask": "dask.array", "mlx": "mlx.core"}


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy of a NumPy, torch, JAX, CuPy, Dask or Array API array."""
    if hasattr(array, "compute"):  # dask
        array = array.compute()
    if hasattr(array, "get") and not isinstance(array, np.ndarray):  # cupy
        return array.get()
    if hasattr(array, "detach"):  # torch, on any device
        return array.detach().cpu().numpy()
    return np.from_dlpack(array)


def run(
    backend: str = "numpy", *, device: Any = None, seed: int = 0
) -> dict[str, dict[str, list[np.ndarray]]]:
    """Activations of every layer, by activation and initializer, as NumPy arrays.

    Parameters
    ----------
    backend : str
        Module name of the array library: ``numpy``, ``torch``, ``jax``,
        ``cupy``, ``dask``, ``array_api_strict``.
    device : optional
        The library's device (default: its default device).
    seed : int
        Seed of the inputs; layer ``k`` uses ``seed + 1 + k``.

    Returns
    -------
    dict
        ``result[activation][initializer]`` is the list of the five layers'
        activations, each ``(1000, 100)``.
    """
    from array_api_compat import array_namespace

    module = importlib.import_module(_MODULES.get(backend, backend))
    inputs = anyinit.RandomNormal(0.0, 1.0, seed=seed)((BATCH, WIDTH), xp=module, device=device)
    try:
        xp = array_namespace(inputs)
        host = False
    except TypeError:  # TensorFlow is no Array API library: the forward pass in NumPy
        xp, host = array_namespace(np.empty(0)), True
    result: dict[str, dict[str, list[np.ndarray]]] = {}
    for activation_name, activation in ACTIVATIONS.items():
        result[activation_name] = {}
        for label, factory in INITIALIZERS.items():
            x, layers = inputs, []
            for k in range(LAYERS):
                weight = factory(seed + 1 + k)((WIDTH, WIDTH), like=inputs)
                if host:
                    x, weight = np.asarray(to_numpy(x), np.float32), to_numpy(weight)
                x = activation(xp, xp.matmul(x, weight))
                layers.append(to_numpy(x))
            result[activation_name][label] = layers
    return result


def figure(activation: str, layers_by_init: dict[str, list[np.ndarray]], backend: str) -> Any:
    """One activation's histograms: a row per initializer, a column per layer."""
    from matplotlib.figure import Figure

    rows, cols = len(layers_by_init), LAYERS
    fig = Figure(figsize=(2.3 * cols, 1.75 * rows + 0.6), layout="constrained")
    fig.suptitle(
        f"{activation}: activations of a {LAYERS}-layer, {WIDTH}-unit MLP "
        f"({BATCH} random inputs, {backend})",
        fontsize=11,
    )
    grid = fig.subplots(rows, cols, squeeze=False)
    for row, (label, layers) in enumerate(layers_by_init.items()):
        for k, values in enumerate(layers):
            axes = grid[row][k]
            data = values.ravel()
            if activation == "sigmoid":
                span = (0.0, 1.0)
            elif activation == "tanh":
                span = (-1.0, 1.0)
            else:  # relu: one scale for all, so that growth and collapse show
                span = (0.0, 4.0)
            note = f"std {data.std():.3g}"
            if activation == "relu":
                zeros = float(np.mean(data == 0))
                data = data[data != 0]
                note += f"\n{zeros:.0%} zeros"
                beyond = float(np.mean(values > span[1]))
                if beyond > 0.005:
                    note += f"\n{beyond:.0%} beyond {span[1]:g}"
            axes.hist(data, bins=40, range=span, color="#1f77b4")
            axes.set_xlim(*span)
            axes.set_yticks([])
            axes.tick_params(labelsize=7)
            axes.text(
                0.97,
                0.95,
                note,
                transform=axes.transAxes,
                ha="right",
                va="top",
                fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
            )
            if row == 0:
                axes.set_title(f"layer {k + 1}", fontsize=9)
            if k == 0:
                axes.set_ylabel(label, fontsize=9)
    return fig


def summary(result: dict[str, dict[str, list[np.ndarray]]]) -> str:
    """A text table: the standard deviation of each layer's activations."""
    head = f"{'activation':<10} {'initializer':<16}" + "".join(
        f"{f'layer {k + 1}':>10}" for k in range(LAYERS)
    )
    lines = [head, "-" * len(head)]
    for activation, by_init in result.items():
        for label, layers in by_init.items():
            stds = "".join(f"{float(v.std()):>10.3g}" for v in layers)
            lines.append(f"{activation:<10} {label:<16}{stds}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", help="numpy, torch, jax, cupy, dask, …")
    parser.add_argument("--device", default=None, help="the backend's device, e.g. cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=pathlib.Path, help="folder for the PNG figures")
    args = parser.parse_args(argv)
    result = run(args.backend, device=args.device, seed=args.seed)
    print(f"standard deviation of the activations, backend {args.backend}")
    print(summary(result))
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        for activation, by_init in result.items():
            path = args.output / f"activations_{activation}.png"
            figure(activation, by_init, args.backend).savefig(path, dpi=110)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
