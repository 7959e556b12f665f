"""Sharded initialization: torch DTensor / FSDP2 over gloo process groups and JAX arrays over
host devices, compared with the single-process result (``nox -s tests-distributed``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import anyinit

HERE = Path(__file__).resolve().parent


def _rank_logs(log_dir: Path) -> str:
    """Every rank's own stdout and stderr, whole (torchrun's --redirects files), for a failure."""
    parts = []
    for path in sorted(log_dir.rglob("*.log")):
        text = path.read_text(errors="replace").strip()
        parts.append(f"--- {path.relative_to(log_dir)} ---\n{text or '(empty)'}")
    return "\n".join(parts) or f"(no rank wrote a log under {log_dir})"


@pytest.mark.parametrize("world", [2, 4])
def test_every_dtensor_shard_equals_the_single_process_result(tmp_path, world):
    pytest.importorskip("torch.distributed.tensor")
    log_dir = tmp_path / "logs"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        # A c10d store on a port the launcher binds itself: no race for a port picked here.
        "--standalone",
        f"--nproc-per-node={world}",
        f"--log-dir={log_dir}",
        "--redirects=3",  # each rank's stdout and stderr in its own file, kept whole
        str(HERE / "distributed_torch.py"),
        str(tmp_path),
    ]
    # One thread per rank on a 2-core machine; gloo on the loopback device whatever the
    # hostname resolves to; faulthandler prints every thread's stack on SIGABRT/SIGSEGV.
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "ANYINIT_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": "lo",
        "PYTHONFAULTHANDLER": "1",
        "PYTHONWARNINGS": "ignore",
    }
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert run.returncode == 0, (
        f"torchrun exited with {run.returncode}\n{_rank_logs(log_dir)}\n"
        f"--- launcher stderr ---\n{run.stderr}"
    )
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    for result in results:
        assert result["failures"] == [], result["failures"]
        # Out of place (12 initializers × 3 shapes × placements), in place, FSDP2, memory.
        assert result["checks"] > 400
        memory = result["memory"]
        assert memory["peak_mib"] <= memory["shard_mib"] + memory["whole_mib"] / 8


# -- JAX: host devices -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def jax_devices():
    jax = pytest.importorskip("jax")
    if jax.device_count() < 8:
        pytest.skip(
            "needs XLA_FLAGS=--xla_force_host_platform_device_count=8 (nox tests-distributed)"
        )
    return jax


_JAX_INITIALIZERS = {
    "glorot_normal": lambda: anyinit.glorot_normal(seed=0),
    "he_uniform": lambda: anyinit.he_uniform(seed=1),
    "truncated_normal": lambda: anyinit.TruncatedNormal(0.1, 0.5, seed=2),
    "variance_scaling": lambda: anyinit.VarianceScaling(2.0, "fan_avg", "uniform", seed=3),
    "orthogonal": lambda: anyinit.Orthogonal(seed=4),
    "identity": lambda: anyinit.Identity(2.0),
    "zeros": lambda: anyinit.Zeros(),
}
_MESHES = [((8,), ("x",)), ((4, 2), ("x", "y")), ((2, 4), ("x", "y"))]


@pytest.mark.parametrize("name", list(_JAX_INITIALIZERS))
def test_jax_sharded_results_equal_the_unsharded_one(jax_devices, name):
    jax = jax_devices
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    build = _JAX_INITIALIZERS[name]
    expected = np.asarray(build()((64, 32), xp=jnp))
    for mesh_shape, axes in _MESHES:
        mesh = jax.make_mesh(mesh_shape, axes)
        specs = [P(axes[0]), P(None, axes[-1]), P(*axes) if len(axes) == 2 else P(None, axes[0])]
        for spec in specs:
            sharding = NamedSharding(mesh, spec)
            got = build()((64, 32), xp=jnp, sharding=sharding)
            assert got.sharding.spec == spec
            np.testing.assert_array_equal(np.asarray(got), expected, err_msg=f"{mesh_shape} {spec}")
            again = build()((64, 32), like=got)  # like= a sharded array: its sharding
            assert again.sharding == got.sharding
            np.testing.assert_array_equal(np.asarray(again), expected)


def test_jax_shards_are_drawn_on_their_devices_without_gathering(jax_devices):
    jax = jax_devices
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    sharding = NamedSharding(jax.make_mesh((4, 2), ("x", "y")), P("x", "y"))
    program = (
        jax.jit(lambda: anyinit.glorot_normal(seed=0)((1024, 512), xp=jnp), out_shardings=sharding)
        .lower()
        .compile()
        .as_text()
    )
    assert "all-gather" not in program
    assert "all-to-all" not in program


def test_initialize_keeps_a_sharded_flax_pytree_sharded_and_equal(jax_devices):
    jax = jax_devices
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = jax.make_mesh((4, 2), ("x", "y"))
    params = {
        "params": {
            "fc1": {"kernel": jnp.zeros((64, 32), "float32"), "bias": jnp.zeros(32, "float32")},
            "embed": {"embedding": jnp.zeros((40, 16), "float32")},
        }
    }
    sharded = jax.tree_util.tree_map(
        lambda a: jax.device_put(a, NamedSharding(mesh, P("x") if a.ndim > 1 else P("y"))), params
    )
    for preset in ("torch", "flax", "keras"):
        got = anyinit.initialize(sharded, preset, seed=0)
        want = anyinit.initialize(params, preset, seed=0)
        for path, value in jax.tree_util.tree_leaves_with_path(got):
            reference = dict(jax.tree_util.tree_leaves_with_path(want))[path]
            assert len(value.sharding.device_set) == 8
            np.testing.assert_array_equal(np.asarray(value), np.asarray(reference))


def test_float64_shards_equal_the_compiled_unsharded_draw(jax_devices):
    """In float64, XLA fuses the affine step into one multiply-add under jit: a sharded draw
    equals the jitted unsharded one bit for bit, and the eager one to an ulp."""
    jax = jax_devices
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    sharding = NamedSharding(jax.make_mesh((4, 2), ("x", "y")), P("x", "y"))
    init = anyinit.RandomUniform(-0.3, 0.7, seed=0)
    got = np.asarray(init((64, 32), "float64", xp=jnp, sharding=sharding))
    compiled = np.asarray(jax.jit(lambda: init((64, 32), "float64", xp=jnp))())
    eager = np.asarray(init((64, 32), "float64", xp=jnp))
    np.testing.assert_array_equal(got, compiled)
    np.testing.assert_allclose(got, eager, rtol=3e-16, atol=0)
