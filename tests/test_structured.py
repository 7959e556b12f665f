"""Orthogonal, delta-orthogonal, identity, Dirac, sparse and the constant initializers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit


def _gram_error(matrix: np.ndarray, gain: float) -> float:
    rows, cols = matrix.shape
    gram = matrix.conj().T @ matrix if rows >= cols else matrix @ matrix.conj().T
    return float(np.abs(gram - gain**2 * np.eye(min(rows, cols))).max())


ORTHO_TOL = {"float16": 2e-2, "bfloat16": 8e-2, "float32": 2e-5, "float64": 1e-12}


@pytest.mark.parametrize("shape", [(64, 64), (100, 30), (30, 100), (3, 3, 8, 16), (16, 4, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal_gram_is_gain_squared_identity(backend, shape, gain):
    for dtype in backend.real_dtypes:
        values = anyinit.Orthogonal(gain=gain, seed=0)(shape, dtype, like=backend.like())
        assert backend.dtype_name(values) == dtype
        assert backend.same_device(values)
        matrix = backend.to_numpy(values).reshape(-1, shape[-1])
        tolerance = ORTHO_TOL[dtype] * gain**2
        assert _gram_error(matrix, gain) < tolerance * max(1, math.sqrt(min(matrix.shape)) / 4), (
            dtype
        )


def test_orthogonal_column_axis(backend, like):
    values = backend.to_numpy(anyinit.Orthogonal(seed=1, column_axis=0)((16, 4, 2), like=like))
    matrix = np.moveaxis(values, 0, -1).reshape(-1, 16)
    assert _gram_error(matrix, 1.0) < 1e-5


def test_orthogonal_complex_is_unitary(backend):
    for dtype in backend.complex_dtypes:
        values = backend.to_numpy(anyinit.Orthogonal(seed=2)((40, 40), dtype, like=backend.like()))
        assert np.iscomplexobj(values)
        assert _gram_error(values, 1.0) < (1e-4 if dtype == "complex64" else 1e-12)


def test_orthogonal_is_haar_distributed(backend, like):
    # With the sign correction, E[Q] = 0 entrywise; without it the diagonal is biased.
    draws = np.stack(
        [backend.to_numpy(anyinit.Orthogonal(seed=s)((4, 4), like=like)) for s in range(400)]
    )
    assert np.abs(draws.mean(axis=0)).max() < 0.12


@pytest.mark.parametrize("shape", [(3,), ()])
def test_orthogonal_needs_rank_two(backend, like, shape):
    with pytest.raises(ValueError, match="at least two-dimensional"):
        anyinit.Orthogonal()(shape, like=like)


def test_delta_orthogonal(backend, like):
    values = backend.to_numpy(anyinit.DeltaOrthogonal(scale=1.5, seed=0)((4, 4, 8, 12), like=like))
    centre = values[1, 1]  # JAX's centre is (k - 1) // 2
    assert _gram_error(centre, 1.5) < 1e-4
    mask = np.ones(values.shape[:2], dtype=bool)
    mask[1, 1] = False
    assert (values[mask] == 0).all()


@pytest.mark.parametrize(
    ("shape", "match"), [((3, 3), "3D, 4D or 5D"), ((3, 3, 8, 4), "less or equal than `fan_out`")]
)
def test_delta_orthogonal_errors(backend, like, shape, match):
    with pytest.raises(ValueError, match=match):
        anyinit.DeltaOrthogonal()(shape, like=like)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (4, 2)])
def test_identity(backend, like, shape):
    values = backend.to_numpy(anyinit.Identity(gain=0.5)(shape, like=like))
    np.testing.assert_array_equal(values, 0.5 * np.eye(*shape))


def test_identity_integer_dtype(backend):
    values = anyinit.Identity(gain=3)((2, 2), "int32", like=backend.like())
    assert backend.dtype_name(values) == "int32"
    np.testing.assert_array_equal(backend.to_numpy(values), 3 * np.eye(2))


def test_identity_needs_rank_two(backend, like):
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        anyinit.Identity()((2, 2, 2), like=like)


@pytest.mark.parametrize(
    ("shape", "groups"), [((3, 4, 4), 1), ((3, 3, 2, 6), 2), ((3, 3, 3, 5, 5), 1), ((1, 6, 3), 1)]
)
def test_dirac_is_the_identity_convolution(backend, like, shape, groups):
    values = backend.to_numpy(anyinit.Dirac(groups=groups)(shape, like=like))
    *spatial, fan_in, fan_out = shape
    per_group = fan_out // groups
    expected = np.zeros(shape)
    centre = tuple(k // 2 for k in spatial)
    for g in range(groups):
        for d in range(min(per_group, fan_in)):
            expected[(*centre, d, g * per_group + d)] = 1
    np.testing.assert_array_equal(values, expected)


def test_dirac_errors(backend, like):
    with pytest.raises(ValueError, match="3-, 4- or 5-D"):
        anyinit.Dirac()((3, 3), like=like)
    with pytest.raises(ValueError, match="divisible by `groups`=4"):
        anyinit.Dirac(groups=4)((3, 2, 6), like=like)


def test_sparse(backend, like):
    values = backend.to_numpy(
        anyinit.Sparse(sparsity=0.3, stddev=0.5, seed=0)((50, 400), like=like)
    )
    zeros_per_column = (values == 0).sum(axis=0)
    assert (zeros_per_column == math.ceil(0.3 * 50)).all()
    nonzero = values[values != 0]
    assert nonzero.std() == pytest.approx(0.5, rel=0.03)
    # Every row position is equally likely to be zeroed.
    per_row = (values == 0).mean(axis=1)
    assert np.abs(per_row - 0.3).max() < 0.1


def test_sparse_mask_follows_the_seed(backend, like):
    first = backend.to_numpy(anyinit.Sparse(0.5, seed=3)((20, 20), like=like))
    second = backend.to_numpy(anyinit.Sparse(0.5, seed=3)((20, 20), like=like))
    np.testing.assert_array_equal(first, second)


def test_sparse_errors(backend, like):
    with pytest.raises(ValueError, match=r"`sparsity` must be in \[0, 1\]"):
        anyinit.Sparse(1.5)
    with pytest.raises(ValueError, match="2-D shape"):
        anyinit.Sparse(0.1)((3, 3, 3), like=like)


@pytest.mark.parametrize(
    ("init", "value"), [(anyinit.Zeros(), 0), (anyinit.Ones(), 1), (anyinit.Constant(-2.5), -2.5)]
)
def test_constants(backend, like, init, value):
    for dtype in (*backend.real_dtypes, "int32"):
        if isinstance(init, anyinit.Constant) and dtype == "int32":
            continue
        values = init((3, 4), dtype, like=backend.like())
        assert backend.dtype_name(values) == dtype
        assert backend.same_device(values)
        assert (backend.to_numpy(values) == value).all()


def test_constant_integer_dtype(backend):
    values = anyinit.Constant(7)((2,), "int64", like=backend.like())
    assert backend.dtype_name(values) == "int64"
    assert backend.to_numpy(values).tolist() == [7, 7]
    with pytest.raises(ValueError, match="cannot be stored exactly"):
        anyinit.Constant(2.5)((2,), "int32", like=backend.like())
