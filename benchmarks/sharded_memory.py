"""Per-rank peak memory of a sharded draw: a (32768, 32768) float32 parameter (4 GiB) over
4 gloo processes, each drawing its (8192, 32768) shard (1 GiB) from the portable stream.

    python benchmarks/sharded_memory.py            # writes benchmarks/results/sharded_memory.md

Each rank reports the growth of its peak resident memory during the call (``ru_maxrss``),
and the time the call took.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPE = (32768, 32768)
WORLD = 4


def rank_main(outdir: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor, Shard, init_device_mesh

    import anyinit

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (world,))
    local = torch.empty(SHAPE[0] // world, SHAPE[1])  # untouched: not resident yet
    like = DTensor.from_local(local, mesh, [Shard(0)], shape=torch.Size(SHAPE),
                              stride=(SHAPE[1], 1))  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    weights = anyinit.GlorotNormal(seed=0)(SHAPE, like=like)
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert weights.to_local().shape == local.shape
    Path(outdir, f"rank{rank}.json").write_text(json.dumps({"rank": rank, "grown": grown,
                                                           "seconds": seconds}))  # fmt: skip
    dist.destroy_process_group()


def main() -> int:
    with tempfile.TemporaryDirectory() as outdir:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={WORLD}",
                   f"--master-port={port}", __file__, "--rank", outdir]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env, capture_output=True)
        ranks = [json.loads(Path(outdir, f"rank{r}.json").read_text()) for r in range(WORLD)]
    whole = 4 * SHAPE[0] * SHAPE[1]
    shard = whole // WORLD
    lines = [
        "## sharded_memory",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python "
        f"{platform.python_version()}; {WORLD} gloo processes on one machine.",
        "",
        f"### GlorotNormal(seed=0) {SHAPE} float32 ({whole / 2**30:.0f} GiB) as a DTensor, "
        f"Shard(0) over {WORLD} ranks",
        "",
        "| rank | shard GiB | peak growth GiB | ÷ shard | ÷ whole | seconds |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ranks:
        lines.append(
            f"| {r['rank']} | {shard / 2**30:.2f} | {r['grown'] / 2**30:.3f} | "
            f"{r['grown'] / shard:.3f} | {r['grown'] / whole:.3f} | {r['seconds']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    out = Path(__file__).with_name("results") / "sharded_memory.md"
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rank"]:
        rank_main(sys.argv[2])
    else:
        sys.exit(main())
