"""JAX's calling convention and the JAX dialect: equal to jax.nn.initializers, bit for bit.

Collected only with ``--frameworks`` (``nox -s tests-frameworks``, which has
JAX, Flax and Equinox). The suite runs JAX with float64 on.
"""

from __future__ import annotations

import inspect

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import anyinit
from anyinit import jax_nn

JNN = jax.nn.initializers
DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16, jnp.float64, jnp.complex64, jnp.complex128)
SHAPES = ((7,), (5, 3), (3, 3, 4, 6), (2, 2, 2, 3, 5))
KEYS = {"typed": jax.random.key(11), "legacy": jax.random.PRNGKey(11)}
#: The dialect's names and JAX's, called with the same (default or given) arguments.
FACTORIES = [
    ("normal", ()), ("normal", (0.3,)), ("uniform", ()), ("uniform", (2.0,)),
    ("truncated_normal", ()), ("truncated_normal", (0.2,)),
    ("variance_scaling", (2.0, "fan_in", "normal")),
    ("variance_scaling", (1.0, "fan_avg", "truncated_normal")),
    ("variance_scaling", (0.5, "fan_geo_avg", "uniform")),
    ("variance_scaling", (1.0, "fan_out", "normal", 0, 1)),
    ("glorot_normal", ()), ("glorot_uniform", ()), ("he_normal", ()), ("he_uniform", ()),
    ("lecun_normal", ()), ("lecun_uniform", ()), ("xavier_normal", ()), ("xavier_uniform", ()),
    ("kaiming_normal", ()), ("kaiming_uniform", ()), ("orthogonal", ()), ("orthogonal", (1.5,)),
    ("delta_orthogonal", ()), ("constant", (0.25,)),
]  # fmt: skip


def _jax_outcome(init, key, shape, dtype):
    """JAX's own outcome, except one documented difference: where JAX has no 16-bit QR
    (NotImplementedError for orthogonal / delta_orthogonal), anyinit gives JAX's float32
    values rounded once."""
    expected = _outcome(init, key, shape, dtype)
    if expected is NotImplementedError and dtype in (jnp.float16, jnp.bfloat16):
        return _outcome(lambda *a: init(key, shape, jnp.float32).astype(dtype), key, shape, dtype)
    return expected


def _outcome(init, key, shape, dtype):
    """The values (as bytes, dtype) or the exception type a call gives."""
    try:
        values = init(key, shape, dtype)
    except Exception as error:  # both sides must fail alike
        return type(error)
    return np.asarray(values).tobytes(), str(values.dtype), values.shape


@pytest.mark.parametrize("key_kind", list(KEYS))
@pytest.mark.parametrize(("name", "args"), FACTORIES, ids=lambda v: str(v))
def test_dialect_equals_jax_bit_for_bit_in_every_dtype(name, args, key_kind):
    key = KEYS[key_kind]
    ours, theirs = getattr(jax_nn, name)(*args), getattr(JNN, name)(*args)
    compared = 0
    for dtype in DTYPES:
        for shape in SHAPES:
            expected = _jax_outcome(theirs, key, shape, dtype)
            assert _outcome(ours, key, shape, dtype) == expected, (np.dtype(dtype).name, shape)
            compared += not isinstance(expected, type)
    assert compared >= 8  # most combinations draw (the rest raise in JAX and here alike)


def test_dialect_zeros_and_ones_are_jax_functions():
    key = KEYS["typed"]
    for name in ("zeros", "ones"):
        for dtype in (None, jnp.float32, jnp.int32, jnp.bfloat16):
            assert _outcome(getattr(jax_nn, name), key, (3, 4), dtype) == _outcome(
                getattr(JNN, name), key, (3, 4), dtype
            )


