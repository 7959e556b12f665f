"""anyinit benchmarks: anyinit against each library's raw RNG and own initializers.

Usage: ``python benchmarks/run.py [--quick] [--only large,small,portable,model,memory]``
(also ``nox -s bench``). Each comparison runs in this one process with warm-ups,
interleaved repeats and medians (these machines are shared and noisy); memory
is measured in a fresh subprocess per case. Results go to
``benchmarks/results/<section>.md`` with the machine, versions and threads.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import anyinit

RESULTS = Path(__file__).resolve().parent / "results"


def _optional(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


torch = _optional("torch")
jax = _optional("jax")


#: Calls per sample of a µs-scale case: one call between other cases' calls times cold
#: caches and branch predictors (2-3x the warm cost on this VM), not the function.
BATCH = 20


def measure(
    cases: dict[str, Callable[[], object]], repeats: int, warmup: int = 2, batch: int = 1
) -> dict:
    """Interleave the cases (one sample of each per round) and keep every time.

    A sample is `batch` consecutive calls, timed together (seconds per call).
    """
    for fn in cases.values():
        for _ in range(warmup * batch):
            _block(fn())
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(batch - 1):
                fn()
            _block(fn())
            times[name].append((time.perf_counter() - start) / batch)
    return times


def _block(result: object) -> None:
    if hasattr(result, "block_until_ready"):
        result.block_until_ready()


def row(name: str, samples: list[float], unit: float, reference: list[float] | None) -> str:
    median = statistics.median(samples)
    ratio = f"{median / statistics.median(reference):.2f}" if reference else ""
    return (
        f"| {name} | {median * unit:.3g} | {min(samples) * unit:.3g}–{max(samples) * unit:.3g} "
        f"| {len(samples)} | {ratio} |"
    )


def table(title: str, times: dict, unit_name: str, unit: float, reference: str | None) -> str:
    ref = times.get(reference) if reference else None
    lines = [
        f"### {title}",
        "",
        f"| case | median {unit_name} | min–max {unit_name} | n | ÷ {reference or '—'} |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [row(name, samples, unit, ref) for name, samples in times.items()]
    return "\n".join(lines) + "\n"


def paired_table(title: str, times: dict, unit_name: str, unit: float) -> str:
    """Rows in pairs (anchor, then anyinit): each anyinit row's ratio is to the row above."""
    lines = [
        f"### {title}",
        "",
        f"| case | median {unit_name} | min–max {unit_name} | n | ÷ the anchor above |",
        "|---|---:|---:|---:|---:|",
    ]
    names = list(times)
    for index, name in enumerate(names):
        anchor = times[names[index - 1]] if index % 2 else None
        lines.append(row(name, times[name], unit, anchor))
    return "\n".join(lines) + "\n"


def header() -> str:
    versions = [f"numpy {np.__version__}", f"anyinit {anyinit.__version__}"]
    if torch is not None:
        versions.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    if jax is not None:
        versions.append(f"jax {jax.__version__}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (
        f"Machine: {platform.machine()} ({_cpu_model()}), {os.cpu_count()} CPUs, "
        f"{platform.system()}, "
        f"Python {platform.python_version()}; {', '.join(versions)}; "
        f"load average at start {load[0]:.2f}; {WARMED:.1f} GiB of memory touched once before "
        "timing (`warm_memory`).\n"
    )


