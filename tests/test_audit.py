"""``anyinit.audit`` on pytrees of every backend's arrays, its statistics at the edges
(values rounded to bfloat16, bounds, the KS limit), the false-alarm rate, and the
deterministic and transformed laws the field's recipes use (ZerO, Mamba's ``dt`` bias)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit
from anyinit.initializers.hadamard import ZerO, sylvester_hadamard, zero_matrix
from anyinit.initializers.softplus import InverseSoftplusLogUniform
from anyinit.laws import goodness


def _tree(backend, blocks=2):
    def array(shape):
        return anyinit.zeros()(shape, like=backend.like("float32"))

    return {
        "embed": {"embedding": array((64, 32))},
        "layers": [
            {
                "attn": {"o_proj": {"kernel": array((32, 32)), "bias": array((32,))}},
                "mlp": {"up_proj": {"kernel": array((32, 128))}},
                "norm": {"scale": array((32,))},
            }
            for _ in range(blocks)
        ],
        "conv": {"kernel": array((3, 3, 4, 8)), "bias": array((8,))},
    }


def _on(backend, values):
    return anyinit.Constant(values)(values.shape, like=backend.like("float32"))


def _rows(report):
    return {row.path: row for row in report}


@pytest.mark.parametrize("rules", ["torch", "keras", "flax", "equinox", "gpt2", "megatron"])
def test_a_tree_initialised_by_its_rules_passes_and_one_rescaled_kernel_fails(backend, rules):
    tree = anyinit.initialize(_tree(backend), rules, seed=1)
    report = anyinit.audit(tree, rules)
    assert report.ok, str(report)
    assert sum(row.ok is True for row in report) >= 8
    flat = anyinit.canonical_weights(tree)
    target = "layers.1.mlp.up_proj.kernel"
    assert target in flat
    tree["layers"][1]["mlp"]["up_proj"]["kernel"] = (
        tree["layers"][1]["mlp"]["up_proj"]["kernel"] * 1.5
    )
    report = anyinit.audit(tree, rules)
    assert [row.path for row in report.failed] == [target]


def test_a_constant_law_holds_exactly_and_a_nan_fails(backend):
    rules = {"layers.*.norm.scale": anyinit.Ones(), "conv.bias": anyinit.Zeros()}
    tree = anyinit.initialize(_tree(backend), rules, seed=0)
    assert [row.ok for row in anyinit.audit(tree, rules) if row.ok is not None] == [True] * 3
    scale = backend.to_numpy(tree["layers"][0]["norm"]["scale"]).copy()
    scale[7] = np.nextafter(np.float32(1), np.float32(2))  # one ulp off, once
    tree["layers"][0]["norm"]["scale"] = _on(backend, scale)
    report = anyinit.audit(tree, rules)
    assert [row.path for row in report.failed] == ["layers.0.norm.scale"]
    assert "1 of 32 value(s) differ" in report.failed[0].reason
    bias = backend.to_numpy(tree["conv"]["bias"]).copy()
    bias[0] = np.nan
    tree["conv"]["bias"] = _on(backend, bias)
    assert "NaN" in _rows(anyinit.audit(tree, rules))["conv.bias"].reason


def test_the_false_alarm_rate_over_100_seeds_is_at_most_one_percent(backend):
    alarms = 0
    for seed in range(100):
        tree = anyinit.initialize(_tree(backend), "megatron", seed=seed)
        alarms += not anyinit.audit(tree, "megatron").ok
    assert alarms <= 1


# -- the statistics at the edges -----------------------------------------------------------


def test_the_vectorised_cdfs_are_the_records_own():
    x = np.linspace(-7, 7, 2001)
    laws = [
        anyinit.RandomNormal(0.1, 0.5).law((4,)),
        anyinit.TruncatedNormal(0.0, 1.0).law((4,)),
        anyinit.RandomUniform(-1.0, 2.0).law((4,)),
        anyinit.VarianceScaling(2.0, "fan_in", "truncated_normal").law((16, 4)),
    ]
    for law in laws:
        exact = np.array([law.cdf(float(v)) for v in x])
        np.testing.assert_allclose(goodness.cdf_array(law, x), exact, atol=2e-7, rtol=0)


def test_the_ks_test_allows_for_values_rounded_to_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(0)
    law = anyinit.RandomNormal(0.0, 0.02).law((4,))
    values = rng.normal(0.0, 0.02, 1 << 16).astype(ml_dtypes.bfloat16).astype(np.float64)
    result = goodness.fit(values, law, "bfloat16")
    assert result.failures == ()
    assert result.ks is not None
    assert result.ks < result.ks_limit


def test_values_on_the_bounds_are_inside_and_one_past_them_is_not():
    law = anyinit.RandomUniform(-0.5, 0.5).law((4,))
    values = np.linspace(-0.5, 0.5, 4096, endpoint=False)
    assert goodness.fit(values, law, "float32").failures == ()
    values[100] = 0.5 + 1e-3
    assert goodness.fit(values, law, "float32").failures[0].startswith("1 value(s) outside")


# -- the laws the field's recipes add ------------------------------------------------------------


def test_the_dt_bias_law_on_every_float32_uniform():
    law = InverseSoftplusLogUniform(0.001, 0.1, 1e-4).law((4,))
    u = np.arange(1 << 23, dtype=np.float32) * np.float32(2.0**-23)  # every float32 uniform
    bias = law.transform(np, u)
    assert bias.dtype == np.float32
    assert np.isfinite(bias).all()
    assert np.all(np.diff(bias) >= 0)  # monotone: no uniform maps out of order
    low, high = law.bounds
    assert bias[0] == pytest.approx(low, rel=1e-6)
    assert bias.max() <= high
    dt = np.log1p(np.exp(bias.astype(np.float64)))  # softplus gives the time step back
    assert dt.min() >= 0.001 * (1 - 1e-5)
    assert dt.max() <= 0.1 * (1 + 1e-5)
    # the law's moments are the grid's (the grid is the law, to float32's rounding)
    assert float(bias.astype(np.float64).mean()) == pytest.approx(law.mean, rel=1e-5)
    assert float(bias.astype(np.float64).std()) == pytest.approx(law.std, rel=1e-4)


def test_the_dt_bias_law_floors_the_time_step():
    law = InverseSoftplusLogUniform(1e-5, 0.1, 1e-3).law((4,))
    low = law.bounds[0]
    assert low == pytest.approx(math.log(math.expm1(1e-3)))
    assert law.cdf(low) == pytest.approx(math.log(1e-3 / 1e-5) / math.log(0.1 / 1e-5))


def test_the_dt_bias_initializer_draws_its_law_on_every_backend(backend):
    init = InverseSoftplusLogUniform(seed=3)
    values = backend.to_numpy(init((4096,), like=backend.like("float32")))
    law = init.law((4096,))
    assert goodness.fit(values.astype(np.float64), law, "float32").failures == ()
    with pytest.raises(ValueError, match="0 < dt_min <= dt_max"):
        InverseSoftplusLogUniform(0.2, 0.1)


@pytest.mark.parametrize("shape", [(8, 8), (10, 6), (6, 10), (5, 48), (3, 3, 4, 12), (3, 5, 2)])
def test_zero_is_the_identity_or_the_normalised_hadamard(backend, shape):
    values = backend.to_numpy(ZerO()(shape, like=backend.like("float32")))
    *spatial, fan_in, fan_out = shape
    centre = tuple(k // 2 for k in spatial)
    np.testing.assert_array_equal(values[centre], zero_matrix(fan_in, fan_out).astype(np.float32))
    assert float(np.abs(values).sum()) == pytest.approx(float(np.abs(values[centre]).sum()))
    if fan_out > fan_in:  # a widening layer keeps every input: full column rank
        assert np.linalg.matrix_rank(values[centre]) == fan_in


def test_sylvester_hadamard_is_orthogonal_and_refuses_other_orders():
    h = sylvester_hadamard(16)
    np.testing.assert_array_equal(h @ h.T, 16 * np.eye(16))
    with pytest.raises(ValueError, match="power of two"):
        sylvester_hadamard(12)
