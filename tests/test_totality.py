"""Totality: every transform from random bits to values gives a finite value inside its bounds.

Statistical tests draw 10⁵ values and cannot see a map that fails at one
input in 10⁷. The portable stream's float32 uniforms take exactly 2²³ values
(``k·2⁻²³``), so each transform is run here on *all* of them, on the backend
under test, at intervals that include the far tails, one-sided intervals and
the ViT line ``trunc_normal_(std=0.02)`` (±100σ). A slow-marked guard then
draws 10⁸ values through the public API.
"""

from __future__ import annotations

import math
import multiprocessing
import subprocess
import sys

import numpy as np
import pytest

import anyinit
from anyinit import sampling
from anyinit import stream as _portable

# (lower, upper) in standard deviations.
INTERVALS = [
    (-2.0, 2.0),  # Keras / JAX TruncatedNormal
    (-100.0, 100.0),  # trunc_normal_(std=0.02): erf of both bounds rounds to ±1
    (-100.0, 2.0),
    (-2.0, 100.0),
    (-1.0, 0.5),
    (-1e-6, 1e-6),
    (2.5, 2.6),
    (2.9, 1e4),
    (3.0, 3.5),  # the first tail interval
    (6.0, 7.0),  # both bounds in one far tail: JAX gives only its bound here
    (-7.0, -6.0),
    (-12.0, -8.0),  # trunc_normal_(mean=10, std=1, a=-2, b=2)
    (50.0, 60.0),
    (1000.0, 2000.0),
    (-2000.0, -1000.0),
    (1e6, 2e6),
]


@pytest.fixture(scope="module")
def all_uniforms(backend):
    """Every float32 the portable stream's uniform01 can return, on the backend's device."""
    u = np.arange(2**23, dtype=np.float32) * np.float32(2.0**-23)
    return _on_backend(backend, u)


def _on_backend(backend, host):
    from anyinit.target import resolve_target

    target = resolve_target(like=backend.like())
    xp = target.xp
    if backend.name == "dask":
        return target, np, host  # chunks run NumPy's arithmetic
    if backend.name == "jax":
        return target, xp, xp.asarray(host)
    return target, xp, xp.asarray(host, device=target.xp_device)


def _host(backend, values):
    if backend.name == "dask":
        return np.asarray(values, dtype=np.float64)
    return backend.to_numpy(values)


def _truncated(backend, target, xp, u, lower, upper):
    if backend.name == "jax":
        from anyinit.adapters.jax.adapter import truncated_from01

        return truncated_from01(u, lower, upper)
    wide = target.backend.wide_dtype(target.device) if backend.name != "dask" else np.float64
    return _portable.truncated_from01(xp, u, lower, upper, wide)


def test_uniform01_spans_exactly_the_2_23_values(backend, all_uniforms):
    _, _, u = all_uniforms
    host = _host(backend, u)
    assert host[0] == 0.0
    assert host[-1] == 1.0 - 2.0**-23
    assert np.all(np.diff(host) > 0)


def test_normal_is_total(backend, all_uniforms):
    target, xp, u = all_uniforms
    wide = None if backend.name in ("dask", "jax") else target.backend.wide_dtype(target.device)
    mutable = backend.name != "jax"
    values = _host(backend, _portable.normal_from01(xp, u, wide, mutable=mutable))
    assert np.isfinite(values).all()
    # The extremes are the quantiles of the end cells of the float32 uniform (±5.4σ).
    assert 5.3 < -values.min() < 5.5
    assert 5.2 < values.max() < 5.5
    assert np.all(np.diff(values) >= 0), "the inverse CDF must be monotone"


@pytest.mark.parametrize(("lower", "upper"), INTERVALS)
def test_truncated_normal_is_total(backend, all_uniforms, lower, upper):
    target, xp, u = all_uniforms
    values = _host(backend, _truncated(backend, target, xp, u, lower, upper))
    assert np.isfinite(values).all(), f"non-finite values on [{lower}, {upper}]"
    assert values.min() >= lower, (lower, upper, values.min())
    assert values.max() <= upper, (lower, upper, values.max())
    # Non-decreasing in u, lower tails too (they were drawn from their far end, decreasing,
    # before). The far-tail Newton steps run in float64 where the device has it; in
    # float32 (JAX without x64) they may step back by one ulp in places.
    steps = np.diff(values)
    if backend.name == "jax" or target.backend.wide_dtype(target.device) is None:
        assert np.all(steps >= -np.spacing(np.abs(values[1:]).astype(np.float32))), "not monotone"
    else:
        assert np.all(steps >= 0), f"not monotone: {int((steps < 0).sum())} steps back"
    if upper <= -_portable.TAIL_START:
        assert values[0] < values[-1]
        assert np.mean(steps >= 0) > 0.999
    # Spread over the interval, as far as float32 resolves it there.
    levels = (values.max() - values.min()) / float(np.spacing(np.float32(abs(lower) + 1)))
    assert np.unique(values).size >= min(1000, levels / 4)


