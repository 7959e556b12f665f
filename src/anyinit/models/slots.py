"""A model's parameters as anyinit sees them: a path, a role and a layout each.

Every framework names and lays out the same parameter differently (torch's
``fc1.weight`` of shape ``(out, in)``, Flax's ``fc1/kernel`` of shape
``(in, out)``). A :class:`Slot` records one parameter with a *normalised* path
(``fc1.kernel``) and the permutation from the **canonical layout**
``(*receptive_field, in, out)`` to its own, so that the same architecture
draws the same values in every framework.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LAYOUTS",
    "Slot",
    "canonical_shape",
    "grouped_axes",
    "layout_permutation",
    "match_pattern",
    "normalise_path",
    "path_hash",
    "to_canonical",
]


@dataclass
class Slot:
    """One parameter of a model.

    `kind` is its layer's: ``dense``, ``conv``, ``conv_transpose``,
    ``embedding``, ``norm``, ``rnn``, ``lstm``, ``gru``, ``attention`` or
    ``other`` (no preset touches those).

    `path` is normalised (dots, the role as the last part: ``kernel``,
    ``bias``, ``embedding``, ``scale``, ``recurrent_kernel``,
    ``recurrent_bias``); `native_path` is the framework's own name for it.
    `perm` maps the canonical layout to the parameter's (native axis ``i`` is
    canonical axis ``perm[i]``); `canonical` is the shape drawn (a bias of
    shape ``(out, 1, 1)`` is drawn as ``(out,)`` and reshaped). `info` holds
    what a preset needs beyond the shape: ``kernel`` (a bias's kernel slot),
    ``hidden_size`` and ``gates`` of a recurrent layer, ``padding_idx``, …
    """

    path: str
    native_path: str
    kind: str
    role: str
    value: Any
    perm: tuple[int, ...]
    canonical: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)
    expanded: tuple[int, ...] | None = None

    @property
    def native_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.value.shape)

    @property
    def layer(self) -> str:
        """The normalised path of the layer the parameter belongs to."""
        return self.path.rpartition(".")[0]


def path_hash(path: str) -> int:
    """The 32-bit hash that seeds a parameter: SHA-256 of the UTF-8 path, first 4 bytes.

    A parameter's key is ``fold_in(key(seed), path_hash(path))`` (JAX's
    ``jax.random.fold_in``), so its values depend on its own path only.

    Examples
    --------
    >>> from anyinit.models.slots import path_hash
    >>> path_hash("fc1.kernel")
    2930873424
    """
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:4], "big")


_SEPARATORS = re.compile(r"[./]")
#: Flax names the items of a list attribute ``blocks_0``, ``blocks_1`` (and a Sequential's
#: ``layers_0``) where torch, NNX and Equinox have ``blocks.0``: a snake_case name and an
#: index become two parts. CamelCase auto-names (``Dense_0``) stay whole.
_INDEXED = re.compile(r"^([a-z][a-z0-9_]*?)_(\d+)$")


def _split_index(part: str) -> str:
    match = _INDEXED.match(part)
    return f"{match.group(1)}.{match.group(2)}" if match else part


def check_names(names: Any) -> None:
    """`names` is None or a mapping from path parts or dotted prefixes to new ones (strings)."""
    if names is None:
        return
    if not isinstance(names, Mapping):
        msg = (
            "`names` must be a mapping from a layer's path part or dotted prefix to its new "
            f'name ({{"Dense_0": "fc1"}}); received {type(names).__name__}.'
        )
        raise TypeError(msg)
    for old, new in names.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old:
            msg = (
                "`names` maps non-empty strings to strings (a path part or dotted prefix to "
                f"its new name); received {old!r}: {new!r}."
            )
            raise TypeError(msg)


def normalise_path(parts: Sequence[str], role: str, names: Mapping[str, str] | None = None) -> str:
    """The dotted path of a parameter: its layer's parts, renamed by `names`, then its role.

    `names` renames a layer part (``{"Dense_0": "fc1"}``) or a dotted prefix
    (``{"encoder.layers_0": "block0"}``); then a snake_case part ending in an index
    (Flax's ``blocks_0``) becomes two (``blocks.0``), as torch, NNX and Equinox name
    the items of a list of layers.

    Examples
    --------
    >>> from anyinit.models.slots import normalise_path
    >>> normalise_path(("params", "blocks_1", "Dense_0"), "kernel")
    'params.blocks.1.Dense_0.kernel'
    """
    layer = ".".join(p for part in parts for p in _SEPARATORS.split(str(part)) if p)
    check_names(names)
    for old, new in sorted((names or {}).items(), key=lambda item: -len(item[0])):
        old = ".".join(p for p in _SEPARATORS.split(old) if p)
        if layer == old or layer.startswith(old + "."):
            layer = new + layer[len(old) :]
            break
        renamed = [new if p == old else p for p in layer.split(".")]
        if renamed != layer.split("."):
            layer = ".".join(renamed)
            break
    layer = ".".join(_split_index(part) for part in layer.split(".")) if layer else layer
    return f"{layer}.{role}" if layer else role


def layout_permutation(layout: Any, rank: int) -> tuple[int, ...]:
    """The permutation from the canonical layout ``(*receptive_field, in, out)`` to `layout`.

    `layout` is ``"torch"`` (``(out, in, *receptive_field)``: torch and
    Equinox weights), ``"mlx"`` (``(out, *receptive_field, in)``: MLX's
    ``Linear`` and convolution weights), ``"canonical"`` (also ``"flax"``, ``"keras"``,
    ``"jax"``: the identity) or an explicit permutation, native axis ``i``
    being canonical axis ``layout[i]``.

    Examples
    --------
    >>> from anyinit.models.slots import layout_permutation
    >>> layout_permutation("torch", 4)
    (3, 2, 0, 1)
    """
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            msg = f"`layout` must be one of {tuple(LAYOUTS)} or a permutation; received {layout!r}."
            raise ValueError(msg)
        return LAYOUTS[layout](rank)
    try:
        perm = tuple(int(axis) for axis in layout)
    except TypeError:
        msg = f"`layout` must be a name or a permutation of the axes; received {layout!r}."
        raise TypeError(msg) from None
    if sorted(perm) != list(range(rank)):
        msg = f"`layout` must be a permutation of range({rank}); received layout={perm!r}."
        raise ValueError(msg)
    return perm


def _torch_layout(rank: int) -> tuple[int, ...]:
    if rank < 2:
        return tuple(range(rank))
    return (rank - 1, rank - 2, *range(rank - 2))


def _mlx_layout(rank: int) -> tuple[int, ...]:
    if rank < 2:
        return tuple(range(rank))
    return (rank - 1, *range(rank - 2), rank - 2)


def _canonical(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


LAYOUTS = {
    "torch": _torch_layout,
    "mlx": _mlx_layout,
    "canonical": _canonical,
    "flax": _canonical,
    "keras": _canonical,
    "jax": _canonical,
}


def canonical_shape(native: Sequence[int], perm: Sequence[int]) -> tuple[int, ...]:
    """The canonical shape whose permutation by `perm` is `native`."""
    shape = [0] * len(perm)
    for axis, source in enumerate(perm):
        shape[source] = int(native[axis])
    return tuple(shape)


def match_pattern(pattern: str, slot: Slot) -> bool:
    """Whether a rule's glob `pattern` names `slot` (by its normalised or native path)."""
    native = ".".join(p for p in _SEPARATORS.split(slot.native_path) if p)
    return fnmatch.fnmatchcase(slot.path, pattern) or fnmatch.fnmatchcase(native, pattern)


def specificity(pattern: str) -> tuple[int, int]:
    """How specific a pattern is: fewer wildcards, then more literal characters, win."""
    wildcards = sum(pattern.count(c) for c in "*?[")
    return (-wildcards, len(pattern) - wildcards)


def kernel_fan_in(shape: Sequence[int]) -> int:
    """The fan-in of a kernel in canonical layout: everything but the output axis."""
    return math.prod(shape[:-1]) if shape else 1


def grouped_axes(
    native: Sequence[int], input_axes: Sequence[int], output_axes: Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """``(perm, canonical, expanded)`` of a kernel whose fans are products of axes.

    The canonical draw is ``(prod(input dims), prod(output dims))``; `expanded`
    is it unflattened, input axes then output axes, each in native order; `perm`
    takes `expanded` to the native layout.

    Examples
    --------
    >>> from anyinit.models.slots import grouped_axes
    >>> grouped_axes((64, 4, 16), [0], [1, 2])  # an attention query kernel (E, H, D)
    ((0, 1, 2), (64, 64), (64, 4, 16))
    """
    order = [*input_axes, *output_axes]
    if sorted(order) != list(range(len(native))):
        msg = f"the input and output axes {order} must cover the kernel's axes once each."
        raise ValueError(msg)
    expanded = tuple(int(native[axis]) for axis in order)
    perm = tuple(order.index(axis) for axis in range(len(native)))
    fan_in = math.prod(int(native[a]) for a in input_axes)
    fan_out = math.prod(int(native[a]) for a in output_axes)
    return perm, (fan_in, fan_out), expanded


def to_canonical(value: Any, slot: Slot, xp: Any) -> Any:
    """A parameter's native value in its slot's canonical layout (the inverse of the draw)."""
    if len(slot.perm) == len(value.shape) and slot.perm != tuple(range(len(slot.perm))):
        inverse = tuple(sorted(range(len(slot.perm)), key=lambda axis: slot.perm[axis]))
        value = xp.permute_dims(value, inverse)
    if tuple(value.shape) != slot.canonical:
        value = xp.reshape(value, slot.canonical)
    return value


def siblings(slots: Iterable[Slot]) -> dict[str, Slot]:
    """Each layer's kernel, by layer path (a bias's fans are its kernel's)."""
    return {s.layer: s for s in slots if s.role == "kernel"}
