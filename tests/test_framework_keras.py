"""Keras 3 models that use anyinit initializers save, load and clone, on every Keras backend.

Each case runs in fresh processes (one saves, another loads), so nothing
registered in one can help the other, in both import orders. Collected only
with ``--frameworks`` (``nox -s tests-frameworks``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

KERAS_BACKENDS = ("numpy", "jax", "torch", "tensorflow")
ORDERS = {
    "anyinit first": "import anyinit\nimport keras",
    "keras first": "import keras\nimport anyinit",
}

BUILD = """
import numpy as np
model = keras.Sequential([
    keras.Input((4,)),
    keras.layers.Dense(6, kernel_initializer=anyinit.glorot_normal(seed=0),
                       bias_initializer=anyinit.RandomUniform(-0.1, 0.1, seed=1)),
    keras.layers.Dense(3, kernel_initializer=anyinit.Orthogonal(2.0, seed=2)),
    keras.layers.Dense(2, kernel_initializer=anyinit.HeNormal(seed=anyinit.SeedGenerator(3),
                                                              in_axis=0, out_axis=1)),
])
"""

SAVE = """
model.save(PATH + "/m.keras")
with open(PATH + "/m.json", "w") as f:
    f.write(model.to_json())
np.savez(PATH + "/w.npz", *[keras.ops.convert_to_numpy(w) for w in model.weights])
"""

LOAD = """
import json
import numpy as np

saved = np.load(PATH + "/w.npz")
expected = [saved[f"arr_{i}"] for i in range(len(saved.files))]
loaded = keras.models.load_model(PATH + "/m.keras")
report = {}
# A clone is initialised anew from the loaded configs: integer seeds give the saved weights.
clone = keras.models.clone_model(loaded)
report["clone_weights_equal"] = [
    bool(np.array_equal(keras.ops.convert_to_numpy(w), e)) for w, e in zip(clone.weights, expected)
]
report["load_model"] = [type(layer.kernel_initializer).__module__.split(".")[0]
                        for layer in loaded.layers]
report["weights_equal"] = all(
    np.array_equal(keras.ops.convert_to_numpy(w), e) for w, e in zip(loaded.weights, expected)
)
first = loaded.layers[0]
report["configs"] = [first.kernel_initializer.get_config(), first.bias_initializer.get_config(),
                     loaded.layers[2].kernel_initializer.get_config()["in_axis"]]
report["clone_model"] = type(clone.layers[1].kernel_initializer).__name__
rebuilt = keras.models.model_from_json(open(PATH + "/m.json").read())
report["model_from_json"] = type(rebuilt.layers[2].kernel_initializer).__module__.split(".")[0]
layer = keras.layers.Dense.from_config(first.get_config())
report["from_config"] = type(layer.kernel_initializer).__module__.split(".")[0]
config = anyinit.serialize(anyinit.RandomNormal(0.1, 0.2, seed=4))
report["deserialize"] = type(keras.initializers.deserialize(config)).__module__.split(".")[0]
report["get"] = type(keras.initializers.get(config)).__module__.split(".")[0]
seed = loaded.layers[2].kernel_initializer.seed
report["seed_generator"] = type(seed).__module__.split(".")[0]
print("REPORT" + json.dumps(report))
"""


def _run(code: str, backend: str, path: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONWARNINGS": "ignore"}
    script = f"PATH = {path!r}\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT")]
    return json.loads(lines[-1].removeprefix("REPORT")) if lines else {}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("backend", KERAS_BACKENDS)
def test_models_save_load_and_clone_with_anyinit_classes(tmp_path, backend, order):
    _run(ORDERS[order] + BUILD + SAVE, backend, str(tmp_path))
    report = _run(ORDERS[order] + LOAD, backend, str(tmp_path))
    assert report["load_model"] == ["anyinit", "anyinit", "anyinit"]
    assert report["weights_equal"]
    assert report["configs"] == [{"seed": 0}, {"minval": -0.1, "maxval": 0.1, "seed": 1}, 0]
    assert report["clone_model"] == "Orthogonal"
    assert report["clone_weights_equal"] == [True] * 6
    assert report["model_from_json"] == "anyinit"
    assert report["from_config"] == "anyinit"
    assert report["deserialize"] == "anyinit"
    assert report["get"] == "anyinit"
    assert report["seed_generator"] == "anyinit"


def test_plain_keras_reads_default_configs_as_its_own_classes(tmp_path):
    """Where anyinit is absent, a saved initializer with a Keras twin loads as Keras's."""
    build = """
    import keras, anyinit
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        2, kernel_initializer=anyinit.glorot_normal(seed=0),
        bias_initializer=anyinit.RandomNormal(0.0, 0.5, seed=1))])
    model.save(PATH + "/m.keras")
    """
    _run(build, "numpy", str(tmp_path))
    load = """
    import json, sys, keras
    layer = keras.models.load_model(PATH + "/m.keras").layers[0]
    print("REPORT" + json.dumps({
        "anyinit_imported": "anyinit" in sys.modules,
        "kernel": type(layer.kernel_initializer).__module__.split(".")[0],
        "kernel_config": layer.kernel_initializer.get_config(),
        "bias_config": layer.bias_initializer.get_config()}))
    """
    report = _run(load, "numpy", str(tmp_path))
    assert report["anyinit_imported"] is False
    assert report["kernel"] == "keras"
    assert report["kernel_config"]["seed"] == 0
    assert {k: report["bias_config"][k] for k in ("mean", "stddev", "seed")} == {
        "mean": 0.0, "stddev": 0.5, "seed": 1}  # fmt: skip


