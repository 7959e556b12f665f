"""Where results are made: library, device and dtype resolution."""

from __future__ import annotations

import pytest

import anyinit

INITIALIZERS = [
    anyinit.Zeros(),
    anyinit.Constant(0.5),
    anyinit.RandomNormal(seed=0),
    anyinit.RandomUniform(seed=0),
    anyinit.TruncatedNormal(seed=0),
    anyinit.GlorotNormal(seed=0),
    anyinit.HeUniform(seed=0),
    anyinit.Orthogonal(seed=0),
    anyinit.Identity(),
]


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda i: type(i).__name__)
def test_result_follows_like(backend, init):
    for dtype in backend.real_dtypes:
        values = init((6, 4), like=backend.like(dtype))
        assert type(values) is type(backend.like())
        assert backend.dtype_name(values) == dtype
        assert backend.same_device(values)


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda i: type(i).__name__)
def test_result_follows_xp_and_device(backend, init):
    values = init((6, 4), xp=backend.xp, device=backend.device)
    assert type(values) is type(backend.like())
    assert backend.dtype_name(values) == "float32"
    assert backend.same_device(values)


def test_integer_like_gives_float32(backend):
    values = anyinit.GlorotUniform(seed=0)((3, 3), like=backend.like("int32"))
    assert backend.dtype_name(values) == "float32"
    assert backend.same_device(values)


def test_explicit_dtype_beats_like(backend):
    values = anyinit.GlorotUniform(seed=0)((3, 3), "float64", like=backend.like("float32"))
    assert backend.dtype_name(values) == "float64"


def test_dtype_object_of_the_library(backend):
    values = anyinit.HeNormal(seed=0)((3, 3), backend.dtype("float64"), like=backend.like())
    assert backend.dtype_name(values) == "float64"


def test_keras_positional_signature(backend):
    init = anyinit.get("glorot_uniform")
    values = init((4, 2), "float64")
    assert values.shape == (4, 2)
    assert str(values.dtype) == "float64"


def test_default_is_numpy_float32():
    import numpy as np

    values = anyinit.he_uniform(seed=0)((2, 3))
    assert isinstance(values, np.ndarray)
    assert values.dtype == np.float32


@pytest.mark.skip_backend("tensorflow", reason="not an Array API library: no compat namespace")
def test_compat_namespace_is_accepted(backend):
    from array_api_compat import array_namespace

    namespace = array_namespace(backend.like())
    values = anyinit.RandomNormal(seed=0)((2,), xp=namespace, device=backend.device)
    assert type(values) is type(backend.like())


@pytest.mark.parametrize("shape", [5, (5,), [2, 3], (2, 0, 3)])
def test_shape_forms(backend, like, shape):
    values = anyinit.RandomUniform(seed=0)(shape, like=like)
    expected = (shape,) if isinstance(shape, int) else tuple(shape)
    assert tuple(values.shape) == expected


def test_numpy_integer_dims(backend, like):
    import numpy as np

    values = anyinit.Ones()((np.int64(2), np.int32(3)), like=like)
    assert tuple(values.shape) == (2, 3)
