"""One conformance suite, every backend.

The backend under test comes from ``--backend`` or ``$ANYINIT_BACKEND``
(default ``numpy``); a backend that was asked for and cannot be imported
fails the run instead of skipping it. ``--device`` picks the device
(``cpu`` by default; ``cuda`` on a GPU machine).
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from anyinit.backends._builtin import MODULES

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
class Backend:
    """What a test needs to know about the backend under test."""

    name: str
    xp: Any  # the library's own module (numpy, torch, array_api_strict, cupy)
    device: Any  # the device arrays are made on in this run

    def dtype(self, name: str) -> Any:
        if name == "bfloat16" and self.name in ("numpy", "jax"):
            import ml_dtypes

            return np.dtype(ml_dtypes.bfloat16)
        if self.name in ("numpy", "cupy", "jax", "dask"):
            return np.dtype(name)
        return getattr(self.xp, name)

    @property
    def real_dtypes(self) -> tuple[str, ...]:
        """Real floating dtypes this backend has (16-bit ones where it has them)."""
        if self.name == "array_api_strict":
            return ("float32", "float64")
        if self.name in ("torch", "jax") or (
            self.name == "numpy" and importlib.util.find_spec("ml_dtypes") is not None
        ):
            return ("float16", "bfloat16", "float32", "float64")
        return ("float16", "float32", "float64")

    @property
    def complex_dtypes(self) -> tuple[str, ...]:
        return ("complex64", "complex128")

    def like(self, dtype: str = "float32") -> Any:
        """An empty array of this backend, dtype and device."""
        if self.name == "cupy":
            with self.device:
                return self.xp.empty((0,), dtype=self.dtype(dtype))
        if self.name == "jax":
            return self.xp.zeros((0,), dtype=self.dtype(dtype), device=self.device)
        if self.name == "dask":
            return self.xp.empty((0,), dtype=self.dtype(dtype))
        return self.xp.empty((0,), dtype=self.dtype(dtype), device=self.device)

    def to_numpy(self, array: Any) -> np.ndarray:
        """A float64 / complex128 NumPy copy, whatever the library, dtype and device."""
        if self.name == "torch":
            import torch

            host = array.detach().cpu()
            return host.to(torch.complex128 if host.is_complex() else torch.float64).numpy()
        if self.name == "cupy":
            return array.get()
        if self.name == "dask":
            return np.asarray(array.compute()).astype(
                np.complex128 if np.iscomplexobj(array._meta) else np.float64
            )
        if self.name == "array_api_strict":
            xp = self.xp
            cpu = array.to_device(xp.Device("CPU_DEVICE"))
            return np.from_dlpack(cpu)
        return np.asarray(array).astype(np.complex128 if np.iscomplexobj(array) else np.float64)

    def dtype_name(self, array: Any) -> str:
        if self.name == "torch":
            return str(array.dtype).removeprefix("torch.")
        if self.name == "array_api_strict":
            return str(array.dtype).removeprefix("array_api_strict.")
        return np.dtype(array.dtype).name

    def same_device(self, array: Any) -> bool:
        if self.name == "torch":
            import torch

            return array.device == torch.device(self.device)
        if self.name == "cupy":
            return array.device.id == self.device.id
        if self.name == "array_api_strict":
            return array.device == self.device
        if self.name == "jax":
            return array.devices() == {self.device}
        return True


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
    if requested not in (None, "cpu"):
        pytest.fail(f"--device {requested} is not available for numpy", pytrace=False)
    return "cpu"


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
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
    return Backend(name, module, _device_for(name, module, request.config.getoption("--device")))


@pytest.fixture
def like(backend: Backend) -> Any:
    """An empty float32 array on the backend and device under test."""
    return backend.like("float32")


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
