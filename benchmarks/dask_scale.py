"""Scale demonstration: a 100 000 × 100 000 float32 glorot_normal (40 GB) on Dask.

The array is larger than this machine's memory (24 GiB). It is generated
chunk by chunk from the portable stream and reduced (mean, standard
deviation, max |x|) as it goes, so only a few chunks are ever resident.
Usage: ``python benchmarks/dask_scale.py [--side 100000] [--chunk 4096]``;
the result is written to ``benchmarks/results/dask_scale.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np

import anyinit

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    shape = (args.side, args.side)
    init = anyinit.GlorotNormal(seed=0)
    start = time.perf_counter()
    weights = init(shape, xp=da, chunks=(args.chunk, args.chunk))
    built = time.perf_counter() - start
    start = time.perf_counter()
    mean, std, peak = dask.compute(
        weights.mean(dtype="float64"), weights.std(dtype="float64"), abs(weights).max()
    )
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    size = math.prod(shape)
    expected_std = math.sqrt(2 / (2 * args.side))
    bound = 2 * expected_std / 0.87962566103423978
    lines = [
        "## Dask scale demonstration",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"dask {dask.__version__}, numpy {np.__version__}, anyinit {anyinit.__version__}.",
        "",
        "| quantity | value |",
        "|---|---:|",
        f"| shape, dtype | {shape}, float32 ({size * 4 / 1e9:.0f} GB) |",
        f"| chunks | {args.chunk}×{args.chunk} ({len(weights.__dask_graph__())} tasks, one per chunk) |",
        f"| graph construction | {built * 1e3:.0f} ms |",
        f"| generate + reduce, wall time | {wall:.1f} s |",
        f"| throughput | {size / wall / 1e6:.0f} M values/s ({size * 4 / wall / 1e9:.2f} GB/s) |",
        f"| peak resident memory of the process | {rss:.0f} MiB ({rss * 2**20 / (size * 4):.4f}× the array) |",
        f"| mean | {mean:.3e} (expected 0) |",
        f"| std | {std:.6f} (expected {expected_std:.6f}) |",
        f"| max abs | {peak:.6f} (bound {bound:.6f}) |",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dask_scale.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
