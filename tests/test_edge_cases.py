"""Regression tests for the edges found by adversarial testing and by real torch code.

Each test names the case it guards. The rule they share: a correct array or
a ``TypeError`` / ``ValueError`` that names the argument — never NaN or inf
weights from finite parameters, never an internal exception type, never a
half-written array.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import warnings

import numpy as np
import pytest

import anyinit
from anyinit import sampling
from anyinit.cli import main as cli
from test_torch_style import empty


def _mutable(backend, shape, dtype="float32"):
    """A zero-filled mutable array of the backend (the in-place functions' target)."""
    return anyinit.zeros_(empty(backend, shape, dtype))


# -- fills are data ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_constant_fills_infinities_and_nan_as_torch_does(backend, like, value):
    # transformers' Gemma audio model: init.constant_(module.input_min, -float("inf"))
    w = backend.to_numpy(anyinit.Constant(value)((3,), like=like))
    np.testing.assert_array_equal(w, np.full(3, value))
    if backend.name not in ("jax", "dask"):
        t = backend.to_numpy(anyinit.constant_(_mutable(backend, (2, 2)), value))
        np.testing.assert_array_equal(t, np.full((2, 2), value))


def test_integer_constants_are_exact_and_range_checked(backend, like):
    w = anyinit.Constant(2**53 + 1)((1,), "int64", like=like)
    exact = w.compute() if backend.name == "dask" else w
    if backend.name in ("numpy", "dask", "torch", "jax"):
        assert int(exact[0]) == 2**53 + 1  # not through a float
    for value, dtype in [(2**63, "int64"), (300, "uint8"), (-1, "uint8"), (0.5, "int32")]:
        with pytest.raises(ValueError, match="`value`"):
            anyinit.Constant(value)((1,), dtype, like=like)


@pytest.mark.parametrize(
    "build",
    [
        lambda like: anyinit.Constant(70000.0)((2,), "float16", like=like),
        lambda like: anyinit.Constant(10**400)((2,), like=like),
        lambda like: anyinit.VarianceScaling(scale=1e300, seed=0)((2, 2), like=like),
        lambda like: anyinit.Identity(gain=1e39)((2, 2), like=like),
        lambda like: anyinit.RandomNormal(stddev=1e300, seed=0)((2, 2), like=like),
        lambda like: anyinit.RandomNormal(stddev=1e38, seed=0)((2, 2), like=like),
        lambda like: anyinit.RandomUniform(-1e308, 1e308, seed=0)((2, 2), "float64", like=like),
        lambda like: anyinit.RandomUniform(-1e5, 1e5, seed=0)((2, 2), "float16", like=like),
        lambda like: anyinit.Orthogonal(gain=1e300, seed=0)((2, 2), like=like),
        lambda like: anyinit.Sparse(0.5, stddev=1e300, seed=0)((2, 2), like=like),
    ],
)
def test_parameters_whose_values_overflow_are_value_errors(backend, like, build):
    if "float16" in build.__code__.co_consts and "float16" not in backend.real_dtypes:
        pytest.skip(f"{backend.name} has no float16")
    with pytest.raises(ValueError, match=r"`(value|scale|gain|stddev|maxval)`"):
        build(like)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: anyinit.RandomNormal(mean=10**400), "mean"),
        (lambda: anyinit.RandomUniform(-(10**400), 1.0), "minval"),
        (lambda: anyinit.VarianceScaling(scale=10**400), "scale"),
    ],
)
def test_huge_python_ints_are_value_errors_not_overflow_errors(build, name):
    with pytest.raises(ValueError, match=f"`{name}` must be finite"):
        build()


@pytest.mark.parametrize(
    ("name", "kwargs", "argument"),
    [
        ("constant_", {"val": 10**400}, "val"),
        ("kaiming_uniform_", {"a": 1e200}, "a"),
        ("kaiming_normal_", {"a": math.nan}, "a"),
        ("xavier_uniform_", {"gain": -1.0}, "gain"),
        ("xavier_normal_", {"gain": -1.0}, "gain"),
        ("xavier_uniform_", {"gain": 1e300}, "gain"),
        ("orthogonal_", {"gain": 1e300}, "gain"),
        ("sparse_", {"sparsity": 0.5, "std": 1e300}, "std"),
        ("normal_", {"std": 1e300}, "std"),
        ("uniform_", {"a": -1e39, "b": 1.0}, "a"),
    ],
)
def test_in_place_overflow_and_bad_numbers_leave_the_array_untouched(
    backend, name, kwargs, argument
):
    tensor = anyinit.constant_(_mutable(backend, (4, 4)), 7.0)
    with pytest.raises(ValueError, match=f"`{argument}`"):
        getattr(anyinit, name)(tensor, **kwargs)
    assert (backend.to_numpy(tensor) == 7.0).all()


