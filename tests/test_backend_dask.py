"""Dask: lazy, chunked initialization equal to the in-memory result, locally and distributed."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

import anyinit

INITIALIZERS = [
    anyinit.RandomUniform(-1.0, 2.0, seed=5),
    anyinit.RandomNormal(0.5, 2.0, seed=5),
    anyinit.TruncatedNormal(0.0, 0.3, seed=5),
    anyinit.GlorotUniform(seed=5),
    anyinit.GlorotNormal(seed=5),
    anyinit.HeNormal(seed=5),
    anyinit.LecunUniform(seed=5),
    anyinit.VarianceScaling(2.0, "fan_geo_avg", "untruncated_normal", seed=5),
    anyinit.Zeros(),
    anyinit.Constant(1.5),
]
CHUNKINGS = [(7, 13), (64, 1), (1, 100), (64, 100), "auto", (10, 33)]


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_equals_the_in_memory_result_for_every_chunking(init, chunks):
    shape = (64, 100)
    lazy = init(shape, like=da.empty((0,), dtype=np.float32), chunks=chunks)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), init(shape))


def test_fans_come_from_the_global_shape():
    lazy = anyinit.HeUniform(seed=1)((3, 3, 64, 128), xp=da, chunks=(1, 1, 16, 16))
    limit = (6 / (3 * 3 * 64)) ** 0.5
    values = lazy.compute()
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit


def test_graph_holds_no_data():
    lazy = anyinit.GlorotNormal(seed=1)((4000, 4000), xp=da, chunks=(1000, 1000))
    # 16 chunks of 4 MB each; the graph itself (as dask ships it) must stay tiny.
    cloudpickle = pytest.importorskip("cloudpickle")
    assert len(cloudpickle.dumps(dict(lazy.__dask_graph__()))) < 50_000


def test_orthogonal_tall_and_skinny():
    lazy = anyinit.Orthogonal(gain=2.0, seed=3)((600, 40), xp=da, chunks=(100, 40))
    q = lazy.compute()
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(40), atol=1e-4)
    np.testing.assert_allclose(q, anyinit.Orthogonal(gain=2.0, seed=3)((600, 40)), atol=1e-5)


def test_orthogonal_too_wide_says_which_shapes_work():
    with pytest.raises(ValueError, match="smaller side of at most 8192"):
        anyinit.Orthogonal(seed=0)((20000, 9000), xp=da)


def test_chunks_is_refused_off_dask():
    with pytest.raises(ValueError, match="`chunks` applies to Dask arrays only"):
        anyinit.GlorotNormal(seed=0)((4, 4), chunks=(2, 2))


def test_unseeded_draws_differ_and_are_chunk_independent():
    init = anyinit.RandomNormal()
    a = init((100, 50), xp=da, chunks=(10, 50)).compute()
    b = init((100, 50), xp=da, chunks=(10, 50)).compute()
    assert not np.array_equal(a, b)
    assert abs(a.std() - 0.05) < 0.005


def test_local_cluster_with_worker_processes():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster, timeout="60s") as client,
    ):
        init = anyinit.GlorotNormal(seed=9)
        lazy = init((300, 200), xp=da, chunks=(50, 50))
        result = client.compute(lazy).result(timeout=120)
        np.testing.assert_array_equal(result, init((300, 200)))
        workers = client.run(lambda: __import__("os").getpid())
        assert len(set(workers.values())) == 2
