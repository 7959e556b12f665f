"""Nox sessions for anyinit: ``nox -l`` lists them, ``nox`` runs the CPU ones.

``tests-<backend>`` installs ``backends/<backend>.txt`` and runs the one
conformance suite with ``--backend <backend>``; arguments after ``--`` go to
pytest (``nox -s tests-torch -- --device cuda``).
"""

from __future__ import annotations

import runpy
import shutil
import subprocess

import nox

nox.needs_version = ">=2024.10.9"
# uv ignores the local CPU wheel of torch and would download a CUDA build.
nox.options.default_venv_backend = "virtualenv"
nox.options.error_on_missing_interpreters = True

PROJECT = nox.project.load_toml("pyproject.toml")
# The one table of built-in backends (plain data: read without anyinit installed).
_BUILTIN = runpy.run_path("src/anyinit/adapters/builtin.py")
BACKENDS = tuple(_BUILTIN["BUILTIN"])
NEEDS_GPU = _BUILTIN["NEEDS_GPU"]


def _cuda_device_present() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    listing = subprocess.run([smi, "-L"], capture_output=True, text=True, check=False)
    return listing.returncode == 0 and "GPU" in listing.stdout


def _register_tests(backend: str) -> None:
    def tests(session: nox.Session) -> None:
        if backend in NEEDS_GPU and not _cuda_device_present():
            session.skip(
                f"tests-{backend} needs a CUDA GPU and this machine has none "
                "(nvidia-smi -L found no device): nothing was tested; run it on a GPU machine"
            )
        session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
        session.install("-r", f"backends/{backend}.txt")
        # The large-sample guards run once, on the embedded default.
        slow = ("--run-slow",) if backend == "numpy" else ()
        session.run("pytest", f"--backend={backend}", *slow, *session.posargs)

    tests.__doc__ = f"Run the conformance suite on the {backend} backend."
    gpu = backend in NEEDS_GPU
    nox.session(name=f"tests-{backend}", default=not gpu, tags=["tests", "gpu" if gpu else "cpu"])(
        tests
    )


for _backend in BACKENDS:
    _register_tests(_backend)


@nox.session(name="tests-portable", tags=["tests", "cpu"])
def tests_portable(session: nox.Session) -> None:
    """The portable stream on every CPU backend, compared with JAX and with each other."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    for backend in ("torch", "jax"):
        session.install("-r", f"backends/{backend}.txt")
    for backend in ("numpy", "torch", "array_api_strict", "jax"):
        session.run("pytest", f"--backend={backend}", "tests/test_portable.py", *session.posargs)


@nox.session(name="tests-no-extension", tags=["tests", "cpu"])
def tests_no_extension(session: nox.Session) -> None:
    """The NumPy suite, golden values and JAX equality on the NumPy kernel (no C extension)."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/jax.txt")
    env = {"ANYINIT_NO_EXTENSION": "1"}
    session.run("pytest", "--backend=numpy", *session.posargs, env=env)
    session.run("pytest", "--backend=jax", "tests/test_portable.py", *session.posargs, env=env)


@nox.session(name="tests-frameworks", tags=["tests", "cpu"])
def tests_frameworks(session: nox.Session) -> None:
    """Keras save/load/clone on its numpy, jax and torch backends; Flax, NNX, Equinox, jax_nn."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test", "frameworks"))
    session.install("-r", "backends/torch.txt")
    # Keras on its TensorFlow backend joins the Keras matrix.
    session.install("-r", "backends/tensorflow.txt")
    # The model zoos: timm without its dependencies (the index's torchvision is a CUDA build
    # that cannot import beside the CPU torch; tests/zoo stands in for its imports).
    session.install("--no-deps", "timm==1.0.31")
    session.install("transformers==5.25.0", "pyyaml", "mup==1.0.0")
    # The field recipes' references: megatron-core's own GPTModel init (on the CPU),
    # x-transformers 1.16's deepnorm_init (its last release with DeepNet) and ReZero's layers.
    session.install("--no-deps", "megatron-core==0.16.1", "x-transformers==1.16.0", "rezero==0.1.0")
    session.install("einops")
    session.run(
        "pytest",
        "--frameworks",
        "--backend=jax",
        "tests/test_framework_keras.py",
        "tests/test_framework_jax.py",
        "tests/test_framework_models.py",
        "tests/test_framework_attention.py",
        "tests/test_framework_zoo.py",
        "tests/test_framework_own.py",
        "tests/test_framework_coverage.py",
        "tests/test_framework_recipes.py",
        "tests/test_framework_audit.py",
        "tests/test_framework_references.py",
        "tests/test_framework_residual.py",
        "tests/test_framework_mup.py",
        "tests/test_framework_diagnose.py",
        "src/anyinit/diagnostics/diagnose.py",
        "src/anyinit/diagnostics/lsuv.py",
        "--doctest-modules",
        "docs/frameworks.rst",
        "--doctest-glob=frameworks.rst",
        # Keras 3.15's torch backend saves through a deprecated NumPy __array__ call.
        "-W",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
        *session.posargs,
    )


@nox.session(name="tests-references", default=False, tags=["cpu"])
def tests_references(session: nox.Session) -> None:
    """The recipes against references too heavy for CI: OLMo-core (cloud-storage clients)
    and torchtitan (triton, 1 GB). Not in the default run; its results are in the docs."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/torch.txt", "ai2-olmo-core")
    session.install("--no-deps", "torchtitan", "tyro", "docstring_parser", "spmd_types", "triton")
    session.run("pytest", "tests/test_framework_references.py", *session.posargs)


