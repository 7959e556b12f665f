"""Every initializer in the registry, on the backend under test: the contract every class keeps.

The classes come from the registry (``anyinit.initializers.registry.initializer_classes``:
the package's one table of names plus what ``register_initializer`` added), read when the
tests are generated, so a new initializer is tested here without editing any list.
``test_a_registered_toy_initializer_is_picked_up`` proves it with a toy registered by a
plugin.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import anyinit
from anyinit.initializers.registry import initializer_classes

HERE = Path(__file__).resolve().parent

#: Shapes tried in turn: each class is tested on the first it accepts (ranks differ:
#: Identity is 2-D, Dirac and DeltaOrthogonal 3- to 5-D).
CANDIDATE_SHAPES = [(4, 6), (3, 4, 5), (6,), (3, 3, 4, 4)]
#: Values for constructor arguments that have no default, by the argument's name.
REQUIRED_ARGUMENTS = {"sparsity": 0.5}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "initializer_class" in metafunc.fixturenames:
        classes = initializer_classes()
        metafunc.parametrize("initializer_class", classes, ids=[c.__name__ for c in classes])


def _build(cls: type, seed: object = 0) -> anyinit.Initializer:
    kwargs = {}
    for name, parameter in inspect.signature(cls).parameters.items():
        if name == "seed":
            kwargs["seed"] = seed
        elif parameter.default is inspect.Parameter.empty and parameter.kind in (
            parameter.POSITIONAL_OR_KEYWORD,
            parameter.KEYWORD_ONLY,
        ):
            assert name in REQUIRED_ARGUMENTS, (
                f"{cls.__name__} requires `{name}`: add a value for it to REQUIRED_ARGUMENTS"
            )
            kwargs[name] = REQUIRED_ARGUMENTS[name]
    return cls(**kwargs)


def _shape_for(init: anyinit.Initializer, like: object) -> tuple[int, ...]:
    refusals = []
    for shape in CANDIDATE_SHAPES:
        try:
            init(shape, like=like)
        except ValueError as error:  # a rank it does not take: said clearly, tried next
            refusals.append(f"{shape}: {error}")
            continue
        return shape
    pytest.fail(f"{type(init).__name__} accepts none of {CANDIDATE_SHAPES}: {refusals}")


def test_values_have_the_backend_device_dtype_and_shape_and_are_finite(backend, initializer_class):
    init = _build(initializer_class)
    for dtype in backend.real_dtypes:
        like = backend.like(dtype)
        shape = _shape_for(init, like)
        values = init(shape, like=like)
        assert tuple(values.shape) == shape
        assert backend.dtype_name(values) == dtype
        assert backend.same_device(values)
        assert np.isfinite(backend.to_numpy(values)).all()


def test_an_int_seed_repeats_and_another_seed_differs(backend, initializer_class):
    like = backend.like()
    first = _build(initializer_class, seed=3)
    shape = _shape_for(first, like)
    again = backend.to_numpy(first(shape, like=like))
    np.testing.assert_array_equal(backend.to_numpy(first(shape, like=like)), again)
    np.testing.assert_array_equal(backend.to_numpy(_build(initializer_class, 3)(shape, like=like)),
                                  again)  # fmt: skip
    if isinstance(first, anyinit.RandomInitializer):
        other = backend.to_numpy(_build(initializer_class, seed=4)(shape, like=like))
        assert not np.array_equal(other, again)


def test_names_config_and_json_round_trip(initializer_class):
    init = _build(initializer_class)
    by_name = {"class_name": initializer_class.__name__, "config": init.get_config()}
    assert type(anyinit.get(by_name)) is initializer_class
    text = json.dumps(anyinit.serialize(init))
    rebuilt = anyinit.deserialize(json.loads(text))
    assert type(rebuilt) is initializer_class
    assert rebuilt.get_config() == init.get_config()


def test_empty_shapes_give_empty_arrays(backend, initializer_class):
    init = _build(initializer_class)
    like = backend.like()
    shape = _shape_for(init, like)
    empty = (0, *shape[1:])  # a rank the class takes, with a zero-sized dimension
    values = init(empty, like=like)
    assert tuple(values.shape) == empty
    assert backend.dtype_name(values) == "float32"


@pytest.mark.only_backend("numpy", reason="it runs its own NumPy session")
def test_a_registered_toy_initializer_is_picked_up(tmp_path):
    """A toy initializer registered by a plugin runs through this module's tests, on NumPy,
    with no list edited: the registry is the one list."""
    plugin = tmp_path / "toy_initializer.py"
    plugin.write_text(
        "import anyinit\n"
        "from anyinit.initializers.registry import register_initializer\n"
        "\n"
        "@register_initializer\n"
        "class Toy(anyinit.RandomUniform):\n"
        '    """U[0, 1/8): a toy initializer, registered by a plugin."""\n'
        "\n"
        "    def __init__(self, seed=None):\n"
        "        super().__init__(0.0, 0.125, seed=seed)\n"
        "\n"
        "    def get_config(self):\n"
        '        return {"seed": self.seed}\n'
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "toy_initializer", "-p", "no:cacheprovider",
         "--backend=numpy", str(HERE / "test_conformance.py"), "-k", "Toy and not picked_up",
         "-rA"],
        capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    passed = [
        line for line in run.stdout.splitlines() if line.startswith("PASSED") and "Toy" in line
    ]
    assert len(passed) == 4, run.stdout[-3000:]