@pytest.mark.parametrize(("low", "high"), [(-1.0, 1.0), (-0.05, 0.05), (0.0, 1.0), (-3.5, 1e-3)])
def test_uniform_is_total(backend, all_uniforms, low, high):
    target, xp, u = all_uniforms
    wide = None if backend.name in ("dask", "jax") else target.backend.wide_dtype(target.device)
    values = _host(backend, _portable.uniform_from01(xp, u, low, high, wide))
    assert np.isfinite(values).all()
    assert values.min() >= np.float32(low)
    assert values.max() <= np.float32(high)


def _jax_construction(u, lower, upper):
    """jax.random.truncated_normal's steps applied to given uniforms in [0, 1)."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    sqrt2 = np.float32(np.sqrt(2))

    @jax.jit
    def steps(u):
        lo = jax.lax.erf(jnp.float32(lower) / sqrt2)
        hi = jax.lax.erf(jnp.float32(upper) / sqrt2)
        v = jax.lax.max(lo, u * (hi - lo) + lo)
        out = sqrt2 * jax.lax.erf_inv(v)
        inside = (
            jax.lax.nextafter(jnp.float32(lower), jnp.float32(np.inf)),
            jax.lax.nextafter(jnp.float32(upper), jnp.float32(-np.inf)),
        )
        return jnp.clip(out, *inside), jnp.abs(v) == 1.0

    values, at_end = steps(jnp.asarray(u))
    return np.asarray(values), np.asarray(at_end)


@pytest.mark.parametrize(("lower", "upper"), [i for i in INTERVALS if not _portable.in_tail(*i)])
def test_central_truncated_equals_jax_where_jax_is_inside(backend, all_uniforms, lower, upper):
    """At every one of the 2²³ points JAX's map is finite and strictly inside, we agree.

    The only points where we differ by design are those where JAX's uniform
    reached ±1 (its erfinv is infinite there and it returns its clamp, the
    far bound): we return the quantile of the end cell instead.
    """
    target, xp, u = all_uniforms
    host_u = np.arange(2**23, dtype=np.float32) * np.float32(2.0**-23)
    reference, at_end = _jax_construction(host_u, lower, upper)
    ours = _host(backend, _truncated(backend, target, xp, u, lower, upper)).astype(np.float32)
    from test_portable import ulps

    bound = 0 if backend.name == "jax" else 4
    assert ulps(ours[~at_end], reference[~at_end]) <= bound
    # Where JAX hit ±1 it returns the clamped bound; we stay at the end cell's quantile.
    assert np.all(np.abs(ours[at_end]) < 5.5)
    assert at_end.sum() <= 100  # the float32 rounding of u·span + lo onto ±1


@pytest.mark.parametrize(("lower", "upper"), [i for i in INTERVALS if _portable.in_tail(*i)])
def test_far_tail_law_is_the_truncated_normal(backend, all_uniforms, lower, upper):
    """The tail map is the inverse CDF: its quantiles match SciPy's truncnorm."""
    stats = pytest.importorskip("scipy.stats")
    target, xp, u = all_uniforms
    values = _host(backend, _truncated(backend, target, xp, u, lower, upper))
    probabilities = np.array([1e-6, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-6])
    index = (probabilities * 2**23).astype(np.int64)
    law = stats.truncnorm(lower, upper)
    # The k-th smallest value is the quantile of the k-th cell of u, up to a cell
    # (the cells are 2⁻²³ wide) and to float32 resolution of the value.
    got = np.sort(values)[index]
    spacing = float(np.spacing(np.float32(max(abs(lower), abs(upper)))))
    position = np.minimum(law.cdf(got), law.cdf(got + 2 * spacing)) * 2**23
    slack = 2 + 1e-4 * index + 2 * spacing * law.pdf(got) * 2**23
    assert np.all(np.abs(position - index) <= slack), (got, law.ppf(index / 2**23))


# -- the public API at the points that used to fail ---------------------------------


