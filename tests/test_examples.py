"""The runnable examples in ``examples/`` work on the backend under test."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def activations():
    return _load("activations")


@pytest.fixture(scope="module")
def result(activations, backend):
    return activations.run(backend.name, device=backend.device)


def test_activations_show_the_classic_picture(result):
    tanh, relu, sigmoid = result["tanh"], result["relu"], result["sigmoid"]
    # N(0, 1) saturates tanh: almost every unit at ±1 in every layer.
    assert all(np.mean(np.abs(layer) > 0.9) > 0.85 for layer in tanh["N(0, 1)"])
    # N(0, 0.01²) shrinks tanh's activations tenfold per layer.
    assert tanh["N(0, 0.01²)"][-1].std() < 1e-4
    # Glorot keeps tanh and sigmoid alive; He keeps ReLU's scale through five layers.
    assert 0.2 < tanh["Glorot uniform"][-1].std() < 0.8
    assert sigmoid["Glorot uniform"][-1].std() > 0.05
    stds = [layer.std() for layer in relu["He normal"]]
    assert max(stds) / min(stds) < 1.5
    # N(0, 1) makes ReLU explode, N(0, 0.01²) makes it vanish.
    assert relu["N(0, 1)"][-1].std() > 1e3
    assert relu["N(0, 0.01²)"][-1].std() < 1e-4
    assert all(layer.shape == (1000, 100) for layer in relu["He normal"])


@pytest.mark.skip_backend("numpy", reason="this backend is the reference")
def test_activations_are_the_same_on_every_backend(activations, result, backend):
    reference = activations.run("numpy")
    for name in ("tanh", "relu"):
        for init in ("Glorot uniform", "He normal"):
            for got, want in zip(result[name][init], reference[name][init], strict=True):
                np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_activation_figures_and_summary(activations, result, tmp_path):
    pytest.importorskip("matplotlib", reason="the figures need matplotlib (test group)")
    figure = activations.figure("relu", result["relu"], "test")
    assert len(figure.axes) == 4 * 5
    assert "He normal" in activations.summary(result)
    assert activations.main(["--output", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"activations_{a}.png" for a in ("relu", "sigmoid", "tanh")]


def test_the_recipe_depth_example_shows_gpt2s_and_llamas_scalings(tmp_path):
    example = _load("recipe_depth")
    result = example.run()
    assert result["gpt2"]["attn.c_proj"][0] == pytest.approx(0.02 / 24**0.5, rel=0.05)
    scaled = result["llama depth_init"]["self_attn.o_proj"]
    for i, std in enumerate(scaled):  # trunc_normal_(std=σᵢ) at ±2 absolute: std σᵢ
        assert std == pytest.approx(0.02 / (2 * (i + 1)) ** 0.5, rel=0.05)
    assert "llama depth_init" in example.summary(result)
    example.figure(result).savefig(tmp_path / "depth.png")
    assert (tmp_path / "depth.png").stat().st_size > 10_000


def test_the_diagnose_example_shows_lsuv_bringing_each_layer_to_unit_variance(tmp_path):
    pytest.importorskip("torch")
    example = _load("diagnose_models")
    reports = list(example.run().values())
    cnn_before, cnn_after, block_before, block_after = reports
    rescaled = [layer for layer in cnn_after if layer.activation is None]  # conv2s and the head
    assert all(layer.std == pytest.approx(1.0, abs=0.05) for layer in rescaled)
    assert all(layer.std < 0.2 for layer in cnn_before if layer.activation is None)
    assert cnn_after[-1].grad_std > 10 * cnn_before[-1].grad_std
    assert block_after[-1].layer == "fc2"
    assert block_after[-1].std == pytest.approx(1.0, abs=0.05)
    assert [layer.layer for layer in block_before] == ["norm1", "attn", "norm2", "fc1", "fc2"]
    assert example.main(["--output", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("diagnose_*.png"))) == 4
