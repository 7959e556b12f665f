"""The golden values: every public entry point gives, bit for bit, what it gave when
``tests/golden_values.json`` was written (see ``tests/golden.py``)."""

from __future__ import annotations

import pytest

import golden


def test_every_public_entry_point_gives_its_golden_values(backend):
    expected = {k: v for k, v in golden.load().items() if k.startswith(f"{backend.name}/")}
    if not expected:
        pytest.skip(f"no golden values recorded for {backend.name}")
    got = {name: golden.outcome(compute) for name, compute in golden.cases(backend.name)}
    changed = sorted(name for name in expected if got.get(name) != expected[name])
    missing = sorted(set(got) - set(expected))
    assert not changed, f"{len(changed)} of {len(expected)} cases changed, e.g. {changed[:5]}"
    assert not missing, f"cases without golden values: {missing[:5]}"