def test_importing_anyinit_imports_no_framework(tmp_path):
    code = """
    import json, sys
    import anyinit
    print("REPORT" + json.dumps(sorted(
        m for m in ("keras", "jax", "flax", "equinox", "torch") if m in sys.modules)))
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "REPORT[]"


@pytest.mark.parametrize("backend", KERAS_BACKENDS)
def test_like_accepts_a_keras_variable(backend):
    code = """
    import json, anyinit, keras
    variable = keras.Variable(keras.ops.zeros((3, 2)))
    w = anyinit.glorot_normal(seed=0)((3, 2), like=variable)
    expected = anyinit.glorot_normal(seed=0)((3, 2))
    same = bool((keras.ops.convert_to_numpy(w) == expected).all())
    print("REPORT" + json.dumps({"type": type(w).__module__.split(".")[0], "same": same}))
    """
    report = _run(code, backend, "")
    assert report["same"]
    assert report["type"] == {"numpy": "numpy", "jax": "jaxlib", "torch": "torch",
                              "tensorflow": "tensorflow"}[backend]  # fmt: skip


def test_a_keras_constant_with_an_array_deserializes_into_anyinit():
    """Keras writes an array argument as __numpy__ (or __tensor__): anyinit reads both."""
    keras = pytest.importorskip("keras")
    import numpy as np

    import anyinit

    value = np.array([[1.0, 2.0]])
    config = keras.initializers.serialize(keras.initializers.Constant(value))
    init = anyinit.deserialize(config)
    assert isinstance(init, anyinit.Constant)
    np.testing.assert_array_equal(init((3, 2)), np.broadcast_to(value, (3, 2)))
    tensor_form = {
        "class_name": "__tensor__",
        "config": {"value": [[1.0, 2.0]], "dtype": "float32"},
    }
    again = anyinit.Constant.from_config({"value": tensor_form})
    np.testing.assert_array_equal(again((1, 2)), value)


def test_a_keras_seed_generator_is_a_seed_with_kerass_meaning():
    # Regression: seed=keras.random.SeedGenerator(7) was a TypeError. As in Keras, each call
    # advances the generator's own (shared) state; its state (seed, counter) reads as an
    # anyinit.SeedGenerator's, so both give the same sequence.
    keras = pytest.importorskip("keras")
    import numpy as np

    import anyinit

    shared = keras.random.SeedGenerator(7)
    first = anyinit.RandomNormal(seed=shared)((3, 4))
    second = anyinit.GlorotUniform(seed=shared)((3, 4))
    assert keras.ops.convert_to_numpy(shared.state).tolist() == [7, 2]
    ours = anyinit.SeedGenerator(7)
    np.testing.assert_array_equal(anyinit.RandomNormal(seed=ours)((3, 4)), first)
    np.testing.assert_array_equal(anyinit.GlorotUniform(seed=ours)((3, 4)), second)
    config = anyinit.serialize(anyinit.RandomNormal(seed=keras.random.SeedGenerator(5)))
    assert anyinit.deserialize(config).seed == anyinit.SeedGenerator(5)


_INITIALIZE = """
import json, numpy as np, keras, anyinit
inputs = keras.Input((8, 8, 3))
x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
x = keras.layers.LayerNormalization(name="norm")(keras.layers.Flatten()(x))
outputs = keras.layers.Dense(5, name="fc")(x)
model = keras.Model(inputs, outputs)
report = {}
for preset in ("keras", "torch", "flax"):
    anyinit.initialize(model, preset, seed=0)
    report[preset] = {path: np.asarray(keras.ops.convert_to_numpy(value)).tolist()
                      for path, value in anyinit.canonical_weights(model).items()}
