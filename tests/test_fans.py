"""compute_fans and calculate_gain: the Keras / JAX / torch conventions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import anyinit

KERAS_CASES = [
    ((), (1, 1)),
    ((5,), (5, 5)),
    ((3, 4), (3, 4)),
    ((3, 3, 4, 8), (36, 72)),
    ((0, 3), (0, 3)),
    ((3, 3, 64, 128), (576, 1152)),
    ((2, 5, 7), (10, 14)),
]


@pytest.mark.parametrize(("shape", "fans"), KERAS_CASES)
def test_default_axes_follow_keras(shape, fans):
    assert anyinit.compute_fans(shape) == fans


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((3, 4), (4, 3)), ((8, 4, 3, 3), (36, 72)), ((8, 2, 5), (10, 40))],
)
def test_torch_layout(shape, fans):
    assert anyinit.compute_fans(shape, in_axis=1, out_axis=0) == fans


def test_batch_axis_is_excluded_from_both_fans():
    assert anyinit.compute_fans((6, 3, 3, 4, 8), batch_axis=0) == (36, 72)


def test_overlapping_axes_use_jax_arithmetic():
    # Flax's Embed: (vocab, features) with in_axis=-2, out_axis=0 gives fan_in = features.
    assert anyinit.compute_fans((1000, 64), in_axis=-2, out_axis=0) == (64, 64)


def test_sequence_axes():
    assert anyinit.compute_fans((2, 3, 5, 7), in_axis=(0, 1), out_axis=(2, 3)) == (6, 35)


def test_explicit_axes_allow_rank_one():
    assert anyinit.compute_fans((5,), in_axis=0, out_axis=0) == (1, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_axis": 3}, ValueError, r"`in_axis`=3 is out of range"),
        ({"out_axis": -4}, ValueError, r"`out_axis`=-4 is out of range"),
        ({"batch_axis": "0"}, TypeError, r"`batch_axis` must be an int"),
        ({"in_axis": 1.0}, TypeError, r"`in_axis` must be an int"),
    ],
)
def test_bad_axes(kwargs, error, match):
    with pytest.raises(error, match=match):
        anyinit.compute_fans((2, 3, 4), **kwargs)


@pytest.mark.parametrize(
    ("shape", "error"),
    [((-1, 3), ValueError), ((2.0, 3), TypeError), ((True, 3), TypeError), ("ab", TypeError)],
)
def test_bad_shapes(shape, error):
    with pytest.raises(error, match="`shape`"):
        anyinit.compute_fans(shape)


shapes = st.lists(st.integers(0, 9), min_size=2, max_size=5).map(tuple)


@settings(max_examples=200, deadline=None)
@given(shapes)
def test_keras_parity(shape):
    keras_fans = pytest.importorskip("keras.src.initializers.random_initializers").compute_fans
    assert anyinit.compute_fans(shape) == keras_fans(shape)


@settings(max_examples=200, deadline=None)
@given(shapes)
def test_torch_parity(shape):
    torch = pytest.importorskip("torch")
    from torch.nn.init import _calculate_fan_in_and_fan_out

    assert anyinit.compute_fans(shape, in_axis=1, out_axis=0) == _calculate_fan_in_and_fan_out(
        torch.empty(shape, device="meta")
    )


@settings(max_examples=200, deadline=None)
@given(shapes, st.data())
def test_fans_multiply_to_size_over_the_other_axis(shape, data):
    rank = len(shape)
    in_axis = data.draw(st.integers(-rank, rank - 1))
    out_axis = data.draw(st.integers(-rank, rank - 1).filter(lambda a: a % rank != in_axis % rank))
    fan_in, fan_out = anyinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis)
    # fan_in · out_size == fan_out · in_size == prod(shape)
    assert fan_in * shape[out_axis] == math.prod(shape)
    assert fan_out * shape[in_axis] == math.prod(shape)


TORCH_GAINS = [
    ("linear", None, 1),
    ("conv2d", None, 1),
    ("conv_transpose3d", None, 1),
    ("sigmoid", None, 1),
    ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)),
    ("relu", 0.5, math.sqrt(2.0)),
    ("leaky_relu", None, 1.4141428569978354),
    ("leaky_relu", 0, 1.4142135623730951),
    ("leaky_relu", 0.2, 1.3867504905630728),
    ("leaky_relu", math.sqrt(5), 0.5773502691896257),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize(("name", "param", "gain"), TORCH_GAINS)
def test_gain_table(name, param, gain):
    result = anyinit.calculate_gain(name, param)
    assert result == pytest.approx(gain, rel=1e-15)
    assert type(result) is type(gain)


@pytest.mark.parametrize(("name", "param"), [(n, p) for n, p, _ in TORCH_GAINS])
def test_gain_parity_with_torch(name, param):
    torch = pytest.importorskip("torch")
    assert anyinit.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


@pytest.mark.parametrize(
    ("name", "param", "message"),
    [
        ("gelu", None, "Unsupported nonlinearity gelu"),
        ("ReLU", None, "Unsupported nonlinearity ReLU"),
        ("leaky_relu", True, "negative_slope True not a valid number"),
        ("leaky_relu", "0.1", "negative_slope 0.1 not a valid number"),
    ],
)
def test_gain_errors_match_torch(name, param, message):
    with pytest.raises(ValueError, match=message):
        anyinit.calculate_gain(name, param)