@pytest.mark.parametrize("name", [n for n in jax_nn.__all__ if n not in ("zeros", "ones")])
def test_dialect_signatures_and_defaults_are_jax(name):
    ours = inspect.signature(getattr(jax_nn, name)).parameters
    theirs = inspect.signature(getattr(JNN, name)).parameters
    positional = [p for p in ours.values() if p.kind is not p.KEYWORD_ONLY]
    assert [p.name for p in positional] == list(theirs)
    for parameter in positional:
        if parameter.name != "dtype":
            assert parameter.default == theirs[parameter.name].default, parameter.name


def test_default_dtype_of_a_factory_is_the_calls_default():
    key = KEYS["typed"]
    for dtype in (jnp.bfloat16, jnp.float16):
        assert (
            jax_nn.normal(dtype=dtype)(key, (3,)).dtype == JNN.normal(dtype=dtype)(key, (3,)).dtype
        )
    assert jax_nn.he_normal()(key, (3, 3)).dtype == JNN.he_normal()(key, (3, 3)).dtype


def test_the_naming_traps_keep_jax_meanings():
    assert jax_nn.normal().stddev == 0.01
    assert anyinit.normal().stddev == 0.05
    assert (jax_nn.uniform().minval, jax_nn.uniform().maxval) == (0.0, 0.01)
    assert jax_nn.variance_scaling(1.0, "fan_in", "normal").distribution == "untruncated_normal"
    assert anyinit.variance_scaling(1.0, "fan_in", "normal").distribution == "truncated_normal"


# Every anyinit initializer class, and its jax.nn.initializers counterpart.
COUNTERPARTS = [
    (anyinit.GlorotNormal(), JNN.glorot_normal()),
    (anyinit.GlorotUniform(), JNN.glorot_uniform()),
    (anyinit.HeNormal(), JNN.he_normal()),
    (anyinit.HeUniform(), JNN.he_uniform()),
    (anyinit.LecunNormal(), JNN.lecun_normal()),
    (anyinit.LecunUniform(), JNN.lecun_uniform()),
    (anyinit.RandomNormal(0.0, 0.3), JNN.normal(0.3)),
    (anyinit.RandomUniform(0.0, 0.3), JNN.uniform(0.3)),
    (anyinit.TruncatedNormal(0.0, 0.3), JNN.truncated_normal(0.3)),
    (anyinit.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
     JNN.variance_scaling(2.0, "fan_out", "normal")),
    (anyinit.VarianceScaling(1.0, "fan_avg", "uniform", in_axis=0, out_axis=(1, 2)),
     JNN.variance_scaling(1.0, "fan_avg", "uniform", in_axis=0, out_axis=(1, 2))),
    (anyinit.Orthogonal(1.5), JNN.orthogonal(1.5)),
    (anyinit.Orthogonal(column_axis=0), JNN.orthogonal(column_axis=0)),
    (anyinit.DeltaOrthogonal(0.5), JNN.delta_orthogonal(0.5)),
    (anyinit.Zeros(), JNN.zeros),
    (anyinit.Ones(), JNN.ones),
    (anyinit.Constant(0.75), JNN.constant(0.75)),
]  # fmt: skip


@pytest.mark.parametrize(("ours", "theirs"), COUNTERPARTS, ids=lambda v: type(v).__name__)
def test_keras_classes_called_with_a_key_draw_jaxs_counterpart(ours, theirs):
    for key in KEYS.values():
        for dtype in (jnp.float32, jnp.bfloat16, jnp.float64):
            for shape in ((5, 3), (3, 3, 4, 6)):
                expected = _jax_outcome(theirs, key, shape, dtype)
                assert _outcome(ours, key, shape, dtype) == expected


def test_the_key_decides_not_the_constructors_seed():
    key = KEYS["typed"]
    seeded = anyinit.GlorotNormal(seed=123)
    assert _outcome(seeded, key, (4, 4), jnp.float32) == _outcome(
        JNN.glorot_normal(), key, (4, 4), jnp.float32
    )


