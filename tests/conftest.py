"""One conformance suite, every backend.

The backend under test comes from ``--backend`` or ``$ANYINIT_BACKEND``
(default ``numpy``); a backend that was asked for and cannot be imported
fails the run instead of skipping it. ``--device`` picks the device
(``cpu`` by default; ``cuda`` on a GPU machine).

Gating, one way: ``@pytest.mark.only_backend(...)`` / ``skip_backend(...)`` with
names checked against :data:`BackendName`; a test of one backend's own behaviour
lives in ``test_backend_<name>.py``, collected in that backend's run alone. A
capability the backend lacks (a dtype, views) skips where the test asks for it.
"""

from __future__ import annotations

import enum
import functools
import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from anyinit.adapters.builtin import MODULES

KNOWN_BACKENDS = tuple(MODULES)
#: The backends a test may be gated on, from the one table of built-in backends.
#: ``@pytest.mark.skip_backend("jax", "dask", reason=...)`` skips a test there;
#: ``@pytest.mark.only_backend("torch", reason=...)`` runs it there alone. A name
#: that is not a member fails the run (a typo must not silently skip nothing).
BackendName = enum.Enum("BackendName", {name.upper(): name for name in KNOWN_BACKENDS}, type=str)


def _backend_name(value: Any, marker: str) -> BackendName:
    try:
        return BackendName(value)
    except ValueError:
        msg = f"{marker}: unknown backend {value!r}; expected one of {KNOWN_BACKENDS}"
        raise pytest.UsageError(msg) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=KNOWN_BACKENDS,
        default=None,
        help="array backend under test (default: $ANYINIT_BACKEND or numpy)",
    )
    parser.addoption(
        "--device",
        default=None,
        help="device to test on: cpu (default) or cuda / cuda:N for torch and cupy",
    )
    parser.addoption(
        "--adapter",
        default=None,
        metavar="FILE.py",
        help="register the adapter a file defines (its register()) before the run: "
        "the conformance suite then tests that adapter",
    )
    parser.addoption(
        "--frameworks",
        action="store_true",
        default=False,
        help="collect tests/test_framework_*.py (Keras, Flax, Equinox: nox -s tests-frameworks)",
    )
    parser.addoption(
        "--distributed",
        action="store_true",
        default=False,
        help="collect tests/test_distributed.py (gloo process groups, JAX host devices: "
        "nox -s tests-distributed)",
    )
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (large-sample guards)",
    )


def _selected_backend(config: pytest.Config) -> str:
    name = config.getoption("--backend") or os.environ.get("ANYINIT_BACKEND", "numpy")
    if name not in KNOWN_BACKENDS:
        msg = f"unknown backend {name!r}; expected one of {KNOWN_BACKENDS}"
        raise pytest.UsageError(msg)
    return name


def pytest_report_header(config: pytest.Config) -> str:
    device = config.getoption("--device") or "cpu"
    return f"anyinit backend: {_selected_backend(config)}, device: {device}"


