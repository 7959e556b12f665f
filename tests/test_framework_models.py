"""``anyinit.initialize`` across frameworks: the same model gets the same weights in torch,
Flax linen, Flax NNX, Equinox and Keras for every preset, and each preset draws what its
framework draws (``examples/port_torch_flax.py`` holds the five models)."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import anyinit

pytest.importorskip("flax")
pytest.importorskip("equinox")
pytest.importorskip("keras")
pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

_PATH = pathlib.Path(__file__).resolve().parents[1] / "examples" / "port_torch_flax.py"
_spec = importlib.util.spec_from_file_location("port_torch_flax", _PATH)
port = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(port)

_JAX_FAMILY = ("flax", "nnx", "equinox")  # Keras runs on its torch backend here


@pytest.fixture(scope="module")
def rows():
    return port.compare(port.PRESETS, port.FRAMEWORKS)


@pytest.mark.parametrize("preset", port.PRESETS)
def test_every_framework_gets_the_same_weights(rows, preset):
    for row in (r for r in rows if r["preset"] == preset):
        if preset == "keras" or set(row["pair"]) <= set(_JAX_FAMILY):
            # Uniform laws and constants (and every pair drawing with JAX): bit for bit.
            assert row["weights"] == 0, row
        else:
            # The normal laws (Embedding's N(0, 1), Flax's truncated normal): torch's kernel
            # and JAX's agree to a few ulp.
            assert row["weights"] <= 5e-7, row
        assert row["outputs"] <= 1e-5, row


def _own_and_ours(framework, preset):
    own = port.BUILDERS[framework]()
    theirs = port.canonical_weights(own)
    ours = port.canonical_weights(port.initialize(port.BUILDERS[framework](), preset, seed=3))
    return theirs, ours


@pytest.mark.parametrize(
    ("framework", "preset"),
    [
        ("flax", "flax"),
        ("nnx", "flax"),
        ("equinox", "equinox"),
        ("keras", "keras"),
        ("torch", "torch"),
    ],
)
def test_each_preset_draws_its_frameworks_own_law(framework, preset):
    theirs, ours = _own_and_ours(framework, preset)
    assert theirs.keys() == ours.keys()
    for path, own in theirs.items():
        if np.all(own == own.ravel()[0]):
            np.testing.assert_array_equal(ours[path], own, err_msg=path)  # ones, zeros
            continue
        if own.size >= 500:  # the sample's range is the law's only for many values
            assert np.abs(ours[path]).max() <= np.abs(own).max() * 1.6 + 1e-12, path
        assert stats.ks_2samp(own.ravel(), ours[path].ravel()).pvalue > 1e-4, path


def test_nnx_and_keras_change_in_place_equinox_and_linen_return_new():
    nnx_model = port.build_nnx()
    assert anyinit.initialize(nnx_model, "torch", seed=0) is nnx_model
    keras_model = port.build_keras()
    assert anyinit.initialize(keras_model, "torch", seed=0) is keras_model
    eqx_model = port.build_equinox()
    new = anyinit.initialize(eqx_model, "torch", seed=0)
    assert new is not eqx_model
    assert not np.array_equal(np.asarray(new.fc1.weight), np.asarray(eqx_model.fc1.weight))
    flax_model = port.build_flax()
    params = anyinit.initialize(flax_model.params, "torch", seed=0)
    assert set(params) == {"params"}


def test_the_example_prints_its_table(capsys):
    assert port.main(["--presets", "keras", "--frameworks", "torch", "flax"]) == 0
    assert "torch vs flax" in capsys.readouterr().out


def _assert_same_law(own, ours, where):
    own, ours = np.asarray(own, np.float64).ravel(), np.asarray(ours, np.float64).ravel()
    if len(np.unique(own)) <= 2:  # constants, and LSTM's zeros-and-ones forget bias
        np.testing.assert_array_equal(ours, own, err_msg=where)
        return
    if own.size >= 500:
        assert np.abs(ours).max() <= np.abs(own).max() * 1.6 + 1e-12, where
    assert stats.ks_2samp(own, ours).pvalue > 1e-4, where


_KERAS_LAYERS = {
    "Dense": (lambda k: k.layers.Dense(300), (None, 200)),
    "Conv2D": (lambda k: k.layers.Conv2D(32, 5), (None, 12, 12, 16)),
    "Conv2DTranspose": (lambda k: k.layers.Conv2DTranspose(16, 5), (None, 12, 12, 32)),
    "Embedding": (lambda k: k.layers.Embedding(400, 32), (None, 3)),
    "LayerNormalization": (lambda k: k.layers.LayerNormalization(), (None, 64)),
    "BatchNormalization": (lambda k: k.layers.BatchNormalization(), (None, 64)),
    "SimpleRNN": (lambda k: k.layers.SimpleRNN(48), (None, 5, 64)),
    "LSTM": (lambda k: k.layers.LSTM(48), (None, 5, 64)),
    "GRU": (lambda k: k.layers.GRU(48), (None, 5, 64)),
}


@pytest.mark.parametrize("layer", list(_KERAS_LAYERS))
def test_the_keras_preset_is_each_keras_layers_default(layer):
    import keras

    build, shape = _KERAS_LAYERS[layer]
    own, ours = build(keras), build(keras)
    own.build(shape)
    ours.build(shape)
    assert anyinit.initialize(ours, "keras", seed=0) is ours
    for a, b in zip(own.trainable_weights, ours.trainable_weights, strict=True):
        _assert_same_law(
            keras.ops.convert_to_numpy(a.value),
            keras.ops.convert_to_numpy(b.value),
            f"{layer} {a.path}",
        )


def _flax_layers():
    from flax import linen as nn

    return {
        "Dense": (nn.Dense(300), (2, 200)),
        "Conv": (nn.Conv(32, (5, 5)), (1, 12, 12, 16)),
        "ConvTranspose": (nn.ConvTranspose(16, (5, 5)), (1, 12, 12, 32)),
        "Embed": (nn.Embed(400, 32), None),
        "LayerNorm": (nn.LayerNorm(), (2, 64)),
        "BatchNorm": (nn.BatchNorm(use_running_average=False), (2, 64)),
        "LSTMCell": (nn.LSTMCell(48), "cell"),
        "GRUCell": (nn.GRUCell(48), "cell"),
    }


@pytest.mark.parametrize(
    "layer",
    ["Dense", "Conv", "ConvTranspose", "Embed", "LayerNorm", "BatchNorm", "LSTMCell", "GRUCell"],
)
def test_the_flax_preset_is_each_linen_layers_default(layer):
    import jax
    import jax.numpy as jnp

    module, shape = _flax_layers()[layer]
    key = jax.random.key(0)
    if shape is None:
        variables = module.init(key, jnp.zeros((2,), jnp.int32))
    elif shape == "cell":
        carry = module.initialize_carry(key, (2, 64))
        variables = module.init(key, carry, jnp.zeros((2, 64), jnp.float32))
    else:
        variables = module.init(key, jnp.zeros(shape, jnp.float32))
    params = {"params": variables["params"]}
    new = anyinit.initialize(params, "flax", seed=0)
    own_leaves = jax.tree_util.tree_leaves_with_path(params)
    new_leaves = dict(jax.tree_util.tree_leaves_with_path(new))
    for path, value in own_leaves:
        _assert_same_law(value, new_leaves[path], f"{layer} {jax.tree_util.keystr(path)}")
    for gate in ("hi", "hf", "hg", "ho", "hr", "hz", "hn"):  # Flax's orthogonal recurrence
        if gate in new["params"]:
            r = np.asarray(new["params"][gate]["kernel"], np.float64)
            np.testing.assert_allclose(r @ r.T, np.eye(r.shape[0]), atol=1e-5)


def _equinox_layers(key):
    import equinox as eqx

    nn = eqx.nn
    return {
        "Linear": nn.Linear(200, 300, key=key),
        "Conv2d": nn.Conv2d(16, 32, 5, key=key),
        "ConvTranspose2d": nn.ConvTranspose2d(32, 16, 5, key=key),
        "Embedding": nn.Embedding(400, 32, key=key),
        "LayerNorm": nn.LayerNorm(64),
        "GroupNorm": nn.GroupNorm(4, 64),
        "LSTMCell": nn.LSTMCell(64, 48, key=key),
        "GRUCell": nn.GRUCell(64, 48, key=key),
    }


@pytest.mark.parametrize(
    "layer",
    [
        "Linear",
        "Conv2d",
        "ConvTranspose2d",
        "Embedding",
        "LayerNorm",
        "GroupNorm",
        "LSTMCell",
        "GRUCell",
    ],
)
def test_the_equinox_preset_is_each_equinox_layers_default(layer):
    import jax

    own = _equinox_layers(jax.random.key(0))[layer]
    new = anyinit.initialize(own, "equinox", seed=0)
    for a, b in zip(jax.tree_util.tree_leaves(own), jax.tree_util.tree_leaves(new), strict=True):
        if hasattr(a, "shape") and a.shape:
            _assert_same_law(a, b, layer)


def test_an_unbuilt_keras_model_is_refused_with_how_to_build_it():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.layers.Dense(4)])
    for rules in ("keras", {"*kernel": anyinit.Zeros()}):
        with pytest.raises(ValueError, match="is not built"):
            anyinit.initialize(model, rules, seed=0)
    model.build((None, 3))
    _, report = anyinit.initialize(model, "keras", seed=0, return_report=True)
    assert len(report) == 2


def _nested_models():
    """Two blocks in a list and a Sequential head, in four frameworks, with no `names=`."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import torch
    from flax import linen, nnx

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(8, 8) for _ in range(2)])
            self.head = torch.nn.Sequential(
                torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
            )

    class LinenNet(linen.Module):
        def setup(self):
            self.blocks = [linen.Dense(8) for _ in range(2)]
            self.head = linen.Sequential([linen.Dense(4), linen.relu, linen.Dense(2)])

        def __call__(self, x):
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    class NNXNet(nnx.Module):
        def __init__(self, rngs):
            self.blocks = nnx.List([nnx.Linear(8, 8, rngs=rngs) for _ in range(2)])
            self.head = nnx.Sequential(
                nnx.Linear(8, 4, rngs=rngs), nnx.relu, nnx.Linear(4, 2, rngs=rngs)
            )

    keys = jax.random.split(jax.random.key(0), 4)

    class EqxNet(eqx.Module):
        blocks: list
        head: eqx.nn.Sequential

        def __init__(self):
            self.blocks = [eqx.nn.Linear(8, 8, key=k, dtype=jnp.float32) for k in keys[:2]]
            self.head = eqx.nn.Sequential(
                [eqx.nn.Linear(8, 4, key=keys[2], dtype=jnp.float32), eqx.nn.Lambda(jax.nn.relu),
                 eqx.nn.Linear(4, 2, key=keys[3], dtype=jnp.float32)]
            )  # fmt: skip

    linen_params = LinenNet().init(jax.random.key(0), jnp.zeros((1, 8), jnp.float32))
    return {
        "torch": TorchNet(),
        "flax": linen_params,
        "nnx": NNXNet(nnx.Rngs(0)),
        "equinox": EqxNet(),
    }


def test_lists_of_blocks_and_sequentials_get_the_same_paths_in_every_framework():
    # Regression: linen's `blocks_0` and Sequential's `layers_0` needed names= to meet
    # torch's `blocks.0`; torch's Sequential items are `layers.N` as in the JAX frameworks.
    models = _nested_models()
    expected = [
        "blocks.0.kernel", "blocks.0.bias", "blocks.1.kernel", "blocks.1.bias",
        "head.layers.0.kernel", "head.layers.0.bias", "head.layers.2.kernel", "head.layers.2.bias",
    ]  # fmt: skip
    weights = {}
    for framework, model in models.items():
        new = anyinit.initialize(model, "torch", seed=7)
        weights[framework] = {k: np.asarray(v) for k, v in anyinit.canonical_weights(new).items()}
        assert sorted(weights[framework]) == sorted(expected), framework
    for framework, found in weights.items():
        for path, value in found.items():
            np.testing.assert_array_equal(value, weights["torch"][path], err_msg=framework)