def test_uniform_beyond_float16_names_its_bound(backend):
    if "float16" not in backend.real_dtypes:
        pytest.skip("no float16")
    tensor = _mutable(backend, (3,), "float16")
    with pytest.raises(ValueError, match=r"`b`=100000\.0"):
        anyinit.uniform_(tensor, -1e4, 1e5)


def test_bfloat16_bounds_beyond_its_range_are_value_errors(backend, like):
    if "bfloat16" not in backend.real_dtypes:
        pytest.skip("no bfloat16")
    with pytest.raises(ValueError, match="`maxval`"):
        anyinit.RandomUniform(-1.0, 1e39, seed=0)((3,), "bfloat16", like=like)


# -- numbers given as 0-d arrays and NumPy scalars ---------------------------------------


def test_zero_dimensional_arrays_and_numpy_scalars_are_numbers(backend):
    xp = backend.xp
    if backend.adapter.exports:  # TensorFlow, MLX: their own 0-d array
        std = backend.adapter.export(np.asarray(0.02), "float64", backend.device)
    else:
        std = xp.asarray(0.02) if backend.name != "cupy" else np.float64(0.02)
    w = anyinit.normal_(_mutable(backend, (200,)), std=std, seed=0)
    assert abs(float(backend.to_numpy(w).std()) - 0.02) < 0.005
    anyinit.uniform_(_mutable(backend, (3,)), a=np.float32(-1.0), b=np.float64(1.0), seed=0)
    np.testing.assert_array_equal(
        backend.to_numpy(anyinit.constant_(_mutable(backend, (2,)), np.float32(3.0))), [3, 3]
    )
    anyinit.xavier_uniform_(_mutable(backend, (2, 2)), gain=np.float32(2), seed=0)
    w = anyinit.dirac_(_mutable(backend, (4, 2, 3)), groups=np.int64(2))
    assert backend.to_numpy(w).sum() == 4
    assert float(backend.to_numpy(anyinit.Dirac(np.int64(2))((3, 2, 4), like=w)).sum()) == 4


def test_dirac_groups_message_names_the_values(backend):
    with pytest.raises(ValueError, match=r"shape\[0\]=4, groups=3"):
        anyinit.dirac_(_mutable(backend, (4, 2, 3)), groups=3)


def test_kaiming_on_zero_elements_still_validates_its_arguments(backend):
    with pytest.raises(ValueError, match="Mode bogus not supported"):
        anyinit.kaiming_uniform_(_mutable(backend, (0, 3)), mode="bogus")


def test_kaiming_zero_element_warning_points_at_the_caller(backend):
    tensor = _mutable(backend, (0, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anyinit.kaiming_normal_(tensor)
    assert [w.filename for w in caught] == [__file__]


# -- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "init",
    [
        anyinit.RandomNormal(seed=0),
        anyinit.RandomUniform(seed=0),
        anyinit.TruncatedNormal(seed=0),
        anyinit.GlorotUniform(seed=0),
        anyinit.HeNormal(seed=0),
        anyinit.Zeros(),
        anyinit.Constant(2.0),
        anyinit.RandomNormal(seed=None),
    ],
    ids=lambda init: type(init).__name__,
)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_shape_zero_d_gives_an_array_of_the_target_library(backend, like, init, dtype):
    if dtype not in backend.real_dtypes:
        pytest.skip(f"no {dtype}")
    w = init((), dtype, like=like)
    assert type(w) is type(like), type(w)
    assert tuple(w.shape) == ()
    assert np.isfinite(backend.to_numpy(w)).all()


def test_normal_into_a_zero_d_array(backend):
    w = anyinit.normal_(_mutable(backend, ()), seed=0)
    assert tuple(w.shape) == ()


@pytest.mark.parametrize("shape", [(10**400,), (2**40, 2**40), (2**32, 2**32, 4)])
def test_shapes_beyond_any_index_are_value_errors(backend, like, shape):
    with pytest.raises(ValueError, match="`shape`"):
        anyinit.Zeros()(shape, like=like)


def test_blocks_past_2_32_elements_use_block_sized_counters():
    from anyinit.adapters.numpy.kernel import blocks_needed
    from anyinit.stream.threefry import key_from_seed, random_bits, uniform01_from_bits
    from anyinit.target import resolve_target

    assert blocks_needed((2**33,))
    target = resolve_target()
    region = (slice(2**32 - 3, 2**32 + 3),)
    key = key_from_seed(5)
    fast = target.backend.portable_uniform01(key, (2**33,), region, "cpu")
    reference = uniform01_from_bits(target.xp, random_bits(target.xp, key, (2**33,), region))
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(reference))


