"""``anyinit.diagnose`` and ``anyinit.lsuv`` on the same models written in torch, Flax linen,
Flax NNX, Equinox and Keras: the seed's experiment gives the same numbers in every framework
as on plain arrays, LSUV gives the same weights, and diagnosing changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import anyinit
from anyinit.diagnostics import mlp_experiment

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
eqx = pytest.importorskip("equinox")
keras = pytest.importorskip("keras")
flax = pytest.importorskip("flax")
from flax import linen, nnx  # noqa: E402

FRAMEWORKS = ("torch", "linen", "nnx", "equinox", "keras")


# -- one MLP and one CNN in each framework, their layers named alike ---------------------


def mlp(framework, depth, width, activation, *, bias=True):
    """`depth` dense layers ``layers.k`` of `width` units, each followed by `activation`."""
    if framework == "torch":
        act = getattr(torch, activation)

        class TorchMLP(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList(
                    [torch.nn.Linear(width, width, bias=bias) for _ in range(depth)]
                )

            def forward(self, x):
                for layer in self.layers:
                    x = act(layer(x))
                return x

        return TorchMLP()
    if framework == "linen":
        # The activation as a module field, as Flax code holds it (taken at construction).
        class LinenMLP(linen.Module):
            act: Callable

            def setup(self):
                self.layers = [linen.Dense(width, use_bias=bias) for _ in range(depth)]

            def __call__(self, x):
                for layer in self.layers:
                    x = self.act(layer(x))
                return x

        module = LinenMLP(getattr(linen, activation))
        return module, module.init(jax.random.key(0), jnp.ones((1, width)))
    if framework == "nnx":
        # The activation looked up in nnx's namespace at call time.
        class NNXMLP(nnx.Module):
            def __init__(self, rngs):
                self.layers = nnx.List(
                    [nnx.Linear(width, width, use_bias=bias, rngs=rngs) for _ in range(depth)]
                )

            def __call__(self, x):
                for layer in self.layers:
                    x = getattr(nnx, activation)(layer(x))
                return x

        return NNXMLP(nnx.Rngs(0))
    if framework == "equinox":
        # As eqx.nn.MLP holds it: a field with the function.
        class EquinoxMLP(eqx.Module):
            layers: list
            activation: Callable

            def __init__(self):
                keys = jax.random.split(jax.random.key(0), depth)
                self.layers = [eqx.nn.Linear(width, width, use_bias=bias, key=k, dtype=jnp.float32)
                               for k in keys]  # fmt: skip
                self.activation = jnp.tanh if activation == "tanh" else getattr(jax.nn, activation)

            def __call__(self, x):
                for layer in self.layers:
                    x = self.activation(layer(x))
                return x

        return EquinoxMLP()
    return keras.Sequential(
        [keras.Input((width,))]
        + [
            keras.layers.Dense(width, activation=activation, use_bias=bias, name=f"layers_{k}")
            for k in range(depth)
        ]
    )


CHANNELS, CLASSES = (3, 8, 16), 10


def cnn(framework):
    """Two 3×3 'same' convolutions ``convs.k`` with tanh, a global mean, a dense ``head``.
    The mean over positions makes the head's input independent of NCHW against NHWC."""
    if framework == "torch":

        class TorchCNN(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = torch.nn.ModuleList(
                    [torch.nn.Conv2d(CHANNELS[k], CHANNELS[k + 1], 3, padding=1) for k in (0, 1)]
                )
                self.head = torch.nn.Linear(CHANNELS[-1], CLASSES)

            def forward(self, x):
                for conv in self.convs:
                    x = torch.tanh(conv(x))
                return self.head(x.mean(dim=(2, 3)))

        return TorchCNN()
    if framework == "linen":

        class LinenCNN(linen.Module):
            def setup(self):
                self.convs = [linen.Conv(CHANNELS[k + 1], (3, 3), padding="SAME") for k in (0, 1)]
                self.head = linen.Dense(CLASSES)

            def __call__(self, x):
                for conv in self.convs:
                    x = linen.tanh(conv(x))
                return self.head(x.mean(axis=(1, 2)))

        module = LinenCNN()
        return module, module.init(jax.random.key(0), jnp.ones((1, 8, 8, 3)))
    if framework == "nnx":

        class NNXCNN(nnx.Module):
            def __init__(self, rngs):
                self.convs = nnx.List(
                    [
                        nnx.Conv(CHANNELS[k], CHANNELS[k + 1], (3, 3), padding="SAME", rngs=rngs)
                        for k in (0, 1)
                    ]
                )
                self.head = nnx.Linear(CHANNELS[-1], CLASSES, rngs=rngs)

            def __call__(self, x):
                for conv in self.convs:
                    x = nnx.tanh(conv(x))
                return self.head(x.mean(axis=(1, 2)))

        return NNXCNN(nnx.Rngs(0))
    if framework == "equinox":

        class EquinoxCNN(eqx.Module):
            convs: list
            head: eqx.nn.Linear

            def __init__(self):
                keys = jax.random.split(jax.random.key(0), 3)
                f32 = jnp.float32  # also where JAX runs with float64 enabled
                self.convs = [eqx.nn.Conv2d(CHANNELS[k], CHANNELS[k + 1], 3, padding=1,
                                            key=keys[k], dtype=f32) for k in (0, 1)]  # fmt: skip
                self.head = eqx.nn.Linear(CHANNELS[-1], CLASSES, key=keys[2], dtype=f32)

            def __call__(self, x):  # one example, CHW
                for conv in self.convs:
                    x = jax.nn.tanh(conv(x))
                return self.head(x.mean(axis=(1, 2)))

        return EquinoxCNN()
    inputs = keras.Input((8, 8, 3))
    x = inputs
    for k in (0, 1):
        x = keras.layers.Conv2D(CHANNELS[k + 1], 3, padding="same", activation="tanh",
                                name=f"convs_{k}")(x)  # fmt: skip
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(CLASSES, name="head")(x))