def test_vit_line_has_no_nan(backend):
    """``trunc_normal_(w, std=0.02, seed=70)`` on 768²: one value used to be NaN."""
    w = backend.to_numpy(_out_of_place_bounded(backend, 0.0, 0.02, -2.0, 2.0, 70, (768, 768)))
    assert np.isfinite(w).all()
    assert np.abs(w).max() < 0.02 * 5.5
    assert abs(w.reshape(-1)[5865]) < 0.02 * 5.5


def _out_of_place_bounded(backend, mean, std, a, b, seed, shape, dtype="float32"):
    """trunc_normal_'s law drawn out of place (works on immutable backends too)."""
    from anyinit.laws.records import BoundedNormal
    from anyinit.target import resolve_target

    target = resolve_target(like=backend.like(dtype))
    rng = sampling.generator(target.backend, seed, target.device)
    return BoundedNormal.between(mean, std, a, b).sample(target, rng, shape)


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, 6.0, 7.0), (10.0, 1.0, -2.0, 2.0), (0.0, 1.0, -7.0, -6.0), (0.0, 1.0, 50.0, 60.0)],
)
def test_far_tail_intervals_are_sampled_not_collapsed(backend, mean, std, a, b):
    stats = pytest.importorskip("scipy.stats")
    w = backend.to_numpy(_out_of_place_bounded(backend, mean, std, a, b, 0, (20000,)))
    assert np.isfinite(w).all()
    assert w.min() >= a
    assert w.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(w, law.cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_every_dtype_stays_inside_at_the_vit_line(backend, dtype):
    if dtype not in backend.real_dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    w = backend.to_numpy(
        _out_of_place_bounded(backend, 0.0, 0.02, -2.0, 2.0, 70, (768, 768), dtype)
    )
    assert np.isfinite(w).all()
    assert w.min() >= -2.0
    assert w.max() <= 2.0


# -- bounds in float64 ------------------------------------------------------------------


def test_float64_uniform_never_crosses_its_bounds(backend):
    if "float64" not in backend.real_dtypes:
        pytest.skip("no float64")
    w = backend.to_numpy(anyinit.RandomUniform(seed=70)((768, 768), "float64", like=backend.like()))
    assert w.min() >= -0.05
    assert w.max() <= 0.05


def test_float64_narrow_truncated_interval_is_resolved(backend):
    if "float64" not in backend.real_dtypes:
        pytest.skip("no float64")
    a, b = 0.0999999998, 0.1000000002
    w = backend.to_numpy(_out_of_place_bounded(backend, 0.1, 1e-9, a, b, 0, (10000,), "float64"))
    assert w.min() >= a
    assert w.max() <= b
    # Resolved, not clipped onto the bounds: ±0.2σ is nearly uniform, std 0.2σ/√3.
    assert np.unique(w).size > 5000
    assert math.isclose(w.std(), 0.2e-9 / math.sqrt(3), rel_tol=0.05)


# -- large-sample guard (slow) ----------------------------------------------------------


@pytest.mark.slow
def test_hundred_million_truncated_values_are_finite_and_inside(backend):
    """10⁸ values of the ViT line over many SeedGenerator draws, then a far tail."""
    generator = anyinit.SeedGenerator(0)
    init = anyinit.TruncatedNormal(stddev=0.02, seed=generator)  # ±2σ: the Keras law
    drawn = 0
    shape = (2048, 2048)
    while drawn < 10**8:
        for values in (
            _out_of_place_bounded(backend, 0.0, 0.02, -2.0, 2.0, generator, shape),
            init(shape, like=backend.like()),
        ):
            host = backend.to_numpy(values)
            assert np.isfinite(host).all()
            assert np.abs(host).max() <= 2.0
            drawn += host.size
    assert drawn >= 10**8


# -- fork -------------------------------------------------------------------------------


_FORK_SCRIPT = """
import multiprocessing, anyinit
def child():
    anyinit.glorot_uniform(seed=1)((512, 512))
if __name__ == "__main__":
    anyinit.glorot_uniform(seed=0)((512, 512))  # starts the parent's thread pool
    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    hung = process.is_alive()
    if hung:
        process.kill()
    raise SystemExit(3 if hung else process.exitcode)
"""


@pytest.mark.skipif(
    sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
    reason="needs the fork start method",
)
def test_forked_child_can_draw_after_the_parent_used_the_thread_pool(tmp_path):
    script = tmp_path / "fork_after_draw.py"
    script.write_text(_FORK_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], timeout=120, check=False)
    assert done.returncode != 3, "the forked child hung on its own seeded draw"
    assert done.returncode == 0
