"""The public surface: names, docstrings, doctests, lazy imports, the CLI."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pathlib
import subprocess
import sys

import pytest

import anyinit

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete():
    assert anyinit.__all__ == sorted(anyinit.__all__)
    public = {name for name in vars(anyinit) if not name.startswith("_")}
    # anyinit's own modules (anyinit.seeds, anyinit.laws, …) are attributes once imported;
    # every other public name is in __all__, and everything in __all__ exists.
    own_modules = {
        name
        for name in public
        if inspect.ismodule(getattr(anyinit, name))
        and getattr(anyinit, name).__name__.startswith("anyinit.")
    }
    assert (
        public - {"annotations"} - own_modules
        == set(anyinit.__all__) - {"__version__"} - own_modules
    )
    assert all(hasattr(anyinit, name) for name in anyinit.__all__)


@pytest.mark.parametrize(
    "name", [n for n in anyinit.__all__ if n not in ("__version__", "backends")]
)
def test_every_public_name_has_a_numpydoc_docstring_with_an_example(name):
    obj = getattr(anyinit, name)
    doc = inspect.getdoc(obj)
    assert doc, name
    assert "Examples\n--------" in doc, name


MODULES = [
    "anyinit.sampling",
    "anyinit",
    "anyinit.initializers.constant",
    "anyinit.laws.fans",
    "anyinit.initializers.base",
    "anyinit.initializers.orthogonal",
    "anyinit.plotting",
    "anyinit.initializers.random",
    "anyinit.seeds",
    "anyinit.initializers.registry",
    "anyinit.initializers.sparse",
    "anyinit.dialects.torch_nn_init",
    "anyinit.cli",
    "anyinit.adapters",
    "anyinit.dialects",
    "anyinit.dialects.jax_nn",
    "anyinit.dialects.mlx_nn",
    "anyinit.diagnostics.report",
    "anyinit.diagnostics.experiment",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_doctests(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, module_name
    assert result.failed == 0, module_name


def test_import_anyinit_imports_no_optional_library():
    code = (
        "import sys, anyinit\n"
        "anyinit.glorot_normal(seed=0)((4, 4))\n"
        "optional = ('torch', 'cupy', 'jax', 'dask', 'scipy', 'keras', 'flax', 'equinox')\n"
        "loaded = [m for m in optional if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_one_table_of_builtin_backends():
    """The registry, the CLI, the tests and the noxfile all read adapters/builtin.py."""
    from anyinit.adapters.builtin import BUILTIN
    from conftest import KNOWN_BACKENDS

    assert set(KNOWN_BACKENDS) == set(BUILTIN)
    assert 'runpy.run_path("src/anyinit/adapters/builtin.py")' in (ROOT / "noxfile.py").read_text()
    for name in BUILTIN:
        assert (ROOT / "backends" / f"{name}.txt").is_file(), name


def test_register_backend_rejects_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        anyinit.register_backend("numpy", "anyinit.adapters.numpy.adapter:NumpyBackend")


class TestCommandLine:
    def run(self, *args):
        return subprocess.run(
            [sys.executable, "-m", "anyinit", *args], capture_output=True, text=True, check=False
        )

    def test_info(self):
        out = self.run("info")
        assert out.returncode == 0
        assert f"anyinit {anyinit.__version__}" in out.stdout
        assert "numpy" in out.stdout

    def test_list_names_every_initializer(self):
        out = self.run("list")
        assert out.returncode == 0
        for cls in ("GlorotNormal", "Orthogonal", "VarianceScaling", "Sparse"):
            assert cls in out.stdout
        assert "xavier_normal" in out.stdout

    def test_sample_prints_expected_and_measured(self, backend):
        out = self.run(
            "sample",
            "glorot_normal",
            "--shape",
            "256",
            "128",
            "--seed",
            "0",
            "--backend",
            backend.name,
        )
        assert out.returncode == 0, out.stderr
        assert "fan_in=256, fan_out=128" in out.stdout
        lines = {
            line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.split()
        }
        expected, measured = map(float, lines["std"][:2])
        assert expected == pytest.approx((2 / 384) ** 0.5)
        assert measured == pytest.approx(expected, rel=0.02)

    def test_sample_reports_bad_input(self):
        out = self.run("sample", "no_such_init", "--shape", "3")
        assert out.returncode == 2
        assert "Could not interpret initializer identifier: no_such_init" in out.stderr
        out = self.run("sample", "orthogonal", "--shape", "3")
        assert out.returncode == 2
        assert "at least two-dimensional" in out.stderr


def test_the_adapter_under_test_is_the_registered_one(request, backend):
    module = getattr(request.config, "anyinit_adapter", None)
    if module is None:
        pytest.skip("no --adapter given: the built-in adapters are under test")
    from anyinit.target import resolve_target

    target = resolve_target(like=backend.like())
    assert type(target.backend).__name__ == module.StrictAdapter.__name__


def test_the_example_adapter_supplies_only_the_protocol_and_host_transfer():
    """examples/strict_adapter.py: the required methods its library differs in, and to_host
    (array_api_strict's other devices); no sampler step, no capability, no stub."""
    import importlib.util
    import inspect
    from pathlib import Path

    from anyinit.adapters import protocol

    path = Path(__file__).resolve().parents[1] / "examples" / "strict_adapter.py"
    spec = importlib.util.spec_from_file_location("strict_adapter_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    required = {
        name
        for name, value in vars(protocol.Adapter).items()
        if inspect.isfunction(value) and not name.startswith("_")
    }
    assert len(required) == 8
    own = {
        name
        for name, value in vars(module.StrictAdapter).items()
        if inspect.isfunction(value) and not name.startswith("_")
    }
    assert own <= required | {"to_host"}, own - required
    import array_api_strict

    adapter = module.StrictAdapter(array_api_strict)
    assert isinstance(adapter, protocol.Adapter)
    capabilities = [getattr(protocol, name) for name in protocol.__all__ if name[0].isupper()]
    assert not any(protocol.supports(adapter, c) for c in capabilities if c is not protocol.Adapter)


def test_a_third_party_generator_is_accepted_as_seed(monkeypatch):
    """Native generators are recognised by the registered adapters, not by a fixed list."""
    import types

    import numpy as np

    from anyinit.adapters import Backend

    toylib = types.ModuleType("toylib")
    toylib.__array_namespace_info__ = lambda: None

    class ToyGenerator:
        __module__ = "toylib"

    class ToyAdapter(Backend):
        name = "toylib"

        def is_generator(self, obj):
            return isinstance(obj, ToyGenerator)

    toylib.ToyGenerator = ToyGenerator
    monkeypatch.setitem(sys.modules, "toylib", toylib)
    anyinit.register_backend("toylib", ToyAdapter, replace=True)
    init = anyinit.RandomNormal(seed=ToyGenerator())
    assert isinstance(init.seed, ToyGenerator)
    with pytest.raises(TypeError, match="`seed` must be"):
        anyinit.RandomNormal(seed=types.SimpleNamespace())
    assert np.random.default_rng is not None
