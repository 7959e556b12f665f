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
    if backend.name in ("jax", "dask"):
        pytest.skip(f"{backend.name} arrays are immutable: the in-place functions raise TypeError")
    if backend.name == "cupy":
        with backend.device:
            return backend.xp.empty(shape, dtype=backend.dtype(dtype))
    return backend.xp.empty(shape, dtype=backend.dtype(dtype), device=backend.device)


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


def test_strided_views_are_written_in_place(backend):
    if backend.name == "array_api_strict":
        pytest.skip("array_api_strict has no views")
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


# -- torch: bit-identical to torch.nn.init ------------------------------------------


@pytest.fixture
def torch_backend(backend):
    if backend.name != "torch":
        pytest.skip("bit parity with torch.nn.init runs in tests-torch")
    import torch

    return torch


def _dtypes(torch, name):
    all_ = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
    return all_[:2] if name == "orthogonal_" else all_  # torch has no 16-bit QR


@pytest.mark.parametrize("name", list(RANDOM))
@pytest.mark.parametrize("shape", [*SHAPES, (0, 4), (4, 0)])
def test_bit_identical_to_torch(torch_backend, backend, name, shape):
    torch = torch_backend
    reference_function = getattr(torch.nn.init, name)
    for dtype in _dtypes(torch, name):
        for seed in (0, 12345):
            ours, theirs = (
                torch.empty(shape, dtype=dtype, device=backend.device) for _ in range(2)
            )
            gen_ours = torch.Generator(device=backend.device).manual_seed(seed)
            gen_theirs = torch.Generator(device=backend.device).manual_seed(seed)
            with _quiet_zero_element_warning(shape):
                result = getattr(anyinit, name)(ours, generator=gen_ours, **RANDOM[name])
                if not (name == "xavier_uniform_" and 0 in shape and sum(shape) == 0):
                    reference_function(theirs, generator=gen_theirs, **RANDOM[name])
            assert result is ours
            if 0 not in shape:
                _assert_torch_values_where_inside(torch, name, shape, ours, theirs)
                assert torch.equal(gen_ours.get_state(), gen_theirs.get_state())
            assert torch.equal(gen_ours.get_state(), gen_theirs.get_state()), (name, shape, dtype)


def _uniform_bounds(name, shape):
    """The exact interval of the uniform functions (None for the others)."""
    if name == "uniform_":
        return RANDOM[name]["a"], RANDOM[name]["b"]
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    if name == "xavier_uniform_":
        bound = RANDOM[name]["gain"] * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3.0)
    elif name == "kaiming_uniform_":
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + 5)) / math.sqrt(fan_in)
    else:
        return None
    return -bound, bound


def _assert_torch_values_where_inside(torch, name, shape, ours, theirs):
    """Equal to torch.nn.init wherever torch's value lies in the interval; where torch's
    16-bit rounding crossed a bound, ours is the nearest value inside instead."""
    bounds = _uniform_bounds(name, shape)
    if bounds is None:
        assert torch.equal(ours, theirs), (name, shape, ours.dtype)
        return
    low, high = bounds
    wide = theirs.double()
    inside = (wide >= low) & (wide <= high)
    assert torch.equal(ours[inside], theirs[inside]), (name, shape, ours.dtype)
    assert bool(((ours.double() >= low) & (ours.double() <= high)).all())
    crossed = (~inside).sum().item()
    if ours.dtype in (torch.float32, torch.float64):
        assert crossed == 0, "torch crossed a bound in 32 or 64 bits"


def _quiet_zero_element_warning(shape):
    import contextlib
    import warnings

    if 0 not in shape:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")
    return stack


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (0.3, 1.0, 1.5, 3.0), (0.0, 1.0, 0.1, 0.2)],
)
def test_trunc_normal_bit_identical_in_both_torch_branches(torch_backend, backend, mean, std, a, b):
    torch = torch_backend
    for dtype in (torch.float32, torch.float64):
        ours, theirs = torch.empty(300, 200, dtype=dtype), torch.empty(300, 200, dtype=dtype)
        g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
        anyinit.trunc_normal_(ours, mean, std, a, b, generator=g1)
        torch.nn.init.trunc_normal_(theirs, mean, std, a, b, generator=g2)
        assert torch.equal(ours, theirs)
        assert torch.equal(g1.get_state(), g2.get_state())