def _cpu_model() -> str:
    """The CPU's name (Linux), which decides kernels and speeds across runs."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# -- sections ------------------------------------------------------------------------


def portable(repeats: int) -> str:
    shape = (4096, 4096)
    out = []
    g = np.random.default_rng(0)
    cases = {
        "numpy raw Generator.random(float32)": lambda: g.random(shape, dtype=np.float32),
        "anyinit RandomUniform(seed=1) numpy": lambda: anyinit.RandomUniform(0.0, 1.0, seed=1)(
            shape
        ),
        "anyinit RandomUniform(seed=Generator) numpy": lambda: anyinit.RandomUniform(
            0.0, 1.0, seed=g
        )(shape),
    }
    if jax is not None:
        key = jax.random.key(1)
        fn = jax.jit(lambda k: jax.random.uniform(k, shape), static_argnums=())
        cases["jax.random.uniform (threefry, jit)"] = lambda: fn(key)
    out.append(
        table(
            "Uniform, 4096×4096 float32, NumPy",
            measure(cases, repeats),
            "ms",
            1e3,
            "numpy raw Generator.random(float32)",
        )
    )
    cases = {
        "numpy raw Generator.standard_normal(float32)": lambda: g.standard_normal(
            shape, dtype=np.float32
        ),
        "anyinit RandomNormal(seed=1) numpy": lambda: anyinit.RandomNormal(0.0, 1.0, seed=1)(shape),
        "anyinit GlorotNormal(seed=1) numpy": lambda: anyinit.GlorotNormal(seed=1)(shape),
    }
    if jax is not None:
        key = jax.random.key(1)
        fn = jax.jit(lambda k: jax.random.normal(k, shape))
        cases["jax.random.normal (threefry, jit)"] = lambda: fn(key)
    out.append(
        table(
            "Normal, 4096×4096 float32, NumPy",
            measure(cases, repeats),
            "ms",
            1e3,
            "numpy raw Generator.standard_normal(float32)",
        )
    )
    cases = {
        "anyinit RandomNormal(seed=1) numpy": lambda: anyinit.RandomNormal(0.0, 1.0, seed=1)(shape),
        "anyinit TruncatedNormal(seed=1) numpy": lambda: anyinit.TruncatedNormal(0.0, 1.0, seed=1)(
            shape
        ),
        "anyinit GlorotNormal(seed=1) numpy (truncated)": lambda: anyinit.GlorotNormal(seed=1)(
            shape
        ),
    }
    out.append(
        table(
            "Truncated against untruncated normal, portable stream, 4096×4096 float32",
            measure(cases, repeats),
            "ms",
            1e3,
            "anyinit RandomNormal(seed=1) numpy",
        )
    )
    from anyinit.adapters.numpy import kernel as numpy_kernel

    # Into one array already touched (anyinit.normal_ writes its memory in place), so that
    # the first touch of fresh pages, which varies by several times on a VM, is not timed.
    touched = np.zeros(shape, np.float32)

    def with_threads(count: int) -> Callable[[], Any]:
        def run() -> Any:
            saved, numpy_kernel.THREADS = numpy_kernel.THREADS, count
            try:
                return anyinit.normal_(touched, 0.0, 0.02, seed=1)
            finally:
                numpy_kernel.THREADS = saved

        return run

    threads = {f"anyinit.normal_(out, seed=1) in place, {n} thread(s)": with_threads(n)
               for n in sorted({1, 2, numpy_kernel.THREADS})}  # fmt: skip
    out.append(
        table(
            f"Threads (this machine: {os.cpu_count()} CPUs; default {numpy_kernel.THREADS}), "
            "4096×4096 float32 into a touched array",
            measure(threads, repeats),
            "ms",
            1e3,
            "anyinit.normal_(out, seed=1) in place, 1 thread(s)",
        )
    )
    dask_array = _optional("dask.array")
    if dask_array is not None:
        cases = {
            "anyinit GlorotNormal(seed=1) numpy, in memory": lambda: anyinit.GlorotNormal(seed=1)(
                shape
            ),
            "anyinit GlorotNormal(seed=1) dask, 4 chunks, computed": lambda: anyinit.GlorotNormal(
                seed=1
            )(shape, xp=dask_array, chunks=(2048, 2048)).compute(),
            "anyinit GlorotNormal(seed=1) dask, 1 chunk, computed": lambda: anyinit.GlorotNormal(
                seed=1
            )(shape, xp=dask_array, chunks=shape).compute(),
        }
        out.append(
            table(
                "Dask against in-memory NumPy, 4096×4096 float32",
                measure(cases, repeats),
                "ms",
                1e3,
                "anyinit GlorotNormal(seed=1) numpy, in memory",
            )
        )
    if torch is not None:
        t = torch.empty(shape)
        cases = {
            "torch raw t.uniform_()": lambda: t.uniform_(),
            "anyinit RandomUniform(seed=1) torch": lambda: anyinit.RandomUniform(0.0, 1.0, seed=1)(
                shape, xp=torch
            ),
            "torch raw t.normal_()": lambda: t.normal_(),
            "anyinit RandomNormal(seed=1) torch": lambda: anyinit.RandomNormal(0.0, 1.0, seed=1)(
                shape, xp=torch
            ),
        }
        out.append(
            table(
                "Portable stream on torch CPU, 4096×4096 float32",
                measure(cases, repeats),
                "ms",
                1e3,
                "torch raw t.uniform_()",
            )
        )
    native, seeded, unseeded = (
        anyinit.RandomNormal(seed=g),
        anyinit.RandomNormal(seed=1),
        anyinit.RandomNormal(),
    )
    small = {
        "numpy raw standard_normal(64)": lambda: g.standard_normal(64, dtype=np.float32),
        "anyinit RandomNormal(seed=Generator) (64,)": lambda: native((64,)),
        "anyinit RandomNormal(seed=1) (64,)": lambda: seeded((64,)),
        "anyinit RandomNormal(seed=None) (64,)": lambda: unseeded((64,)),
    }
    keras = _keras_numpy()
    if keras is not None:
        keras_init = keras.initializers.RandomNormal(seed=1)
        small["keras-numpy RandomNormal(seed=1) (64,)"] = lambda: keras_init((64,))
    out.append(
        table(
            "Small arrays, µs per call",
            measure(small, repeats * 10, batch=BATCH),
            "µs",
            1e6,
            "numpy raw standard_normal(64)",
        )
    )
    return "\n".join(out)


def _keras_numpy():
    if os.environ.get("KERAS_BACKEND") != "numpy":
        return None
    return _optional("keras")


def large(repeats: int) -> str:
    out = []
    g = np.random.default_rng(0)
    for shape in [(4096, 4096), (3, 3, 512, 512)]:
        cases = {
            "numpy raw random(float32)": lambda: g.random(shape, dtype=np.float32),
            "numpy raw standard_normal(float32)": lambda: g.standard_normal(
                shape, dtype=np.float32
            ),
            "anyinit glorot_uniform numpy (native gen)": lambda: anyinit.GlorotUniform(seed=g)(
                shape
            ),
            "anyinit glorot_normal numpy (native gen)": lambda: anyinit.GlorotNormal(seed=g)(shape),
            "anyinit he_normal numpy (native gen)": lambda: anyinit.HeNormal(seed=g)(shape),
            "anyinit truncated_normal numpy (native gen)": lambda: anyinit.TruncatedNormal(
                stddev=1.0, seed=g
            )(shape),
        }
        if torch is not None:
            t = torch.empty(shape)
            tg = torch.Generator()
            cases.update(
                {
                    "torch raw t.uniform_()": lambda: t.uniform_(generator=tg),
                    "torch raw t.normal_()": lambda: t.normal_(generator=tg),
                    "torch.nn.init.xavier_uniform_": lambda: torch.nn.init.xavier_uniform_(
                        t, generator=tg
                    ),
                    "anyinit.xavier_uniform_ (torch)": lambda: anyinit.xavier_uniform_(
                        t, generator=tg
                    ),
                    "torch.nn.init.trunc_normal_(std=1)": lambda: torch.nn.init.trunc_normal_(
                        t, generator=tg
                    ),
                    "anyinit glorot_normal torch (native gen)": lambda: anyinit.GlorotNormal(
                        seed=tg
                    )(shape, xp=torch),
                }
            )
        if jax is not None:
            key = jax.random.key(0)
            inits = jax.nn.initializers
            for name, maker in [
                ("glorot_uniform", inits.glorot_uniform),
                ("glorot_normal", inits.glorot_normal),
                ("he_normal", inits.he_normal),
            ]:
                fn = jax.jit(maker(), static_argnums=(1,))
                cases[f"jax.nn.initializers.{name} (jit)"] = lambda fn=fn: fn(key, shape)
            cases["anyinit glorot_normal jax (seed=1)"] = lambda: anyinit.GlorotNormal(seed=1)(
                shape, xp=jax.numpy
            )
        keras = _keras_numpy()
        if keras is not None:
            ki = keras.initializers
            cases["keras-numpy GlorotUniform(seed=1)"] = lambda: ki.GlorotUniform(seed=1)(shape)
            cases["keras-numpy GlorotNormal(seed=1)"] = lambda: ki.GlorotNormal(seed=1)(shape)
            cases["keras-numpy TruncatedNormal(seed=1)"] = lambda: ki.TruncatedNormal(seed=1)(shape)
        out.append(
            table(
                f"Large arrays {shape} float32",
                measure(cases, repeats),
                "ms",
                1e3,
                "numpy raw standard_normal(float32)",
            )
        )
    return "\n".join(out)


def orthogonal(repeats: int) -> str:
    out = []
    g = np.random.default_rng(0)
    for shape in [(1024, 1024), (4096, 1024), (1024, 4096)]:
        cases = {"anyinit orthogonal numpy": lambda: anyinit.Orthogonal(seed=g)(shape)}
        scipy_linalg = _optional("scipy.linalg")
        if scipy_linalg is not None:
            small = min(shape)
            a = g.standard_normal((max(shape), small), dtype=np.float32)
            cases["scipy.linalg.qr(economic) alone"] = lambda: scipy_linalg.qr(a, mode="economic")
        if torch is not None:
            t = torch.empty(shape)
            cases["torch.nn.init.orthogonal_"] = lambda: torch.nn.init.orthogonal_(t)
            cases["anyinit orthogonal torch"] = lambda: anyinit.Orthogonal()(shape, xp=torch)
        out.append(
            table(
                f"Orthogonal {shape} float32",
                measure(cases, repeats),
                "ms",
                1e3,
                "scipy.linalg.qr(economic) alone" if scipy_linalg else None,
            )
        )
    return "\n".join(out)


def small(repeats: int) -> str:
    g = np.random.default_rng(0)
    zeros, normal, glorot = (
        anyinit.Zeros(),
        anyinit.RandomNormal(seed=g),
        anyinit.GlorotUniform(seed=g),
    )
    unseeded = anyinit.RandomNormal()
    cases = {
        "numpy raw zeros(64)": lambda: np.zeros(64, np.float32),
        "anyinit zeros (64,)": lambda: zeros((64,)),
        "numpy raw standard_normal(64)": lambda: g.standard_normal(64, dtype=np.float32),
        "anyinit normal (64,) native gen": lambda: normal((64,)),
        "numpy raw uniform (256,256)": lambda: g.random((256, 256), dtype=np.float32),
        "anyinit glorot_uniform (256,256) native gen": lambda: glorot((256, 256)),
    }
    if torch is not None:
        t64, t256, tl = torch.empty(64), torch.empty(256, 256), torch.empty(0)
        cases.update(
            {
                "torch.nn.init.zeros_(64)": lambda: torch.nn.init.zeros_(t64),
                "torch.nn.init.normal_(64)": lambda: torch.nn.init.normal_(t64),
                "anyinit normal (64,) torch like=": lambda: unseeded((64,), like=tl),
                "anyinit.normal_(64) torch": lambda: anyinit.normal_(t64),
                "torch.nn.init.xavier_uniform_(256,256)": lambda: torch.nn.init.xavier_uniform_(
                    t256
                ),
                "anyinit.xavier_uniform_(256,256)": lambda: anyinit.xavier_uniform_(t256),
            }
        )
    out = [
        table(
            "Small arrays / per-call overhead, µs",
            measure(cases, repeats * 10, batch=BATCH),
            "µs",
            1e6,
            None,
        )
    ]
    if torch is not None:
        out.append(
            paired_table(
                "torch in place on nn.Parameter, µs per call",
                measure(_torch_in_place(), repeats * 10, batch=BATCH),
                "µs",
                1e6,
            )
        )
    return "\n".join(out)


def _torch_in_place() -> dict[str, Callable[[], object]]:
    """torch.nn.init and anyinit on the parameters a model's reset_parameters writes."""
    vector, weight = torch.nn.Parameter(torch.empty(64)), torch.nn.Parameter(torch.empty(64, 64))
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    root5 = math.sqrt(5)
    return {
        "torch.nn.init.normal_ (64,)": lambda: torch.nn.init.normal_(vector),
        "anyinit.normal_ (64,)": lambda: anyinit.normal_(vector),
        "torch.nn.init.normal_ (64,), generator": lambda: torch.nn.init.normal_(
            vector, generator=g1
        ),
        "anyinit.normal_ (64,), generator": lambda: anyinit.normal_(vector, generator=g2),
        "torch.nn.init.uniform_ (64,) in [-0.1, 0.1]": lambda: torch.nn.init.uniform_(
            vector, -0.1, 0.1
        ),
        "anyinit.uniform_ (64,) in [-0.1, 0.1]": lambda: anyinit.uniform_(vector, -0.1, 0.1),
        "torch.nn.init.kaiming_uniform_ (64, 64), a=√5": lambda: torch.nn.init.kaiming_uniform_(
            weight, a=root5
        ),
        "anyinit.kaiming_uniform_ (64, 64), a=√5": lambda: anyinit.kaiming_uniform_(
            weight, a=root5
        ),
    }


