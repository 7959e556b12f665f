"""Small calls and a whole model, before and after a change, side by side in one run.

Usage: ``python benchmarks/before_after.py REV [--after REV] [--rounds 5] [--out FILE]``

``REV`` (a commit) is checked out in a temporary git worktree and its C kernel built, and so
is ``--after`` (default: this checkout as it is); the cases below then run in fresh
processes against the two trees, taking turns (``--rounds`` of each), so both see the same machine load. Every process measures the
anchors (``torch.nn.init``, ``reset_parameters``, in-memory NumPy) next to anyinit, and the
table gives medians over the rounds of each process's median, and the ratio to the anchor
measured in the same process. Only the public API is used, so any two revisions compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: case -> (anchor case or None, target ratio or None)
CASES = {
    "torch.nn.init.normal_ (64,) Parameter": (None, None),
    "anyinit.normal_ (64,) Parameter": ("torch.nn.init.normal_ (64,) Parameter", 1.5),
    "torch.nn.init.normal_ (64,) Parameter, generator": (None, None),
    "anyinit.normal_ (64,) Parameter, generator": (
        "torch.nn.init.normal_ (64,) Parameter, generator",
        1.5,
    ),
    "torch.nn.init.kaiming_uniform_ (1, 64) Parameter": (None, None),
    "anyinit.kaiming_uniform_ (1, 64) Parameter": (
        "torch.nn.init.kaiming_uniform_ (1, 64) Parameter",
        1.5,
    ),
    "anyinit RandomNormal(seed=1) (64,)": (None, None),
    "torch reset_parameters, 12-block stack (ms)": (None, None),
    'anyinit.initialize(net, "torch", seed=0), 12-block stack (ms)': (
        "torch reset_parameters, 12-block stack (ms)",
        1.2,
    ),
    "numpy in memory GlorotNormal(seed=1) (4096, 4096) (ms)": (None, None),
    "dask 4 chunks GlorotNormal(seed=1) (4096, 4096) (ms)": (
        "numpy in memory GlorotNormal(seed=1) (4096, 4096) (ms)",
        1.3,
    ),
}

#: Run in a fresh process against one tree; prints {case: median seconds}.
WORKER = r"""
import json, math, statistics, sys, time
import numpy as np
import torch
import anyinit

torch.set_num_threads(1)
BATCH = 20

def measure(cases, repeats, batch):
    for fn in cases.values():
        for _ in range(2 * batch):
            fn()
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            times[name].append((time.perf_counter() - start) / batch)
    return {name: statistics.median(samples) for name, samples in times.items()}

vector = torch.nn.Parameter(torch.empty(64))
row = torch.nn.Parameter(torch.empty(1, 64))
g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
small = {
    "torch.nn.init.normal_ (64,) Parameter": lambda: torch.nn.init.normal_(vector),
    "anyinit.normal_ (64,) Parameter": lambda: anyinit.normal_(vector),
    "torch.nn.init.normal_ (64,) Parameter, generator":
        lambda: torch.nn.init.normal_(vector, generator=g1),
    "anyinit.normal_ (64,) Parameter, generator": lambda: anyinit.normal_(vector, generator=g2),
    "torch.nn.init.kaiming_uniform_ (1, 64) Parameter":
        lambda: torch.nn.init.kaiming_uniform_(row, a=math.sqrt(5)),
    "anyinit.kaiming_uniform_ (1, 64) Parameter":
        lambda: anyinit.kaiming_uniform_(row, a=math.sqrt(5)),
    "anyinit RandomNormal(seed=1) (64,)": (lambda init: lambda: init((64,)))(
        anyinit.RandomNormal(seed=1)
    ),
}
result = measure(small, 60, BATCH)

layers = []
for _ in range(12):
    layers += [torch.nn.Linear(768, 768) for _ in range(4)]
    layers += [torch.nn.Linear(768, 3072), torch.nn.Linear(3072, 768)]
net = torch.nn.Sequential(*layers)
model = {
    "torch reset_parameters, 12-block stack (ms)": lambda: [m.reset_parameters() for m in net],
    'anyinit.initialize(net, "torch", seed=0), 12-block stack (ms)':
        lambda: anyinit.initialize(net, "torch", seed=0),
}
result.update(measure(model, 5, 1))

import dask.array as da
# As benchmarks/run.py's Dask table: the same initializer in memory and in 4 chunks, computed.
init = anyinit.GlorotNormal(seed=1)
arrays = {
    "numpy in memory GlorotNormal(seed=1) (4096, 4096) (ms)": lambda: init((4096, 4096)),
    "dask 4 chunks GlorotNormal(seed=1) (4096, 4096) (ms)":
        lambda: init((4096, 4096), xp=da, chunks=(2048, 2048)).compute(),
}
result.update(measure(arrays, 7, 1))
print(json.dumps(result))
"""


def _tree_at(rev: str, folder: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), rev], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    # Its C kernel, built in place (where a compiler is missing it falls back, as installs do).
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=folder,
                   check=False, capture_output=True)  # fmt: skip
    return folder / "src"


def _run(src: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True,
                         text=True, check=True, timeout=1200)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the revision to compare with (e.g. the session's start)")
    parser.add_argument("--after", default=None, help="a revision (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/before_after.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = [Path(tmp) / "before"] + ([Path(tmp) / "after"] if args.after else [])
        before_src = _tree_at(args.rev, trees[0])
        after_src = _tree_at(args.after, trees[1]) if args.after else ROOT / "src"
        try:
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for _ in range(args.rounds):
                runs["before"].append(_run(before_src))
                runs["after"].append(_run(after_src))
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                               check=False)  # fmt: skip
    lines = [
        "## before / after",
        "",
        f"Before: `{args.rev}`; after: `{args.after or 'this checkout'}`. {args.rounds} fresh "
        "processes each, taking "
        "turns; µs per call unless the case says ms. Each ratio divides by the anchor measured "
        "in the same process (median over the rounds).",
        "",
        "| case | before | after | before ÷ anchor | after ÷ anchor | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case, (anchor, target) in CASES.items():
        unit = 1e3 if case.endswith("(ms)") else 1e6
        cells = [f"{statistics.median(r[case] for r in runs[side]) * unit:.3g}"
                 for side in ("before", "after")]  # fmt: skip
        ratios = []
        for side in ("before", "after"):
            if anchor is None:
                ratios.append("")
                continue
            ratio = statistics.median(r[case] / r[anchor] for r in runs[side])
            ratios.append(f"{ratio:.2f}")
        goal = "" if target is None else f"≤ {target}"
        lines.append(f"| {case} | {' | '.join(cells)} | {' | '.join(ratios)} | {goal} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
