"""The C kernel of the portable stream gives the NumPy kernel's values, bit for bit.

The NumPy kernel is the reference (it equals JAX, ``tests/test_portable.py``):
each case is drawn with the extension, then with it switched off. Skips where
the extension is not built (``nox -s tests-no-extension`` runs the suite on the
NumPy kernel alone).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit
from anyinit.adapters.base import FusedLaw
from anyinit.adapters.numpy import kernel as numpy_kernel
from anyinit.stream import key_from_seed, transforms
from anyinit.stream.threefry import counters, random_bits, uniform01_from_bits

pytestmark = pytest.mark.skipif(
    numpy_kernel._EXTENSION is None, reason=f"portable kernel here: {numpy_kernel.kernel_name()}"
)

BIG = 3 * numpy_kernel.BLOCK + 17  # several blocks and a ragged last one


def _both(monkeypatch, draw):
    fast = draw()
    with monkeypatch.context() as patch:
        patch.setattr(numpy_kernel, "_EXTENSION", None)
        reference = draw()
    return fast, reference


INITIALIZERS = [
    anyinit.RandomUniform(-0.3, 0.7, seed=3),
    anyinit.RandomUniform(0.0, 1e-3, seed=4),
    anyinit.RandomNormal(0.1, 0.5, seed=5),
    anyinit.TruncatedNormal(0.0, 0.02, seed=6),
    anyinit.TruncatedNormal(0.0, 1.0, seed=7, lower=-100.0, upper=100.0),
    anyinit.TruncatedNormal(0.0, 1.0, seed=8, lower=0.0, upper=2.9),
    anyinit.TruncatedNormal(0.0, 1.0, seed=9, lower=-1e4, upper=-2.5),
    anyinit.TruncatedNormal(0.0, 1.0, seed=10, lower=3.0, upper=3.5),  # tail: NumPy's path
    anyinit.GlorotUniform(seed=11),
    anyinit.GlorotNormal(seed=12),
    anyinit.HeNormal(seed=anyinit.SeedGenerator(13)),
]


@pytest.mark.parametrize("init", INITIALIZERS, ids=repr)
@pytest.mark.parametrize("shape", [(BIG,), (517, 389), (3, 3, 64, 96), (7,), ()])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_initializers_equal_the_numpy_kernel(monkeypatch, init, shape, dtype):
    def draw():
        return anyinit.deserialize(anyinit.serialize(init))(shape, dtype)  # a fresh stream

    fast, reference = _both(monkeypatch, draw)
    assert fast.dtype == reference.dtype
    np.testing.assert_array_equal(fast, reference)


@pytest.mark.parametrize(
    ("shape", "region"),
    [
        ((64, 48), (slice(0, 64), slice(0, 48))),
        ((64, 48), (slice(8, 40), slice(0, 48))),
        ((64, 48), (slice(8, 40), slice(5, 29))),
        ((4, 5, 6, 7), (slice(1, 3), slice(0, 5), slice(2, 6), slice(0, 7))),
        ((4, 5, 6, 7), (slice(0, 4), slice(1, 2), slice(0, 6), slice(3, 4))),
        ((10,), (slice(3, 3),)),
    ],
)
def test_blocks_of_any_region_equal_the_array_api_reference(shape, region):
    key = key_from_seed(21)
    fast = numpy_kernel.runs_from_extension(key, shape, region)
    bits = random_bits(np, key, shape, region, "cpu")
    np.testing.assert_array_equal(fast, uniform01_from_bits(np, bits, "cpu"))
    high, _ = counters(np, shape, region, "cpu")
    assert fast.shape == high.shape


def test_counters_past_2_32_fall_back_to_numpy():
    key = key_from_seed(0)
    shape = (2**32 + 8,)
    assert numpy_kernel.runs_from_extension(key, shape, (slice(2**32 - 4, 2**32 + 4),)) is None


@pytest.mark.parametrize("seed", [0, 1, 2**32 + 5, 2**63 - 1])
def test_every_word_of_a_block_equals_threefry(seed):
    key = key_from_seed(seed)
    fast = numpy_kernel.uniform01_block(key, 2**32 - 300_000, 2**32)
    words = math.prod(fast.shape)
    bits = random_bits(np, key, (2**32,), (slice(2**32 - words, 2**32),), "cpu")
    np.testing.assert_array_equal(fast, uniform01_from_bits(np, bits, "cpu"))


def _law(lower, upper, scale=1.0, shift=0.0, outer=(-math.inf, math.inf)):
    """The fused law of a normal (``lower is None``) or central truncated normal."""
    key = key_from_seed(0)
    if lower is None:
        return FusedLaw(key, True, *transforms.NORMAL_INTERVAL, scale=scale, shift=shift,
                        outer=outer)  # fmt: skip
    return FusedLaw(
        key, True, *transforms.erf_interval(lower, upper), clip=transforms.OPEN,
        inner=transforms.open_interior(lower, upper), scale=scale, shift=shift, outer=outer,
    )  # fmt: skip


EVERY_UNIFORM = np.arange(2**23, dtype=np.float32) * np.float32(2.0**-23)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(None, None), (-2.0, 2.0), (-100.0, 100.0), (0.0, 2.9), (-1e4, -2.5), (-0.01, 0.03)],
)
def test_the_c_transforms_equal_the_reference_on_every_float32_uniform(lower, upper):
    # All 2**23 uniforms the stream can produce, through the C steps after Threefry (the
    # normal law, or a central truncated interval) and the fused finish, in every vector
    # set this CPU runs: bit for bit the NumPy reference, finite, and inside the interval.
    u = EVERY_UNIFORM
    if lower is None:
        reference = transforms.normal_from01(np, u, np.float64)
    else:
        reference = transforms.truncated_from01(np, u, lower, upper, np.float64)
    assert np.isfinite(reference).all()
    if lower is not None:
        assert reference.min() >= lower
        assert reference.max() <= upper
    bounds = (-0.35, 0.35)  # a glorot_normal-like scale, clipped to its truncation
    expected = reference * np.float32(0.17) + np.float32(-0.01)
    np.clip(expected, *bounds, out=expected)
    for isa in _each_kernel_set():
        values = numpy_kernel.transform(_law(lower, upper), u)
        np.testing.assert_array_equal(values, reference, err_msg=isa)
        finished = numpy_kernel.transform(_law(lower, upper, 0.17, -0.01, bounds), u)
        np.testing.assert_array_equal(finished, expected, err_msg=isa)


def _each_kernel_set():
    """Force each vector set this CPU runs in turn (AVX-512, AVX2, the baseline), yielding
    its name; the one chosen at load is restored after."""
    extension = numpy_kernel._EXTENSION
    saved = extension.isa()
    try:
        for isa in extension.isas():
            extension.set_isa(isa)
            yield isa
    finally:
        extension.set_isa(saved)


def test_every_kernel_set_gives_the_same_bits():
    """The AVX-512, AVX2 and baseline loops (those this CPU runs), each forced in turn, on the
    stream itself, every law and a transposed layout: the bits of the NumPy reference."""
    extension = numpy_kernel._EXTENSION
    key = key_from_seed(5)
    words = random_bits(np, key, (70_001,), None, "cpu")
    stream_reference = uniform01_from_bits(np, words, "cpu")
    inits = [
        anyinit.GlorotUniform(seed=2),
        anyinit.HeNormal(seed=3),
        anyinit.TruncatedNormal(seed=4),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numpy_kernel, "_EXTENSION", None)
        references = [init((301, 67)) for init in inits]
    assert len(extension.isas()) >= 1
    for isa in _each_kernel_set():
        block = numpy_kernel.uniform01_block(key, 0, 70_001)
        np.testing.assert_array_equal(block, stream_reference, err_msg=isa)
        for init, reference in zip(inits, references, strict=True):
            np.testing.assert_array_equal(init((301, 67)), reference, err_msg=isa)
    assert extension.isa() == extension.isas()[0]  # the widest, restored
    with pytest.raises(ValueError, match="`isa` must be one of"):
        extension.set_isa("sse9")


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_every_thread_count_gives_the_same_bits(monkeypatch, threads):
    size = (1 << 18) + 5  # past the smallest share a thread takes (2**15 values)
    expected = anyinit.GlorotNormal(seed=3)((size,))
    monkeypatch.setattr(numpy_kernel, "THREADS", threads)
    np.testing.assert_array_equal(anyinit.GlorotNormal(seed=3)((size,)), expected)
    with numpy_kernel.single_threaded():
        np.testing.assert_array_equal(anyinit.GlorotNormal(seed=3)((size,)), expected)


def test_strided_runs_draw_a_transposed_layout_directly():
    """Counters start + i·stride: a torch (out, in) layout written in one pass, equal to
    the canonical (in, out) draw transposed."""
    key = key_from_seed(9)
    law = FusedLaw(key, True, *transforms.NORMAL_INTERVAL, scale=0.02)
    rows, columns = 37, 53  # canonical (in, out)
    canonical = numpy_kernel.fused(law, (rows, columns), None)
    out = np.empty((columns, rows), np.float32)
    starts = np.arange(columns, dtype=np.int64)
    numpy_kernel._EXTENSION.sample(out, key.k0, key.k1, 0, starts, rows, columns, law.arguments, 2)
    np.testing.assert_array_equal(out, canonical.T)


@pytest.mark.parametrize(
    ("scale", "shift", "clip"),
    [(0.05, 0.0, None), (1.0, 0.0, None), (0.3, 1e-50, None), (2.5, -0.1, (-0.7, 0.4)),
     (0.0, 0.0, None), (1e-30, 3.0, (2.999, 3.0))],
)  # fmt: skip
def test_the_fused_finish_equals_numpy_in_place_steps(scale, shift, clip):
    values = np.random.default_rng(0).standard_normal(1001).astype(np.float32)
    values[:3] = (-0.0, 0.0, -1.5)
    expected = values.copy()
    if scale != 1.0:
        expected *= scale
    if shift != 0.0:
        expected += shift  # a tiny shift is 0.0 in float32, and turns -0.0 into 0.0
    if clip is not None:
        np.clip(expected, *clip, out=expected)
    assert numpy_kernel.finish_in_place(values, scale, shift, clip)
    np.testing.assert_array_equal(values, expected)
    assert np.array_equal(np.signbit(values), np.signbit(expected))
    assert not numpy_kernel.finish_in_place(values[::2], scale, shift, clip)  # not contiguous


def test_samples_refuse_what_they_cannot_draw():
    sample = numpy_kernel._EXTENSION.sample
    law = numpy_kernel._UNIFORM01
    out = np.empty(8, np.float32)
    with pytest.raises(ValueError, match="counters past 2"):
        sample(out, 0, 0, 0, np.array([0, 2**32 - 3], np.int64), 4, 1, law, 1)
    with pytest.raises(ValueError, match="counters past 2"):  # the stride reaches 2**32
        sample(out, 0, 0, 0, np.array([0, 1], np.int64), 4, 2**31, law, 1)
    with pytest.raises(ValueError, match="len"):
        sample(out, 0, 0, 0, np.array([0, 16, 32], np.int64), 4, 1, law, 1)
    with pytest.raises(TypeError, match="int64"):
        sample(out, 0, 0, 0, np.array([0, 16], np.int32), 4, 1, law, 1)
    with pytest.raises(TypeError, match="float32"):
        sample(np.empty(8), 0, 0, 0, np.array([0, 16], np.int64), 4, 1, law, 1)
    with pytest.raises(TypeError, match="law"):
        sample(out, 0, 0, 0, 0, 8, 1, list(law), 1)


# Chunks below and above one kernel block (the larger ones are drawn a few rows at a time).
@pytest.mark.parametrize(("shape", "chunks"), [((600, 500), (250, 200)), ((1100, 300), (700, 200))])
def test_dask_chunks_take_the_kernel(monkeypatch, shape, chunks):
    da = pytest.importorskip("dask.array")
    init = anyinit.GlorotNormal(seed=0)

    def draw():
        return init(shape, xp=da, chunks=chunks).compute()

    fast, reference = _both(monkeypatch, draw)
    np.testing.assert_array_equal(fast, reference)
    np.testing.assert_array_equal(fast, init(shape))


@pytest.mark.parametrize(
    ("words", "named"),
    [((-1, 0, 0, 1), "k0"), ((0, 2**40, 0, 1), "k1"), ((0, 0, 2**32, 1), "high"),
     ((0, 0, 0, -1), "stride")],
)  # fmt: skip
def test_the_c_sample_refuses_words_outside_uint32(words, named):
    """A negative word used to wrap (to 2**64 - 1) past the 2**32 check."""
    out = np.empty(4, np.float32)
    k0, k1, high, stride = words
    law = numpy_kernel._UNIFORM01
    with pytest.raises(ValueError, match=f"`{named}` must be in"):
        numpy_kernel._EXTENSION.sample(out, k0, k1, high, 0, 4, stride, law, 1)
    for start in (2**32 - 2, -1):
        with pytest.raises(ValueError, match="past 2\\*\\*32"):
            numpy_kernel._EXTENSION.sample(out, 0, 0, 0, start, 4, 1, law, 1)


@pytest.mark.parametrize("value", ["abc", "1.5", "0", "-2"])
def test_a_bad_thread_count_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match="ANYINIT_NUM_THREADS must be a positive integer"):
        numpy_kernel.threads_from_environment(value, 8)


def test_thread_counts_are_capped_at_the_cpus_and_empty_means_unset():
    assert numpy_kernel.threads_from_environment("1000", 8) == 8
    assert numpy_kernel.threads_from_environment("", 8) == 8
    assert numpy_kernel.threads_from_environment(" 3 ", 8) == 3


def test_jobs_are_checked_before_any_is_drawn_and_share_the_threads(monkeypatch):
    """sample_many: a bad job anywhere in the list leaves every output as it was; good jobs
    drawn together (many small ones over the threads) equal each drawn alone."""
    law = FusedLaw(key_from_seed(4), True, *transforms.NORMAL_INTERVAL, scale=0.1)
    shapes = [(3, 5), (70_000,), (129, 257), (0, 4), ()]
    outs = [np.zeros(shape, np.float32) for shape in shapes]
    jobs = [numpy_kernel.layout_job(out, law, out.shape, tuple(range(out.ndim))) for out in outs]
    bad = (np.zeros(4, np.float32), 0, 0, 0, 2**32 - 1, 4, 1, law.arguments)
    with pytest.raises(ValueError, match="past 2"):
        numpy_kernel.run_jobs([*jobs, bad])
    assert not any(out.any() for out in outs)
    monkeypatch.setattr(numpy_kernel, "THREADS", 3)
    numpy_kernel.run_jobs(jobs)
    for out in outs:
        np.testing.assert_array_equal(out, numpy_kernel.fused(law, out.shape, None))


def _float32_patterns():
    """float32 values around every float16/bfloat16 rounding case: a stride through every
    exponent from 0 up to past float16's overflow (subnormals, normals, the 65504/65520
    edge), every low-bit pattern of a few mantissas (ties, odd and even), both signs."""
    strided = np.arange(0, 0x48000000, 97, dtype=np.uint32)
    low_bits = (np.arange(1 << 16, dtype=np.uint32)[None, :] + np.array(
        [0x33000000, 0x38800000, 0x3F800000, 0x477FE000, 0x477F0000], dtype=np.uint32
    )[:, None]).reshape(-1)  # fmt: skip
    words = np.concatenate([strided, low_bits, np.array([0x477FF000, 0x47800000], np.uint32)])
    values = words.view(np.float32)
    return np.concatenate([values, -values])


@pytest.mark.parametrize("output", ["float16", "bfloat16"])
def test_16_bit_outputs_round_as_numpy_and_torch_do(output):
    """The kernel's own float32 -> float16/bfloat16 rounding (what it stores for 16-bit
    results) equals NumPy's astype and torch's .to on every tested value, in every vector
    set: ties to even, subnormals, overflow to inf, signed zeros."""
    values = _float32_patterns()
    if output == "float16":
        with np.errstate(over="ignore"):  # past 65520 is inf, on purpose
            expected = values.astype(np.float16).view(np.uint16)
    else:
        torch = pytest.importorskip("torch")
        expected = torch.from_numpy(values).to(torch.bfloat16).view(torch.int16).numpy()
        expected = expected.view(np.uint16)
    out = np.empty(values.size, np.float16 if output == "float16" else np.int16)
    for isa in _each_kernel_set():
        out[:] = 0
        numpy_kernel._EXTENSION.round16(out, values, 1 if output == "float16" else 2)
        np.testing.assert_array_equal(out.view(np.uint16), expected, err_msg=isa)


def test_without_numpys_log_loop_the_normal_laws_give_the_same_bits(monkeypatch):
    """Where the kernel cannot take NumPy's log loop (a NumPy whose ufunc layout it does not
    know), the normal laws run in NumPy ufuncs with the C uniforms: the same values."""
    inits = [anyinit.GlorotNormal(seed=1), anyinit.RandomNormal(0.1, 0.5, seed=2)]
    expected = [init((300, 257)) for init in inits]
    monkeypatch.setattr(numpy_kernel, "_LOG_CHECKED", False)
    law = FusedLaw(key_from_seed(0), True, *transforms.NORMAL_INTERVAL)
    assert numpy_kernel.fused(law, (4,), None) is None
    assert "log loop not found" in numpy_kernel.kernel_name()
    for init, values in zip(inits, expected, strict=True):
        np.testing.assert_array_equal(init((300, 257)), values)
    monkeypatch.setattr(np, "__version__", "3.0.0")
    assert not numpy_kernel._take_numpys_log(numpy_kernel._EXTENSION)
