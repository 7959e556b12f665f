"""One model in five frameworks, the same initial weights in each: ``anyinit.initialize``.

The model (an Embedding, a Linear, a LayerNorm, a second Linear and a Conv2d,
with the same layer names everywhere) is written in PyTorch, Flax linen, Flax
NNX, Equinox and Keras, and initialised with each framework's defaults as a
preset (``"torch"``, ``"keras"``, ``"flax"``, ``"equinox"``). For every preset
and every pair of frameworks it prints the largest difference between the
weights (after transposing each into the canonical layout) and between the
outputs on the same input::

    python examples/port_torch_flax.py
    python examples/port_torch_flax.py --presets torch flax --frameworks torch flax

Frameworks that are not installed are left out. Uniform laws agree exactly;
normal laws to the portable stream's few ulp between torch's and JAX's
kernels; outputs to float32 rounding of each framework's own arithmetic.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import anyinit

PRESETS = ("torch", "keras", "flax", "equinox")
FRAMEWORKS = ("torch", "flax", "nnx", "equinox", "keras")
_NEEDS = {"torch": "torch", "flax": "flax", "nnx": "flax", "equinox": "equinox", "keras": "keras"}
VOCAB, WIDTH, HIDDEN, OUT, CHANNELS = 10, 16, 32, 4, 8
EPS = 1e-5


def available(framework: str) -> bool:
    """Whether `framework`'s package is installed."""
    return importlib.util.find_spec(_NEEDS[framework]) is not None


def inputs(seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of two: features, token ids and an NCHW image."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((2, WIDTH), dtype=np.float32),
        "tokens": rng.integers(0, VOCAB, (2, 5)),
        "image": rng.standard_normal((2, 3, 8, 8), dtype=np.float32),
    }


def _jax_forward(
    embed: Callable,
    fc1: Callable,
    norm: Callable,
    fc2: Callable,
    conv: Callable,
    data: dict[str, np.ndarray],
) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    h = fc1(jnp.asarray(data["x"]) + embed(jnp.asarray(data["tokens"])).mean(axis=1))
    out = fc2(norm(jax.nn.relu(h)))
    image = conv(jnp.asarray(data["image"]))
    return np.concatenate([np.asarray(out).ravel(), np.asarray(image).ravel()])


# -- the five models ------------------------------------------------------------------


def build_torch() -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, WIDTH)
            self.fc1 = nn.Linear(WIDTH, HIDDEN)
            self.norm = nn.LayerNorm(HIDDEN, eps=EPS)
            self.fc2 = nn.Linear(HIDDEN, OUT)
            self.conv = nn.Conv2d(3, CHANNELS, 3)

        def outputs(self, data: dict[str, np.ndarray]) -> np.ndarray:
            x = torch.from_numpy(data["x"]) + self.embed(torch.from_numpy(data["tokens"])).mean(1)
            out = self.fc2(self.norm(torch.relu(self.fc1(x))))
            image = self.conv(torch.from_numpy(data["image"]))
            return np.concatenate([out.detach().numpy().ravel(), image.detach().numpy().ravel()])

    torch.manual_seed(0)
    return Net()


