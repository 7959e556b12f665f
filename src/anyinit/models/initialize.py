"""``anyinit.initialize``: one entry point that initialises a whole model."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _compat
from ..adapters.protocol import FusedLayoutFill, Sharded, supports
from ..adapters.registry import host_backend
from ..initializers.base import Initializer
from ..initializers.random import RandomInitializer
from ..sampling import portable_job
from ..seeds import stream_key
from ..sharding import reproducible
from ..stream import StreamKey
from ..target import array_backend, check_seed, resolve_target, workable
from .own import Own
from .presets import PRESETS, Blocks, describe, preset_rule
from .recipes import RECIPES, Recipe
from .slots import Slot, match_pattern, path_hash, siblings, specificity, to_canonical

__all__ = ["Assignment", "canonical_weights", "initialize"]


class UncoveredParametersWarning(UserWarning):
    """A preset has no law for some of a model's parameters, which are left as they are.

    :func:`initialize` names how many and the first paths; with ``return_report=True`` the
    report lists each as skipped, with the reason. Silence it where that is intended::

        warnings.filterwarnings("ignore", category=anyinit.UncoveredParametersWarning)

    Examples
    --------
    >>> import warnings, numpy as np, anyinit
    >>> tree = {"fc": {"kernel": np.zeros((4, 3), np.float32)}, "temperature": np.ones(1)}
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = anyinit.initialize(tree, "keras", seed=0)
    >>> caught[0].category.__name__, "temperature" in str(caught[0].message)
    ('UncoveredParametersWarning', True)
    """


@dataclass(frozen=True)
class Assignment:
    """What :func:`initialize` did to one parameter (``return_report=True``).

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> tree = {"fc1": {"kernel": np.zeros((4, 3), np.float32)}}
    >>> _, report = anyinit.initialize(tree, "keras", seed=0, return_report=True)
    >>> report[0].path, report[0].role, report[0].initializer
    ('fc1.kernel', 'kernel', 'GlorotUniform(seed=None)')
    """

    path: str
    native_path: str
    kind: str
    role: str
    rule: str
    initializer: str


def initialize(
    model: Any,
    rules: Any,
    *,
    seed: Any,
    names: Mapping[str, str] | None = None,
    return_report: bool = False,
) -> Any:
    """Initialise every parameter of `model` by `rules`.

    Works on a torch ``nn.Module`` (in place, under ``no_grad``), a Flax
    linen params pytree (returns a new one), a ``flax.nnx.Module`` (in
    place), an Equinox module (returns a new one), a Keras model or layer (in
    place) and a dict/list pytree of arrays of any supported library (returns
    a new one). Each parameter is drawn in the canonical layout
    ``(*receptive_field, in, out)`` with the fans of its role, then laid out
    as the framework lays it out, so the same architecture gets the same
    weights in every framework.

    Parameters
    ----------
    model
        The model or pytree.
    rules : str, mapping or callable
        ``"own"`` (the model's own init code, every draw from the portable stream:
        torch and Keras models, and linen params given their ``module.init`` with
        ``anyinit.presets.own(function)``; :doc:`/own`), a
        preset (``"torch"``, ``"keras"``, ``"flax"``, ``"equinox"``, ``"mlx"``: that
        framework's default initialisation), a recipe (``"gpt2"``, …), a mapping from glob
        patterns on
        the normalised (``fc1.kernel``) or native (``fc1.weight``) dotted path
        to an initializer or None (the most specific pattern wins; one that
        matches nothing is an error), or a callable
        ``(path, param) -> initializer | None``. Parameters no rule covers are
        left as they are.
    seed : int, SeedGenerator, native generator or None
        With an int (or a SeedGenerator's next key), parameter ``path`` draws
        from ``fold_in(key(seed), path_hash(path))``: same-shaped layers
        differ, and no parameter's values depend on another's presence or on
        the order of traversal. A native generator or None gives fresh values.
    names : mapping, optional
        Renames layer path parts or dotted prefixes before normalisation
        (``{"Dense_0": "fc1"}``), where automatic names differ between ports.
    return_report : bool, default False
        Also return a list of :class:`Assignment`, one per parameter set.

    Returns
    -------
    model
        The model (in place) or the new one; with ``return_report``, the pair
        ``(model, report)``.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> params = {"fc1": {"kernel": np.zeros((4, 3), np.float32), "bias": np.ones(3, np.float32)}}
    >>> new = anyinit.initialize(params, "flax", seed=0)
    >>> float(abs(new["fc1"]["bias"]).max()), bool(new["fc1"]["kernel"].std() > 0)
    (0.0, True)
    """
    from . import walkers

    walker = walkers.walker_for(model)
    slots = walker.slots(model, names)
    leaves = [part for slot in slots for part in slot.info.get("parts", (slot,))]
    _refuse_colliding_paths(leaves)
    _link(leaves)
    if isinstance(rules, str) and rules == "own":
        rules = Own()
    if isinstance(rules, Own) and walkers.framework_of(model) == "torch":
        return _initialize_own(model, rules, walker, slots, leaves, seed, return_report)
    rules = _recipe(rules)
    choose = _own_rule(rules, model) if isinstance(rules, Own) else _rule(rules, leaves, model)
    keys = _keys(seed)
    values: dict[str, Any] = {}
    jobs: list[Any] = []  # the direct fills (and their slots), run together at the end
    filled: list[Slot] = []
    report: list[Assignment] = []
    uncovered: list[Slot] = []
    is_preset = isinstance(rules, (str, Recipe, Own))
    for slot in slots:
        pieces = []
        for leaf in slot.info.get("parts", (slot,)):
            chosen, source = choose(leaf)
            pieces.append((chosen, leaf, keys(leaf.path)))
            if chosen is not None:
                report.append(
                    Assignment(
                        leaf.path, leaf.native_path, leaf.kind, leaf.role, source, describe(chosen)
                    )
                )
            elif is_preset:  # a preset that has no law for this parameter
                uncovered.append(leaf)
                reason = f"skipped: preset {rules!r} has no law for it; left as it is"
                if isinstance(rules, Own):
                    reason = "skipped: its layer has no initializer of its own; left as it is"
                report.append(
                    Assignment(leaf.path, leaf.native_path, leaf.kind, leaf.role, "", reason)
                )
        if all(chosen is None for chosen, _, _ in pieces):
            continue
        if "parts" in slot.info:
            parts = tuple((chosen, leaf.canonical[-1], key) for chosen, leaf, key in pieces)
            values[slot.native_path] = _draw(_Parts(parts), slot, pieces[0][2])
            continue
        job = _direct_job(walker, pieces[0][0], slot, pieces[0][2])
        if job is not None:
            jobs.append(job)
            filled.append(slot)
        else:
            values[slot.native_path] = _draw(pieces[0][0], slot, pieces[0][2])
    if uncovered:
        _warn_uncovered(uncovered, f"the {rules!r} preset has no law for", stacklevel=3)
    # Every value is known and every check passed: only now is the model written (the
    # direct fills cannot fail: the kernel checks every job before it draws any).
    host = host_backend()
    if jobs and supports(host, FusedLayoutFill):  # (jobs are only planned where it does)
        host.run_fused_jobs(jobs)
        for slot in filled:
            walker.filled(slot)
    result = walker.write(model, slots, values)
    return (result, report) if return_report else result


def _warn_uncovered(uncovered: list[Slot], why: str, stacklevel: int) -> None:
    shown = ", ".join(slot.native_path for slot in uncovered[:5])
    more = f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else ""
    warnings.warn(
        f"{why} {len(uncovered)} parameter(s), left as they are: {shown}{more}. Give them a "
        "rule (a path pattern or a callable) if they need initializing; return_report=True "
        "lists them.",
        UncoveredParametersWarning,
        stacklevel=stacklevel,
    )


def _own_rule(rules: Own, model: Any) -> Callable[[Slot], tuple[Any, str]]:
    """The "own" preset where the model keeps its initializers (Keras's layers), or where
    the code that created a params tree is named (linen's ``module.init``)."""
    from . import walkers

    framework = walkers.framework_of(model)
    if framework == "keras" and rules.function is None:
        from .own import keras as own_keras

        layer_rule = own_keras.rule(model)
    elif framework is None and rules.function is not None:  # a params tree and its init code
        from .own import jax as own_jax

        layer_rule = own_jax.linen_rule(rules.function)
    else:
        # Flax NNX (0.12) and Equinox modules keep no initializers once built (their
        # constructors call them and drop them), and a params tree alone has no module:
        # there is no own init to replay, and a guess would be a silent wrong law.
        msg = (
            "the 'own' preset replays the init of torch and Keras models, and of a params "
            "tree given the code that created it (anyinit.presets.own(lambda key: "
            f"module.init(key, x)) for linen); this {framework or type(model).__name__} "
            f"model keeps no initializers{' to name' if framework else ''}. Use its "
            f"framework's preset ({tuple(PRESETS)}) or rules."
        )
        raise ValueError(msg)

    def by_layer(slot: Slot) -> tuple[Any, str]:
        law, label = layer_rule(slot)
        return law, f"own: {label}" if law is not None else ""

    return by_layer


def _initialize_own(
    model: Any,
    rules: Own,
    walker: Any,
    slots: list[Slot],
    leaves: list[Slot],
    seed: Any,
    return_report: bool,
) -> Any:
    """The ``"own"`` preset on torch: the model's own init code, its draws from the portable
    stream."""
    from .own import torch as own_torch

    seed = check_seed(seed)
    # A StreamKey seed keys each draw by its path (initialize's own rule); None or a native
    # generator runs the code as written, drawing from it.
    keys = _keys(seed) if stream_key(seed) is not None else None
    host = host_backend()

    def fill(tensor: Any, slot: Slot | None, init: Any, key: Any) -> None:
        if slot is None:  # a fresh tensor or a view: drawn as it is laid out
            tensor.copy_(_call(init, tuple(tensor.shape), tensor, key))
            return
        fill_many([(slot, init, key)])

    def fill_many(draws: list[tuple[Slot, Any, Any]]) -> None:
        # Every value first, then every write: the kernel checks all its jobs before it
        # draws any, so nothing below fails half-way through the model.
        jobs, filled, values = [], [], {}
        for slot, init, key in draws:
            job = None if "parts" in slot.info else _direct_job(walker, init, slot, key)
            if job is not None:
                jobs.append(job)
                filled.append(slot)
            else:
                values[slot.native_path] = _own_value(slot, init, key, keys)
        if jobs and supports(host, FusedLayoutFill):  # (jobs are only planned where it does)
            host.run_fused_jobs(jobs)
            for slot in filled:
                walker.filled(slot)
        if values:
            written = [slot for slot, _, _ in draws if slot.native_path in values]
            walker.write(model, written, values, padding=False)

    done = own_torch.run(model, rules.function, slots, keys, fill, fill_many, generator=seed)
    report = []
    uncovered = []
    for leaf in leaves:
        owner = leaf.native_path.partition("[")[0]  # a packed parameter's part: the parameter
        if done is None:
            label = "own init on the given generator"
        elif owner in done[0]:
            label = done[0][owner]
        elif owner in done[1]:
            label = "a constant (as written)"
        else:
            uncovered.append(leaf)
            label = "skipped: the model's own init code does not touch it; left as it is"
        report.append(
            Assignment(leaf.path, leaf.native_path, leaf.kind, leaf.role, repr(rules), label)
        )
    if uncovered:
        _warn_uncovered(uncovered, "the model's own init code does not touch", stacklevel=4)
    return (model, report) if return_report else model


def _own_value(slot: Slot, init: Any, key: Any, keys: Any) -> Any:
    """A whole parameter's value by `init`; a packed one's parts each by its own key."""
    if "parts" in slot.info:
        parts = tuple((init, leaf.canonical[-1], keys(leaf.path)) for leaf in slot.info["parts"])
        return _draw(_Parts(parts), slot, key)
    return _draw(init, slot, key)


def _direct_job(walker: Any, chosen: Any, slot: Slot, key: Any) -> Any:
    """Where `slot`'s parameter can be filled in its own memory and layout in one pass (a
    float32, float16 or bfloat16 CPU torch tensor drawn by a random law from the portable
    stream), the host kernel's job for it, run with the others once every value is drawn;
    else None (the value is drawn, then written)."""
    host_view = getattr(walker, "host_view", None)
    if (
        host_view is None
        or not isinstance(key, StreamKey)
        or not isinstance(chosen, RandomInitializer)
        or type(chosen)._generate is not RandomInitializer._generate  # its own sampling
    ):
        return None
    view = host_view(slot)
    if view is None:
        return None
    out, dtype_name, region = view
    law = chosen.law(slot.canonical, "real floating")
    if law.magnitude > 6.5e4:  # the call path checks that it fits the dtype (and says so)
        return None
    return portable_job(law, key, out, dtype_name, slot.canonical, slot.perm, region)


def _refuse_colliding_paths(slots: list[Slot]) -> None:
    """Two parameters whose paths normalise alike would get the same key, so the same
    weights, silently (``{"a.b": …, "a": {"b": …}}``): refuse them, naming both."""
    first: dict[str, Slot] = {}
    for slot in slots:
        other = first.setdefault(slot.path, slot)
        if other is slot:
            continue
        if other.native_path == slot.native_path:  # a key holding "/" joins like nesting
            where = f"two parameters are both at {slot.native_path!r}"
        else:
            where = f"the parameters {other.native_path!r} and {slot.native_path!r} both have"
            where += f" the path {slot.path!r}"
        msg = (
            f"{where}, so they would get the same weights; rename one of them (a key holding "
            "'.' or '/' reads as nested keys) or map one to another path with names=."
        )
        raise ValueError(msg)


def _recipe(rules: Any) -> Any:
    """A recipe's name is the recipe with its defaults."""
    if isinstance(rules, str) and rules in RECIPES:
        return RECIPES[rules]()
    return rules


def _rule(rules: Any, slots: list[Slot], model: Any) -> Callable[[Slot], tuple[Any, str]]:
    if isinstance(rules, Recipe):
        recipe, label = rules.bind(slots, model), repr(rules)
        return lambda slot: (recipe(slot), label)
    if isinstance(rules, str):
        if rules not in PRESETS:
            msg = (
                f"`rules` as a name must be 'own', a framework's preset {tuple(PRESETS)} or a "
                f"recipe {tuple(RECIPES)}; received {rules!r}."
            )
            raise ValueError(msg)
        preset = preset_rule(rules)
        return lambda slot: (preset(slot), f"preset {rules!r}")
    if isinstance(rules, Mapping):
        patterns = dict(rules)
        for pattern, init in patterns.items():
            if not isinstance(pattern, str):
                msg = f"`rules` patterns must be strings; received {pattern!r}."
                raise TypeError(msg)
            if init is not None and not isinstance(init, Initializer):
                msg = (
                    f"`rules`[{pattern!r}] must be an anyinit initializer or None; "
                    f"received {type(init).__name__}."
                )
                raise TypeError(msg)
            if not any(match_pattern(pattern, slot) for slot in slots):
                known = ", ".join(slot.path for slot in slots[:6])
                msg = (
                    f"`rules` pattern {pattern!r} matches no parameter; paths look like: {known}"
                    f"{', …' if len(slots) > 6 else ''}."
                )
                raise ValueError(msg)

        def by_pattern(slot: Slot) -> tuple[Any, str]:
            matches = [p for p in patterns if match_pattern(p, slot)]
            if not matches:
                return None, ""
            best = max(matches, key=specificity)
            return patterns[best], f"pattern {best!r}"

        return by_pattern
    if callable(rules):

        def by_callable(slot: Slot) -> tuple[Any, str]:
            init = rules(slot.path, slot.value)
            if init is not None and not isinstance(init, Initializer):
                msg = (
                    f"`rules` returned {type(init).__name__} for {slot.path!r}; "
                    "it must return an anyinit initializer or None."
                )
                raise TypeError(msg)
            return init, "callable"

        return by_callable
    msg = (
        "`rules` must be 'own', a preset name ('torch', 'keras', 'flax', 'equinox', 'mlx'), "
        f"a recipe {tuple(RECIPES)} (or built: anyinit.presets.gpt2(...)), a mapping from "
        f"path patterns to initializers, or a callable (path, param); received {rules!r}."
    )
    raise TypeError(msg)


def _keys(seed: Any) -> Callable[[str], Any]:
    seed = check_seed(seed)
    root = stream_key(seed)
    if root is None:
        return lambda path: seed  # None or a native generator: fresh values
    return lambda path: root.fold_in(path_hash(path))


def _seeded(init: Initializer, seed: Any) -> Initializer:
    if hasattr(init, "seed"):
        init = copy.copy(init)
        init.seed = seed
    return init


def _call(init: Initializer, shape: tuple[int, ...], like: Any, seed: Any) -> Any:
    init = _seeded(init, seed)
    target = resolve_target(like=like, dtype=like.dtype)
    if target.kind == "complex floating" and target.kind not in init.dtype_kinds:
        # A law on the reals (a preset's uniform) on a complex parameter: as torch's own
        # init does (uniform_ on view_as_real), the real and imaginary parts each by the law.
        real = {"complex64": "float32", "complex128": "float64"}[target.dtype_name]
        pair = init((*shape, 2), real, like=like)
        xp, pair, back = workable(pair)
        complex_dtype = array_backend(pair)[1].dtype(target.dtype_name)
        return back(
            xp.astype(pair[..., 0], complex_dtype) + xp.astype(pair[..., 1], complex_dtype) * 1j
        )
    return init(shape, like=like)


@dataclass(frozen=True)
class _Parts:
    """A packed parameter (torch's ``in_proj_weight``): pieces of its canonical last axis,
    each its own parameter with its own law and key; a piece without a law keeps its values."""

    parts: tuple[tuple[Initializer | Blocks | None, int, Any], ...]


def _link(leaves: list[Slot]) -> None:
    """Give each bias (and other non-kernel) its layer's kernel; mark packed attention."""
    kernels = siblings(leaves)
    for slot in leaves:
        kernel = kernels.get(slot.layer)
        if slot.role != "kernel" and kernel is not None:
            slot.info.setdefault("kernel", kernel)
    # torch packs q, k and v into one (3E, E) weight where they read the same width;
    # its law (xavier_uniform_ on the packed weight) counts all three in fan_out.
    modules: dict[str, list[Slot]] = {}
    for slot in leaves:
        if slot.info.get("attention") in ("query", "key", "value") and slot.role == "kernel":
            modules.setdefault(slot.layer.rpartition(".")[0], []).append(slot)
    for group in modules.values():
        packed = len(group) == 3 and len({s.canonical for s in group}) == 1
        for slot in group:
            slot.info.setdefault("packed", packed)


def _shards(value: Any) -> Any:
    if not _compat.is_array_api_obj(value):
        return None
    backend = array_backend(value)[1]
    return backend.shards(value) if supports(backend, Sharded) else None


def _draw_shard(chosen: Any, slot: Slot, seed: Any, shards: Any) -> Any:
    """A distributed parameter (an FSDP2 / DTensor shard, a sharded JAX array)."""
    simple = not isinstance(chosen, (Blocks, _Parts)) and slot.expanded is None
    if not simple or len(slot.perm) != len(slot.native_shape):
        return shards.distribute(
            lambda like: _draw(chosen, slot, seed, like=like), reproducible(seed), slot.native_shape
        )
    return shards.draw(_seeded(chosen, seed), slot.canonical, None, slot.perm)


def _canonical_draw(chosen: Any, shape: tuple[int, ...], like: Any, seed: Any) -> Any:
    if not isinstance(chosen, Blocks):
        return _call(chosen, shape, like, seed)
    if sum(width for _, width in chosen.parts) != shape[-1]:
        msg = f"the blocks {describe(chosen)} do not add up to the last axis of {shape}."
        raise ValueError(msg)
    parts = [
        _call(init, (*shape[:-1], width), like, _part(seed, i))
        for i, (init, width) in enumerate(chosen.parts)
    ]
    xp, _, back = workable(parts[0])
    return back(xp.concat([workable(part)[1] for part in parts], axis=-1))


def _draw(chosen: Any, slot: Slot, seed: Any, like: Any = None) -> Any:
    like = slot.value if like is None else like
    if like is slot.value and (shards := _shards(slot.value)) is not None:
        return _draw_shard(chosen, slot, seed, shards)
    if isinstance(chosen, _Parts):
        current = None
        pieces, start = [], 0
        for init, width, key in chosen.parts:
            if init is None:  # no law for this piece: its current values, in canonical layout
                if current is None:
                    xp, held, back = workable(slot.value)
                    current = back(to_canonical(held, slot, xp))
                pieces.append(current[..., start : start + width])
            else:
                pieces.append(_canonical_draw(init, (*slot.canonical[:-1], width), like, key))
            start += width
        xp, _, back = workable(pieces[0])
        values = back(xp.concat([workable(piece)[1] for piece in pieces], axis=-1))
    else:
        values = _canonical_draw(chosen, slot.canonical, like, seed)
    xp, values, back = workable(values)
    if slot.expanded is not None:
        values = xp.reshape(values, slot.expanded)
    if slot.perm != tuple(range(len(slot.perm))):
        values = xp.permute_dims(values, slot.perm)
    if tuple(values.shape) != slot.native_shape:
        values = xp.reshape(values, slot.native_shape)
    return back(values)


def _part(seed: Any, index: int) -> Any:
    return seed.fold_in(index) if isinstance(seed, StreamKey) else seed


def canonical_weights(model: Any, *, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every parameter of `model` by normalised path, in the canonical layout.

    The canonical layout is the one :func:`initialize` draws in:
    ``(*receptive_field, in, out)`` for kernels (torch's ``(out, in, *k)``
    transposed), attention projections flat as ``(fan_in, fan_out)``, a
    packed torch ``in_proj_weight`` split into ``query``, ``key`` and
    ``value``. Two ports of one architecture have the same paths and shapes
    here, so comparing them takes a loop; under the same preset and seed
    :func:`initialize` gives them equal values.

    Parameters
    ----------
    model
        Anything :func:`initialize` takes (for Flax linen, its params).
    names : mapping, optional
        Renames, as in :func:`initialize`.

    Returns
    -------
    dict
        ``{path: array}``, the arrays of the model's own library (torch
        tensors detached, Keras variables' values), in the model's order.

    Examples
    --------
    >>> import torch, anyinit
    >>> attn = torch.nn.MultiheadAttention(8, 2)
    >>> weights = anyinit.canonical_weights(attn)
    >>> {path: tuple(w.shape) for path, w in weights.items() if path.endswith("kernel")}
    {'query.kernel': (8, 8), 'key.kernel': (8, 8), 'value.kernel': (8, 8), 'out.kernel': (8, 8)}
    """
    from . import walkers

    slots = walkers.walker_for(model).slots(model, names)
    # two parameters under one path would leave one of them out of the dict
    _refuse_colliding_paths([leaf for slot in slots for leaf in slot.info.get("parts", (slot,))])
    return {leaf.path: values for slot in slots for leaf, values in canonical_parts(slot)}


def canonical_parts(slot: Slot) -> list[tuple[Slot, Any]]:
    """Each leaf of `slot` (the slot, or a packed parameter's pieces) with its current
    values in the canonical layout, as an array of the model's own library."""
    value = slot.value
    if hasattr(value, "assign") and hasattr(value, "value"):  # a Keras or TF variable
        value = value.value() if callable(value.value) else value.value  # tf's is a method
    if hasattr(value, "get_value"):  # a Flax NNX variable
        value = value.get_value()
    if hasattr(value, "detach"):
        value = value.detach()
    xp, held, back = workable(value)
    canonical = back(to_canonical(held, slot, xp))
    leaves = slot.info.get("parts", (slot,))
    if leaves == (slot,):
        return [(slot, canonical)]
    pieces, start = [], 0
    for leaf in leaves:
        width = leaf.canonical[-1] if leaf.canonical else 0
        pieces.append((leaf, canonical[..., start : start + width]))
        start += width
    return pieces
