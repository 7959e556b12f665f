"""The portable stream: same integer seed, same weights on every backend, equal to JAX's.

Bits and float32 uniforms must be identical; normals and truncated normals
(JAX's inverse-CDF construction with XLA's float32 erfinv) within 4 ulp.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit
from anyinit import sampling
from anyinit.laws.records import TruncatedNormal as TruncatedNormalLaw
from anyinit.stream.threefry import key_from_seed
from anyinit.target import resolve_target

ULP_BOUND = 4


def ulps(a, b) -> int:
    """Largest distance in float32 units in the last place (0 = identical)."""

    def ordered(x):
        bits = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
        return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)

    return int(np.abs(ordered(a) - ordered(b)).max()) if np.size(a) else 0


SHAPE = (37, 3, 64)
CASES = [
    ("uniform", anyinit.RandomUniform(-2.0, 3.0, seed=7), 0),
    ("normal", anyinit.RandomNormal(0.0, 2.0, seed=7), ULP_BOUND),
    ("truncated_normal", anyinit.TruncatedNormal(0.0, 0.5, seed=7), ULP_BOUND),
    ("glorot_uniform", anyinit.GlorotUniform(seed=7), 1),
    ("glorot_normal", anyinit.GlorotNormal(seed=7), ULP_BOUND),
    ("he_uniform", anyinit.HeUniform(seed=7), 1),
    ("he_normal", anyinit.HeNormal(seed=7), ULP_BOUND),
    ("lecun_uniform", anyinit.LecunUniform(seed=7), 1),
    ("lecun_normal", anyinit.LecunNormal(seed=7), ULP_BOUND),
    ("vs_fan_geo_avg_normal",
     anyinit.VarianceScaling(2.0, "fan_geo_avg", "untruncated_normal", seed=7), ULP_BOUND),
]  # fmt: skip


def _jax_reference(name, init, shape):
    jax = pytest.importorskip("jax")
    key = jax.random.key(7)
    inits = jax.nn.initializers
    f32 = "float32"  # explicit: the suite runs JAX with x64 on
    if name == "uniform":
        return jax.random.uniform(key, shape, f32, minval=-2.0, maxval=3.0)
    if name == "normal":
        return jax.random.normal(key, shape, f32) * 2.0
    if name == "truncated_normal":
        return jax.random.truncated_normal(key, -2.0, 2.0, shape, f32) * 0.5
    if name.startswith("vs_"):
        return inits.variance_scaling(2.0, "fan_geo_avg", "normal")(key, shape, f32)
    return getattr(inits, name)()(key, shape, f32)


@pytest.mark.parametrize(("name", "init", "bound"), CASES, ids=[c[0] for c in CASES])
def test_equals_jax(backend, name, init, bound):
    reference = np.asarray(_jax_reference(name, init, SHAPE))
    ours = backend.to_numpy(init(SHAPE, like=backend.like()))
    assert ulps(ours, reference) <= bound, name


@pytest.mark.parametrize(("name", "init", "bound"), CASES, ids=[c[0] for c in CASES])
def test_every_backend_gives_numpys_values(backend, name, init, bound):
    reference = init(SHAPE)  # NumPy, the embedded default
    ours = backend.to_numpy(init(SHAPE, like=backend.like()))
    assert ulps(ours, reference) <= bound, name


def test_shifted_normal_matches_jax_to_float32_rounding(backend, like):
    jax = pytest.importorskip("jax")
    # Keras's RandomNormal on JAX: normal(key) · stddev + mean, two roundings.
    reference = np.asarray(jax.random.normal(jax.random.key(8), (50, 40), "float32")) * np.float32(
        2.0
    ) + np.float32(0.5)
    ours = backend.to_numpy(anyinit.RandomNormal(0.5, 2.0, seed=8)((50, 40), like=like))
    np.testing.assert_allclose(ours, reference, rtol=0, atol=4 * 2.0 * 2.0**-23 * 4)


def test_uniform_bits_identical_to_jax_on_a_large_array(backend, like):
    jax = pytest.importorskip("jax")
    shape = (640, 1000)  # several NumPy blocks
    ours = backend.to_numpy(anyinit.RandomUniform(0.0, 1.0, seed=2**40 + 5)(shape, like=like))
    reference = np.asarray(jax.random.uniform(jax.random.key(2**40 + 5), shape, "float32"))
    assert ulps(ours, reference) == 0


def test_orthogonal_equals_jax_to_qr_rounding(backend, like):
    jax = pytest.importorskip("jax")
    for shape in [(64, 32), (16, 48), (3, 3, 8, 8)]:
        reference = np.asarray(
            jax.nn.initializers.orthogonal(2.0)(jax.random.key(3), shape, "float32")
        )
        ours = backend.to_numpy(anyinit.Orthogonal(2.0, seed=3)(shape, like=like))
        np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_delta_orthogonal_equals_jax(backend, like):
    jax = pytest.importorskip("jax")
    shape = (3, 3, 8, 16)
    reference = np.asarray(
        jax.nn.initializers.delta_orthogonal(1.5)(jax.random.key(4), shape, "float32")
    )
    ours = backend.to_numpy(anyinit.DeltaOrthogonal(1.5, seed=4)(shape, like=like))
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_complex_normal_equals_jax(backend):
    jax = pytest.importorskip("jax")
    reference = np.asarray(jax.random.normal(jax.random.key(9), (40, 30), "complex64")) * 0.5
    ours = backend.to_numpy(
        anyinit.RandomNormal(0.0, 0.5, seed=9)((40, 30), "complex64", like=backend.like())
    )
    assert ulps(ours.real, reference.real) <= ULP_BOUND + 1
    assert ulps(ours.imag, reference.imag) <= ULP_BOUND + 1


def test_seed_generator_draws_fold_in(backend, like):
    jax = pytest.importorskip("jax")
    gen = anyinit.SeedGenerator(11)
    init = anyinit.GlorotUniform(seed=gen)
    for n in range(3):
        key = jax.random.fold_in(jax.random.key(11), n)
        reference = jax.nn.initializers.glorot_uniform()(key, (20, 10), "float32")
        assert ulps(backend.to_numpy(init((20, 10), like=like)), reference) <= 1


def test_half_precision_is_the_float32_values_rounded(backend):
    for dtype in backend.real_dtypes:
        if dtype in ("float32", "float64"):
            continue
        init = anyinit.RandomNormal(0.0, 1.0, seed=1)
        wide = init((50, 50), like=backend.like())
        narrow = init((50, 50), dtype, like=backend.like())
        if dtype == "bfloat16":
            ml_dtypes = pytest.importorskip("ml_dtypes")
            narrow_type = np.dtype(ml_dtypes.bfloat16)
        else:
            narrow_type = np.dtype(dtype)
        rounded = backend.to_numpy(wide).astype(np.float32).astype(narrow_type)
        np.testing.assert_array_equal(backend.to_numpy(narrow), rounded.astype(np.float64))


@pytest.mark.parametrize("law", ["uniform", "normal", "truncated_normal"])
def test_chunk_invariance(backend, law):
    target = resolve_target(like=backend.like())
    key = key_from_seed(21)
    shape = (23, 17, 9)
    draw = {
        "uniform": lambda region: sampling.uniform(
            target.backend, key, shape, -1.0, 1.0, target.dtype, target.device, region
        ),
        "normal": lambda region: sampling.normal(
            target.backend, key, shape, 0.0, 1.0, target.dtype, target.device, region
        ),
        "truncated_normal": lambda region: sampling.truncated_normal(
            target.backend,
            key,
            shape,
            TruncatedNormalLaw(0.0, 1.0),
            target.dtype,
            target.device,
            region,
        ),
    }[law]
    whole = backend.to_numpy(draw(None))
    rng = np.random.default_rng(0)
    for _ in range(5):
        starts = [int(rng.integers(0, n)) for n in shape]
        stops = [int(rng.integers(s + 1, n + 1)) for s, n in zip(starts, shape, strict=True)]
        region = tuple(slice(a, b) for a, b in zip(starts, stops, strict=True))
        block = backend.to_numpy(draw(region))
        np.testing.assert_array_equal(block, whole[region])


def test_native_generators_still_use_the_native_stream(backend, like):
    rng = np.random.default_rng(3) if backend.name != "torch" else None
    if rng is None:
        import torch

        rng = torch.Generator(device=backend.device).manual_seed(3)
    values = backend.to_numpy(anyinit.RandomUniform(0.0, 1.0, seed=rng)((1000,), like=like))
    portable = anyinit.RandomUniform(0.0, 1.0, seed=3)((1000,))
    assert not np.array_equal(values, portable)
    assert math.isclose(values.mean(), 0.5, abs_tol=0.05)


def test_random_uniform_equals_jax_wherever_jax_is_inside(backend, like):
    """The README's claim: bit for bit, except where JAX's value leaves [minval, maxval]."""
    jax = pytest.importorskip("jax")
    shape = (500, 400)
    reference = np.asarray(
        jax.random.uniform(jax.random.key(0), shape, "float32", minval=-0.05, maxval=0.05)
    )
    ours = backend.to_numpy(anyinit.RandomUniform(-0.05, 0.05, seed=0)(shape, like=like))
    inside = (reference.astype(np.float64) >= -0.05) & (reference.astype(np.float64) <= 0.05)
    assert ulps(ours[inside], reference[inside]) == 0
    assert ours.min() >= -0.05
    assert ours.max() <= 0.05
    assert inside.mean() > 0.9999