class _FlaxModel:
    """A linen module with its params (initialize returns new params)."""

    def __init__(self) -> None:
        import jax
        from flax import linen as nn

        class Net(nn.Module):
            @nn.compact
            def __call__(self, x: Any, tokens: Any, image: Any) -> Any:
                h = nn.Dense(HIDDEN, name="fc1")(
                    x + nn.Embed(VOCAB, WIDTH, name="embed")(tokens).mean(axis=1)
                )
                out = nn.Dense(OUT, name="fc2")(nn.LayerNorm(EPS, name="norm")(jax.nn.relu(h)))
                conv = nn.Conv(CHANNELS, (3, 3), padding="VALID", name="conv")
                return out, conv(image.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

        self.module = Net()
        data = inputs()
        self.params = self.module.init(jax.random.key(0), data["x"], data["tokens"], data["image"])

    def outputs(self, data: dict[str, np.ndarray]) -> np.ndarray:
        out, image = self.module.apply(self.params, data["x"], data["tokens"], data["image"])
        return np.concatenate([np.asarray(out).ravel(), np.asarray(image).ravel()])


def build_flax() -> Any:
    return _FlaxModel()


def build_nnx() -> Any:
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.embed = nnx.Embed(VOCAB, WIDTH, rngs=rngs)
            self.fc1 = nnx.Linear(WIDTH, HIDDEN, rngs=rngs)
            self.norm = nnx.LayerNorm(HIDDEN, epsilon=EPS, rngs=rngs)
            self.fc2 = nnx.Linear(HIDDEN, OUT, rngs=rngs)
            self.conv = nnx.Conv(3, CHANNELS, (3, 3), padding="VALID", rngs=rngs)

        def outputs(self, data: dict[str, np.ndarray]) -> np.ndarray:
            def conv(image: Any) -> Any:
                return self.conv(image.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

            return _jax_forward(self.embed, self.fc1, self.norm, self.fc2, conv, data)

    return Net(nnx.Rngs(0))


def build_equinox() -> Any:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(0), 5)

    class Net(eqx.Module):
        embed: eqx.nn.Embedding
        fc1: eqx.nn.Linear
        norm: eqx.nn.LayerNorm
        fc2: eqx.nn.Linear
        conv: eqx.nn.Conv2d

        def __init__(self) -> None:
            # float32 also where JAX runs with float64 enabled.
            f32 = jnp.float32
            self.embed = eqx.nn.Embedding(VOCAB, WIDTH, key=keys[0], dtype=f32)
            self.fc1 = eqx.nn.Linear(WIDTH, HIDDEN, key=keys[1], dtype=f32)
            self.norm = eqx.nn.LayerNorm(HIDDEN, eps=EPS, dtype=f32)
            self.fc2 = eqx.nn.Linear(HIDDEN, OUT, key=keys[2], dtype=f32)
            self.conv = eqx.nn.Conv2d(3, CHANNELS, 3, key=keys[3], dtype=f32)

        def outputs(self, data: dict[str, np.ndarray]) -> np.ndarray:
            batch = jax.vmap
            embed = batch(batch(self.embed))
            return _jax_forward(
                embed, batch(self.fc1), batch(self.norm), batch(self.fc2), batch(self.conv), data
            )

    return Net()


def build_keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax" if importlib.util.find_spec("jax") else "numpy")
    import keras

    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.embed = keras.layers.Embedding(VOCAB, WIDTH, name="embed")
            self.fc1 = keras.layers.Dense(HIDDEN, name="fc1")
            self.norm = keras.layers.LayerNormalization(epsilon=EPS, name="norm")
            self.fc2 = keras.layers.Dense(OUT, name="fc2")
            self.conv = keras.layers.Conv2D(CHANNELS, 3, name="conv")

        def call(self, x: Any, tokens: Any, image: Any) -> Any:
            h = self.fc1(x + keras.ops.mean(self.embed(tokens), axis=1))
            out = self.fc2(self.norm(keras.ops.relu(h)))
            conv = self.conv(keras.ops.transpose(image, (0, 2, 3, 1)))
            return out, keras.ops.transpose(conv, (0, 3, 1, 2))

        def outputs(self, data: dict[str, np.ndarray]) -> np.ndarray:
            out, image = self(data["x"], data["tokens"], data["image"])
            arrays = [keras.ops.convert_to_numpy(a).ravel() for a in (out, image)]
            return np.concatenate(arrays)

    net = Net()
    data = inputs()
    net(data["x"], data["tokens"], data["image"])  # builds the variables
    return net


BUILDERS = {
    "torch": build_torch,
    "flax": build_flax,
    "nnx": build_nnx,
    "equinox": build_equinox,
    "keras": build_keras,
}


# -- initialising, comparing ----------------------------------------------------------


def initialize(model: Any, preset: str, seed: int = 0) -> Any:
    """``anyinit.initialize`` on the model (for linen: on its params)."""
    if isinstance(model, _FlaxModel):
        model.params = anyinit.initialize(model.params, preset, seed=seed)
        return model
    return anyinit.initialize(model, preset, seed=seed)


def canonical_weights(model: Any) -> dict[str, np.ndarray]:
    """Every parameter by normalised path, in the canonical layout, as NumPy arrays."""
    tree = model.params if isinstance(model, _FlaxModel) else model
    return {path: np.asarray(value) for path, value in anyinit.canonical_weights(tree).items()}


def largest_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """The largest absolute difference between two models' weights (same paths, shapes)."""
    if a.keys() != b.keys():
        msg = f"the models' parameters differ: {sorted(a.keys() ^ b.keys())}"
        raise ValueError(msg)
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def compare(presets: Sequence[str], frameworks: Sequence[str]) -> list[dict[str, Any]]:
    """For each preset and framework pair: the largest weight and output differences."""
    data = inputs(1)
    rows = []
    for preset in presets:
        models = {name: initialize(BUILDERS[name](), preset) for name in frameworks}
        weights = {name: canonical_weights(m) for name, m in models.items()}
        outputs = {name: m.outputs(data) for name, m in models.items()}
        for first, second in itertools.combinations(frameworks, 2):
            rows.append(
                {
                    "preset": preset,
                    "pair": (first, second),
                    "weights": largest_difference(weights[first], weights[second]),
                    "outputs": float(np.max(np.abs(outputs[first] - outputs[second]))),
                }
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=PRESETS, choices=PRESETS)
    parser.add_argument("--frameworks", nargs="+", default=FRAMEWORKS, choices=FRAMEWORKS)
    args = parser.parse_args(argv)
    frameworks = [name for name in args.frameworks if available(name)]
    missing = sorted(set(args.frameworks) - set(frameworks))
    if missing:
        print(f"not installed, left out: {', '.join(missing)}")
    print(f"{'preset':8} {'frameworks':18} {'max |Δ weight|':>15} {'max |Δ output|':>15}")
    for row in compare(args.presets, frameworks):
        pair = " vs ".join(row["pair"])
        print(f"{row['preset']:8} {pair:18} {row['weights']:15.3g} {row['outputs']:15.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
