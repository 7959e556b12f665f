"""The torch.nn.init-style in-place functions.

On the torch backend every function is compared with ``torch.nn.init``
bit for bit (values and generator state); on every backend the statistics,
bounds and fans are checked, and the in-place contract (same object,
strided views, untouched on error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import anyinit

SHAPES = [(64, 32), (16, 8, 5), (8, 4, 3, 3), (4, 3, 2, 3, 3), (1, 300), (300, 1)]
RANDOM = {
    "uniform_": {"a": -0.3, "b": 0.7},
    "normal_": {"mean": 0.5, "std": 0.2},
    "trunc_normal_": {"mean": 0.1, "std": 0.5, "a": -0.5, "b": 1.0},
    "xavier_uniform_": {"gain": 2.0},
    "xavier_normal_": {"gain": 0.5},
    "kaiming_uniform_": {"a": math.sqrt(5)},
    "kaiming_normal_": {"mode": "fan_out", "nonlinearity": "relu"},
    "orthogonal_": {"gain": 1.5},
}


def empty(backend, shape, dtype="float32"):
    """A writable array of the backend under test (skips where its arrays are immutable)."""
    adapter = backend.adapter
    if adapter.exports:  # TensorFlow writes into a tf.Variable, MLX into an mx.array
        return adapter.writable(shape, dtype, adapter.check_device(backend.device))
    if not adapter.is_mutable(backend.like(dtype)):
        pytest.skip(f"{backend.name} arrays are immutable: the in-place functions raise TypeError")
    return adapter.empty(shape, backend.dtype(dtype), adapter.check_device(backend.device))


def reference(name, shape, kwargs):
    """The distribution torch.nn.init documents, written out independently."""
    fan_in = shape[1] * math.prod(shape[2:])
    fan_out = shape[0] * math.prod(shape[2:])
    if name == "uniform_":
        return stats.uniform(kwargs["a"], kwargs["b"] - kwargs["a"])
    if name == "normal_":
        return stats.norm(kwargs["mean"], kwargs["std"])
    if name == "trunc_normal_":
        m, s = kwargs["mean"], kwargs["std"]
        return stats.truncnorm((kwargs["a"] - m) / s, (kwargs["b"] - m) / s, loc=m, scale=s)
    if name == "xavier_uniform_":
        bound = kwargs["gain"] * math.sqrt(6 / (fan_in + fan_out))
        return stats.uniform(-bound, 2 * bound)
    if name == "xavier_normal_":
        return stats.norm(0, kwargs["gain"] * math.sqrt(2 / (fan_in + fan_out)))
    if name == "kaiming_uniform_":
        bound = 1 / math.sqrt(fan_in)  # a = sqrt(5): gain sqrt(1/3)
        return stats.uniform(-bound, 2 * bound)
    if name == "kaiming_normal_":
        return stats.norm(0, math.sqrt(2) / math.sqrt(fan_out))
    raise AssertionError(name)


@pytest.mark.parametrize("name", [n for n in RANDOM if n != "orthogonal_"])
def test_statistics_on_every_backend(backend, name):
    shape = (300, 200)
    for dtype in backend.real_dtypes:
        tensor = empty(backend, shape, dtype)
        result = getattr(anyinit, name)(tensor, seed=1, **RANDOM[name])
        assert result is tensor
        data = backend.to_numpy(tensor).ravel()
        law = reference(name, shape, RANDOM[name])
        assert abs(data.mean() - law.mean()) < 6 * law.std() / math.sqrt(data.size) + 4e-3 * abs(
            law.mean()
        )
        assert data.std() == pytest.approx(law.std(), rel=0.03)
        low, high = law.support()
        tolerance = 0.0 if name == "trunc_normal_" else abs(high) * 2.0**-7
        assert data.min() >= low - tolerance
        assert data.max() <= high + tolerance
        if dtype in ("float32", "float64"):
            assert stats.kstest(data, law.cdf).pvalue > 1e-4, (name, dtype)


@pytest.mark.parametrize("shape", SHAPES)
def test_orthogonal_rows_or_columns_are_orthonormal(backend, shape):
    for dtype in backend.real_dtypes:
        tensor = anyinit.orthogonal_(empty(backend, shape, dtype), gain=1.5, seed=0)
        matrix = backend.to_numpy(tensor).reshape(shape[0], -1)
        small = min(matrix.shape)
        gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
        tolerance = {"float16": 3e-2, "bfloat16": 1.5e-1}.get(dtype, 1e-4)
        assert np.abs(gram - 2.25 * np.eye(small)).max() < tolerance, dtype


def test_trunc_normal_never_leaves_its_bounds(backend):
    for dtype in backend.real_dtypes:
        for a, b in [(-2.0, 2.0), (0.1, 0.3), (-0.05, 0.07), (1.5, 4.0)]:
            tensor = anyinit.trunc_normal_(
                empty(backend, (100_000,), dtype), 0.0, 1.0, a, b, seed=0
            )
            data = backend.to_numpy(tensor)
            assert data.min() >= a, (dtype, a, b)
            assert data.max() <= b, (dtype, a, b)


def test_constants_and_eye(backend):
    tensor = empty(backend, (3, 4))
    assert anyinit.constant_(tensor, 0.25) is tensor
    assert (backend.to_numpy(tensor) == 0.25).all()
    assert (backend.to_numpy(anyinit.ones_(tensor)) == 1).all()
    assert (backend.to_numpy(anyinit.zeros_(tensor)) == 0).all()
    np.testing.assert_array_equal(backend.to_numpy(anyinit.eye_(tensor)), np.eye(3, 4))
    integers = anyinit.ones_(empty(backend, (2,), "int32"))
    assert backend.to_numpy(integers).tolist() == [1, 1]


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 4, 3), 1), ((6, 2, 3, 3), 3), ((4, 2, 3, 3, 3), 2)]
)
def test_dirac(backend, shape, groups):
    tensor = anyinit.dirac_(empty(backend, shape), groups=groups)
    values = backend.to_numpy(tensor)
    expected = np.zeros(shape)
    per_group = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            expected[(g * per_group + d, d, *centre)] = 1
    np.testing.assert_array_equal(values, expected)


def test_sparse(backend):
    tensor = anyinit.sparse_(empty(backend, (40, 300)), sparsity=0.25, std=0.3, seed=0)
    values = backend.to_numpy(tensor)
    assert ((values == 0).sum(axis=0) == 10).all()
    assert values[values != 0].std() == pytest.approx(0.3, rel=0.03)
    again = backend.to_numpy(
        anyinit.sparse_(empty(backend, (40, 300)), sparsity=0.25, std=0.3, seed=0)
    )
    np.testing.assert_array_equal(values, again)


@pytest.mark.skip_backend("array_api_strict", reason="array_api_strict has no views")
@pytest.mark.skip_backend("tensorflow", "mlx", reason="a slice is a copy: there are no views")
def test_strided_views_are_written_in_place(backend):
    base = anyinit.zeros_(empty(backend, (8, 12)))
    view = base[::2, 1::3]
    anyinit.orthogonal_(view, seed=0)
    anyinit.kaiming_uniform_(base[1::2, ::3], seed=1)
    values = backend.to_numpy(base)
    block = values[::2, 1::3]
    assert np.abs(block @ block.T - np.eye(4)).max() < 1e-5
    assert (values[1::2, ::3] != 0).all()
    untouched = np.ones_like(values, dtype=bool)
    untouched[::2, 1::3] = False
    untouched[1::2, ::3] = False
    assert (values[untouched] == 0).all()


ERRORS = [
    ("uniform_", (4, 4), {"a": 1.0, "b": 0.0}, ValueError, "expects a <= b"),
    ("normal_", (4, 4), {"std": -1.0}, ValueError, "`std` must be >= 0"),
    ("trunc_normal_", (4, 4), {"std": 0.0}, ValueError, "`std` must be > 0"),
    ("trunc_normal_", (4, 4), {"a": 1.0, "b": -1.0}, ValueError, "expects a < b"),
    ("xavier_uniform_", (4,), {}, ValueError, "fewer than 2 dimensions"),
    ("kaiming_normal_", (4, 4), {"mode": "fan_avg"}, ValueError, r"Mode fan_avg not supported"),
    (
        "kaiming_uniform_",
        (4, 4),
        {"nonlinearity": "gelu"},
        ValueError,
        "Unsupported nonlinearity gelu",
    ),
    ("orthogonal_", (4,), {}, ValueError, "2 or more dimensions"),
    ("eye_", (2, 2, 2), {}, ValueError, "Only tensors with 2 dimensions"),
    ("dirac_", (4, 4), {}, ValueError, "3, 4, or 5 dimensions"),
    ("dirac_", (3, 2, 3), {"groups": 2}, ValueError, "divisible by groups"),
    ("sparse_", (4, 4, 4), {"sparsity": 0.1}, ValueError, "Only tensors with 2 dimensions"),
    ("sparse_", (4, 4), {"sparsity": 1.5}, ValueError, r"`sparsity` must be in \[0, 1\]"),
    ("normal_", (4, 4), {"seed": 1, "generator": np.random.default_rng(0)}, ValueError, "not both"),
]


@pytest.mark.parametrize(
    ("name", "shape", "kwargs", "error", "match"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_errors_leave_the_array_untouched(backend, name, shape, kwargs, error, match):
    tensor = anyinit.constant_(empty(backend, shape), 7.0)
    with pytest.raises(error, match=match):
        getattr(anyinit, name)(tensor, **kwargs)
    assert (backend.to_numpy(tensor) == 7.0).all()


@pytest.mark.parametrize("name", list(RANDOM))
def test_integer_tensors_are_refused(backend, name):
    tensor = anyinit.zeros_(empty(backend, (4, 4), "int32"))
    with pytest.raises(TypeError, match=f"anyinit.{name} needs a floating `tensor`"):
        getattr(anyinit, name)(tensor)


def test_kaiming_on_zero_elements_warns_like_torch(backend):
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        anyinit.kaiming_uniform_(empty(backend, (0, 3)))


def test_xavier_on_zero_elements_is_a_no_op(backend):
    assert tuple(anyinit.xavier_uniform_(empty(backend, (0, 0))).shape) == (0, 0)


def test_read_only_numpy_array_names_the_out_of_place_form():
    frozen = np.zeros((3, 3), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match=r"use the out-of-place form anyinit\.GlorotUniform"):
        anyinit.xavier_uniform_(frozen)


def test_immutable_jax_array_names_the_out_of_place_form():
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match=r"immutable .* anyinit\.Orthogonal\(gain\)"):
        anyinit.orthogonal_(jnp.zeros((3, 3)))


def test_complex_arrays_of_other_backends_get_the_same_law(backend):
    w = backend.to_numpy(anyinit.normal_(empty(backend, (20000,), "complex64"), 1.0, 2.0, seed=0))
    assert abs(w.real.mean() - 1.0) < 0.05
    assert abs(w.imag.mean() - 1.0) < 0.05
    assert abs(w.real.std() - 2.0 / math.sqrt(2)) < 0.05
    u = backend.to_numpy(anyinit.uniform_(empty(backend, (5000,), "complex64"), -1.0, 3.0, seed=0))
    for part in (u.real, u.imag):
        assert part.min() >= -1
        assert part.max() <= 3