def model(repeats: int) -> str:
    if torch is None:
        return "torch not installed: whole-model section skipped.\n"
    layers = []
    for _ in range(12):
        layers += [torch.nn.Linear(768, 768) for _ in range(4)]
        layers += [torch.nn.Linear(768, 3072), torch.nn.Linear(3072, 768)]
    net = torch.nn.Sequential(*layers)
    params = [p for p in net.parameters()]

    def ours() -> None:
        for module in net:
            anyinit.kaiming_uniform_(module.weight, a=math.sqrt(5))
            bound = 1 / math.sqrt(module.weight.shape[1])
            anyinit.uniform_(module.bias, -bound, bound)

    cases = {
        "torch reset_parameters on every Linear": lambda: [m.reset_parameters() for m in net],
        "anyinit kaiming_uniform_ + uniform_ (same formulas)": ours,
        'anyinit.initialize(net, "torch", seed=0) (portable stream)': lambda: anyinit.initialize(
            net, "torch", seed=0
        ),
        'anyinit.initialize(net, "own", seed=0) (reset_parameters replayed)': (
            lambda: anyinit.initialize(net, "own", seed=0)
        ),
    }
    n = sum(p.numel() for p in params)
    return table(
        f"Whole model: 72 Linear layers, {n / 1e6:.0f} M parameters, {len(params)} tensors",
        measure(cases, repeats),
        "ms",
        1e3,
        "torch reset_parameters on every Linear",
    )


