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


# -- issue 35's unclear messages and tracebacks ------------------------------------------------


def _mlp(width):
    import numpy as np

    return {
        "fc1": {"kernel": np.zeros((16, width), np.float32)},
        "fc2": {"kernel": np.zeros((width, width), np.float32)},
    }


def test_a_wrong_keyword_names_the_initializer_not_its_base():
    with pytest.raises(TypeError, match=r"^GlorotNormal\(\): got an unexpected keyword.*'sed'"):
        anyinit.glorot_normal(sed=0)
    with pytest.raises(TypeError, match=r"^HeUniform\(\): too many positional"):
        anyinit.HeUniform(0, 1)
    assert anyinit.LecunNormal(seed=4, in_axis=-2).seed == 4


def test_a_bool_tensor_is_no_seed_as_true_is_none(backend):
    flag = anyinit.Constant(1)((), "bool", like=backend.like("float32"))
    with pytest.raises(TypeError, match="`seed` must be an int"):
        anyinit.glorot_normal(seed=flag)
    with pytest.raises(TypeError, match="`seed` must be an int"):
        anyinit.glorot_normal(seed=True)


def test_a_jax_key_as_seed_says_it_goes_positionally():
    jax = pytest.importorskip("jax")
    with pytest.raises(TypeError, match=r"A JAX key goes positionally.*init\(key, shape"):
        anyinit.glorot_normal(seed=jax.random.key(0))


def test_an_array_in_the_dtype_position_points_to_like(backend):
    with pytest.raises(TypeError, match="pass it as like=array"):
        anyinit.glorot_normal(seed=0)((2, 2), backend.like("float32"))


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["fc1"], "`names` must be a mapping"),
        ({"fc1": 3}, "`names` maps non-empty strings to strings"),
        ({"": "x"}, "`names` maps non-empty strings to strings"),
    ],
)
def test_names_of_the_wrong_types_are_refused(names, message):
    with pytest.raises(TypeError, match=message):
        anyinit.initialize(_mlp(4), "torch", seed=0, names=names)
    with pytest.raises(TypeError, match=message):
        anyinit.canonical_weights(_mlp(4), names=names)
    with pytest.raises(TypeError, match=message):
        anyinit.presets.mup(_mlp(4), names=names)


def test_mup_refuses_zero_widths_other_architectures_and_rules_that_are_not_a_law():
    with pytest.raises(ValueError, match=r"the model has a zero-width parameter 'fc1.kernel'"):
        anyinit.initialize(_mlp(0), anyinit.presets.mup(_mlp(64)), seed=0)
    with pytest.raises(ValueError, match=r"the muP base has a zero-width parameter"):
        anyinit.initialize(_mlp(64), anyinit.presets.mup(_mlp(0)), seed=0)
    base = {**_mlp(8), "head": {"kernel": _mlp(8)["fc2"]["kernel"]}}
    with pytest.raises(ValueError, match=r"parameters the model lacks \('head.kernel'\)"):
        anyinit.initialize(_mlp(64), anyinit.presets.mup(base), seed=0)
    with pytest.raises(TypeError, match="`recipe` must be a preset or recipe name"):
        anyinit.presets.mup(_mlp(8), {"*": anyinit.Zeros()})


def test_mup_applies_its_names_to_the_base():
    import numpy as np

    base = {"Dense_0": {"kernel": np.zeros((16, 8), np.float32)}}
    model = {"fc1": {"kernel": np.zeros((16, 64), np.float32)}}
    with pytest.raises(ValueError, match=r"the muP base has no parameter 'fc1\.kernel'"):
        anyinit.initialize(model, anyinit.presets.mup(base), seed=0)
    recipe = anyinit.presets.mup(base, "torch", names={"Dense_0": "fc1"})
    assert anyinit.initialize(model, recipe, seed=0)["fc1"]["kernel"].std() > 0