def batch_for(framework, data, *, image=False):
    """`data` (NumPy; NCHW for images) as the framework takes it."""
    if image and framework in ("linen", "nnx", "keras"):
        data = np.ascontiguousarray(data.transpose(0, 2, 3, 1))
    if framework == "torch":
        return torch.from_numpy(data)
    if framework == "keras":
        return data
    return jnp.asarray(data)


def weights_of(model):
    return {path: np.asarray(value, np.float64)
            for path, value in anyinit.canonical_weights(_tree(model)).items()}  # fmt: skip


def _tree(model):
    return model[1] if isinstance(model, tuple) else model


def _initialized(framework, model, rules, seed):
    if framework == "linen":
        return model[0], anyinit.initialize(model[1], rules, seed=seed)
    return anyinit.initialize(model, rules, seed=seed)


def _numbers(report):
    return np.array([[row["mean"], row["std"], row["saturated"] or 0.0, row["zeros"]]
                     for row in report.rows()])  # fmt: skip


INPUTS = np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=0)((1000, 100)))
LAWS = {
    "N(0, 1)": anyinit.RandomNormal(0.0, 1.0),
    "N(0, 0.01)": anyinit.RandomNormal(0.0, 0.01),
    "Xavier": anyinit.GlorotUniform(),
}


@pytest.fixture(scope="module")
def seed_experiment():
    """The seed's experiment: 5 sigmoid layers of 100 units, 1000 standard normal inputs."""
    found = {}
    for law, init in LAWS.items():
        found[law, "arrays"] = mlp_experiment(init, depth=5, width=100, batch=1000, seed=0)
        for framework in FRAMEWORKS:
            model = _initialized(framework, mlp(framework, 5, 100, "sigmoid", bias=False),
                                 {"*.kernel": init}, 0)  # fmt: skip
            found[law, framework] = anyinit.diagnose(model, batch_for(framework, INPUTS))
    return found


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_seed_experiment_reads_alike_in_every_framework(seed_experiment, framework):
    for law in LAWS:
        report = seed_experiment[law, framework]
        reference = seed_experiment[law, "arrays"]
        assert [row["layer"] for row in report.rows()] == [f"layers.{k}" for k in range(5)]
        assert [layer.activation for layer in report] == ["sigmoid"] * 5
        np.testing.assert_allclose(_numbers(report), _numbers(reference), rtol=1e-5, atol=0,
                                   err_msg=f"{law} in {framework}")  # fmt: skip


@pytest.mark.parametrize("source", ["arrays", *FRAMEWORKS])
def test_the_seed_experiment_shows_saturation_collapse_and_a_healthy_spread(
    seed_experiment, source
):
    big, small, xavier = (seed_experiment[law, source].rows() for law in LAWS)
    assert all(row["saturated"] >= 0.4 for row in big), big
    assert all(row["std"] <= 0.05 for row in small), small
    assert all(0.08 <= row["std"] <= 0.3 and row["saturated"] <= 0.05 for row in xavier), xavier