MEMORY_CASES = {
    "numpy Generator.standard_normal(float32) (reference)": "np.random.default_rng(0).standard_normal((8192, 8192), dtype=np.float32)",
    "anyinit RandomUniform(seed=1)": "anyinit.RandomUniform(seed=1)((8192, 8192))",
    "anyinit GlorotNormal(seed=1)": "anyinit.GlorotNormal(seed=1)((8192, 8192))",
    "anyinit GlorotUniform(seed=Generator)": "anyinit.GlorotUniform(seed=np.random.default_rng(0))((8192, 8192))",
    "anyinit TruncatedNormal(seed=Generator)": "anyinit.TruncatedNormal(seed=np.random.default_rng(0))((8192, 8192))",
    "anyinit HeNormal(seed=Generator)": "anyinit.HeNormal(seed=np.random.default_rng(0))((8192, 8192))",
}


ORTHOGONAL_MEMORY_CASES = {
    "scipy.linalg.qr(economic) of the Gaussian alone (reference)": "__import__('scipy.linalg').linalg.qr(np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32), mode='economic', overwrite_a=True)",
    "anyinit Orthogonal(seed=1)": "anyinit.Orthogonal(seed=1)((4096, 4096))",
    "anyinit Orthogonal(gain=2, seed=Generator)": "anyinit.Orthogonal(2.0, seed=np.random.default_rng(0))((4096, 4096))",
}