def test_parity_on_strided_views_and_leaf_parameters(torch_backend, backend):
    torch = torch_backend
    for name in ("uniform_", "normal_", "kaiming_uniform_", "xavier_normal_", "trunc_normal_"):
        ours = torch.nn.Parameter(torch.zeros(10, 12))
        theirs = torch.nn.Parameter(torch.zeros(10, 12))
        g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        getattr(anyinit, name)(ours[::2, 1::2], generator=g1, **RANDOM[name])
        getattr(torch.nn.init, name)(theirs[::2, 1::2], generator=g2, **RANDOM[name])
        assert torch.equal(ours, theirs), name
        assert ours.requires_grad
        assert ours.grad_fn is None


def test_constants_eye_dirac_equal_torch(torch_backend, backend):
    torch = torch_backend
    for dtype in (torch.float32, torch.int64, torch.bfloat16):
        for ours_fn, theirs_fn, shape in [
            (lambda t: anyinit.constant_(t, 3), lambda t: torch.nn.init.constant_(t, 3), (3, 4)),
            (anyinit.ones_, torch.nn.init.ones_, (3, 4)),
            (anyinit.zeros_, torch.nn.init.zeros_, (3, 4)),
            (anyinit.eye_, torch.nn.init.eye_, (3, 5)),
            (lambda t: anyinit.dirac_(t, 2), lambda t: torch.nn.init.dirac_(t, 2), (6, 3, 4, 4)),
        ]:
            a, b = torch.full(shape, 9, dtype=dtype), torch.full(shape, 9, dtype=dtype)
            assert torch.equal(ours_fn(a), theirs_fn(b))


def test_sparse_values_equal_torch_and_mask_follows_the_generator(torch_backend, backend):
    torch = torch_backend
    g1, g2 = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    ours = anyinit.sparse_(torch.empty(20, 30), 0.4, generator=g1)
    theirs = torch.nn.init.sparse_(torch.empty(20, 30), 0.4, generator=g2)
    kept = (ours != 0) & (theirs != 0)
    assert torch.equal(ours[kept], theirs[kept])  # the same normal draws
    again = anyinit.sparse_(torch.empty(20, 30), 0.4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(ours, again)  # torch's mask would differ here (it ignores the generator)


def test_orthogonal_half_precision_where_torch_raises(torch_backend, backend):
    torch = torch_backend
    for dtype in (torch.float16, torch.bfloat16):
        with pytest.raises(NotImplementedError):
            torch.nn.init.orthogonal_(torch.empty(16, 16, dtype=dtype))
        q = anyinit.orthogonal_(torch.empty(16, 16, dtype=dtype), seed=0).float()
        assert torch.allclose(q @ q.T, torch.eye(16), atol=0.1)


def test_meta_tensors_are_accepted(torch_backend, backend):
    torch = torch_backend
    for name in RANDOM:
        tensor = torch.empty(8, 4, device="meta")
        assert getattr(anyinit, name)(tensor, **RANDOM[name]) is tensor
    assert anyinit.dirac_(torch.empty(4, 4, 3, device="meta")).is_meta
    assert anyinit.sparse_(torch.empty(4, 4, device="meta"), 0.5).is_meta


def test_unseeded_calls_follow_torch_manual_seed(torch_backend, backend):
    torch = torch_backend
    torch.manual_seed(7)
    ours = anyinit.kaiming_uniform_(torch.empty(5, 5))
    torch.manual_seed(7)
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(5, 5))
    assert torch.equal(ours, theirs)


# -- torch: the cases real model code hit --------------------------------------------


