"""The seed's experiment on every backend's arrays (``anyinit.diagnostics.mlp_experiment``),
the report's table, rows and figure, and ``anyinit diagnose`` on the command line. The same
experiment on torch, Flax, NNX, Equinox and Keras models: tests/test_framework_diagnose.py."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import anyinit
from anyinit.diagnostics import DiagnosisReport, layer_statistics, mlp_experiment


def _numbers(report):
    return np.array([[row["mean"], row["std"], row["saturated"] or 0.0, row["zeros"]]
                     for row in report.rows()])  # fmt: skip


@pytest.fixture(scope="module")
def on_numpy():
    return {label: mlp_experiment(init, activation=activation)
            for label, init, activation in _CASES}  # fmt: skip


_CASES = [
    ("N(0, 1) sigmoid", anyinit.RandomNormal(0.0, 1.0), "sigmoid"),
    ("N(0, 0.01) sigmoid", anyinit.RandomNormal(0.0, 0.01), "sigmoid"),
    ("Xavier sigmoid", anyinit.GlorotUniform(), "sigmoid"),
    ("He relu", anyinit.HeNormal(), "relu"),
]


def test_the_seed_experiment_reads_the_same_on_every_backend(backend, on_numpy):
    for label, init, activation in _CASES:
        report = mlp_experiment(init, activation=activation, backend=backend.name,
                                device=backend.device)  # fmt: skip
        np.testing.assert_allclose(_numbers(report), _numbers(on_numpy[label]), rtol=1e-5,
                                   atol=1e-7, err_msg=label)  # fmt: skip


def test_the_seed_experiment_shows_what_the_seed_shows(on_numpy):
    big, small, xavier, he = (on_numpy[label].rows() for label, _, _ in _CASES)
    assert all(row["saturated"] >= 0.4 for row in big)
    assert all(row["std"] <= 0.05 for row in small)
    assert all(0.08 <= row["std"] <= 0.3 and row["saturated"] <= 0.05 for row in xavier)
    assert all(0.4 <= row["zeros"] <= 0.6 and row["saturated"] is None for row in he)


def test_the_experiment_draws_the_kernels_initialize_draws():
    """Layer k's kernel is initialize's draw for ``layers.k.kernel``: the framework models
    whose layers are named alike get the same weights, hence the same report."""
    init = anyinit.GlorotUniform()
    tree = {"layers": [{"kernel": np.zeros((8, 8), np.float32)} for _ in range(3)]}
    tree = anyinit.initialize(tree, {"*.kernel": init}, seed=5)
    x = np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=5)((20, 8)))
    for layer in tree["layers"]:
        x = np.tanh(x @ layer["kernel"])
    last = mlp_experiment(init, depth=3, width=8, batch=20, activation="tanh", seed=5)[-1]
    assert last.std == pytest.approx(float(x.astype(np.float64).std()), rel=1e-6)


def test_statistics_count_saturation_zeros_and_mark_what_does_not_apply():
    row = layer_statistics("a", "dense", "a.kernel", np.array([0.005, 0.5, 0.995, 0.0]),
                           "sigmoid")  # fmt: skip
    assert row.saturated == 0.75
    assert row.zeros == 0.25
    row = layer_statistics("a", "dense", "a.kernel", np.array([-0.995, 0.2]), "tanh")
    assert row.saturated == 0.5
    row = layer_statistics("a", "dense", "a.kernel", np.array([0.0, 2.0]), "relu", np.ones(3))
    assert row.saturated is None
    assert row.zeros == 0.5
    assert row.grad_std == 0.0
    assert row.mean == 1.0
    assert row.std == 1.0
    empty = layer_statistics("a", "dense", "a.kernel", np.zeros((0, 4)), None)
    assert np.isnan(empty.mean)
    assert empty.saturated is None


def test_the_table_and_the_rows():
    rows = [layer_statistics(f"fc{k}", "dense", f"fc{k}.kernel", np.full(4, float(k)), None, k)
            for k in (1, 2)]  # fmt: skip
    report = DiagnosisReport(rows, "numpy", with_grad=True)
    assert report.rows()[1] == {"layer": "fc2", "mean": 2.0, "std": 0.0, "saturated": None,
                                "zeros": 0.0, "grad_std": 0.0}  # fmt: skip
    lines = str(report).splitlines()
    assert lines[1].split() == ["layer", "activation", "mean", "std", "saturated", "zeros",
                                "grad", "std"]  # fmt: skip
    assert lines[3].split() == ["fc1", "—", "1", "0", "—", "0.0%", "0"]
    assert len(report) == 2
    assert report[0].layer == "fc1"


def test_the_figure_has_a_panel_per_layer_and_the_std_by_depth(on_numpy, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    report = on_numpy["Xavier sigmoid"]
    figure = report.plot(tmp_path / "figure.png")
    assert len(figure.axes) == 6
    assert figure.axes[-1].get_title() == "std by depth"
    image = imread(tmp_path / "figure.png")
    assert image.shape[0] > 100
    assert float(image[..., :3].std()) > 0.05
    with pytest.raises(ValueError, match="no layers"):
        DiagnosisReport([], "numpy").plot()


@pytest.mark.parametrize(
    ("options", "match"),
    [({"activation": "softmax"}, "`activation` must be one of"), ({"depth": 0}, "`depth`"),
     ({"width": 2.5}, "`width`"), ({"init": "no_such_law"}, "no_such_law")],
)  # fmt: skip
def test_the_experiment_refuses_bad_arguments(options, match):
    with pytest.raises(ValueError, match=match):
        mlp_experiment(**options)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "anyinit", "diagnose", *args],
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_the_command_line_runs_the_seed_experiment(tmp_path):
    pytest.importorskip("matplotlib")
    out = _cli("--plot", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("layers.4  sigmoid") == 4
    assert len(list(tmp_path.glob("diagnose_*.png"))) == 4
    reference = mlp_experiment(anyinit.RandomNormal(0.0, 0.01))
    assert f"{reference[2].std:.4g}" in out.stdout


def test_the_command_line_takes_one_init_with_arguments_and_says_what_is_wrong(tmp_path):
    out = _cli("--init", "variance_scaling:scale=2.0,mode=fan_in", "--activation", "relu",
               "--depth", "3", "--width", "16", "--batch", "64")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "3-layer 16-unit relu MLP, VarianceScaling" in out.stdout
    bad = _cli("--init", "nope")
    assert bad.returncode == 2
    assert "--init" in bad.stderr
    assert "nope" in bad.stderr
    file = tmp_path / "one.png"
    two = _cli("--init", "he_normal", "--init", "glorot_uniform", "--plot", str(file))
    assert two.returncode == 2
    assert "give an existing folder" in two.stderr
    missing = _cli("--backend", "no_such_module_xyz")
    assert missing.returncode == 2
    assert "not installed" in missing.stderr
