"""get / serialize / deserialize / get_config / from_config, and Keras 3 dicts."""

from __future__ import annotations

import json

import pytest

import anyinit

ALL = [
    anyinit.Zeros(),
    anyinit.Ones(),
    anyinit.Constant(3.5),
    anyinit.RandomNormal(0.1, 0.2, seed=1),
    anyinit.RandomUniform(-1.0, 2.0, seed=2),
    anyinit.TruncatedNormal(0.0, 0.3, seed=3),
    anyinit.VarianceScaling(
        2.0, "fan_geo_avg", "uniform", seed=4, in_axis=1, out_axis=0, batch_axis=(2,)
    ),
    anyinit.VarianceScaling(1.0, input_axes=[0], output_axes=[1, 2]),
    anyinit.GlorotNormal(seed=5),
    anyinit.GlorotUniform(seed=anyinit.SeedGenerator(6)),
    anyinit.HeNormal(in_axis=0, out_axis=1),
    anyinit.HeUniform(),
    anyinit.LecunNormal(seed=7),
    anyinit.LecunUniform(seed=8),
    anyinit.Orthogonal(gain=2.0, seed=9, column_axis=0),
    anyinit.Identity(gain=0.5),
    anyinit.Dirac(groups=2),
    anyinit.DeltaOrthogonal(scale=1.5, seed=10),
    anyinit.Sparse(0.2, 0.05, seed=11),
]


@pytest.mark.parametrize("init", ALL, ids=lambda i: type(i).__name__)
def test_json_round_trip(init):
    text = json.dumps(anyinit.serialize(init))
    rebuilt = anyinit.deserialize(json.loads(text))
    assert type(rebuilt) is type(init)
    config, rebuilt_config = init.get_config(), rebuilt.get_config()
    if isinstance(config.get("seed"), anyinit.SeedGenerator):
        assert rebuilt_config.pop("seed").seed == config.pop("seed").seed
    assert rebuilt_config == config


@pytest.mark.parametrize("init", ALL, ids=lambda i: type(i).__name__)
def test_from_config_and_clone(init):
    assert type(init).from_config(init.get_config()) == init
    clone = init.clone()
    assert clone == init
    assert clone is not init


@pytest.mark.parametrize(
    "init",
    [i for i in ALL if isinstance(i.get_config().get("seed"), int)],
    ids=lambda i: type(i).__name__,
)
def test_round_trip_gives_the_same_values(backend, init):
    shape = (
        (3, 3, 4, 8)
        if isinstance(init, (anyinit.DeltaOrthogonal, anyinit.VarianceScaling))
        else (6, 4)
    )
    rebuilt = anyinit.deserialize(json.loads(json.dumps(anyinit.serialize(init))))
    a = backend.to_numpy(init(shape, like=backend.like()))
    b = backend.to_numpy(rebuilt(shape, like=backend.like()))
    assert (a == b).all()


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("glorot_uniform", anyinit.GlorotUniform),
        ("GlorotUniform", anyinit.GlorotUniform),
        ("he_normal", anyinit.HeNormal),
        ("normal", anyinit.RandomNormal),
        ("uniform", anyinit.RandomUniform),
        ("zero", anyinit.Zeros),
        ("one", anyinit.Ones),
        ("constant", anyinit.Constant),
        ("identity", anyinit.Identity),
        ("IdentityInitializer", anyinit.Identity),
        ("OrthogonalInitializer", anyinit.Orthogonal),
        ("xavier_normal", anyinit.GlorotNormal),
        ("kaiming_uniform", anyinit.HeUniform),
        ("variance_scaling", anyinit.VarianceScaling),
        ("truncated_normal", anyinit.TruncatedNormal),
        ("delta_orthogonal", anyinit.DeltaOrthogonal),
    ],
)
def test_get_by_name(name, cls):
    assert type(anyinit.get(name)) is cls


def test_lower_case_names_are_the_classes():
    assert anyinit.glorot_normal is anyinit.GlorotNormal
    assert isinstance(anyinit.glorot_normal(seed=0), anyinit.Initializer)
    assert anyinit.normal is anyinit.RandomNormal
    assert anyinit.zero is anyinit.Zeros


def test_get_passes_through():
    init = anyinit.HeNormal()
    assert anyinit.get(init) is init
    assert anyinit.get(None) is None
    assert isinstance(anyinit.get(anyinit.Orthogonal), anyinit.Orthogonal)

    def custom(shape, dtype=None):
        return shape

    assert anyinit.get(custom) is custom


@pytest.mark.parametrize("identifier", ["foo", "Glorot_Uniform", 42])
def test_get_rejects_unknown(identifier):
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        anyinit.get(identifier)


def test_deserialize_never_imports_the_module_it_is_given():
    import sys

    config = {
        "module": "antigravity_module_that_does_not_exist",
        "class_name": "Zeros",
        "config": {},
    }
    assert isinstance(anyinit.deserialize(config), anyinit.Zeros)
    assert "antigravity_module_that_does_not_exist" not in sys.modules
    with pytest.raises(ValueError, match=r"Could not interpret initializer identifier: os\.system"):
        anyinit.deserialize({"module": "os", "class_name": "os.system", "config": {}})