def memory(_: int) -> str:
    tables = [
        ("an 8192×8192 float32 result (256 MiB)", MEMORY_CASES, 256),
        ("Orthogonal, a 4096×4096 float32 result (64 MiB)", ORTHOGONAL_MEMORY_CASES, 64),
    ]
    return "\n".join(_memory_table(*table) for table in tables)


def _memory_table(title: str, cases: dict[str, str], output_mib: int) -> str:
    lines = [
        f"### Peak memory for {title}, fresh process per case",
        "",
        "| case | peak RSS increase MiB | × output |",
        "|---|---:|---:|",
    ]
    # VmHWM (peak resident set) belongs to the process image; ru_maxrss would
    # carry this parent's peak across fork and exec.
    probe = (
        "import numpy as np, anyinit\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            return int(line.split()[1])\n"
        "before = peak()\n"
        "x = {expr}\n"
        "print((peak() - before) / 1024)\n"
    )
    for name, expr in cases.items():
        out = subprocess.run(
            [sys.executable, "-c", probe.format(expr=expr)],
            capture_output=True,
            text=True,
            check=True,
        )
        mib = float(out.stdout.strip())
        lines.append(f"| {name} | {mib:.0f} | {mib / output_mib:.2f} |")
    return "\n".join(lines) + "\n"