def test_keras_mean_and_bounds_are_kept_with_a_key():
    key = KEYS["typed"]
    w = anyinit.TruncatedNormal(1.0, 0.1)(key, (5000,), jnp.float32)
    assert float(w.min()) >= 0.8
    assert float(w.max()) <= 1.2
    expected = JNN.truncated_normal(0.1)(key, (5000,), jnp.float32) + 1.0
    assert bool(jnp.array_equal(w, expected))
    u = anyinit.RandomUniform(-1.0, 3.0)(key, (5000,), jnp.float32)
    assert bool(jnp.array_equal(u, jax.random.uniform(key, (5000,), jnp.float32, -1.0, 3.0)))


def test_initializers_without_a_jax_counterpart_take_keys_too():
    key = KEYS["typed"]
    sparse = anyinit.Sparse(0.25, 0.5)(key, (8, 6), jnp.float32)
    assert (np.asarray(sparse) == 0).sum(axis=0).tolist() == [2] * 6
    assert bool(jnp.array_equal(sparse, anyinit.Sparse(0.25, 0.5)(key, (8, 6), jnp.float32)))
    dirac = anyinit.Dirac()(key, (3, 4, 4), jnp.float32)
    np.testing.assert_array_equal(dirac, anyinit.Dirac()((3, 4, 4)))
    np.testing.assert_array_equal(anyinit.Identity(2.0)(key, (3, 4)), 2.0 * np.eye(3, 4))


def test_keyed_calls_trace_under_jit_vmap_and_eval_shape():
    key = KEYS["typed"]
    init = anyinit.he_uniform()
    jitted = jax.jit(lambda k: init(k, (6, 4), jnp.float32))(key)
    assert bool(jnp.array_equal(jitted, JNN.he_uniform()(key, (6, 4), jnp.float32)))
    keys = jax.random.split(key, 3)
    batched = jax.vmap(lambda k: init(k, (6, 4), jnp.float32))(keys)
    expected = jax.vmap(lambda k: JNN.he_uniform()(k, (6, 4), jnp.float32))(keys)
    assert bool(jnp.array_equal(batched, expected))
    assert jax.eval_shape(lambda k: anyinit.Orthogonal()(k, (5, 5)), key).shape == (5, 5)
    jitted_sparse = jax.jit(lambda k: anyinit.Sparse(0.5)(k, (4, 3), jnp.float32))(key)
    assert jitted_sparse.shape == (4, 3)


def test_a_keyed_call_refuses_placement_keywords():
    with pytest.raises(TypeError, match="takes no like="):
        anyinit.GlorotNormal()(KEYS["typed"], (3, 3), like=np.empty(0))


class _Model(nn.Module):
    kernel: object
    embedding: object

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(16, kernel_init=self.kernel, bias_init=self.embedding)(x)
        x = nn.Conv(4, (3,), kernel_init=self.kernel)(x[..., None])
        ids = jnp.zeros((2,), jnp.int32)
        return x.sum() + nn.Embed(10, 5, embedding_init=self.embedding)(ids).sum()


@pytest.mark.parametrize("param_dtype", [jnp.float32, jnp.bfloat16])
def test_flax_linen_models_initialise_under_jit_as_with_jax(param_dtype):
    x = jnp.ones((2, 8))
    ours = _Model(anyinit.glorot_normal(), jax_nn.normal(1.0))
    theirs = _Model(JNN.glorot_normal(), JNN.normal(1.0))
    a = jax.jit(ours.init)(jax.random.key(0), x)
    b = jax.jit(theirs.init)(jax.random.key(0), x)
    same = jax.tree_util.tree_map(lambda u, v: bool(jnp.array_equal(u, v)), a, b)
    assert all(jax.tree_util.tree_leaves(same)), same