def test_custom_objects():
    class Halves(anyinit.Initializer):
        def _generate(self, shape, target):
            return target.backend.full(shape, 0.5, target.dtype, target.device)

    config = {"class_name": "Halves", "config": {}}
    assert isinstance(anyinit.deserialize(config, custom_objects={"Halves": Halves}), Halves)


def test_native_generator_seed_cannot_be_serialized():
    import numpy as np

    with pytest.raises(TypeError, match="cannot serialize `seed`"):
        anyinit.serialize(anyinit.RandomNormal(seed=np.random.default_rng(0)))


def test_issue_example():
    init = anyinit.get(
        {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}
    )
    assert (init.scale, init.mode, init.distribution) == (2.0, "fan_out", "truncated_normal")
    assert anyinit.deserialize(anyinit.serialize(init)) == init


KERAS_OBJECTS = [
    ("GlorotUniform", {"seed": 3}),
    ("GlorotNormal", {}),
    ("HeNormal", {"seed": 1}),
    ("HeUniform", {}),
    ("LecunNormal", {}),
    ("LecunUniform", {}),
    ("RandomNormal", {"mean": 0.5, "stddev": 0.2, "seed": 2}),
    ("RandomUniform", {"minval": -0.1, "maxval": 0.3}),
    ("TruncatedNormal", {"mean": 0.0, "stddev": 0.1}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"}),
    ("Orthogonal", {"gain": 2.0, "seed": 4}),
    ("Identity", {"gain": 3.0}),
    ("Constant", {"value": 1.5}),
    ("Zeros", {}),
    ("Ones", {}),
]


@pytest.mark.parametrize(("class_name", "kwargs"), KERAS_OBJECTS, ids=[k[0] for k in KERAS_OBJECTS])
def test_dicts_written_by_keras(class_name, kwargs):
    keras = pytest.importorskip("keras")
    keras_init = getattr(keras.initializers, class_name)(**kwargs)
    config = json.loads(json.dumps(keras.initializers.serialize(keras_init)))
    ours = anyinit.get(config)
    assert type(ours).__name__ == class_name
    keras_config = keras_init.get_config()
    ours_config = ours.get_config()
    for key, value in keras_config.items():
        if key in ("input_axes", "output_axes", "dtype") and value is None:
            continue
        assert ours_config[key] == value, key


def test_keras_seed_generator_dict():
    keras = pytest.importorskip("keras")
    config = keras.initializers.serialize(
        keras.initializers.GlorotUniform(seed=keras.random.SeedGenerator(5))
    )
    ours = anyinit.get(json.loads(json.dumps(config)))
    assert isinstance(ours.seed, anyinit.SeedGenerator)
    assert ours.seed.seed == 5


def test_keras_axes_give_keras_fans():
    keras_fans = pytest.importorskip("keras.src.initializers.random_initializers").compute_fans
    init = anyinit.VarianceScaling(input_axes=[0, 1], output_axes=[2])
    assert init.fans((4, 3, 5, 2)) == keras_fans((4, 3, 5, 2), input_axes=[0, 1], output_axes=[2])


def test_keras_attributes_read_as_in_keras():
    init = anyinit.VarianceScaling(2.0, "fan_out", distribution="uniform", seed=3)
    assert (init.scale, init.mode, init.distribution, init.seed) == (2.0, "fan_out", "uniform", 3)
    assert anyinit.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    assert anyinit.GlorotUniform().distribution == "uniform"
    assert (anyinit.RandomUniform(-1, 1).minval, anyinit.RandomUniform(-1, 1).maxval) == (-1, 1)
    assert (anyinit.TruncatedNormal(0.5, 2.0).mean, anyinit.TruncatedNormal(0.5, 2.0).stddev) == (
        0.5,
        2.0,
    )


def test_constant_takes_array_values_as_keras_does(backend):
    import numpy as np

    value = np.arange(6.0).reshape(2, 3)
    init = anyinit.Constant(value)
    got = backend.to_numpy(init((4, 2, 3), like=backend.like()))
    np.testing.assert_array_equal(got, np.broadcast_to(value, (4, 2, 3)))
    config = json.loads(json.dumps(anyinit.serialize(init)))
    assert config["config"]["value"]["class_name"] == "__numpy__"  # Keras's own form
    rebuilt = anyinit.deserialize(config)((2, 3), like=backend.like())
    np.testing.assert_array_equal(backend.to_numpy(rebuilt), value)
    with pytest.raises(ValueError, match="cannot be broadcast to the shape"):
        init((4, 3), like=backend.like())
    with pytest.raises(ValueError, match="cannot be stored exactly"):
        anyinit.Constant([1.5, 2.0])((2,), "int32", like=backend.like())


def test_get_of_an_array_is_a_constant_of_its_values(backend):
    import numpy as np

    device = backend.adapter.check_device(backend.device)
    ones = backend.adapter.full((2, 2), 1.0, backend.dtype("float32"), device)
    init = anyinit.get(ones)
    assert isinstance(init, anyinit.Constant)
    values = backend.to_numpy(init((3, 2, 2), like=backend.like()))
    np.testing.assert_array_equal(values, np.ones((3, 2, 2)))