#: A ~200 M-parameter LLaMA (HF transformers), the size the field's speed complaints are about.
LLAMA = {
    "vocab_size": 32000,
    "hidden_size": 1024,
    "intermediate_size": 2816,
    "num_hidden_layers": 12,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
}


def big(repeats: int) -> str:
    """A whole big model: HF's own init against meta + to_empty + anyinit, and the flat kernel."""
    transformers = _optional("transformers")
    if torch is None or transformers is None:
        return "torch or transformers not installed: big-model section skipped.\n"
    config = transformers.LlamaConfig(**LLAMA)
    with torch.device("meta"):
        count = sum(p.numel() for p in transformers.LlamaForCausalLM(config).parameters())

    def hf() -> Any:
        return transformers.LlamaForCausalLM(config)

    def ours(rules: str = "llama") -> Callable[[], Any]:
        def run() -> Any:
            with torch.device("meta"):
                model = transformers.LlamaForCausalLM(config)
            model = model.to_empty(device="cpu")
            return anyinit.initialize(model, rules, seed=0)

        return run

    def flat() -> Any:
        return anyinit.RandomNormal(0.0, 0.02, seed=0)((count,))

    cases = {
        "LlamaForCausalLM(config) (HF's own init, torch's generator)": hf,
        'meta, to_empty("cpu"), anyinit.initialize(m, "llama", seed=0)': ours(),
        'meta, to_empty("cpu"), anyinit.initialize(m, "torch", seed=0)': ours("torch"),
        'meta, to_empty("cpu"), anyinit.initialize(m, "own", seed=0) (HF\'s code)': ours("own"),
        f"the flat kernel alone: RandomNormal(0, 0.02, seed=0)(({count},))": flat,
    }
    times = measure(cases, max(3, repeats // 2), warmup=1)
    first = table(
        f"A {count / 1e6:.0f} M-parameter LLaMA (12 layers, width 1024), float32, CPU",
        times,
        "s",
        1.0,
        "LlamaForCausalLM(config) (HF's own init, torch's generator)",
    )
    flat_name = list(cases)[-1]
    second = table(
        "The same, against the flat kernel drawing as many values",
        {name: times[name] for name in list(cases)[1:]},
        "s",
        1.0,
        flat_name,
    )
    return first + "\n" + second


def floor(repeats: int) -> str:
    """What bounds the kernel on this machine: Threefry alone per vector set and thread,
    each law against it, and the memory's write bandwidth."""
    from anyinit.adapters.base import FusedLaw
    from anyinit.adapters.numpy import kernel as numpy_kernel
    from anyinit.stream import NORMAL_INTERVAL, OPEN, erf_interval, key_from_seed

    extension = numpy_kernel._EXTENSION
    if extension is None:
        return f"no C kernel ({numpy_kernel.kernel_name()}): floor section skipped.\n"
    size = 1 << 24
    out = np.zeros(size, np.float32)  # touched: no page faults in what is timed
    key = key_from_seed(1)
    laws = {
        "Threefry alone (uniforms in [0, 1))": numpy_kernel._UNIFORM01,
        "normal (erfinv, NumPy's log loop, scale)": FusedLaw(
            key, True, *NORMAL_INTERVAL, scale=0.02
        ).arguments,
        "truncated normal ±2σ": FusedLaw(
            key, True, *erf_interval(-2.0, 2.0), clip=OPEN, scale=0.02
        ).arguments,
    }
    lines = [
        "### Values per second, 2²⁴ float32 values into a touched buffer",
        "",
        "| vector set | law | 1 thread, M/s | 2 threads, M/s | 2 ÷ 1 | ÷ Threefry alone |",
        "|---|---|---:|---:|---:|---:|",
    ]
    saved = extension.isa()
    try:
        for isa in extension.isas():
            extension.set_isa(isa)
            alone = None
            for name, law in laws.items():
                rates = []
                for threads in (1, 2):
                    cases = {"x": lambda law=law, n=threads: extension.sample(
                        out, key.k0, key.k1, 0, 0, size, 1, law, n)}  # fmt: skip
                    seconds = statistics.median(measure(cases, repeats)["x"])
                    rates.append(size / seconds / 1e6)
                alone = alone or rates[1]
                lines.append(
                    f"| {isa} | {name} | {rates[0]:.0f} | {rates[1]:.0f} | "
                    f"{rates[1] / rates[0]:.2f} | {rates[1] / alone:.2f} |"
                )
    finally:
        extension.set_isa(saved)
    big_buffer = np.zeros(1 << 28, np.uint8)
    fill = statistics.median(measure({"x": lambda: big_buffer.fill(1)}, repeats)["x"])
    write_rate = big_buffer.size / fill / 1e9
    lines += [
        "",
        f"Memory write bandwidth (NumPy `fill` of 256 MiB, one thread): {write_rate:.1f} GB/s, "
        f"{write_rate / 4 * 1e3:.0f} M float32 values/s.",
        "",
    ]
    return "\n".join(lines)


SECTIONS = {
    "portable": portable,
    "large": large,
    "orthogonal": orthogonal,
    "small": small,
    "model": model,
    "big": big,
    "floor": floor,
    "memory": memory,
}


#: GiB of memory touched before timing (main sets it; the header says it).
WARMED = 0.0


def warm_memory(limit_gib: float = 8.0) -> float:
    """Touch (then free) up to `limit_gib` of memory once, before anything is timed.

    On a virtual machine the first use of a physical page since boot is a host-side fault,
    tens of times slower than a page the guest has used before (here: 290 ms, then 74, then
    5.5 ms to zero the same fresh 64 MiB). Unwarmed, whichever case first reaches new
    memory pays it, at random: medians swing by 10x. Returns the GiB touched.
    """
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    gib = max(0.0, min(limit_gib, available / 2))
    block = np.empty(int(gib * 2**30), dtype=np.uint8)
    block.fill(1)
    del block
    return gib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    repeats = 3 if args.quick else 9
    RESULTS.mkdir(exist_ok=True)
    global WARMED
    WARMED = warm_memory(0.5 if args.quick else 8.0)
    for name in args.only.split(","):
        text = f"## {name}\n\n{header()}\n{SECTIONS[name](repeats)}"
        (RESULTS / f"{name}.md").write_text(text)
        print(text, flush=True)


if __name__ == "__main__":
    main()
