"""The GPU proof's measurements: on-device generation and speed (called by ``gpu_check.sh``).

Two parts, each written as JSON and Markdown under ``--out``:

* **On the device.** A 1 GiB float32 ``glorot_normal`` made ``like=`` a CuPy array and a
  CUDA tensor: the result is on ``like``'s device, the host's peak RSS grows by far less
  than the result, no host-to-device copy of any size moves it (CUDA activity traced by
  torch's profiler, which sees every library's copies in the process), and the device's
  peak memory is reported; the torch int32 Threefry kernel's peak device memory for a
  1 GiB result.
* **Speed.** Uniform, normal, truncated normal and ``glorot_normal`` with an int seed (the
  portable stream) and with each library's own generator, and ``Orthogonal`` (1024²,
  4096×1024), on CuPy and torch-CUDA, beside ``torch.nn.init`` on CUDA, CuPy's RNG and
  ``jax.nn.initializers`` on the GPU. Times are medians of CUDA-event timings after
  warm-ups (JAX: wall clock around ``block_until_ready``). Rates are bytes *written* per
  second, and the device-to-device copy's rate is measured the same way in the same run, so
  "fraction of copy" compares like with like (the copy also reads as many bytes).

``--dry-run`` runs every step with CPU tensors, NumPy in place of CuPy and JAX on the CPU,
at small sizes, so that the script is tested where no GPU is (CI) and a lent GPU's minutes
are not spent on a typo. Checks that only mean something on a GPU (host-to-device copies,
device memory) are reported as ``n/a (dry run)`` there.

Correctness checks failing make the exit status 1; performance targets are reported as
met or missed and never change it (a slow result is a finding, not a broken run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import anyinit

GIB = 1 << 30
MIB = 1 << 20


@dataclass
class Library:
    """One array library under test: how to make a ``like``, synchronise and time on it."""

    name: str
    xp: Any
    like: Any  # an empty float32 array on the device under test
    synchronize: Callable[[], None]
    event_timer: Callable[[Callable[[], Any]], float] | None  # seconds, from CUDA events
    native: Callable[[int], Any]  # a native generator seeded with an int
    device: str


@dataclass
class Report:
    dry_run: bool
    checks: list[dict[str, Any]] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    def check(self, name: str, ok: bool | None, detail: str) -> None:
        """Record a correctness check (None: not applicable in this mode)."""
        status = "n/a (dry run)" if ok is None else ("pass" if ok else "FAIL")
        self.checks.append({"check": name, "status": status, "detail": detail})
        print(f"[{status:>13}] {name}: {detail}", flush=True)

    @property
    def failed(self) -> bool:
        return any(c["status"] == "FAIL" for c in self.checks)


# -- libraries ----------------------------------------------------------------------------


def _torch_library(dry_run: bool) -> Library:
    import torch

    device = "cpu" if dry_run else "cuda"
    if not dry_run and not torch.cuda.is_available():
        sys.exit("gpu_check: torch sees no CUDA device; use --dry-run on a machine without one")

    def timer(fn: Callable[[], Any]) -> float:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end)) / 1e3

    return Library(
        name="torch-cpu" if dry_run else "torch-cuda",
        xp=torch,
        like=torch.empty(0, device=device),
        synchronize=(lambda: None) if dry_run else torch.cuda.synchronize,
        event_timer=None if dry_run else timer,
        native=lambda seed: torch.Generator(device=device).manual_seed(seed),
        device=device,
    )


def _cupy_library(dry_run: bool) -> Library:
    if dry_run:  # NumPy stands in for CuPy: the same API for everything used here
        return Library(
            name="numpy (for cupy)",
            xp=np,
            like=np.empty(0, np.float32),
            synchronize=lambda: None,
            event_timer=None,
            native=np.random.default_rng,
            device="cpu",
        )
    import cupy

    def timer(fn: Callable[[], Any]) -> float:
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return float(cupy.cuda.get_elapsed_time(start, end)) / 1e3

    return Library(
        name="cupy",
        xp=cupy,
        like=cupy.empty(0, cupy.float32),
        synchronize=cupy.cuda.Device().synchronize,
        event_timer=timer,
        native=cupy.random.default_rng,
        device="cuda:0",
    )


def _median_seconds(lib: Library, fn: Callable[[], Any], warmups: int, reps: int) -> float:
    for _ in range(warmups):
        fn()
    lib.synchronize()
    times = []
    for _ in range(reps):
        if lib.event_timer is not None:
            times.append(lib.event_timer(fn))
        else:
            start = time.perf_counter()
            fn()
            lib.synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- on the device ------------------------------------------------------------------------


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _host_to_device_bytes(
    fn: Callable[[], Any], synchronize: Callable[[], None], *, cuda: bool = True
) -> int | None:
    """Bytes copied host-to-device while `fn` runs, from the CUDA activity trace (every
    library's copies in this process), or None where the trace is unavailable. ``cuda=False``
    traces CPU activity only (the dry run: the same trace export and parsing, no copies)."""
    try:
        from torch.profiler import ProfilerActivity, profile
    except ImportError:
        return None
    activity = ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU
    with tempfile.TemporaryDirectory() as folder:
        trace = Path(folder, "trace.json")
        with profile(activities=[activity]) as prof:
            fn()
            synchronize()
        prof.export_chrome_trace(str(trace))
        events = json.loads(trace.read_text()).get("traceEvents", [])
    total = 0
    for event in events:
        name = str(event.get("name", ""))
        if event.get("cat") == "gpu_memcpy" and ("HtoD" in name or "Host to Device" in name):
            total += int(event.get("args", {}).get("bytes", 1))
    return total


def check_on_device(report: Report, lib: Library, nbytes: int, dry_run: bool) -> None:
    shape = (nbytes // 4 // 4096, 4096)
    init = anyinit.glorot_normal(seed=0)
    what = f"{lib.name}: {nbytes / MIB:.0f} MiB float32 glorot_normal like={lib.name}"
    init((64, 64), like=lib.like)  # warm: namespaces, adapters, kernels compiled
    lib.synchronize()
    if lib.xp.__name__ == "torch" and not dry_run:
        lib.xp.cuda.reset_peak_memory_stats()
    rss_before = _max_rss()
    result = init(shape, like=lib.like)
    lib.synchronize()
    rss_growth = _max_rss() - rss_before
    same_library = type(result) is type(lib.like)
    same_device = str(getattr(result, "device", "cpu")) == str(getattr(lib.like, "device", "cpu"))
    report.check(
        f"{lib.name} result on like's device",
        same_library and same_device and tuple(result.shape) == shape,
        f"{type(result).__module__}.{type(result).__name__} on {getattr(result, 'device', 'cpu')}",
    )
    finite = bool(lib.xp.isfinite(result).all())
    report.check(f"{lib.name} values finite", finite, f"{what}: all finite = {finite}")
    if dry_run:
        report.check(f"{lib.name} host memory", None, f"peak RSS grew {rss_growth / MIB:.0f} MiB")
        del result
        copied = _host_to_device_bytes(lambda: init(shape, like=lib.like), lib.synchronize,
                                       cuda=False)  # fmt: skip
        report.check(f"{lib.name} no host-to-device copy", None, f"CPU trace: {copied} bytes")
        return
    # A host array of the result's size would show in the host's peak RSS.
    report.check(
        f"{lib.name} no host array of the result's size",
        rss_growth < nbytes // 4,
        f"peak RSS grew {rss_growth / MIB:.0f} MiB for a {nbytes / MIB:.0f} MiB result",
    )
    del result
    lib.synchronize()
    copied = _host_to_device_bytes(lambda: init(shape, like=lib.like), lib.synchronize)
    report.check(
        f"{lib.name} no host-to-device copy of the values",
        None if copied is None else copied < MIB,
        "CUDA trace unavailable" if copied is None else f"{copied} bytes host-to-device",
    )
    if lib.xp.__name__ == "torch":
        peak = lib.xp.cuda.max_memory_allocated()
        report.environment[f"{lib.name} glorot_normal peak / result"] = round(peak / nbytes, 3)
        report.check(
            f"{lib.name} device peak memory", True, f"{peak / nbytes:.2f}x the result (reported)"
        )
    else:
        pool = lib.xp.get_default_memory_pool()
        report.check(
            f"{lib.name} device memory pool", True, f"pool total {pool.total_bytes() / MIB:.0f} MiB"
        )


def check_torch_kernel_peak(report: Report, lib: Library, nbytes: int, dry_run: bool) -> None:
    """The int32 Threefry kernel (torch on non-CPU devices) draws in bounded blocks."""
    from anyinit.adapters.torch import kernel as torch_kernel
    from anyinit.stream import key_from_seed

    torch = lib.xp
    shape = (nbytes // 4 // 4096, 4096)
    key = key_from_seed(0)
    if dry_run:
        rss_before = _max_rss()
        out = torch_kernel.uniform01(key, shape, None, lib.device)
        growth = (_max_rss() - rss_before) / nbytes
        report.check("torch int32 kernel peak", None, f"CPU RSS grew {growth:.2f}x the result")
        del out
        return
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    out = torch_kernel.uniform01(key, shape, None, lib.device)
    torch.cuda.synchronize()
    ratio = (torch.cuda.max_memory_allocated() - base) / nbytes
    report.environment["torch int32 kernel peak / result"] = round(ratio, 3)
    report.check(
        "torch int32 kernel peak device memory",
        ratio <= 1.5,
        f"{ratio:.2f}x the {nbytes / MIB:.0f} MiB result (blocks of {torch_kernel.BLOCK})",
    )
    del out


# -- speed --------------------------------------------------------------------------------


def _anyinit_cases(lib: Library) -> dict[str, Callable[[Any], Any]]:
    """name -> (seed -> initializer), for an int seed or a native generator."""
    return {
        "uniform": lambda seed: anyinit.RandomUniform(-1.0, 1.0, seed=seed),
        "normal": lambda seed: anyinit.RandomNormal(0.0, 1.0, seed=seed),
        "truncated_normal": lambda seed: anyinit.TruncatedNormal(0.0, 1.0, seed=seed),
        "glorot_normal": lambda seed: anyinit.GlorotNormal(seed=seed),
    }


def _torch_anchors(torch: Any, shape: tuple[int, ...], device: str) -> dict[str, Callable]:
    """torch's own calls for each case, each allocating its result as anyinit's calls do.

    ``glorot_normal`` is a truncated normal (Keras, JAX): its anchor is ``trunc_normal_`` at
    Glorot's std and ±2 std, not the untruncated ``xavier_normal_``.
    """
    init = torch.nn.init
    generator = torch.Generator(device=device).manual_seed(0)
    glorot_std = math.sqrt(2.0 / sum(shape)) / 0.87962566103423978  # Keras's truncation factor

    def new() -> Any:
        return torch.empty(shape, device=device)

    return {
        "uniform": lambda: new().uniform_(-1.0, 1.0, generator=generator),
        "normal": lambda: new().normal_(0.0, 1.0, generator=generator),
        "truncated_normal": lambda: init.trunc_normal_(new(), 0.0, 1.0, -2.0, 2.0, generator),
        "glorot_normal": lambda: init.trunc_normal_(
            new(), 0.0, glorot_std, -2 * glorot_std, 2 * glorot_std, generator
        ),
    }


def _cupy_anchors(xp: Any, shape: tuple[int, ...]) -> dict[str, Callable]:
    rng = xp.random.default_rng(0)
    return {
        "uniform": lambda: rng.random(shape, dtype=xp.float32),
        "normal": lambda: rng.standard_normal(shape, dtype=xp.float32),
    }


def _copy_seconds(lib: Library, nbytes: int, warmups: int, reps: int) -> float:
    xp = lib.xp
    if xp.__name__ == "torch":
        src = xp.ones(nbytes // 4, device=lib.device)
        dst = xp.empty_like(src)
        return _median_seconds(lib, lambda: dst.copy_(src), warmups, reps)
    src = xp.ones(nbytes // 4, dtype=xp.float32)
    dst = xp.empty_like(src)
    return _median_seconds(lib, lambda: xp.copyto(dst, src), warmups, reps)


def time_library(report: Report, lib: Library, nbytes: int, warmups: int, reps: int) -> None:
    shape = (nbytes // 4 // 4096, 4096)
    copy = _copy_seconds(lib, nbytes, warmups, reps)
    copy_rate = nbytes / copy
    report.environment[f"{lib.name} copy GB/s (bytes written)"] = round(copy_rate / 1e9, 1)
    anchors = (
        _torch_anchors(lib.xp, shape, lib.device)
        if lib.xp.__name__ == "torch"
        else _cupy_anchors(lib.xp, shape)
    )
    anchor_name = "torch.nn.init / Tensor" if lib.xp.__name__ == "torch" else "own RNG"
    for case, build in _anyinit_cases(lib).items():
        anchor_seconds = None
        if case in anchors:
            anchor_seconds = _median_seconds(lib, anchors[case], warmups, reps)
            _row(report, lib.name, case, anchor_name, anchor_seconds, nbytes, copy_rate, None)
        for path, seed in (("int seed (portable)", 0), ("native generator", lib.native(0))):
            init = build(seed)
            seconds = _median_seconds(lib, lambda: init(shape, like=lib.like), warmups, reps)
            ratio = None if anchor_seconds is None else seconds / anchor_seconds
            _row(report, lib.name, case, f"anyinit, {path}", seconds, nbytes, copy_rate, ratio)
            if path.startswith("int") and case in ("uniform", "normal"):
                fraction = (nbytes / seconds) / copy_rate
                report.targets.append(
                    {
                        "target": f"{lib.name} portable {case} >= 50% of copy bandwidth",
                        "value": f"{fraction:.0%}",
                        "met": fraction >= 0.5,
                    }
                )
            if path.startswith("native") and ratio is not None:
                report.targets.append(
                    {
                        "target": f"{lib.name} native {case} <= 1.15x {anchor_name}",
                        "value": f"{ratio:.2f}x",
                        "met": ratio <= 1.15,
                    }
                )
    for ortho in ((1024, 1024), (4096, 1024)):
        init = anyinit.Orthogonal(seed=0)
        seconds = _median_seconds(lib, lambda: init(ortho, like=lib.like), 1, max(3, reps // 3))
        anchor = None
        if lib.xp.__name__ == "torch":
            generator = lib.xp.Generator(device=lib.device).manual_seed(0)
            anchor = _median_seconds(
                lib,
                lambda: lib.xp.nn.init.orthogonal_(
                    lib.xp.empty(ortho, device=lib.device), generator=generator
                ),
                1,
                max(3, reps // 3),
            )
            _row(report, lib.name, f"orthogonal {ortho}", anchor_name, anchor, None, None, None)
        ratio = None if anchor is None else seconds / anchor
        _row(report, lib.name, f"orthogonal {ortho}", "anyinit, int seed", seconds, None, None,
             ratio)  # fmt: skip


def time_jax(report: Report, nbytes: int, warmups: int, reps: int, dry_run: bool) -> None:
    try:
        import jax
    except ImportError:
        report.check("jax anchors", None if dry_run else False, "jax is not installed")
        return
    platform_name = "cpu" if dry_run else "gpu"
    try:
        device = jax.devices(platform_name)[0]
    except RuntimeError as error:
        report.check("jax anchors", None if dry_run else False, f"no JAX {platform_name}: {error}")
        return
    shape = (nbytes // 4 // 4096, 4096)
    key = jax.random.key(0)
    initializers = jax.nn.initializers
    cases = {
        "uniform": lambda k: jax.random.uniform(k, shape, minval=-1.0, maxval=1.0),
        "normal": lambda k: jax.random.normal(k, shape),
        "truncated_normal": lambda k: jax.random.truncated_normal(k, -2.0, 2.0, shape),
        "glorot_normal": lambda k: initializers.glorot_normal()(k, shape),
        "orthogonal (1024, 1024)": lambda k: initializers.orthogonal()(k, (1024, 1024)),
        "orthogonal (4096, 1024)": lambda k: initializers.orthogonal()(k, (4096, 1024)),
    }
    with jax.default_device(device):
        for case, fn in cases.items():
            compiled = jax.jit(fn)
            for _ in range(max(1, warmups)):
                compiled(key).block_until_ready()
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                compiled(key).block_until_ready()
                times.append(time.perf_counter() - start)
            size = None if case.startswith("orthogonal") else nbytes
            name = f"jax-{platform_name}"
            _row(report, name, case, "jax.nn.initializers / jax.random", statistics.median(times),
                 size, None, None)  # fmt: skip


def _row(
    report: Report,
    library: str,
    case: str,
    path: str,
    seconds: float,
    nbytes: int | None,
    copy_rate: float | None,
    ratio: float | None,
) -> None:
    rate = None if nbytes is None else nbytes / seconds
    report.timings.append(
        {
            "library": library,
            "case": case,
            "path": path,
            "ms": round(seconds * 1e3, 4),
            "GB/s": None if rate is None else round(rate / 1e9, 1),
            "of copy": None if rate is None or copy_rate is None else round(rate / copy_rate, 3),
            "vs anchor": None if ratio is None else round(ratio, 3),
        }
    )


# -- report ---------------------------------------------------------------------------------


def _markdown(report: Report) -> str:
    lines = [f"# GPU check ({'dry run, CPU' if report.dry_run else 'GPU'})", ""]
    lines += [f"- {k}: {v}" for k, v in report.environment.items()]
    lines += ["", "| check | status | detail |", "| --- | --- | --- |"]
    lines += [f"| {c['check']} | {c['status']} | {c['detail']} |" for c in report.checks]
    columns = ["library", "case", "path", "ms", "GB/s", "of copy", "vs anchor"]
    lines += ["", "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in report.timings:
        cells = ["" if row[c] is None else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| target | value | met |", "| --- | --- | --- |"]
    lines += [f"| {t['target']} | {t['value']} | {'yes' if t['met'] else 'NO'} |"
              for t in report.targets]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU tensors and NumPy, small")
    parser.add_argument("--out", default=os.environ.get("OUT") or ".", help="folder for results")
    args = parser.parse_args(argv)
    dry = args.dry_run
    nbytes = 64 * MIB if dry else GIB  # the on-device proof's size
    bench_bytes = 16 * MIB if dry else 256 * MIB
    warmups, reps = (1, 3) if dry else (3, 15)
    report = Report(dry_run=dry)
    report.environment.update(
        {
            "python": platform.python_version(),
            "anyinit": anyinit.__version__,
            "kernel": _kernel_name(),
        }
    )
    libraries = [_cupy_library(dry), _torch_library(dry)]
    torch = libraries[1].xp
    report.environment["torch"] = torch.__version__
    if not dry:
        report.environment["device"] = torch.cuda.get_device_name()
        report.environment["cupy"] = libraries[0].xp.__version__
    for lib in libraries:
        check_on_device(report, lib, nbytes, dry)
    check_torch_kernel_peak(report, libraries[1], nbytes, dry)
    for lib in libraries:
        time_library(report, lib, bench_bytes, warmups, reps)
    time_jax(report, bench_bytes, warmups, reps, dry)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(report.__dict__, indent=1, default=str))
    text = _markdown(report)
    (out / "gpu_check.md").write_text(text)
    print(text)
    return 1 if report.failed else 0


def _kernel_name() -> str:
    from anyinit.adapters.numpy import kernel as numpy_kernel

    return numpy_kernel.kernel_name()


if __name__ == "__main__":
    sys.exit(main())
