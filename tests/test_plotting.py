"""Exact densities of the distribution records, and the histogram figures drawn from them."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

import anyinit
from anyinit.laws import records as laws

pytest.importorskip("matplotlib", reason="the plotting tests need matplotlib (test group)")

RECORDS = [
    laws.Uniform(-0.3, 0.7),
    laws.Normal(0.2, 0.5),
    laws.TruncatedNormal(0.1, 0.5, -2.0, 2.0),
    laws.TruncatedNormal(0.0, 1.0, -0.5, 3.0),
    laws.BoundedNormal.between(0.0, 1.0, -1.0, 2.5),
    laws.ComplexNormal(0.7),
    laws.ComplexUniformDisk(1.3),
    laws.ComplexTruncatedNormal(0.4, 2.0),
    laws.SphereCoordinate(7, 2.0),
    laws.SphereCoordinate(300, 1.0),
]


def _support(law):
    low, high = law.bounds
    return (
        max(low, law.mean - 12 * law.std),
        min(high, law.mean + 12 * law.std),
    )


@pytest.mark.parametrize("law", RECORDS, ids=lambda law: law.describe())
def test_density_integrates_to_one_with_the_stated_mean_and_std(law):
    low, high = _support(law)
    mass = integrate.quad(law.pdf, low, high, limit=200)[0]
    assert mass == pytest.approx(1.0, abs=1e-7)
    if isinstance(law, (laws.ComplexNormal, laws.ComplexUniformDisk, laws.ComplexTruncatedNormal)):
        # Complex records describe the modulus; std is sqrt(E|z|²).
        second = integrate.quad(lambda x: x * x * law.pdf(x), low, high, limit=200)[0]
        assert math.sqrt(second) == pytest.approx(law.std, rel=1e-7)
        return
    mean = integrate.quad(lambda x: x * law.pdf(x), low, high, limit=200)[0]
    variance = integrate.quad(lambda x: (x - mean) ** 2 * law.pdf(x), low, high, limit=200)[0]
    assert mean == pytest.approx(law.mean, abs=1e-7)
    assert math.sqrt(variance) == pytest.approx(law.std, rel=1e-6)


@pytest.mark.parametrize("law", RECORDS[:8], ids=lambda law: law.describe())
def test_density_is_the_derivative_of_the_cdf(law):
    low, high = _support(law)
    for x in np.linspace(low, high, 23)[1:-1]:
        step = 1e-6 * (high - low)
        slope = (law.cdf(x + step) - law.cdf(x - step)) / (2 * step)
        assert slope == pytest.approx(law.pdf(x), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize(("shape", "column_axis"), [((48, 48), -1), ((20, 90), -1), ((6, 5, 4), 0)])
def test_orthogonal_entries_follow_the_sphere_coordinate_law(backend, shape, column_axis):
    init = anyinit.Orthogonal(gain=1.5, seed=11, column_axis=column_axis)
    law = init.law(shape)
    values = np.concatenate(
        [backend.to_numpy(init(shape, "float64", like=backend.like("float64"))).ravel()]
        + [
            backend.to_numpy(
                anyinit.Orthogonal(1.5, seed=s, column_axis=column_axis)(
                    shape, "float64", like=backend.like("float64")
                )
            ).ravel()
            for s in range(12)
        ]
    )

    def cdf(x):
        return integrate.quad(law.pdf, law.bounds[0], x)[0]

    assert stats.kstest(values, np.vectorize(cdf)).pvalue > 1e-3
    assert law.std == pytest.approx(
        1.5 / math.sqrt(max(math.prod(shape) // shape[column_axis], shape[column_axis]))
    )


def test_sparse_and_delta_orthogonal_describe_their_exact_zeros(backend):
    sparse = anyinit.Sparse(sparsity=0.3, stddev=0.2, seed=0)
    law = sparse.law((10, 40))
    values = backend.to_numpy(sparse((10, 40), like=backend.like()))
    assert law.zero_fraction == 0.3
    assert float(np.mean(values == 0)) == pytest.approx(law.zero_fraction)
    assert law.std == pytest.approx(math.sqrt(0.7) * 0.2)
    delta = anyinit.DeltaOrthogonal(seed=0).law((3, 3, 8, 16))
    assert delta.zero_fraction == pytest.approx(8 / 9)
    assert delta.law.dimension == 16


@pytest.mark.parametrize("name", ["glorot_normal", "orthogonal", "sparse", "he_uniform"])
def test_histogram_figure_draws_every_sample_and_the_density(backend, name):
    init = anyinit.get(
        {
            "class_name": name,
            "config": {"seed": 0, **({"sparsity": 0.5} if name == "sparse" else {})},
        }
    )
    from anyinit.plotting import histogram_figure

    shape = (64, 32)
    law = init.law(shape)
    samples = {f"{backend.name} under test": init(shape, like=backend.like()), "numpy": init(shape)}
    figure = histogram_figure(samples, law, title=name)
    (axes,) = figure.axes
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert len(labels) == 3
    assert labels[-1].startswith("exact density")
    # The dashed curve is the law's density on the plotted grid.
    (curve,) = axes.get_lines()
    x, y = curve.get_data()
    assert y[len(y) // 2] == pytest.approx(
        law.pdf(x[len(x) // 2]) if name != "sparse" else law.law.pdf(x[len(x) // 2])
    )


def test_cli_sample_plot_writes_a_png(backend, tmp_path):
    path = tmp_path / "hist.png"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "anyinit",
            "sample",
            "sparse",
            "--shape",
            "128",
            "64",
            "--param",
            "sparsity=0.25",
            "--seed",
            "3",
            "--backend",
            backend.name,
            "--plot",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "0.25 exact zeros, else N(0, 0.01²)" in out.stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_cli_plot_and_param_errors_are_clear(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "anyinit", *args], capture_output=True, text=True, check=False
        )

    out = run("sample", "zeros", "--shape", "4", "--plot", str(tmp_path / "z.png"))
    assert out.returncode == 2
    assert "--plot needs a random initializer" in out.stderr
    out = run("sample", "sparse", "--shape", "4", "4", "--param", "sparsity")
    assert out.returncode == 2
    assert "--param takes NAME=VALUE" in out.stderr
    out = run("sample", "he_normal", "--shape", "4", "4", "--plot", str(tmp_path / "no" / "x.png"))
    assert out.returncode == 2
    assert "cannot write --plot" in out.stderr
