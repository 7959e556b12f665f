"""An initializer applied to a parameter's own shape, given back in the canonical layout.

A framework's own initializer computes its fans from the shape its layer gives it
(Keras's transposed kernels are ``(*k, out, in)``); :func:`anyinit.initialize` draws
in the canonical layout and lays the values out as the framework does. This wraps
the layer's initializer so it sees the layer's shape, as the layer would call it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ...initializers.base import Initializer
from ...target import workable
from ..slots import Slot, to_canonical

__all__ = ["NativeShape"]


class NativeShape:
    """`inner` applied to `slot`'s own shape, returned in the canonical layout.

    `call_custom(inner, shape, like, seed)` calls an initializer that is not anyinit's
    (a framework's custom callable), with the seed of the parameter's key.
    """

    def __init__(
        self,
        inner: Any,
        slot: Slot,
        label: str,
        call_custom: Callable[[Any, tuple[int, ...], Any, Any], Any],
    ) -> None:
        self.inner, self.slot, self.label, self.call_custom = inner, slot, label, call_custom
        self.seed: Any = None

    def __call__(self, shape: tuple[int, ...], dtype: Any = None, *, like: Any = None) -> Any:
        native = self.slot.native_shape
        if isinstance(self.inner, Initializer):
            inner = copy.copy(self.inner)
            if hasattr(inner, "seed"):
                inner.seed = self.seed
            values = inner(native, dtype, like=like)
        else:
            values = self.call_custom(copy.copy(self.inner), native, like, self.seed)
        xp, values, back = workable(values)
        return back(to_canonical(values, self.slot, xp))

    def __repr__(self) -> str:
        return self.label
