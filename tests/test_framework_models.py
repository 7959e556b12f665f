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