def test_flax_nnx_layers_take_anyinit_initializers():
    ours = nnx.Linear(8, 4, kernel_init=anyinit.he_uniform(), rngs=nnx.Rngs(0))
    theirs = nnx.Linear(8, 4, kernel_init=JNN.he_uniform(), rngs=nnx.Rngs(0))
    assert bool(jnp.array_equal(ours.kernel[...], theirs.kernel[...]))
    conv = nnx.Conv(3, 5, (3, 3), kernel_init=anyinit.orthogonal(), rngs=nnx.Rngs(1))
    assert conv.kernel[...].shape == (3, 3, 3, 5)


def test_equinox_weights_replace_with_tree_at():
    import equinox as eqx

    linear = eqx.nn.Linear(8, 4, key=jax.random.key(1))
    # Equinox lays a Linear weight out (out, in): name the axes.
    init = anyinit.glorot_normal(in_axis=-1, out_axis=-2)
    weight = init(jax.random.key(2), linear.weight.shape, linear.weight.dtype)
    replaced = eqx.tree_at(lambda layer: layer.weight, linear, weight)
    expected = JNN.glorot_normal(in_axis=-1, out_axis=-2)(jax.random.key(2), (4, 8), weight.dtype)
    assert bool(jnp.array_equal(replaced.weight, expected))


def test_the_dialect_runs_on_other_backends_with_int_seeds():
    torch = pytest.importorskip("torch")
    init = jax_nn.variance_scaling(2.0, "fan_in", "normal", seed=0)
    on_torch = init((64, 32), like=torch.empty(0))
    on_numpy = init((64, 32))
    np.testing.assert_array_equal(on_torch.numpy(), on_numpy)
    # the portable stream: JAX's own values for the same integer seed
    on_jax = init((64, 32), xp=jnp)
    np.testing.assert_allclose(np.asarray(on_jax), on_numpy, rtol=2e-6, atol=1e-7)


def test_switching_jax_nn_initializers_over_to_anyinit_does_not_recurse(monkeypatch):
    """A codebase switched over by assignment (``jax.nn.initializers.x = anyinit.jax_nn.x``)
    keeps JAX's values: anyinit draws with JAX's own functions, taken once."""
    key = jax.random.key(3)
    expected = {
        "variance_scaling": JNN.variance_scaling(2.0, "fan_in", "normal")(key, (8, 4)),
        "glorot_normal": JNN.glorot_normal()(key, (8, 4)),
        "orthogonal": JNN.orthogonal()(key, (8, 4)),
    }
    for name in ("variance_scaling", "glorot_normal", "orthogonal", "normal", "uniform"):
        monkeypatch.setattr(JNN, name, getattr(jax_nn, name))
    got = {
        "variance_scaling": jax_nn.variance_scaling(2.0, "fan_in", "normal")(key, (8, 4)),
        "glorot_normal": anyinit.GlorotNormal()(key, (8, 4)),
        "orthogonal": JNN.orthogonal()(key, (8, 4)),  # anyinit's, through JAX's name
    }
    for name, values in got.items():
        np.testing.assert_array_equal(np.asarray(values), np.asarray(expected[name]), name)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_16_bit_orthogonal_with_a_key_is_jaxs_float32_rounded_once(dtype):
    """JAX raises NotImplementedError (no 16-bit QR); the README promises 16-bit orthogonal."""
    key = jax.random.key(0)
    with pytest.raises(NotImplementedError):
        JNN.orthogonal()(key, (64, 32), dtype)
    expected = JNN.orthogonal()(key, (64, 32), jnp.float32).astype(dtype)
    for init in (anyinit.orthogonal(), jax_nn.orthogonal()):
        got = init(key, (64, 32), dtype)
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    delta = jax_nn.delta_orthogonal()(key, (3, 3, 4, 8), dtype)
    want = JNN.delta_orthogonal()(key, (3, 3, 4, 8), jnp.float32).astype(dtype)
    np.testing.assert_array_equal(np.asarray(delta), np.asarray(want))
    params = nn.Dense(24, kernel_init=anyinit.orthogonal(), param_dtype=dtype).init(
        key, jnp.ones((1, 16))
    )
    assert params["params"]["kernel"].dtype == dtype