def test_the_gradient_std_is_the_same_in_every_framework():
    data = INPUTS[:256, :32]
    reports = {}
    for framework in FRAMEWORKS:
        model = _initialized(framework, mlp(framework, 4, 32, "tanh"), "keras", 3)
        if framework == "torch":

            def loss(out):
                return (out**2).mean()
        elif framework == "keras":

            def loss(out):
                return keras.ops.mean(out**2)
        else:

            def loss(out):
                return jnp.mean(out**2)

        reports[framework] = anyinit.diagnose(model, batch_for(framework, data), loss=loss)
    reference = [row["grad_std"] for row in reports["torch"].rows()]
    assert all(std > 0 for std in reference)
    for framework, report in reports.items():
        assert list(report.rows()[0]) == ["layer", "mean", "std", "saturated", "zeros", "grad_std"]
        np.testing.assert_allclose([row["grad_std"] for row in report.rows()], reference,
                                   rtol=1e-4, err_msg=framework)  # fmt: skip


# -- nothing changes --------------------------------------------------------------------


def _torch_state(model):
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def test_diagnose_leaves_a_torch_model_bit_identical():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Flatten(), torch.nn.Linear(8 * 6 * 6, 10),
    )  # fmt: skip
    model.train()
    data = torch.randn(16, 3, 8, 8)
    before, rng = _torch_state(model), torch.get_rng_state()
    report = anyinit.diagnose(model, data, loss=lambda out: out.sum())
    assert [row["layer"] for row in report.rows()] == ["layers.0", "layers.1", "layers.5"]
    assert report[1].activation == "relu"
    assert report[1].zeros > 0.3
    after = _torch_state(model)
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert torch.equal(rng, torch.get_rng_state())
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_diagnose_leaves_an_nnx_model_bit_identical():
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.fc = nnx.Linear(4, 8, rngs=rngs)
            self.norm = nnx.BatchNorm(8, rngs=rngs)
            self.drop = nnx.Dropout(0.5, rngs=rngs)

        def __call__(self, x):
            return self.drop(nnx.relu(self.norm(self.fc(x))))

    def host(value):
        if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
            value = jax.random.key_data(value)
        return np.asarray(value)

    model = Net(nnx.Rngs(0, dropout=1))
    before = jax.tree.map(host, nnx.to_pure_dict(nnx.state(model)))
    data = jnp.ones((8, 4), jnp.float32) * jnp.arange(8.0, dtype=jnp.float32)[:, None]
    anyinit.diagnose(model, data, loss=jnp.sum)
    after = jax.tree.map(host, nnx.to_pure_dict(nnx.state(model)))
    jax.tree.map(np.testing.assert_array_equal, before, after)


def test_diagnose_leaves_a_keras_model_bit_identical():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="fc"),
                              keras.layers.BatchNormalization(name="norm"),
                              keras.layers.Dropout(0.5)])  # fmt: skip
    before = [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables]
    data = np.arange(32, dtype="float32").reshape(8, 4)
    report = anyinit.diagnose(model, data, call_kwargs={"training": True},
                              loss=lambda out: keras.ops.sum(out))  # fmt: skip
    assert [row["layer"] for row in report.rows()] == ["fc", "norm"]
    after = [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_diagnose_leaves_linen_variables_and_equinox_modules_as_they_were():
    relu, sigmoid = jax.nn.relu, linen.sigmoid
    module, variables = mlp("linen", 2, 8, "relu")
    frozen = jax.tree.map(np.asarray, variables)
    anyinit.diagnose((module, variables), jnp.ones((4, 8)), loss=jnp.sum)
    jax.tree.map(np.testing.assert_array_equal, frozen, jax.tree.map(np.asarray, variables))
    model = mlp("equinox", 2, 8, "relu")
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(model)]
    anyinit.diagnose(model, jnp.ones((4, 8)), loss=jnp.sum)
    assert all(np.array_equal(a, np.asarray(b))
               for a, b in zip(leaves, jax.tree.leaves(model), strict=True))  # fmt: skip
    # The activations wrapped during the pass are put back.
    assert jax.nn.relu is relu
    assert linen.sigmoid is sigmoid
    assert model.activation is relu


# -- LSUV -----------------------------------------------------------------------------


def _lsuv(framework, model, data, **options):
    result, steps = anyinit.lsuv(model, data, seed=0, return_report=True, **options)
    if framework == "linen":
        result = (model[0], result)
    return result, steps


def _forward(framework, model, data):
    if framework == "linen":
        return np.asarray(model[0].apply(model[1], data))
    if framework == "equinox":
        return np.asarray(jax.vmap(model)(data))
    if framework == "torch":
        with torch.no_grad():
            return model(data).numpy()
    return np.asarray(keras.ops.convert_to_numpy(model(data)))


