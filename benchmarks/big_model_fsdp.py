"""The big-model path on FSDP2 ranks: a ~200 M-parameter LLaMA built on ``meta``, each
decoder layer and the root ``fully_shard``-ed over gloo ranks, ``to_empty("cpu")``, then
``anyinit.initialize(model, "llama", seed=0)``: each rank draws only its shards.

    python benchmarks/big_model_fsdp.py     # writes benchmarks/results/big_model_fsdp.md

The same model in one process (one thread, then every thread) is timed in the same run, and
each rank's parameters are checked against the single process's, shard by shard, bit for bit.
Needs torch and transformers.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORLD = 2
REPEATS = 5


def _model(device: str):
    import torch
    import transformers
    from run import LLAMA  # benchmarks/run.py, beside this file: its big-model section's

    with torch.device(device):
        return transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA))


def single_main(outdir: str, label: str) -> None:
    """One process: meta, to_empty, initialize; REPEATS times; saves the last weights' sums."""
    import torch

    import anyinit

    _model("meta")  # imports and first-build costs, untimed
    seconds, drawing, touching = [], [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        model = _model("meta").to_empty(device="cpu")
        middle = time.perf_counter()
        anyinit.initialize(model, "llama", seed=0)
        seconds.append(time.perf_counter() - start)
        drawing.append(time.perf_counter() - middle)
        count = sum(param.numel() for param in model.parameters())
        del model
        start = time.perf_counter()
        torch.empty(count).fill_(0.0)
        touching.append(time.perf_counter() - start)
        model = _model("meta").to_empty(device="cpu")
        anyinit.initialize(model, "llama", seed=0)
    Path(outdir, f"{label}.json").write_text(
        json.dumps({"seconds": seconds, "drawing": drawing, "touching": touching})
    )
    state = {name: param.detach().clone() for name, param in model.named_parameters()}
    __import__("torch").save(state, Path(outdir, "single.pt"))


def rank_main(outdir: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard

    import anyinit

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    _model("meta")  # imports and first-build costs, untimed
    seconds, drawing, touching = [], [], []
    for _ in range(REPEATS):
        dist.barrier()
        start = time.perf_counter()
        model = _model("meta")
        for layer in model.model.layers:
            fully_shard(layer)
        fully_shard(model)
        model.to_empty(device="cpu")
        middle = time.perf_counter()
        anyinit.initialize(model, "llama", seed=0)
        seconds.append(time.perf_counter() - start)
        drawing.append(time.perf_counter() - middle)
        # The anchor: writing zeros into as much fresh memory as this rank's shards.
        count = sum(param.to_local().numel() for param in model.parameters())
        del model
        start = time.perf_counter()
        torch.empty(count).fill_(0.0)
        touching.append(time.perf_counter() - start)
    model = _model("meta")
    for layer in model.model.layers:
        fully_shard(layer)
    fully_shard(model)
    model.to_empty(device="cpu")
    anyinit.initialize(model, "llama", seed=0)
    reference = torch.load(Path(outdir, "single.pt"))
    mismatched = []
    for name, param in model.named_parameters():
        local = param.to_local()
        rows = local.shape[0]
        # Shard(0): this rank's rows, as FSDP2 lays them out (the last ranks may hold fewer).
        chunk = -(-reference[name].shape[0] // dist.get_world_size())
        expected = reference[name][rank * chunk : rank * chunk + rows]
        if not torch.equal(local, expected):
            mismatched.append(name)
    Path(outdir, f"rank{rank}.json").write_text(
        json.dumps(
            {
                "rank": rank,
                "seconds": seconds,
                "drawing": drawing,
                "touching": touching,
                "mismatched": mismatched,
            }
        )
    )
    dist.barrier()
    dist.destroy_process_group()


def _run(command: list[str], threads: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "ANYINIT_NUM_THREADS": str(threads)}
    subprocess.run(command, check=True, env=env, capture_output=True)


def main() -> int:
    from run import warm_memory  # benchmarks/run.py, beside this file

    warmed = warm_memory()
    with tempfile.TemporaryDirectory() as outdir:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        _run([sys.executable, __file__, "--single", outdir, "one-thread"], 1)
        _run([sys.executable, __file__, "--single", outdir, "every-thread"], cpus)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={WORLD}",
                   f"--master-port={port}", __file__, "--rank", outdir]  # fmt: skip
        _run(command, max(1, cpus // WORLD))
        single = {
            label: json.loads(Path(outdir, f"{label}.json").read_text())
            for label in ("one-thread", "every-thread")
        }
        ranks = [json.loads(Path(outdir, f"rank{r}.json").read_text()) for r in range(WORLD)]
    slowest = {
        field: [max(r[field][i] for r in ranks) for i in range(REPEATS)]
        for field in ("seconds", "drawing", "touching")
    }
    lines = [
        "## big_model_fsdp",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python "
        f"{platform.python_version()}; {WORLD} gloo processes on one machine, "
        f"{max(1, cpus // WORLD)} thread(s) each; {warmed:.1f} GiB of memory touched once "
        "before timing (`run.warm_memory`).",
        "",
        "### LLaMA (12 layers, width 1024, 220 M parameters): meta, fully_shard, to_empty, "
        'initialize(m, "llama", seed=0)',
        "",
        "| case | median s, all | min–max s | median s, initialize alone | median s, zeros into "
        "as much fresh memory | n |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, times in (
        ("one process, one thread (no sharding)", single["one-thread"]),
        (f"one process, {cpus} thread(s) (no sharding)", single["every-thread"]),
        (f"FSDP2 over {WORLD} ranks (the slowest rank)", slowest),
    ):
        samples = times["seconds"]
        lines.append(
            f"| {name} | {statistics.median(samples):.3f} | {min(samples):.3f}–"
            f"{max(samples):.3f} | {statistics.median(times['drawing']):.3f} | "
            f"{statistics.median(times['touching']):.3f} | {len(samples)} |"
        )
    bad = sorted({name for r in ranks for name in r["mismatched"]})
    lines += [
        "",
        "The last column is the first touch of fresh pages alone (``torch.empty(n).fill_(0)`` "
        "for as many values as the process holds): on a virtual machine it is most of the cost "
        "and varies from run to run; the draw itself runs at the kernel's rate "
        "(``benchmarks/results/floor.md``).",
        "",
        "Every rank's shards equal the single process's weights bit for bit: "
        + ("yes." if not bad else f"NO ({len(bad)} parameters differ, e.g. {bad[:3]})."),
    ]
    text = "\n".join(lines) + "\n"
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "big_model_fsdp.md").write_text(text)
    print(text)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rank":
        rank_main(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--single":
        single_main(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
