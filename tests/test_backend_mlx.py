"""MLX's own behaviour (collected in ``nox -s tests-mlx`` only): results are ``mx.array`` s
with NumPy's values, ``init(array)`` is ``mlx.nn.init``'s convention with MLX's fans, and
``anyinit.mlx_nn`` draws what ``mlx.nn.init`` draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit
from anyinit import mlx_nn

mx = pytest.importorskip("mlx.core")
nn = pytest.importorskip("mlx.nn")
stats = pytest.importorskip("scipy.stats")


def _host(array):
    return np.array(array.astype(mx.float32) if array.dtype == mx.bfloat16 else array)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_like_an_array_gives_an_array_with_numpys_values(dtype):
    got = anyinit.HeUniform(seed=2)((6, 5), like=mx.zeros((0,)).astype(getattr(mx, dtype)))
    assert isinstance(got, mx.array)
    assert got.dtype == getattr(mx, dtype)
    want = anyinit.HeUniform(seed=2)((6, 5), dtype)
    np.testing.assert_array_equal(_host(got), want.astype(np.float32))


@pytest.mark.parametrize("shape", [(64, 32), (16, 3, 3, 8)])
def test_init_of_an_array_reads_mlxs_layout(shape):
    """``init(a)``: a new array like `a`, drawn in the canonical layout with MLX's fans
    (``(out, *kernel, in)``: fan_in = in·kernel)."""
    weight = mx.zeros(shape)
    got = _host(anyinit.VarianceScaling(1.0, "fan_in", "uniform", seed=0)(weight))
    fan_in = shape[-1] * math.prod(shape[1:-1])
    assert got.shape == shape
    assert np.abs(got).max() <= math.sqrt(3.0 / fan_in)
    assert np.abs(got).max() > 0.95 * math.sqrt(3.0 / fan_in)
    canonical = anyinit.VarianceScaling(1.0, "fan_in", "uniform", seed=0)(
        (*shape[1:-1], shape[-1], shape[0])
    )
    np.testing.assert_array_equal(got, np.moveaxis(canonical, -1, 0))
    integer = anyinit.Zeros()(mx.array([3, 2]))  # an integer array is a shape, as elsewhere
    assert tuple(integer.shape) == (3, 2)


@pytest.mark.parametrize(
    ("name", "arguments", "law"),
    [
        ("he_normal", {}, lambda fan_in, fan_out: stats.norm(0, 1 / math.sqrt(fan_in))),
        ("he_normal", {"mode": "fan_out", "gain": 2.0},
         lambda fan_in, fan_out: stats.norm(0, 2 / math.sqrt(fan_out))),
        ("he_uniform", {}, lambda fan_in, fan_out: stats.uniform(
            -math.sqrt(3 / fan_in), 2 * math.sqrt(3 / fan_in))),
        ("glorot_normal", {"gain": 3.0},
         lambda fan_in, fan_out: stats.norm(0, 3 * math.sqrt(2 / (fan_in + fan_out)))),
        ("glorot_uniform", {}, lambda fan_in, fan_out: stats.uniform(
            -math.sqrt(6 / (fan_in + fan_out)), 2 * math.sqrt(6 / (fan_in + fan_out)))),
    ],
)  # fmt: skip
def test_the_mlx_dialect_draws_mlx_nn_inits_laws(name, arguments, law):
    shape = (96, 3, 3, 40)  # (out, kh, kw, in): fan_in 360, fan_out 864
    fan_in, fan_out = 40 * 9, 96 * 9
    ours = _host(getattr(mlx_nn, name)(seed=0)(mx.zeros(shape), **arguments)).ravel()
    theirs = _host(getattr(nn.init, name)()(mx.zeros(shape), **arguments)).ravel()
    expected = law(fan_in, fan_out)
    assert stats.kstest(ours.astype(np.float64), expected.cdf).pvalue > 1e-3
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    assert ours.std() == pytest.approx(expected.std(), rel=0.02)


def test_the_mlx_dialect_keeps_mlxs_other_meanings_and_errors():
    first = mlx_nn.uniform(seed=1)
    a, b = _host(first(mx.zeros((500,)))), _host(first(mx.zeros((500,))))
    assert a.min() >= 0
    assert a.max() < 1
    assert not np.array_equal(a, b)
    assert _host(mlx_nn.normal(seed=0)(mx.zeros((4000,)))).std() == pytest.approx(1.0, rel=0.05)
    assert mlx_nn.constant(0.5, mx.float16)(mx.zeros((2, 2))).dtype == mx.float16
    np.testing.assert_array_equal(_host(mlx_nn.identity()(mx.zeros((3, 3)))), np.eye(3))
    q = _host(mlx_nn.orthogonal(seed=0)(mx.zeros((8, 4))))
    assert np.abs(q.T @ q - np.eye(4)).max() < 1e-5
    with pytest.raises(ValueError, match="square matrix"):
        mlx_nn.identity()(mx.zeros((2, 3)))
    with pytest.raises(ValueError, match="Invalid mode: fan_avg"):
        mlx_nn.he_normal()(mx.zeros((2, 3)), mode="fan_avg")


def test_in_place_functions_write_an_mlx_array():
    weight = mx.zeros((5, 4))
    assert anyinit.xavier_uniform_(weight, seed=0) is weight
    np.testing.assert_array_equal(
        _host(weight), anyinit.xavier_uniform_(np.zeros((5, 4), np.float32), seed=0)
    )


# -- models: mlx.nn.Module --------------------------------------------------------------


def _mlx_model():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(8, 16)
            self.conv = nn.Conv2d(3, 4, 3)
            self.embed = nn.Embedding(10, 8)
            self.norm = nn.LayerNorm(16)
            self.rms = nn.RMSNorm(16)
            self.attn = nn.MultiHeadAttention(16, 4)
            self.lstm = nn.LSTM(8, 6)
            self.gru = nn.GRU(8, 6)

    return Net()


def _torch_twin():
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(8, 16)
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.embed = torch.nn.Embedding(10, 8)
            self.norm = torch.nn.LayerNorm(16)
            self.rms = torch.nn.RMSNorm(16)
            self.attn = torch.nn.MultiheadAttention(16, 4, bias=False)
            self.lstm = torch.nn.LSTM(8, 6)

    return Net()


@pytest.mark.parametrize("preset", ["torch", "keras", "flax", "equinox", "mlx"])
def test_an_mlx_model_and_its_torch_twin_get_the_same_weights(preset):
    ours = anyinit.canonical_weights(anyinit.initialize(_mlx_model(), preset, seed=0))
    twin = anyinit.canonical_weights(anyinit.initialize(_torch_twin(), preset, seed=0))
    # torch's LSTM has a second bias and no GRU here; MLX's GRU has no twin.
    common = sorted(set(ours) & set(twin))
    assert len(common) == 15, sorted(set(ours) ^ set(twin))
    for path in common:
        got, want = _host(ours[path]), twin[path].detach().numpy()
        if preset in ("keras", "flax"):
            # Truncated normals: NumPy's kernel (MLX's adapter) and torch's agree to 2.4e-7.
            np.testing.assert_allclose(got, want, rtol=0, atol=5e-7, err_msg=path)
        else:  # uniform laws and constants: bit for bit
            np.testing.assert_array_equal(got, want, err_msg=path)


def test_the_mlx_preset_is_each_mlx_layers_own_default():
    ours = dict(_flat(anyinit.initialize(_mlx_model(), "mlx", seed=0).parameters()))
    own = dict(_flat(_mlx_model().parameters()))
    assert ours.keys() == own.keys()
    bounds = {"fc1": math.sqrt(1 / 8), "conv.weight": math.sqrt(1 / 27), "attn": 0.25,
              "lstm": 1 / math.sqrt(6), "gru": 1 / math.sqrt(6)}  # fmt: skip
    for path, value in ours.items():
        value, theirs = _host(value), _host(own[path])
        bound = next((b for prefix, b in bounds.items() if path.startswith(prefix)), None)
        if bound is not None:  # U(±bound), as MLX's constructor draws it
            assert np.abs(value).max() <= bound, path
            assert stats.ks_2samp(value.ravel(), theirs.ravel()).pvalue > 1e-3, path
        elif path == "embed.weight":  # N(0, 1/dims)
            assert stats.kstest(value.ravel(), stats.norm(0, math.sqrt(1 / 8)).cdf).pvalue > 1e-3
        else:  # norms' ones and zeros, the convolution's zero bias
            np.testing.assert_array_equal(value, theirs, err_msg=path)


@pytest.mark.parametrize("preset", ["torch", "mlx"])
def test_audit_reads_an_mlx_model_as_initialize_wrote_it(preset):
    model = anyinit.initialize(_mlx_model(), preset, seed=2)
    report = anyinit.audit(model, preset)
    assert report.ok, str(report)
    assert sum(row.ok is True for row in report) >= 15
    model.fc1.weight = model.fc1.weight * 3.0
    assert [row.native_path for row in anyinit.audit(model, preset).failed] == ["fc1.weight"]


def test_initialize_changes_an_mlx_model_in_place_and_it_still_runs():
    model = _mlx_model()
    assert anyinit.initialize(model, "torch", seed=1) is model
    out = model.attn(mx.ones((2, 5, 16)), mx.ones((2, 5, 16)), mx.ones((2, 5, 16)))
    assert out.shape == (2, 5, 16)
    assert np.isfinite(_host(model.fc1(mx.ones((2, 8))))).all()


def _flat(tree):
    from mlx.utils import tree_flatten

    return tree_flatten(tree)