# -- Dask chunks of the structured initializers --------------------------------------------


@pytest.mark.parametrize(
    ("init", "shape", "chunks"),
    [
        (anyinit.Identity(), (8, 8), (4, 4)),
        (anyinit.Dirac(), (3, 4, 4), 2),
        (anyinit.Orthogonal(seed=0), (8, 8), (4, 4)),
        (anyinit.Orthogonal(seed=0), (3, 4, 4), (1, 2, 2)),
        (anyinit.DeltaOrthogonal(seed=0), (3, 4, 4), (1, 2, 2)),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, anyinit.Initializer) else None,
)
@pytest.mark.only_backend("dask", reason="chunks= is a Dask keyword")
def test_dask_chunks_are_honoured_by_structured_initializers(backend, init, shape, chunks):
    w = init(shape, xp=backend.xp, chunks=chunks)
    expected = backend.xp.empty(shape, chunks=chunks).chunks
    assert w.chunks == expected
    np.testing.assert_allclose(backend.to_numpy(w), init(shape), atol=1e-6)


# -- seeds --------------------------------------------------------------------------------


def test_seed_generator_copies_pickles_and_compares():
    init = anyinit.HeNormal(seed=anyinit.SeedGenerator(3))
    first = init((4,))
    clones = (copy.deepcopy(init), pickle.loads(pickle.dumps(init)))
    second = init((4,))
    assert not np.array_equal(first, second)
    for clone in clones:
        assert clone == init
        assert clone.seed.counter == 1
        np.testing.assert_array_equal(clone((4,)), second)  # it goes on from the same position
    restored = anyinit.deserialize(json.loads(json.dumps(anyinit.serialize(init))))
    assert restored == init
    assert anyinit.SeedGenerator(1) != anyinit.SeedGenerator(2)
    assert len({anyinit.SeedGenerator(1), anyinit.SeedGenerator(1)}) == 1


@pytest.mark.only_backend(
    "numpy", "array_api_strict", "jax",
    reason="seed=None follows the library's own global generator (torch.manual_seed…)",
)  # fmt: skip
def test_numpy_global_seed_makes_unseeded_calls_reproducible(backend, like):
    init = anyinit.HeNormal()
    np.random.seed(0)
    a = backend.to_numpy(init((5, 3), like=like))
    np.random.seed(0)
    b = backend.to_numpy(init((5, 3), like=like))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, backend.to_numpy(init((5, 3), like=like)))


def test_legacy_random_state_is_a_native_generator():
    state = np.random.RandomState(1)
    a = anyinit.RandomNormal(seed=state)((3,))
    b = anyinit.RandomNormal(seed=np.random.RandomState(1))((3,))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, anyinit.RandomNormal(seed=state)((3,)))


@pytest.mark.only_backend("array_api_strict", reason="the library with a device without float64")
def test_integer_seeds_need_no_float64_where_the_device_has_none(backend):
    xp = backend.xp
    device = xp.Device("no_float64")
    for init in (
        anyinit.RandomUniform(seed=0),
        anyinit.RandomNormal(seed=0),
        anyinit.TruncatedNormal(seed=0),
        anyinit.GlorotUniform(seed=0),
        anyinit.Orthogonal(seed=0),
    ):
        w = init((8, 4), xp=xp, device=device)
        assert w.device == device
        reference = init((8, 4))
        np.testing.assert_allclose(
            np.from_dlpack(w.to_device(xp.Device("CPU_DEVICE"))), reference, rtol=1e-5, atol=1e-6
        )


# -- native generators in far tails ----------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(50.0, 60.0), (1000.0, 2000.0), (-60.0, -50.0), (2.9, 1e4)])
def test_native_generators_sample_far_tails(backend, a, b):
    stats = pytest.importorskip("scipy.stats")
    from anyinit.laws.records import BoundedNormal
    from anyinit.target import resolve_target

    target = resolve_target(like=backend.like())
    rng = sampling.generator(target.backend, None, target.device)  # the library's own generator
    w = backend.to_numpy(BoundedNormal.between(0.0, 1.0, a, b).sample(target, rng, (20000,)))
    assert np.isfinite(w).all()
    assert w.min() >= a
    assert w.max() <= b
    if abs(a) < 100:
        assert stats.kstest(w, stats.truncnorm(a, b).cdf).pvalue > 1e-4


