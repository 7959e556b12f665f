"""The golden values: every public entry point gives, bit for bit, what it gave when
``tests/golden_values.json`` was written (see ``tests/golden.py``)."""

from __future__ import annotations

import pytest

import golden


def test_every_public_entry_point_gives_its_golden_values(backend):
    expected = {k: v for k, v in golden.load().items() if k.startswith(f"{backend.name}/")}
    if not expected:
        pytest.skip(f"no golden values recorded for {backend.name}")
    # Every case this environment can compute (bfloat16 on NumPy needs ml_dtypes).
    got = {name: golden.outcome(compute, name) for name, compute in golden.cases(backend.name)}
    changed = sorted(
        name for name in got if name in expected and not golden.same(got[name], expected[name])
    )
    missing = sorted(set(got) - set(expected))
    assert not changed, f"{len(changed)} of {len(got)} cases changed, e.g. {changed[:5]}"
    assert not missing, f"cases without golden values: {missing[:5]}"
    assert len(got) >= 0.7 * len(expected), "most golden cases must run in every session"


@pytest.mark.only_backend("numpy", reason="the read-only namespace wraps NumPy; one run suffices")
def test_immutable_arrays_take_numpys_values():
    """The immutable-array path (JAX's: no masked writes, nothing written in place) of the
    generic adapter, on NumPy arrays that refuse every write: NumPy's golden values."""
    expected = {k: v for k, v in golden.load().items() if k.startswith("numpy/")}
    got = {
        name: golden.outcome(compute, name)
        for name, compute in golden.cases("readonly_numpy", recorded_as="numpy")
    }
    changed = sorted(name for name in got if not golden.same(got[name], expected.get(name)))
    assert len(got) > 300
    assert not changed, f"{len(changed)} of {len(got)} differ from NumPy's, e.g. {changed[:5]}"


@pytest.mark.only_backend("tensorflow", "mlx", reason="the libraries computed on the host")
def test_tensorflow_and_mlx_take_numpys_golden_values(backend):
    """TensorFlow's and MLX's adapters compute with NumPy's (``adapters.bridge``): for integer
    seeds and SeedGenerators every entry point gives NumPy's golden values, bit for bit, as
    tf.Tensor / tf.Variable / mx.array."""
    expected = {k: v for k, v in golden.load().items() if k.startswith("numpy/")}
    got = {
        name: golden.outcome(compute, name)
        for name, compute in golden.cases(backend.name, recorded_as="numpy")
    }
    changed = sorted(name for name in got if not golden.same(got[name], expected.get(name)))
    assert len(got) > 300
    assert not changed, f"{len(changed)} of {len(got)} differ from NumPy's, e.g. {changed[:5]}"