def _relative(a, b):
    """The difference relative to the norm; 0 where both are zero (biases)."""
    scale = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale else float(np.abs(a).max())


@pytest.fixture(scope="module")
def lsuv_results():
    mlp_data = 2 * np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=1)((256, 32)))
    images = np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=2)((16, 3, 8, 8)))
    found = {}
    for framework in FRAMEWORKS:
        data = batch_for(framework, mlp_data)
        model, steps = _lsuv(framework, mlp(framework, 20, 32, "tanh"), data)
        found["mlp", framework] = (model, steps, data)
        data = batch_for(framework, images, image=True)
        model, steps = _lsuv(framework, cnn(framework), data)
        found["cnn", framework] = (model, steps, data)
    return found


@pytest.mark.parametrize("net", ["mlp", "cnn"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_lsuv_brings_every_layer_to_unit_variance(lsuv_results, net, framework):
    model, steps, data = lsuv_results[net, framework]
    expected = [f"layers.{k}" for k in range(20)] if net == "mlp" else ["convs.0", "convs.1",
                                                                        "head"]  # fmt: skip
    assert [step.layer for step in steps] == expected
    assert all(abs(step.variance - 1) < 0.1 for step in steps), steps
    # One rescaling is exact for a layer linear in its weight; 0 where already within tol.
    assert all(0 <= step.iterations <= 1 for step in steps), steps
    assert sum(step.iterations for step in steps) >= len(steps) - 1
    # The model still runs its own forward, and each layer's output variance measured
    # independently (by diagnose, before the activation: a linear activation) is 1 ± tol.
    assert np.isfinite(_forward(framework, model, data)).all()


@pytest.mark.parametrize("net", ["mlp", "cnn"])
@pytest.mark.parametrize("framework", FRAMEWORKS[1:])
def test_lsuv_gives_the_same_weights_in_every_framework(lsuv_results, net, framework):
    reference, reference_steps, _ = lsuv_results[net, "torch"]
    model, steps, _ = lsuv_results[net, framework]
    assert [s.iterations for s in steps] == [s.iterations for s in reference_steps]
    np.testing.assert_allclose([s.variance for s in steps],
                               [s.variance for s in reference_steps], rtol=1e-5)  # fmt: skip
    want, got = weights_of(reference), weights_of(model)
    assert sorted(got) == sorted(want)
    for path in want:
        # Within the JAX family and between torch and Keras-on-torch: bit for bit. Between
        # torch and JAX, the orthogonal pre-initialisation's QR (two LAPACKs) differs by a
        # few float32 rounding steps, 4e-6 of the norm; LSUV's factors add 1e-7.
        assert _relative(got[path], want[path]) <= 1e-5, path


def test_lsuv_result_is_measured_unit_variance_by_an_independent_forward():
    model, steps = anyinit.lsuv(mlp("torch", 6, 32, "tanh"),
                                torch.from_numpy(INPUTS[:256, :32] * 5), seed=4,
                                return_report=True)  # fmt: skip
    x = torch.from_numpy(INPUTS[:256, :32] * 5)
    with torch.no_grad():
        for layer, step in zip(model.layers, steps, strict=True):
            pre = layer(x)
            assert abs(float(pre.double().var(unbiased=False)) - step.variance) < 1e-6
            assert abs(step.variance - 1) < 0.1
            x = torch.tanh(pre)


def test_lsuv_is_deterministic_for_an_integer_seed_and_takes_any_initializer_or_preset():
    data = torch.from_numpy(INPUTS[:128, :16])
    first = weights_of(anyinit.lsuv(mlp("torch", 3, 16, "relu"), data, seed=7))
    again = weights_of(anyinit.lsuv(mlp("torch", 3, 16, "relu"), data, seed=7))
    other = weights_of(anyinit.lsuv(mlp("torch", 3, 16, "relu"), data, seed=8))
    assert all(np.array_equal(first[p], again[p]) for p in first)
    assert not np.array_equal(first["layers.0.kernel"], other["layers.0.kernel"])
    for init in (anyinit.HeNormal(), "lecun_normal", "torch", "keras", None):
        _, steps = anyinit.lsuv(mlp("torch", 3, 16, "relu"), data, seed=0, init=init,
                                return_report=True)  # fmt: skip
        assert all(abs(step.variance - 1) < 0.1 for step in steps), init


def test_lsuv_and_diagnose_refuse_bad_arguments():
    model, data = mlp("torch", 2, 8, "tanh"), torch.ones(4, 8)
    with pytest.raises(ValueError, match="`tol`"):
        anyinit.lsuv(model, data, seed=0, tol=0)
    with pytest.raises(ValueError, match="`max_iter`"):
        anyinit.lsuv(model, data, seed=0, max_iter=0)
    with pytest.raises(ValueError, match="`init`"):
        anyinit.lsuv(model, data, seed=0, init="no_such_law")
    with pytest.raises(ValueError, match=r"variance 0\.0"):
        anyinit.lsuv(model, torch.zeros(4, 8), seed=0)  # constant inputs: nothing to scale
    with pytest.raises(ValueError, match=r"matches no layer; the layers are: layers\.0, layers\.1"):
        anyinit.diagnose(model, data, layers="blocks.*")
    with pytest.raises(TypeError, match="pass it with its variables"):
        anyinit.diagnose(linen.Dense(3), data)
    with pytest.raises(TypeError, match=r"`model` must be a torch nn\.Module"):
        anyinit.diagnose({"kernel": np.ones((2, 2))}, data)
    report = anyinit.diagnose(model, data, layers=["layers.1"])
    assert [row["layer"] for row in report.rows()] == ["layers.1"]


def test_lsuv_warns_when_rescaling_cannot_reach_unit_variance():
    class StdLinear(torch.nn.Linear):
        """A weight-standardised layer (timm's StdConv2d, BiT): the scale of its weight
        never reaches its output, so LSUV cannot move the variance."""

        def forward(self, x):
            weight = (self.weight - self.weight.mean(1, keepdim=True)) / self.weight.std(1, True)
            return torch.nn.functional.linear(x, weight * 3, self.bias)

    model = torch.nn.Sequential(StdLinear(8, 8), torch.nn.Tanh())
    with pytest.warns(RuntimeWarning, match=r"'layers.0' is .* after 3 rescalings"):
        anyinit.lsuv(model, torch.from_numpy(INPUTS[:64, :8]), seed=0, max_iter=3)


# -- the figure -------------------------------------------------------------------------


def test_the_report_plots_one_panel_per_layer_and_the_std_by_depth(seed_experiment, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    report = seed_experiment["N(0, 1)", "torch"]
    path = tmp_path / "diagnosis.png"
    figure = report.plot(path)
    assert len(figure.axes) == len(report) + 1
    assert [axes.get_title() for axes in figure.axes] == [
        *(f"layers.{k} → sigmoid" for k in range(5)),
        "std by depth",
    ]
    assert all(sum(patch.get_height() for patch in axes.patches) == 1000 * 100
               for axes in figure.axes[:-1])  # fmt: skip
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100
    assert float(pixels[..., :3].std()) > 0.05  # drawn, not blank
    line = figure.axes[-1].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [row["std"] for row in report.rows()])
    assert f"{report.rows()[0]['std']:.4g}" in str(report).splitlines()[3]


_KERAS_BACKEND_CODE = """
import json, sys
import numpy as np, keras, anyinit
data = np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=0)((64, 16)))
model = keras.Sequential([keras.Input((16,))] + [
    keras.layers.Dense(16, activation="tanh", name=f"layers_{k}") for k in range(3)])
anyinit.initialize(model, "keras", seed=3)
before = [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables]
out = {"std": [row["std"] for row in anyinit.diagnose(model, data).rows()]}
try:
    report = anyinit.diagnose(model, data, loss=lambda y: keras.ops.mean(y**2))
    out["grad_std"] = [row["grad_std"] for row in report.rows()]
except ValueError as error:
    out["error"] = str(error)
after = [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables]
out["unchanged"] = all(np.array_equal(a, b) for a, b in zip(before, after))
_, steps = anyinit.lsuv(model, data, seed=0, return_report=True)
out["lsuv"] = [step.variance for step in steps]
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "tensorflow"])
def test_diagnose_and_lsuv_on_every_keras_backend(backend):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", _KERAS_BACKEND_CODE], env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    model = _initialized("torch", mlp("torch", 3, 16, "tanh"), "keras", 3)
    data = torch.from_numpy(np.asarray(anyinit.RandomNormal(0.0, 1.0, seed=0)((64, 16))))
    reference = anyinit.diagnose(model, data, loss=lambda y: (y**2).mean()).rows()
    np.testing.assert_allclose(out["std"], [row["std"] for row in reference], rtol=1e-5)
    if backend == "numpy":  # no autodiff: said, not guessed
        assert "needs gradients" in out["error"]
        assert "'numpy' backend" in out["error"]
    else:
        np.testing.assert_allclose(out["grad_std"], [row["grad_std"] for row in reference],
                                   rtol=1e-4)  # fmt: skip
    assert out["unchanged"]
    assert all(abs(variance - 1) < 0.1 for variance in out["lsuv"])
