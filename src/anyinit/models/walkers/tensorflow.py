"""A ``tf.Module`` (not a Keras layer: those have their own walker): its variables, named by
their attribute paths, read as a pytree, and written back with ``assign``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from ..slots import Slot
from .keras import write  # assign each new value into its variable, as for Keras
from .pytree import PYTREE

__all__ = ["slots", "write"]


def _tree(model: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    found = model._flatten(predicate=lambda v: isinstance(v, tf.Variable), with_path=True)
    seen: set[int] = set()
    for path, variable in found:
        if id(variable) in seen:  # a submodule reached twice: its variables are drawn once,
            continue  # under their first path
        seen.add(id(variable))
        node = tree
        for step in path[:-1]:
            node = node.setdefault(str(step), {})
        node[str(path[-1])] = variable
    return tree


def slots(model: Any, names: Mapping[str, str] | None) -> list[Slot]:
    """The module's variables, as a pytree of them gives them (by path and name)."""
    found: list[Slot] = PYTREE.slots(_tree(model), names)
    return found
