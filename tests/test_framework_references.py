"""The field's recipes against their references' own init code, each in a fresh process
(``tests/zoo/references.py``): megatron-core (installed by ``nox -s tests-frameworks``);
OLMo-core and torchtitan (``nox -s tests-references``) and OLMo (``nox -s
tests-references-olmo``), whose dependencies are too heavy for CI or clash with the
frameworks session's. A reference that is not installed skips, saying which session
installs it."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("torch")


def _needs(module, session):
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose package is absent
        found = False
    if not found:
        pytest.skip(f"{module} is not installed (nox -s {session} installs it)")


def _reference(tmp_path, which):
    from zoo.run import run_script

    return run_script(tmp_path, "references.py", which)


def test_the_megatron_recipe_is_megatron_cores_own_init(tmp_path):
    _needs("megatron", "tests-frameworks")
    found = _reference(tmp_path, "megatron")
    for case, result in found.items():
        if case.startswith("unscaled"):
            # exactly the residual outputs (linear_proj, linear_fc2) of every block
            assert result["failed"], case
            assert all(p.endswith(("linear_proj.kernel", "linear_fc2.kernel"))
                       for p in result["failed"]), case  # fmt: skip
            layers = int(case.split("L=")[1])
            assert len(result["failed"]) == 2 * layers, case
        else:
            assert result["failed"] == [], (case, result)
            assert result["unchecked"] == [], (case, result)
            assert result["checked"] > 40


def test_the_torchtitan_recipe_is_torchtitans_own_init(tmp_path):
    _needs("torchtitan", "tests-references")  # it imports triton (1 GB): not in CI
    found = _reference(tmp_path, "torchtitan")
    for case, result in found.items():
        assert result["failed"] == [], (case, result)
        assert result["unchecked"] == [], (case, result)


def test_the_olmo_recipe_is_olmo_cores_own_init(tmp_path):
    # its imports pull cloud-storage clients whose protobuf clashes with TensorFlow's
    _needs("olmo_core.nn", "tests-references")  # (OLMo 0.6 brings an olmo_core without it)
    found = _reference(tmp_path, "olmo")
    assert len(found) == 9
    for case, result in found.items():
        assert result["failed"] == [], (case, result)
        assert result["unchecked"] == [], (case, result)
        assert result["checked"] > 30


def test_the_olmo_recipe_is_olmos_own_init_for_its_v1_schemes(tmp_path):
    _needs("olmo", "tests-references-olmo")  # ai2-olmo pins numpy<2
    found = _reference(tmp_path, "olmo1")
    assert len(found) == 6
    for case, result in found.items():
        assert result["failed"] == [], (case, result)
        assert result["checked"] >= 28  # every Linear and embedding; OLMo's own LayerNorm
        # class is no norm the torch walker knows: listed, not tested