def pytest_configure(config: pytest.Config) -> None:
    # Keras (a parity reference only) must not pick a backend we have not installed.
    # Its numpy backend needs jax, so prefer torch where it is installed.
    has_torch = importlib.util.find_spec("torch") is not None
    os.environ.setdefault("KERAS_BACKEND", "torch" if has_torch else "numpy")
    # The suite uses float64; JAX only has it with x64 on (set before jax is imported).
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    adapter = config.getoption("--adapter")
    if adapter:
        spec = importlib.util.spec_from_file_location("anyinit_test_adapter", adapter)
        if spec is None or spec.loader is None:
            raise pytest.UsageError(f"--adapter {adapter!r} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.register()
        config.anyinit_adapter = module


@dataclass
class BackendUnderTest:
    """What a test needs to know about the backend under test, answered by its adapter."""

    name: str
    xp: Any  # the library's own module (numpy, torch, array_api_strict, cupy)
    device: Any  # the device arrays are made on in this run

    @functools.cached_property
    def adapter(self) -> Any:
        """The anyinit adapter that serves this library (``anyinit.adapters.Backend``)."""
        from anyinit.target import resolve_target

        return resolve_target(xp=self.xp).backend

    def dtype(self, name: str) -> Any:
        dtype = self.adapter.dtype(name)
        if dtype is None:
            pytest.skip(f"{self.name} has no {name} here")
        return dtype

    @property
    def real_dtypes(self) -> tuple[str, ...]:
        """Real floating dtypes this backend has (16-bit ones where it has them)."""
        names = ("float16", "bfloat16", "float32", "float64")
        return tuple(name for name in names if self.adapter.dtype(name) is not None)

    @property
    def complex_dtypes(self) -> tuple[str, ...]:
        """Complex dtypes this backend has (MLX has no complex128)."""
        names = ("complex64", "complex128")
        return tuple(name for name in names if self.adapter.dtype(name) is not None)

    def like(self, dtype: str = "float32") -> Any:
        """An empty array of this backend, dtype and device."""
        adapter = self.adapter
        device = adapter.check_device(self.device)
        array = adapter.empty((0,), self.dtype(dtype), device)
        # TensorFlow, MLX: the adapter computes with NumPy and hands its results over.
        return adapter.export(array, dtype, device) if adapter.exports else array

    def to_numpy(self, array: Any) -> np.ndarray:
        """A float64 / complex128 NumPy copy, whatever the library, dtype and device."""
        host = np.asarray(self.adapter.to_host(array))
        return host.astype(np.complex128 if np.iscomplexobj(host) else np.float64)

    def dtype_name(self, array: Any) -> str:
        return self.adapter.dtype_of(array)

    def same_device(self, array: Any) -> bool:
        adapter = self.adapter
        return adapter.device_of(array, None, None) == adapter.device_of(self.like(), None, None)


def _device_for(name: str, module: Any, requested: str | None) -> Any:
    if name == "torch":
        import torch

        device = torch.device(requested or "cpu")
        if device.type == "cuda" and not torch.cuda.is_available():
            pytest.fail(
                f"--device {requested} was requested but torch sees no CUDA device", pytrace=False
            )
        return device
    if name == "cupy":
        index = int((requested or "cuda:0").partition(":")[2] or 0)
        return module.cuda.Device(index)
    if name == "array_api_strict":
        # A non-default device catches code paths that ignore `device=`.
        return module.Device(requested or "device1")
    if name == "jax":
        import jax

        return jax.devices(requested or "cpu")[0]
    if name == "dask":
        return "cpu"
    if name in ("tensorflow", "mlx"):
        from anyinit.target import resolve_target

        adapter = resolve_target(xp=module).backend
        return adapter.check_device(requested) if requested else adapter.default_device()
    if requested not in (None, "cpu"):
        pytest.fail(f"--device {requested} is not available for numpy", pytrace=False)
    return "cpu"


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> BackendUnderTest:
    """The backend under test."""
    name = _selected_backend(request.config)
    try:
        module = importlib.import_module(MODULES[name])
    except ImportError as error:
        pytest.fail(
            f"backend {name!r} was requested but cannot be imported: {error}", pytrace=False
        )
    if name == "cupy":
        try:
            count = module.cuda.runtime.getDeviceCount()
        except Exception as error:
            pytest.fail(
                f"backend 'cupy' was requested but no CUDA device is usable: {error}", pytrace=False
            )
        if count == 0:
            pytest.fail("backend 'cupy' was requested but no CUDA device is present", pytrace=False)
    device = _device_for(name, module, request.config.getoption("--device"))
    return BackendUnderTest(name, module, device)


@pytest.fixture
def like(backend: BackendUnderTest) -> Any:
    """An empty float32 array on the backend and device under test."""
    return backend.like("float32")


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """``test_backend_<name>.py`` holds one backend's own behaviour: collected in its run only;
    ``test_framework_*.py`` needs the frameworks, collected with ``--frameworks``."""
    stem = collection_path.stem
    if stem.startswith("test_backend_"):
        return stem.removeprefix("test_backend_") != _selected_backend(config)
    if stem.startswith("test_framework_"):  # Keras, Flax, Equinox: their own session
        return not config.getoption("--frameworks")
    if stem == "test_distributed":  # process groups and host devices: their own session
        return not config.getoption("--distributed")
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    name = _selected_backend(config)
    run_slow = config.getoption("--run-slow")
    for item in items:
        if not run_slow and item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.skip(reason="slow: runs with --run-slow (nox tests-numpy)"))
        for marker in item.iter_markers():
            if marker.name not in ("skip_backend", "only_backend"):
                continue
            names = [_backend_name(arg, marker.name) for arg in marker.args]
            reason = marker.kwargs.get("reason") or f"{marker.name}{tuple(marker.args)}"
            if (name in names) == (marker.name == "skip_backend"):
                item.add_marker(pytest.mark.skip(reason=reason))
