"""Statistical conformance of the random initializers, per dtype, on the backend under test.

The reference distributions are written out here from the Keras / JAX
formulas (scipy.stats), independently of anyinit's own parameter records.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import anyinit

TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def truncated(scale: float, mean: float = 0.0):
    return stats.truncnorm(-2, 2, loc=mean, scale=scale)


def symmetric_uniform(limit: float):
    return stats.uniform(loc=-limit, scale=2 * limit)


# (id, initializer, shape, reference distribution, support)
CASES = [
    (
        "random_normal",
        anyinit.RandomNormal(0.3, 0.2, seed=1),
        (200, 100),
        stats.norm(0.3, 0.2),
        None,
    ),
    (
        "random_uniform",
        anyinit.RandomUniform(-0.3, 0.7, seed=2),
        (200, 100),
        stats.uniform(-0.3, 1.0),
        (-0.3, 0.7),
    ),
    (
        "truncated_normal",
        anyinit.TruncatedNormal(0.1, 0.5, seed=3),
        (200, 100),
        truncated(0.5, 0.1),
        (-0.9, 1.1),
    ),
    (
        "glorot_normal",
        anyinit.GlorotNormal(seed=4),
        (200, 100),
        truncated(math.sqrt(2 / 300) / TRUNC),
        (-2 * math.sqrt(2 / 300) / TRUNC, 2 * math.sqrt(2 / 300) / TRUNC),
    ),
    (
        "glorot_uniform",
        anyinit.GlorotUniform(seed=5),
        (200, 100),
        symmetric_uniform(math.sqrt(6 / 300)),
        (-math.sqrt(6 / 300), math.sqrt(6 / 300)),
    ),
    (
        "he_normal",
        anyinit.HeNormal(seed=6),
        (3, 3, 32, 64),
        truncated(math.sqrt(2 / 288) / TRUNC),
        (-2 * math.sqrt(2 / 288) / TRUNC, 2 * math.sqrt(2 / 288) / TRUNC),
    ),
    (
        "he_uniform",
        anyinit.HeUniform(seed=7),
        (3, 3, 32, 64),
        symmetric_uniform(math.sqrt(6 / 288)),
        (-math.sqrt(6 / 288), math.sqrt(6 / 288)),
    ),
    (
        "lecun_normal",
        anyinit.LecunNormal(seed=8),
        (400, 50),
        truncated(math.sqrt(1 / 400) / TRUNC),
        (-2 * math.sqrt(1 / 400) / TRUNC, 2 * math.sqrt(1 / 400) / TRUNC),
    ),
    (
        "lecun_uniform",
        anyinit.LecunUniform(seed=9),
        (400, 50),
        symmetric_uniform(math.sqrt(3 / 400)),
        (-math.sqrt(3 / 400), math.sqrt(3 / 400)),
    ),
    (
        "vs_fan_out_untruncated",
        anyinit.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=10),
        (100, 200),
        stats.norm(0, math.sqrt(2 / 200)),
        None,
    ),
    (
        "vs_fan_geo_avg_uniform",
        anyinit.VarianceScaling(1.0, "fan_geo_avg", "uniform", seed=11),
        (100, 400),
        symmetric_uniform(math.sqrt(3 / 200)),
        (-math.sqrt(3 / 200), math.sqrt(3 / 200)),
    ),
    (
        "vs_torch_layout_fan_avg",
        anyinit.VarianceScaling(1.0, "fan_avg", "normal", seed=12, in_axis=1, out_axis=0),
        (64, 32, 3, 3),
        truncated(math.sqrt(1 / 432) / TRUNC),
        (-2 * math.sqrt(1 / 432) / TRUNC, 2 * math.sqrt(1 / 432) / TRUNC),
    ),
    (
        "vs_batch_axis",
        anyinit.VarianceScaling(1.0, "fan_in", "uniform", seed=13, batch_axis=0),
        (10, 50, 40),
        symmetric_uniform(math.sqrt(3 / 50)),
        (-math.sqrt(3 / 50), math.sqrt(3 / 50)),
    ),
]


def _tolerance_scale(dtype: str) -> float:
    # Rounding to 16 bits moves each value by up to half an ulp.
    return {"float16": 2.0**-11, "bfloat16": 2.0**-8}.get(dtype, 0.0)


@pytest.mark.parametrize(
    ("name", "init", "shape", "reference", "support"), CASES, ids=[c[0] for c in CASES]
)
def test_distribution(backend, name, init, shape, reference, support):
    for dtype in backend.real_dtypes:
        values = init(shape, dtype, like=backend.like())
        assert tuple(values.shape) == shape
        assert backend.dtype_name(values) == dtype
        assert backend.same_device(values)
        data = backend.to_numpy(values).ravel()
        assert np.isfinite(data).all()
        n = data.size
        slack = _tolerance_scale(dtype)
        mean_error = 6 * reference.std() / math.sqrt(n) + slack * abs(reference.mean())
        assert abs(data.mean() - reference.mean()) < mean_error, dtype
        assert data.std() == pytest.approx(reference.std(), rel=0.03 + 2 * slack), dtype
        if support is not None:
            low, high = support
            assert data.min() >= low, (dtype, data.min(), low)
            assert data.max() <= high, (dtype, data.max(), high)
        if slack == 0.0:
            assert stats.kstest(data, reference.cdf).pvalue > 1e-4, dtype


def test_truncation_is_exact_on_a_large_sample(backend, like):
    values = backend.to_numpy(
        anyinit.TruncatedNormal(mean=0.0, stddev=1.0, seed=0)((1_000_000,), like=like)
    )
    assert np.abs(values).max() <= 2.0
    assert np.abs(values).max() > 1.999
    assert values.std() == pytest.approx(TRUNC, rel=5e-3)


@pytest.mark.parametrize(("mean", "stddev"), [(0.7, 1.0), (0.7, 0.02), (0.0, 3e-5), (-1.5, 1e-3)])
def test_truncation_holds_after_rounding_to_every_dtype(backend, mean, stddev):
    for dtype in backend.real_dtypes:
        values = anyinit.TruncatedNormal(mean, stddev, seed=1)(
            (200_000,), dtype, like=backend.like()
        )
        data = backend.to_numpy(values)
        assert data.min() >= mean - 2 * stddev, dtype
        assert data.max() <= mean + 2 * stddev, dtype


def test_interval_narrower_than_the_dtype_resolution_is_an_error(backend):
    dtype = "float16" if "float16" in backend.real_dtypes else "float32"
    spread = 3e-5 if dtype == "float16" else 1e-9
    with pytest.raises(ValueError, match=f"no {dtype} value lies in"):
        anyinit.TruncatedNormal(0.7, spread, seed=0)((10,), dtype, like=backend.like())


def test_variance_scaling_truncated_std_is_exact(backend, like):
    values = backend.to_numpy(anyinit.VarianceScaling(scale=1.0, seed=3)((100, 10_000), like=like))
    assert values.std() == pytest.approx(0.1, rel=5e-3)
    assert np.abs(values).max() <= 2 * 0.1 / TRUNC


def test_zero_stddev_is_constant(backend, like):
    values = backend.to_numpy(anyinit.RandomNormal(mean=0.25, stddev=0.0, seed=0)((7,), like=like))
    assert (values == 0.25).all()
    values = backend.to_numpy(
        anyinit.TruncatedNormal(mean=-0.5, stddev=0.0, seed=0)((7,), like=like)
    )
    assert (values == -0.5).all()


@pytest.mark.parametrize(
    "init",
    [
        anyinit.GlorotNormal(seed=0),
        anyinit.HeUniform(seed=0),
        anyinit.RandomNormal(seed=0),
        anyinit.TruncatedNormal(seed=0),
        anyinit.Orthogonal(seed=0),
        anyinit.Sparse(0.5, seed=0),
    ],
    ids=lambda i: type(i).__name__,
)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_zero_sized_shapes(backend, like, init, shape):
    values = init(shape, like=like)
    assert tuple(values.shape) == shape


@pytest.mark.parametrize("shape", [(), (5,)])
def test_low_rank_variance_scaling_follows_keras(backend, like, shape):
    values = backend.to_numpy(anyinit.HeUniform(seed=0)(shape, like=like))
    n = shape[0] if shape else 1
    assert values.shape == shape
    assert np.abs(values).max() <= math.sqrt(6 / n)


class TestComplex:
    """Complex dtypes follow JAX's constructions (with the exact truncation constant)."""

    @pytest.fixture(autouse=True)
    def _needs_complex(self, backend):
        if backend.name == "array_api_strict":
            pytest.importorskip("array_api_strict")  # strict has complex dtypes too

    def test_normal(self, backend):
        for dtype in backend.complex_dtypes:
            values = backend.to_numpy(
                anyinit.RandomNormal(stddev=0.5, seed=0)((300, 100), dtype, like=backend.like())
            )
            assert np.iscomplexobj(values)
            for part in (values.real, values.imag):
                assert (
                    stats.kstest(part.ravel(), stats.norm(0, 0.5 / math.sqrt(2)).cdf).pvalue > 1e-4
                )

    def test_uniform_disk(self, backend):
        for dtype in backend.complex_dtypes:
            init = anyinit.VarianceScaling(2.0, "fan_in", "uniform", seed=1)
            values = backend.to_numpy(init((300, 100), dtype, like=backend.like()))
            radius = math.sqrt(2 * 2.0 / 300)
            modulus = np.abs(values).ravel()
            assert modulus.max() <= radius * (1 + 1e-6)
            disk_cdf = stats.uniform(0, radius**2).cdf  # |z|² is uniform on [0, r²]
            assert stats.kstest(modulus**2, disk_cdf).pvalue > 1e-4
            assert np.mean(modulus**2) == pytest.approx(2.0 / 300, rel=0.02)

    def test_truncated_variance_is_exact(self, backend):
        for dtype in backend.complex_dtypes:
            values = backend.to_numpy(
                anyinit.GlorotNormal(seed=2)((500, 500), dtype, like=backend.like())
            )
            # E|w|² = 2 / (fan_in + fan_out); JAX's constant would give 1.0181× this.
            assert np.mean(np.abs(values) ** 2) == pytest.approx(2 / 1000, rel=5e-3)
            sigma = math.sqrt(2 / 1000) / math.sqrt((1 - 5 * math.exp(-4)) / (1 - math.exp(-4)))
            assert np.abs(values).max() <= 2 * sigma * (1 + 1e-6)

    def test_uniform_initializer_rejects_complex(self, backend):
        with pytest.raises(
            ValueError, match="`dtype`='complex64' is not supported by RandomUniform"
        ):
            anyinit.RandomUniform(seed=0)((3,), "complex64", like=backend.like())