def test_native_float64_truncated_normals_have_float64_resolution(backend):
    """Libraries without masked writes (JAX) draw native truncated normals on the host:
    in float64 for float64 results, not float32 widened."""
    from anyinit.target import resolve_target

    target = resolve_target(like=backend.like("float64") if "float64" in backend.real_dtypes
                            else pytest.skip("no float64"))  # fmt: skip
    from anyinit.stream import StreamKey

    if not target.backend.is_generator(np.random.default_rng(0)):
        pytest.skip("this library's native generator is not NumPy's")
    if isinstance(
        sampling.generator(target.backend, np.random.default_rng(0), target.device), StreamKey
    ):
        pytest.skip("this library draws from the portable stream (float32 construction)")
    init = anyinit.TruncatedNormal(0.0, 1.0, seed=np.random.default_rng(5))
    w = backend.to_numpy(init((4096,), "float64", like=backend.like("float64")))
    widened = w.astype(np.float32).astype(np.float64)
    assert (w != widened).mean() > 0.99


# -- deserialize and the command line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"class_name": ["HeNormal"], "config": {}}, "class_name"),
        ({"class_name": "HeNormal", "config": [1, 2]}, "constructor arguments"),
        (
            {"class_name": "HeNormal", "config": {"seed": {"class_name": "SeedGenerator",
                                                          "config": 3}}},
            "SeedGenerator config must be a dict",
        ),
    ],
)  # fmt: skip
def test_deserialize_names_what_is_wrong(config, match):
    with pytest.raises(ValueError, match=match):
        anyinit.deserialize(config)


def test_deserialize_accepts_a_seed_generator_config_of_none():
    config = {"class_name": "HeNormal",
              "config": {"seed": {"class_name": "SeedGenerator", "config": None}}}  # fmt: skip
    assert anyinit.deserialize(config).seed == anyinit.SeedGenerator(0)


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "glorot_normal", "--shape", "3", "--backend", ""],
        ["sample", "glorot_normal", "--shape", "3", "--backend", ".foo"],
        ["sample", "glorot_normal", "--shape", "3", "--device", "xla"],
        ["sample", "random_normal", "--shape", "3", "--param", "mean=1" + "0" * 400],
        ["sample", "constant", "--shape", "3", "--param", "value=300", "--dtype", "uint8"],
        ["sample", "random_normal", "--shape", "3", "--param", "seed=..."],
    ],
)
def test_cli_errors_are_messages_with_status_2(argv, capsys):
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("anyinit sample:")
    assert "Traceback" not in err


def test_cli_list_into_a_closed_pipe_is_quiet():
    import subprocess
    import sys

    done = subprocess.run(
        f'"{sys.executable}" -m anyinit list | head -n 1',
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr


def test_overflow_message_names_the_larger_bound(backend, like):
    with pytest.raises(ValueError, match=r"`minval`=-1e\+39"):
        anyinit.RandomUniform(-1e39, 1.0, seed=0)((3,), like=like)


def test_cli_plot_names_the_file_it_writes(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = ["sample", "glorot_normal", "--shape", "8", "8", "--seed", "0", "--plot"]
    assert cli([*argv, str(tmp_path)]) == 0  # a folder: the initializer's name in it
    assert (tmp_path / "glorot_normal.png").is_file()
    assert f"figure written to {tmp_path / 'glorot_normal.png'}" in capsys.readouterr().out
    assert cli([*argv, str(tmp_path / "histogram")]) == 0  # no suffix: .png, and said
    assert (tmp_path / "histogram.png").is_file()
    assert f"figure written to {tmp_path / 'histogram.png'}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--plot", ""], "--plot needs a file or folder name"),
        (["--param", "foo=1"], "GlorotNormal takes no argument 'foo'; its arguments are seed"),
    ],
)
def test_cli_refuses_an_empty_plot_name_and_unknown_arguments_plainly(argv, says, capsys):
    assert cli(["sample", "glorot_normal", "--shape", "4", "4", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "_Preset" not in err


def test_cli_on_an_empty_shape_says_nothing_was_measured(capsys):
    assert cli(["sample", "glorot_normal", "--shape", "0", "0", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out
    assert "a zero fan counts as 1 in the scale" in out
    assert "nothing was measured" in out


def test_cli_on_a_device_without_data_says_so(capsys):
    pytest.importorskip("torch")
    argv = ["sample", "glorot_normal", "--shape", "4", "--backend", "torch", "--device", "meta"]
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert "holds no data" in err
    assert "Cannot copy out of meta tensor" not in err


def test_get_names_the_class_and_its_arguments_for_an_unknown_one():
    with pytest.raises(TypeError, match="HeNormal takes no argument 'stddev'; its arguments are"):
        anyinit.get({"class_name": "HeNormal", "config": {"stddev": 1.0}})
