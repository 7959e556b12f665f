"""The house's import rules, read from the source (imports inside functions included):
no cycles, and each library imported only by its own package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "anyinit"
FRAMEWORKS = ("torch", "jax", "jaxlib", "flax", "equinox", "keras", "cupy", "dask", "tensorflow",
              "mlx")  # fmt: skip
#: Where each library may be imported: its adapter package, and the walkers / the Keras
#: saving hook that exist to talk to that framework.
ALLOWED = {
    # The diagnostics' probes talk to each framework's model (Keras's, to its backend's
    # autodiff for gradients).
    "torch": (
        "anyinit.adapters.torch",
        "anyinit.models.walkers.torch",
        "anyinit.models.own.torch",
        "anyinit.diagnostics.torch",
        "anyinit.diagnostics.keras",
    ),
    "jax": ("anyinit.adapters.jax", "anyinit.diagnostics.jax", "anyinit.diagnostics.keras"),
    "jaxlib": ("anyinit.adapters.jax",),
    "flax": ("anyinit.models.walkers.jax", "anyinit.models.own.jax", "anyinit.diagnostics.jax"),
    "equinox": ("anyinit.models.walkers.jax", "anyinit.diagnostics.jax"),
    "keras": ("anyinit.dialects.keras", "anyinit.diagnostics.keras"),
    "cupy": ("anyinit.adapters.cupy",),
    "dask": ("anyinit.adapters.dask",),
    "tensorflow": ("anyinit.adapters.tensorflow", "anyinit.models.walkers.tensorflow"),
    "mlx": ("anyinit.adapters.mlx", "anyinit.models.walkers.mlx"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = ("anyinit", *path.relative_to(SRC).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: set[str]) -> tuple[set[str], set[str]]:
    """(anyinit modules imported, third-party top-level packages imported)."""
    inner: set[str] = set()
    outer: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [f"{target}.{alias.name}" for alias in node.names] + [target]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for candidate in targets:
            top = candidate.partition(".")[0]
            if top != "anyinit":
                outer.add(top)
                continue
            while candidate not in modules and "." in candidate:
                candidate = candidate.rpartition(".")[0]
            if candidate in modules and candidate != name:
                inner.add(candidate)
                break
    return inner, outer


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    inner, outer = {}, {}
    for name, path in modules.items():
        inner[name], outer[name] = _imports(name, path, set(modules))
    return inner, outer


def test_no_import_cycles(graph):
    edges = graph[0]

    def reachable(start: str) -> set[str]:
        seen, stack = set(), [start]
        while stack:
            for nxt in edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    cycles = sorted(name for name in edges if name in reachable(name))
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_each_library_is_imported_only_by_its_own_package(graph):
    wrong = []
    for name, libraries in graph[1].items():
        for library in set(libraries) & set(FRAMEWORKS):
            if not any(name == owner or name.startswith(owner + ".")
                       for owner in ALLOWED[library]):  # fmt: skip
                wrong.append(f"{name} imports {library}")
    assert wrong == []