@pytest.mark.parametrize(
    "name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
             "kaiming_normal_"],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_tensors_bit_identical_to_torch(torch_backend, backend, name, dtype):
    # nn.Linear(8, 8, dtype=torch.complex64) calls kaiming_uniform_ on a complex weight.
    torch = torch_backend
    kind = getattr(torch, dtype)
    ours, theirs = (torch.empty(6, 5, dtype=kind, device=backend.device) for _ in range(2))
    gen_ours = torch.Generator(device=backend.device).manual_seed(4)
    gen_theirs = torch.Generator(device=backend.device).manual_seed(4)
    getattr(anyinit, name)(ours, generator=gen_ours)
    getattr(torch.nn.init, name)(theirs, generator=gen_theirs)
    assert torch.equal(ours, theirs)
    assert torch.equal(gen_ours.get_state(), gen_theirs.get_state())


def test_complex_layers_build_with_anyinit_in_place_of_torch_nn_init(torch_backend, backend):
    torch = torch_backend
    layer = torch.nn.Linear(8, 8, dtype=torch.complex64)
    torch.manual_seed(0)
    anyinit.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    ours = layer.weight.detach().clone()
    torch.manual_seed(0)
    torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    assert torch.equal(ours, layer.weight)


def test_complex_arrays_of_other_backends_get_the_same_law(backend):
    w = backend.to_numpy(anyinit.normal_(empty(backend, (20000,), "complex64"), 1.0, 2.0, seed=0))
    assert abs(w.real.mean() - 1.0) < 0.05
    assert abs(w.imag.mean() - 1.0) < 0.05
    assert abs(w.real.std() - 2.0 / math.sqrt(2)) < 0.05
    u = backend.to_numpy(anyinit.uniform_(empty(backend, (5000,), "complex64"), -1.0, 3.0, seed=0))
    for part in (u.real, u.imag):
        assert part.min() >= -1
        assert part.max() <= 3


def test_sparse_without_generator_matches_torch_and_its_generator_state(torch_backend, backend):
    torch = torch_backend
    for sparsity in (0.0, 0.3, 1.0):
        torch.manual_seed(0)
        theirs = torch.nn.init.sparse_(torch.empty(7, 5, device=backend.device), sparsity)
        after_theirs = torch.rand(4)
        torch.manual_seed(0)
        ours = anyinit.sparse_(torch.empty(7, 5, device=backend.device), sparsity)
        assert torch.equal(ours, theirs)
        assert torch.equal(torch.rand(4), after_theirs)


@pytest.mark.parametrize("kind", ["float8_e4m3fn", "float8_e5m2"])
def test_float8_fills_as_torch(torch_backend, backend, kind):
    torch = torch_backend
    dtype = getattr(torch, kind)
    for name, args in [("zeros_", ()), ("ones_", ()), ("constant_", (2.5,)), ("eye_", ())]:
        ours = getattr(anyinit, name)(torch.empty(3, 4, dtype=dtype), *args)
        theirs = getattr(torch.nn.init, name)(torch.empty(3, 4, dtype=dtype), *args)
        assert torch.equal(ours.float(), theirs.float()), name
    ours = anyinit.dirac_(torch.empty(2, 2, 3, dtype=dtype))
    assert torch.equal(
        ours.float(), torch.nn.init.dirac_(torch.empty(2, 2, 3, dtype=dtype)).float()
    )
    with pytest.raises(TypeError, match="not one of the torch dtypes anyinit supports"):
        anyinit.normal_(torch.empty(2, dtype=dtype))


def test_meta_tensor_with_a_cpu_generator_is_a_no_op(torch_backend, backend):
    torch = torch_backend
    weight = torch.empty(4, 4, device="meta")
    assert anyinit.kaiming_uniform_(weight, generator=torch.Generator()) is weight


def test_inference_tensors_are_refused_before_any_write(torch_backend, backend):
    torch = torch_backend
    with torch.inference_mode():
        weight = torch.full((3, 3), 7.0)
    for name in ("normal_", "xavier_uniform_", "zeros_", "orthogonal_"):
        with pytest.raises(TypeError, match="immutable or read-only"):
            getattr(anyinit, name)(weight)
        assert (weight == 7.0).all()
    with torch.inference_mode():
        assert anyinit.normal_(weight, seed=0) is weight  # inside inference mode it may write