@nox.session(name="tests-references-olmo", default=False, tags=["cpu"])
def tests_references_olmo(session: nox.Session) -> None:
    """The olmo recipe's v1 schemes (mitchell, full_megatron) against OLMo's own code
    (ai2-olmo pins numpy<2, so it has a session of its own)."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/torch.txt", "ai2-olmo==0.6.0", "datasets")
    # datasets' pyarrow needs NumPy 2, which OLMo's code runs on despite its numpy<2 pin
    session.install("--upgrade", "numpy>=2")
    session.run("pytest", "tests/test_framework_references.py", *session.posargs)


@nox.session(name="tests-distributed", tags=["tests", "cpu"])
def tests_distributed(session: nox.Session) -> None:
    """DTensor / FSDP2 over 2 and 4 gloo processes; JAX over 8 host devices."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/torch.txt", "-r", "backends/jax.txt")
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    session.run("pytest", "--distributed", "--backend=jax", "tests/test_distributed.py",
                *session.posargs, env=env)  # fmt: skip


@nox.session(name="tests-adapter-example", tags=["tests", "cpu"])
def tests_adapter_example(session: nox.Session) -> None:
    """The conformance suite against the example third-party adapter, examples/strict_adapter.py."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/array_api_strict.txt")
    session.run(
        "pytest", "--backend=array_api_strict", "--adapter=examples/strict_adapter.py",
        *session.posargs,
    )  # fmt: skip


@nox.session(name="gpu-check-dry-run", tags=["cpu"])
def gpu_check_dry_run(session: nox.Session) -> None:
    """benchmarks/gpu_check.sh end to end on the CPU (torch CPU, NumPy for CuPy, small sizes)."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("-r", "backends/torch.txt", "-r", "backends/jax.txt")
    session.run("bash", "benchmarks/gpu_check.sh", "--dry-run", env={"PYTHON": "python"},
                external=True)  # fmt: skip


@nox.session(name="gpu-check", default=False)
def gpu_check(session: nox.Session) -> None:
    """The GPU proof (conformance on CuPy / torch-CUDA / JAX-GPU, on-device memory, timings).

    On a CUDA machine with CuPy, torch and JAX already installed (it installs nothing from a
    registry): the same script the device tool runs, ``bash benchmarks/gpu_check.sh``.
    """
    if not _cuda_device_present():
        session.skip("gpu-check needs a CUDA GPU (nvidia-smi -L found none); try gpu-check-dry-run")
    session.run("bash", "benchmarks/gpu_check.sh", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on src and tests, mypy (strict) on src."""
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "lint"))
    paths = ("src", "tests", "examples", "docs", "noxfile.py")
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    session.run("mypy", "src")


@nox.session(tags=["cpu"])
def docs(session: nox.Session) -> None:
    """Build the HTML site (warnings are errors) and run every example in it as a doctest.

    The gallery and the activation figures are drawn during the build on the
    installed CPU backends; the site is in docs/_build/html.
    """
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "docs"))
    for backend in ("torch", "jax", "dask", "array_api_strict"):
        session.install("-r", f"backends/{backend}.txt")
    shutil.rmtree("docs/generated", ignore_errors=True)
    common = ("-W", "--keep-going", "-n", "docs")
    session.run("sphinx-build", "-b", "html", *common, "docs/_build/html", *session.posargs)
    session.run("sphinx-build", "-b", "doctest", *common, "docs/_build/doctest")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against the anchors, written to benchmarks/results/ (-- --quick: smoke run)."""
    session.install("-e", ".", "scipy", "dask")
    session.install("-r", "backends/torch.txt", "-r", "backends/jax.txt")
    # The anchors: HF's own init of a big model, Keras-NumPy's seeded small call.
    session.install("transformers==5.25.0", "keras==3.15.1")
    session.run("python", "benchmarks/run.py", *session.posargs, env={"KERAS_BACKEND": "numpy"})