print("REPORT" + json.dumps(report))
"""


@pytest.fixture(scope="module")
def initialized_on_numpy(tmp_path_factory):
    return _run(_INITIALIZE, "numpy", str(tmp_path_factory.mktemp("initialize")))


@pytest.mark.parametrize("backend", KERAS_BACKENDS[1:])
def test_initialize_gives_every_keras_backend_the_same_weights(initialized_on_numpy, backend):
    import numpy as np

    report = _run(_INITIALIZE, backend, "")
    assert report.keys() == initialized_on_numpy.keys()
    for preset, weights in report.items():
        expected = initialized_on_numpy[preset]
        assert weights.keys() == expected.keys()
        for path, values in weights.items():
            # The portable stream: uniform laws bit for bit, normal laws to a few ulp
            # between NumPy's kernel and JAX's or torch's.
            np.testing.assert_allclose(values, expected[path], rtol=1e-6, atol=1e-7,
                                       err_msg=f"{preset} {path} on {backend}")  # fmt: skip


def test_an_initializer_seeded_by_a_keras_generator_serializes_as_kerass_own():
    # Regression (issue 35 item 20): Keras's test_serialization_with_seed_generator failed on
    # anyinit's classes: get_config held the generator object, which JSON cannot write.
    keras = pytest.importorskip("keras")
    import json

    from keras.src import testing

    import anyinit

    case = testing.TestCase()
    for cls in (anyinit.Orthogonal, anyinit.VarianceScaling, anyinit.RandomUniform,
                anyinit.RandomNormal, anyinit.TruncatedNormal, anyinit.GlorotUniform):  # fmt: skip
        initializer = cls(seed=keras.random.SeedGenerator(3))
        case.run_class_serialization_test(initializer)
        config = json.loads(json.dumps(keras.initializers.serialize(initializer)))
        revived = keras.initializers.deserialize(config)
        assert revived.seed == anyinit.SeedGenerator(3)
        assert revived.get_config() == initializer.get_config()


def test_a_partly_built_keras_model_says_which_layers_it_left_out():
    # Regression (issue 35 item 5): the first layer built, the second not, was initialised in
    # part, silently.
    keras = pytest.importorskip("keras")
    import numpy as np

    import anyinit

    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = keras.layers.Dense(4, name="first")
            self.second = keras.layers.Dense(3, name="second")

        def call(self, x):
            return self.second(self.first(x))

    model = TwoLayers()
    model.first(np.zeros((1, 5), "float32"))  # only the first layer is built
    with pytest.warns(UserWarning, match=r"the Keras layers 'second' are not built"):
        anyinit.initialize(model, "keras", seed=0)
    assert float(np.abs(keras.ops.convert_to_numpy(model.first.kernel)).max()) > 0
