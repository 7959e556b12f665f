"""Bad input raises at once, naming the argument, the value and what is allowed."""

from __future__ import annotations

import math

import pytest

import anyinit

CONSTRUCTION = [
    (
        lambda: anyinit.VarianceScaling(scale=0),
        ValueError,
        r"`scale` must be > 0; received scale=0",
    ),
    (lambda: anyinit.VarianceScaling(scale=-1.0), ValueError, r"`scale` must be > 0"),
    (lambda: anyinit.VarianceScaling(scale=math.nan), ValueError, r"`scale` must be finite"),
    (
        lambda: anyinit.VarianceScaling(mode="fan_sum"),
        ValueError,
        r"Invalid `mode`: 'fan_sum'. Expected one of",
    ),
    (
        lambda: anyinit.VarianceScaling(distribution="foo"),
        ValueError,
        r"Invalid `distribution`: 'foo'",
    ),
    (lambda: anyinit.VarianceScaling(distribution=3), ValueError, r"Invalid `distribution`: 3"),
    (lambda: anyinit.VarianceScaling(in_axis="a"), TypeError, r"`in_axis` must be an int"),
    (
        lambda: anyinit.RandomNormal(stddev=-1),
        ValueError,
        r"`stddev` must be >= 0; received stddev=-1",
    ),
    (lambda: anyinit.RandomNormal(mean=math.inf), ValueError, r"`mean` must be finite"),
    (lambda: anyinit.RandomNormal(stddev="0.1"), TypeError, r"`stddev` must be a real number"),
    (lambda: anyinit.TruncatedNormal(stddev=math.nan), ValueError, r"`stddev` must be finite"),
    (
        lambda: anyinit.RandomUniform(minval=1, maxval=0),
        ValueError,
        r"`minval` must be <= `maxval`",
    ),
    (lambda: anyinit.RandomUniform(maxval=1j), TypeError, r"`maxval` must be a real number"),
    (lambda: anyinit.Orthogonal(gain=math.nan), ValueError, r"`gain` must be finite"),
    (lambda: anyinit.Orthogonal(column_axis=(0, 1)), TypeError, r"`column_axis` must be an int"),
    (lambda: anyinit.Identity(gain=math.inf), ValueError, r"`gain` must be finite"),
    (lambda: anyinit.Constant("1"), TypeError, r"`value` must be a real number"),
    (lambda: anyinit.Dirac(groups=0), ValueError, r"`groups` must be an int >= 1"),
    (lambda: anyinit.Sparse(-0.1), ValueError, r"`sparsity` must be >= 0"),
    (lambda: anyinit.DeltaOrthogonal(scale=math.nan), ValueError, r"`scale` must be finite"),
    (lambda: anyinit.SeedGenerator("a"), TypeError, r"`seed` of a SeedGenerator must be an int"),
]


@pytest.mark.parametrize(("build", "error", "match"), CONSTRUCTION)
def test_construction_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


def _foreign_dtype(backend):
    import array_api_strict
    import numpy as np

    if backend.name == "array_api_strict":
        return np.dtype("float32")
    return array_api_strict.float32


def _bad_device(backend):
    return "nonsense-device" if backend.name != "numpy" else "cuda"


CALL = [
    (
        "negative dim",
        lambda b: ((-1, 3), {}),
        ValueError,
        r"`shape` must contain only non-negative ints",
    ),
    (
        "float dim",
        lambda b: ((2.0, 3), {}),
        TypeError,
        r"`shape` must contain only non-negative ints",
    ),
    (
        "bool dim",
        lambda b: ((True, 3), {}),
        TypeError,
        r"`shape` must contain only non-negative ints",
    ),
    ("string shape", lambda b: ("3", {}), TypeError, r"`shape` must be an int or a sequence"),
    (
        "unknown dtype",
        lambda b: ((2, 2), {"dtype": "float8"}),
        ValueError,
        r"Unknown `dtype` name 'float8'",
    ),
    (
        "integer dtype",
        lambda b: ((2, 2), {"dtype": "int32"}),
        ValueError,
        r"`dtype`='int32' is not supported by GlorotNormal; it needs a real floating",
    ),
    (
        "bool dtype",
        lambda b: ((2, 2), {"dtype": "bool"}),
        ValueError,
        r"`dtype`='bool' is not supported",
    ),
    (
        "foreign dtype",
        lambda b: ((2, 2), {"dtype": _foreign_dtype(b)}),
        TypeError,
        r"is not one of the .* dtypes anyinit supports",
    ),
    (
        "like not an array",
        lambda b: ((2, 2), {"like": [1.0, 2.0]}),
        TypeError,
        r"`like` must be an array",
    ),
    (
        "xp not a module",
        lambda b: ((2, 2), {"xp": "numpy"}),
        TypeError,
        r"`xp` must be an array namespace",
    ),
    ("bad device", lambda b: ((2, 2), {"device": _bad_device(b)}), ValueError, r"`device`="),
]


@pytest.mark.parametrize(("case", "arguments", "error", "match"), CALL, ids=[c[0] for c in CALL])
def test_call_errors(backend, case, arguments, error, match):
    shape, kwargs = arguments(backend)
    kwargs.setdefault("xp" if "like" not in kwargs else "like", kwargs.get("like", backend.xp))
    with pytest.raises(error, match=match):
        anyinit.GlorotNormal(seed=0)(shape, **kwargs)


def test_xp_that_contradicts_like(backend, like):
    import array_api_strict
    import numpy as np

    other = array_api_strict if backend.name != "array_api_strict" else np
    with pytest.raises(ValueError, match="does not match `like`"):
        anyinit.Zeros()((2,), like=like, xp=other)


@pytest.mark.only_backend("torch", reason="torch's CUDA device check")
def test_unavailable_cuda_device_is_rejected(backend, like):
    if backend.xp.cuda.device_count() > 7:
        pytest.skip("needs a machine without an 8th GPU")
    with pytest.raises(ValueError, match=r"`device`='cuda:7' is not available"):
        anyinit.HeNormal(seed=0)((2, 2), like=like, device="cuda:7")


@pytest.mark.only_backend("array_api_strict", reason="the backend without bfloat16 here")
def test_bfloat16_missing_from_a_library_is_named(backend, like):
    with pytest.raises(
        ValueError, match=r"`dtype`='bfloat16' is not available in array_api_strict"
    ):
        anyinit.HeNormal(seed=0)((2, 2), "bfloat16", like=like)
