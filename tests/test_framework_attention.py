"""Attention in five frameworks: each module's law under each preset, one canonical form.

torch ``nn.MultiheadAttention`` (packed ``in_proj_weight``), linen
``MultiHeadDotProductAttention``, ``nnx.MultiHeadAttention``, Equinox
``MultiheadAttention`` and Keras ``MultiHeadAttention`` all read as ``query``,
``key``, ``value`` kernels ``(E, H·D)`` and an ``out`` kernel ``(H·D, E)``
(:func:`anyinit.canonical_weights`), so one preset and seed give all five the same
weights; and each framework's preset draws what that framework's own init draws,
with the fans of the flat projection (fan_in E for ``(E, H, D)``, not E·H).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import anyinit

pytest.importorskip("flax")
pytest.importorskip("equinox")
pytest.importorskip("keras")
pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

E, H = 64, 4
FRAMEWORKS = ("torch", "flax", "nnx", "equinox", "keras")
PRESETS = ("torch", "keras", "flax", "equinox")


def build(framework, seed=0):
    import jax
    import jax.numpy as jnp

    if framework == "torch":
        import torch

        torch.manual_seed(seed)
        return torch.nn.MultiheadAttention(E, H)
    if framework == "flax":
        from flax import linen as nn

        module = nn.MultiHeadDotProductAttention(num_heads=H)
        return module.init(jax.random.key(seed), jnp.zeros((1, 3, E)))
    if framework == "nnx":
        from flax import nnx

        return nnx.MultiHeadAttention(num_heads=H, in_features=E, decode=False, rngs=nnx.Rngs(seed))
    if framework == "equinox":
        import equinox as eqx

        biases = dict.fromkeys(
            ("use_query_bias", "use_key_bias", "use_value_bias", "use_output_bias"), True
        )
        return eqx.nn.MultiheadAttention(H, E, **biases, key=jax.random.key(seed))
    import keras

    keras.utils.set_random_seed(seed)
    layer = keras.layers.MultiHeadAttention(num_heads=H, key_dim=E // H)
    x = np.zeros((1, 3, E), "float32")
    layer(x, x)
    return layer


def weights(model):
    return {path: np.asarray(w, np.float64) for path, w in anyinit.canonical_weights(model).items()}


CANONICAL = {
    "query.kernel": (E, E),
    "key.kernel": (E, E),
    "value.kernel": (E, E),
    "out.kernel": (E, E),
    "query.bias": (E,),
    "key.bias": (E,),
    "value.bias": (E,),
    "out.bias": (E,),
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_attention_module_reads_as_the_canonical_form(framework):
    shapes = {path: w.shape for path, w in weights(build(framework)).items()}
    assert shapes == CANONICAL


@pytest.mark.parametrize("preset", PRESETS)
def test_the_five_attention_modules_get_the_same_weights(preset):
    found = {fw: weights(anyinit.initialize(build(fw), preset, seed=5)) for fw in FRAMEWORKS}
    reference = found["torch"]
    for framework, got in found.items():
        for path, value in reference.items():
            # Flax's truncated normal: torch's kernel and JAX's agree to an ulp or two.
            np.testing.assert_allclose(got[path], value, rtol=0, atol=2e-7, err_msg=framework)


def _same_law(own, ours, where):
    own, ours = own.ravel(), ours.ravel()
    if len(np.unique(own)) == 1:
        np.testing.assert_array_equal(ours, own, err_msg=where)
        return
    assert np.abs(ours).max() <= np.abs(own).max() * 1.25, where
    assert np.abs(ours).max() >= np.abs(own).max() * 0.75, where
    assert stats.ks_2samp(own, ours).pvalue > 1e-4, where


@pytest.mark.parametrize(
    ("framework", "preset"),
    [
        ("torch", "torch"),
        ("flax", "flax"),
        ("nnx", "flax"),
        ("equinox", "equinox"),
        ("keras", "keras"),
    ],
)
def test_each_preset_is_its_frameworks_own_attention_law(framework, preset):
    own = weights(build(framework, seed=1))
    ours = weights(anyinit.initialize(build(framework, seed=2), preset, seed=3))
    for path, value in own.items():
        _same_law(value, ours[path], f"{framework} {path}")


def test_the_fans_of_a_flax_query_kernel_are_those_of_the_flat_projection():
    # Regression: (E, H, D) was read as a convolution, fan_in E·H (std halved for H=4).
    params = anyinit.initialize(build("flax"), "flax", seed=0)
    query = np.asarray(params["params"]["query"]["kernel"], np.float64)
    out = np.asarray(params["params"]["out"]["kernel"], np.float64)
    assert query.std() == pytest.approx(1 / math.sqrt(E), rel=0.05)
    assert out.std() == pytest.approx(1 / math.sqrt(E), rel=0.05)  # fan_in H·D = E
    # The torch preset: torch's MultiheadAttention law, xavier_uniform_ on (3E, E).
    params = anyinit.initialize(build("flax"), "torch", seed=0)
    query = np.asarray(params["params"]["query"]["kernel"])
    bound = math.sqrt(6 / (E + 3 * E))
    assert bound * 0.98 < np.abs(query).max() <= bound


def test_the_torch_preset_on_torch_attention_reports_each_projection():
    _, report = anyinit.initialize(build("torch"), "torch", seed=0, return_report=True)
    paths = {a.path: a.native_path for a in report}
    assert paths["query.kernel"] == "in_proj_weight[query]"
    assert paths["value.bias"] == "in_proj_bias[value]"
    assert paths["out.kernel"] == "out_proj.weight"


def test_a_rule_can_name_one_packed_projection_and_leave_the_others():
    import torch

    attn = build("torch")
    before = attn.in_proj_weight.detach().clone()
    anyinit.initialize(attn, {"query.kernel": anyinit.Zeros()}, seed=0)
    after = attn.in_proj_weight.detach()
    assert torch.equal(after[:E], torch.zeros(E, E))
    assert torch.equal(after[E:], before[E:])


KERAS_INSIDE = """
import numpy as np
layer = keras.layers.MultiHeadAttention(
    num_heads=8, key_dim=16, kernel_initializer=anyinit.LecunNormal(seed=0))
own = keras.layers.MultiHeadAttention(
    num_heads=8, key_dim=16, kernel_initializer=keras.initializers.LecunNormal(seed=0))
x = np.zeros((2, 10, 32), "float32")
layer(x, x)
own(x, x)
for a, b in zip(layer.weights, own.weights):
    a, b = keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
    print(a.std(), b.std())
"""


@pytest.mark.parametrize("order", ["import anyinit\nimport keras", "import keras\nimport anyinit"])
@pytest.mark.parametrize("backend", ["jax", "torch", "numpy"])
def test_anyinit_initializers_get_einsum_dense_fan_axes_inside_keras(order, backend):
    # Regression: EinsumDense gave its fan axes only to Keras's own VarianceScaling, so
    # anyinit.LecunNormal on a (32, 8, 16) query kernel had std 0.063 instead of 0.177.
    env = {**os.environ, "KERAS_BACKEND": backend}
    code = order + "\n" + textwrap.dedent(KERAS_INSIDE)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [tuple(map(float, line.split())) for line in done.stdout.strip().splitlines()]
    assert len(rows) == 8
    for ours, theirs in rows:
        if theirs == 0:
            assert ours == 0
        else:
            assert ours == pytest.approx(theirs, rel=0.05)
    assert rows[0][0] == pytest.approx(1 / math.sqrt(32), rel=0.05)
