"""TensorFlow's own behaviour (collected in ``nox -s tests-tensorflow`` only): results are
``tf.Tensor`` s on the tensor's device with NumPy's values, ``tf.random.Generator`` draws the
numbers, the in-place functions assign into ``tf.Variable``, ``tf.Module`` s are initialised."""

from __future__ import annotations

import numpy as np
import pytest

import anyinit

tf = pytest.importorskip("tensorflow")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "complex64"])
def test_like_a_tensor_gives_a_tensor_with_numpys_values(dtype):
    like = tf.zeros((0,), dtype=dtype)
    got = anyinit.GlorotUniform(seed=3)((5, 4), like=like)
    assert isinstance(got, tf.Tensor)
    assert got.dtype == tf.as_dtype(dtype)
    assert got.device == like.device
    want = anyinit.GlorotUniform(seed=3)((5, 4), dtype)
    np.testing.assert_array_equal(got.numpy().astype(np.complex128), want.astype(np.complex128))


def test_a_tf_random_generator_supplies_the_numbers():
    draws, again = tf.random.Generator.from_seed(5), tf.random.Generator.from_seed(5)
    got = anyinit.RandomUniform(-1.0, 2.0, seed=draws)((4, 3), xp=tf)
    want = again.uniform((4, 3), dtype=tf.float32).numpy() * np.float32(3.0) + np.float32(-1.0)
    np.testing.assert_array_equal(got.numpy(), want)
    after = anyinit.RandomUniform(-1.0, 2.0, seed=draws)((4, 3), xp=tf)
    assert not np.array_equal(after.numpy(), got.numpy())  # the generator advanced


def test_in_place_functions_assign_into_a_variable_and_refuse_a_tensor():
    variable = tf.Variable(tf.zeros((6, 3)))
    assert anyinit.kaiming_uniform_(variable, seed=0) is variable
    np.testing.assert_array_equal(
        variable.numpy(), anyinit.kaiming_uniform_(np.zeros((6, 3), np.float32), seed=0)
    )
    with pytest.raises(TypeError, match="in place"):
        anyinit.kaiming_uniform_(tf.zeros((6, 3)), seed=0)


def test_devices_are_tensorflows_and_checked():
    got = anyinit.HeNormal(seed=0)((3,), xp=tf, device="CPU:0")
    assert got.device.endswith("CPU:0")
    with pytest.raises(ValueError, match="not available; TensorFlow has"):
        anyinit.HeNormal(seed=0)((3,), xp=tf, device="GPU:7")


def test_initialize_a_tf_module_assigns_its_variables_by_path():
    class Dense(tf.Module):
        def __init__(self, fan_in, fan_out, name=None):
            super().__init__(name=name)
            self.kernel = tf.Variable(tf.zeros((fan_in, fan_out)))
            self.bias = tf.Variable(tf.ones((fan_out,)))

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = Dense(8, 4), Dense(4, 2)

    net = Net()
    assert anyinit.initialize(net, "keras", seed=0) is net
    tree = {
        "fc1": {"kernel": np.zeros((8, 4), np.float32), "bias": np.ones(4, np.float32)},
        "fc2": {"kernel": np.zeros((4, 2), np.float32), "bias": np.ones(2, np.float32)},
    }
    want = anyinit.initialize(tree, "keras", seed=0)
    np.testing.assert_array_equal(net.fc1.kernel.numpy(), want["fc1"]["kernel"])
    np.testing.assert_array_equal(net.fc2.bias.numpy(), np.zeros(2))
    assert anyinit.audit(net, "keras").ok
    np.testing.assert_array_equal(
        anyinit.canonical_weights(net)["fc1.kernel"], want["fc1"]["kernel"]
    )
    net.fc1.kernel.assign(net.fc1.kernel * 3.0)
    assert [row.path for row in anyinit.audit(net, "keras").failed] == ["fc1.kernel"]


def test_a_tf_generator_draws_every_truncated_law():
    generator = tf.random.Generator.from_seed(1)
    for init in (
        anyinit.TruncatedNormal(stddev=1.0, seed=generator),
        anyinit.GlorotNormal(seed=generator),
    ):
        values = init((20000,), xp=tf).numpy()
        law = init.law((20000,))
        assert np.all((values >= law.bounds[0]) & (values <= law.bounds[1]))
        assert values.std() == pytest.approx(law.std, rel=0.05)


@pytest.mark.parametrize(
    "like",
    [
        lambda: tf.ragged.constant([[1.0], [2.0, 3.0]]),
        lambda: tf.sparse.SparseTensor([[0, 0]], [1.0], [2, 2]),
    ],
    ids=["ragged", "sparse"],
)
def test_a_ragged_or_sparse_like_is_refused_clearly(like):
    with pytest.raises(
        TypeError, match=r"`like` must be a dense tf.Tensor .* pass like=its \.values"
    ):
        anyinit.GlorotNormal(seed=0)((4, 4), like=like())


def test_a_tf_module_reaching_a_submodule_twice_draws_its_variables_once():
    class Dense(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.kernel = tf.Variable(tf.zeros((8, 4)))

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Dense()
            self.alias = self.encoder  # the same submodule, twice

    net = Net()
    _, report = anyinit.initialize(net, "keras", seed=0, return_report=True)
    assert [row.path for row in report] == ["alias.kernel"] or [row.path for row in report] == [
        "encoder.kernel"
    ]
    assert list(anyinit.canonical_weights(net)) == [report[0].path]
