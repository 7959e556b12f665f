"""Property-based fuzzing of the public entry points, on the backend under test.

The invariant, for every constructor argument and call hypothesis can find:
either a correct array (the exact shape, dtype and library; finite unless a
non-finite fill was asked for; inside the law's documented bounds) or a
``TypeError`` / ``ValueError`` with a message — never another exception type,
never a value outside the bounds, never a half-written array.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

import anyinit
from anyinit.initializers.random import RandomInitializer

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given, settings = hypothesis.given, hypothesis.settings

EXAMPLES = int(os.environ.get("ANYINIT_FUZZ_EXAMPLES", "150"))

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=10),
    st.floats(min_value=1e-12, max_value=1e3),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 0.5, 1e300, -1e300, 1e-300, 2**53 + 1, 10**400]),
)
seeds = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=2**64 + 5),
    st.builds(anyinit.SeedGenerator, st.integers(min_value=0, max_value=2**20)),
    st.sampled_from([1.5, "0", True]),
)
shapes = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=4).map(tuple)

CONSTRUCTORS = {
    "RandomNormal": ("mean", "stddev"),
    "RandomUniform": ("minval", "maxval"),
    "TruncatedNormal": ("mean", "stddev"),
    "VarianceScaling": ("scale",),
    "GlorotNormal": (),
    "GlorotUniform": (),
    "HeNormal": (),
    "LecunUniform": (),
    "Orthogonal": ("gain",),
    "Identity": ("gain",),
    "Constant": ("value",),
    "Zeros": (),
    "Ones": (),
    "DeltaOrthogonal": ("scale",),
    "Dirac": ("groups",),
    "Sparse": ("sparsity", "stddev"),
}
UNSEEDED = {"Identity", "Constant", "Zeros", "Ones", "Dirac"}


@st.composite
def initializers(draw):
    name = draw(st.sampled_from(sorted(CONSTRUCTORS)))
    kwargs = {arg: draw(numbers) for arg in CONSTRUCTORS[name]}
    if name == "VarianceScaling":
        kwargs["mode"] = draw(st.sampled_from(["fan_in", "fan_out", "fan_avg", "fan_geo_avg", "x"]))
        kwargs["distribution"] = draw(
            st.sampled_from(["truncated_normal", "normal", "untruncated_normal", "uniform", "z"])
        )
    if name not in UNSEEDED:
        kwargs["seed"] = draw(seeds)
    return name, kwargs


def _dtypes(backend):
    return [*backend.real_dtypes, "complex64", "int32", "bool"]


def _check_error(error):
    assert isinstance(error, (TypeError, ValueError)), repr(error)
    assert str(error), "an error must say what is wrong"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(case=initializers(), shape=shapes, dtype_index=st.integers(0, 6))
def test_out_of_place_calls_give_a_correct_array_or_a_named_error(
    backend, case, shape, dtype_index
):
    name, kwargs = case
    dtypes = _dtypes(backend)
    dtype = dtypes[dtype_index % len(dtypes)]
    try:
        init = getattr(anyinit, name)(**kwargs)
    except Exception as error:
        _check_error(error)
        return
    like = backend.like()
    try:
        w = init(shape, dtype, like=like)
    except Exception as error:
        _check_error(error)
        return
    assert type(w) is type(like)
    assert tuple(w.shape) == shape
    assert backend.dtype_name(w) == dtype
    values = backend.to_numpy(w)
    fill = kwargs.get("value", kwargs.get("gain", 0.0))
    non_finite_fill = isinstance(fill, float) and not math.isfinite(fill)
    if not (name in ("Constant", "Identity") and non_finite_fill):
        assert np.isfinite(values).all(), (name, kwargs, shape, dtype)
    if isinstance(init, RandomInitializer) and values.size and not np.iscomplexobj(values):
        try:
            law = init.law(shape)
        except NotImplementedError:
            return
        low, high = law.bounds
        assert values.min() >= low, (name, kwargs, values.min(), low)
        assert values.max() <= high, (name, kwargs, values.max(), high)


IN_PLACE = {
    "uniform_": ("a", "b"),
    "normal_": ("mean", "std"),
    "trunc_normal_": ("mean", "std", "a", "b"),
    "constant_": ("val",),
    "xavier_uniform_": ("gain",),
    "xavier_normal_": ("gain",),
    "kaiming_uniform_": ("a",),
    "kaiming_normal_": ("a",),
    "orthogonal_": ("gain",),
    "sparse_": ("sparsity", "std"),
    "dirac_": ("groups",),
}


@st.composite
def in_place_calls(draw):
    name = draw(st.sampled_from(sorted(IN_PLACE)))
    kwargs = {arg: draw(numbers) for arg in IN_PLACE[name]}
    if name not in ("constant_", "dirac_"):
        kwargs["seed"] = draw(st.one_of(st.none(), st.integers(0, 2**32)))
    return name, kwargs


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(case=in_place_calls(), shape=shapes, dtype_index=st.integers(0, 6))
def test_in_place_calls_write_correctly_or_leave_the_array_untouched(
    backend, case, shape, dtype_index
):
    adapter = backend.adapter
    if not adapter.exports and not adapter.is_mutable(backend.like()):
        pytest.skip(f"{backend.name} arrays are immutable")
    name, kwargs = case
    dtypes = _dtypes(backend)
    dtype = dtypes[dtype_index % len(dtypes)]
    xp = backend.xp
    if adapter.exports:  # TensorFlow: a tf.Variable; MLX: an mx.array
        tensor = adapter.writable(shape, dtype, backend.device, value=1)
    else:
        tensor = xp.full(shape, 1, dtype=backend.dtype(dtype), device=backend.device)
    try:
        with warnings.catch_warnings():
            # torch's own warnings: kaiming_*_ on zero elements, a mean far from [a, b]
            warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")
            warnings.filterwarnings("ignore", "mean is more than 2 std from")
            result = getattr(anyinit, name)(tensor, **kwargs)
    except Exception as error:
        _check_error(error)
        assert (backend.to_numpy(tensor) == 1).all(), "an error left the array changed"
        return
    assert result is tensor
    values = backend.to_numpy(tensor)
    if (
        name == "constant_"
        and isinstance(kwargs["val"], float)
        and not math.isfinite(kwargs["val"])
    ):
        return
    assert np.isfinite(values).all(), (name, kwargs, shape, dtype)
    if name == "uniform_" and values.size and not np.iscomplexobj(values):
        assert values.min() >= float(kwargs["a"])
        assert values.max() <= float(kwargs["b"])
    if name == "trunc_normal_" and values.size:
        assert values.min() >= float(kwargs["a"])
        assert values.max() <= float(kwargs["b"])
