"""The ``"own"`` preset on torch: the model's init code runs, its draws come from anyinit.

Every random draw torch can make is intercepted while the model's own init
code runs: ``torch.nn.init``'s functions (also through transformers' guarded
copies and timm's helpers, which call the same function objects), the in-place
tensor methods (``uniform_``, ``normal_``, ``exponential_``, …) and the
factories (``torch.rand``, ``torch.randn``, ``torch.randint``, …), through a
``TorchFunctionMode``. The functions whose values are more than one elementwise
draw (``trunc_normal_``'s uniform-then-``erfinv``, ``orthogonal_``'s QR,
``sparse_``) are swapped for anyinit's law where they are defined, so that the
law, not torch's arithmetic, decides the bits.

What a draw becomes depends on what it fills:

* a parameter (or its ``.data``): its law drawn from the portable stream keyed
  by the seed and the parameter's canonical path, in the canonical layout,
  exactly as a preset's law is (where "torch" and "own" agree, the same bits);
* a view of a parameter (``w[:k].normal_()``): keyed by the path and the view;
* a fresh tensor (``torch.randn(...)`` later copied in): keyed by the module's
  path and the draw's order within that module's init.

A draw the replay cannot reproduce (``multinomial``, ``random_``) raises; the
model is then restored as it was.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ...initializers.base import Initializer
from ...initializers.orthogonal import Orthogonal
from ...initializers.random import RandomInitializer, RandomNormal, RandomUniform
from ...laws.records import BoundedNormal, Distribution
from ..slots import Slot
from . import OwnInitWarning, UnsupportedDrawError

__all__ = ["Law", "Replay", "constructor_note", "run", "whole_model_init"]


class Law(RandomInitializer):
    """A law record as an initializer: what an intercepted draw asked for (torch's
    ``trunc_normal_`` with absolute bounds has no other anyinit name)."""

    def __init__(self, law: Distribution, label: str, seed: Any = None) -> None:
        self._law, self.label = law, label
        super().__init__(seed)

    def law(self, shape: tuple[int, ...], kind: str = "real floating") -> Distribution:
        return self._law

    def __repr__(self) -> str:
        return self.label


def _post_order(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Modules children first, as their constructors ran (a parent's init after its children's)."""

    def visit(prefix: str, module: nn.Module) -> Iterator[tuple[str, nn.Module]]:
        for name, child in module.named_children():
            yield from visit(f"{prefix}.{name}" if prefix else name, child)
        yield prefix, module

    seen: set[int] = set()
    for path, module in visit("", model):
        if id(module) not in seen:
            seen.add(id(module))
            yield path, module


def _size(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, ...]:
    size = kwargs.get("size", args)
    if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
        size = size[0]
    return tuple(int(n) for n in size)


def _bound(
    args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...], defaults: tuple[Any, ...]
) -> list[Any]:
    values = list(defaults)
    for i, value in enumerate(args[: len(names)]):
        values[i] = value
    for i, name in enumerate(names):
        if name in kwargs:
            values[i] = kwargs[name]
    return values


class Replay:
    """The state of one replay: which tensor is which parameter, the keys, what was drawn.

    A draw into a whole parameter is kept pending, not made: a later draw into it replaces
    it (a module's ``reset_parameters`` law, then the model's own ``_init_weights``), and
    every pending draw is made at the end, together (:meth:`finish`: one kernel call on
    every core, after the code ran without error). Any other operation on a parameter or
    a buffer first makes its pending draw and keeps a copy of what the tensor held, so a
    failure anywhere puts back exactly what was written (:meth:`restore`).
    """

    def __init__(
        self,
        model: nn.Module,
        slots: list[Slot],
        keys: Callable[[str], Any],
        fill: Callable[..., None],
        fill_many: Callable[[list[tuple[Slot, Any, Any]]], None],
    ) -> None:
        self.keys, self._fill, self._fill_many = keys, fill, fill_many
        self.by_id: dict[int, Slot] = {}
        self.by_storage: dict[int, list[Slot]] = {}
        for slot in slots:
            if "reparametrized" in slot.info:
                continue
            value = slot.value
            self.by_id[id(value)] = slot
            if _has_storage(value):
                self.by_storage.setdefault(value.untyped_storage().data_ptr(), []).append(slot)
        # Every parameter and buffer, by object and by memory: what a failure must restore.
        self.holders: dict[int, Any] = {}
        self.holder_storage: dict[int, list[Any]] = {}
        for tensor in (*model.parameters(), *model.buffers()):
            if tensor is None or tensor.is_meta:
                continue
            self.holders[id(tensor)] = tensor
            if _has_storage(tensor):
                ptr = tensor.untyped_storage().data_ptr()
                self.holder_storage.setdefault(ptr, []).append(tensor)
        self.saved: dict[int, tuple[Any, Any]] = {}
        self.pending: dict[str, tuple[Slot, Initializer, Any]] = {}
        self.drawn: dict[str, str] = {}  # native path -> what drew it, the last draw
        self.touched: set[str] = set()  # native paths written otherwise (constants)
        self.module = ""
        self.counts: dict[str, int] = {}
        self.busy = False

    @contextlib.contextmanager
    def within(self, path: str) -> Iterator[None]:
        outer, self.module = self.module, path
        try:
            yield
        finally:
            self.module = outer

    def _slots_of(self, tensor: Any) -> list[Slot]:
        slot = self.by_id.get(id(tensor))
        if slot is not None:
            return [slot]
        if not _has_storage(tensor):
            return []
        return self.by_storage.get(tensor.untyped_storage().data_ptr(), [])

    def owner(self, tensor: Any) -> tuple[Slot | None, str]:
        """The slot `tensor` is, or the key path of a view of one or of a fresh tensor."""
        slot = self.by_id.get(id(tensor))
        if slot is not None:
            return slot, slot.path
        for slot in self._slots_of(tensor):
            value = slot.value
            same = (
                tensor.shape == value.shape
                and tensor.stride() == value.stride()
                and tensor.storage_offset() == value.storage_offset()
            )
            if same:
                return slot, slot.path
            view = f"{tensor.storage_offset()},{tuple(tensor.shape)},{tensor.stride()}"
            return None, f"{slot.path}#view({view})"
        return None, self.fresh()

    def touch(self, tensor: Any, how: str = "") -> None:
        """`tensor` is about to be used otherwise than drawn whole: its parameter's pending
        draw is made first, and what it holds kept; an in-place `how` counts as written."""
        holders = [self.holders[id(tensor)]] if id(tensor) in self.holders else []
        if not holders and _has_storage(tensor):
            holders = self.holder_storage.get(tensor.untyped_storage().data_ptr(), [])
        if not holders:
            return
        for holder in holders:
            self.save(holder)
        for slot in self._slots_of(tensor) or [s for h in holders for s in self._slots_of(h)]:
            found = self.pending.pop(slot.native_path, None)
            if found is not None:
                self._fill(slot.value, *found)
            if how.endswith("_") and not how.startswith("__"):
                self.touched.add(slot.native_path)

    def save(self, tensor: Any) -> None:
        if id(tensor) not in self.saved:
            self.saved[id(tensor)] = (tensor, tensor.detach().clone())

    def restore(self) -> None:
        """Put back every tensor written so far (pending draws were never made)."""
        self.pending.clear()
        with torch.no_grad():
            for tensor, value in self.saved.values():
                tensor.copy_(value)

    def finish(self) -> None:
        """Make every pending draw, together."""
        pending, self.pending = list(self.pending.values()), {}
        self._fill_many(pending)

    def fresh(self) -> str:
        count = self.counts.get(self.module, 0)
        self.counts[self.module] = count + 1
        return f"{self.module}#draw{count}"

    def draw(self, tensor: Any, init: Initializer, label: str) -> Any:
        """Fill `tensor` in place by `init`, keyed by what it is (a whole parameter: kept
        pending until the end or until something else reads or writes it)."""
        if tensor.is_meta or tensor.numel() == 0 or _marked(tensor):
            return tensor
        slot, path = self.owner(tensor)
        if slot is not None:
            if _marked(slot.value):  # loaded from a checkpoint: transformers skips it too
                return tensor
            if self.module and not slot.native_path.startswith(self.module + "."):
                # A parameter reached through another module (a tied weight, `lm_head.weight`
                # as `embed.weight`): when the model was built, that module drew a tensor of
                # its own that the tie then replaced, so the owner's init decides it.
                return tensor
            self.pending[slot.native_path] = (slot, init, self.keys(path))
            self.drawn[slot.native_path] = label
            return tensor
        self.touch(tensor)  # a view of a parameter: its pending draw first, then this one
        self._fill(tensor, None, init, self.keys(path))
        return tensor


def _marked(tensor: Any) -> bool:
    """transformers' mark on a tensor its loading already set (from a checkpoint, or tied)."""
    return bool(getattr(tensor, "_is_hf_initialized", False))


def _has_storage(tensor: Any) -> bool:
    return not tensor.is_meta and not hasattr(tensor, "to_local")


# -- the draws torch can make, as laws ------------------------------------------------


def _uniform(replay: Replay, tensor: Any, low: float, high: float, label: str) -> Any:
    return replay.draw(tensor, RandomUniform(float(low), float(high)), label)


def _normal(replay: Replay, tensor: Any, mean: float, std: float, label: str) -> Any:
    return replay.draw(tensor, RandomNormal(float(mean), float(std)), label)


def _transformed(
    replay: Replay, tensor: Any, base: str, finish: Callable[[Any], Any], label: str
) -> Any:
    """A law torch draws as a transform of a uniform or a normal: the portable draw in
    float64, transformed, then cast (``exponential_``, ``bernoulli_``, ``log_normal_``, …)."""
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    _, path = replay.owner(tensor)
    unit = RandomUniform(0.0, 1.0) if base == "uniform" else RandomNormal(0.0, 1.0)
    work = torch.empty(tuple(tensor.shape), dtype=torch.float64, device=tensor.device)
    replay._fill(work, None, unit, replay.keys(path))
    replay.touch(tensor, "copy_")
    with torch.no_grad():
        tensor.copy_(finish(work))
    return tensor


def _tensor_method(replay: Replay, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    tensor, rest = args[0], args[1:]
    if name == "uniform_":
        low, high = _bound(rest, kwargs, ("from", "to"), (0.0, 1.0))
        return _uniform(replay, tensor, low, high, f"uniform_({low}, {high})")
    if name == "normal_":
        mean, std = _bound(rest, kwargs, ("mean", "std"), (0.0, 1.0))
        return _normal(replay, tensor, mean, std, f"normal_({mean}, {std})")
    if name == "exponential_":
        (rate,) = _bound(rest, kwargs, ("lambd",), (1.0,))
        return _transformed(
            replay, tensor, "uniform", lambda u: -torch.log1p(-u) / rate, f"exponential_({rate})"
        )
    if name == "bernoulli_":
        (p,) = _bound(rest, kwargs, ("p",), (0.5,))
        return _transformed(
            replay, tensor, "uniform", lambda u: (u < p).to(u.dtype), f"bernoulli_({p})"
        )
    if name == "log_normal_":
        mean, std = _bound(rest, kwargs, ("mean", "std"), (1.0, 2.0))
        return _transformed(
            replay,
            tensor,
            "normal",
            lambda z: torch.exp(mean + std * z),
            f"log_normal_({mean}, {std})",
        )
    if name == "cauchy_":
        median, sigma = _bound(rest, kwargs, ("median", "sigma"), (0.0, 1.0))
        return _transformed(
            replay,
            tensor,
            "uniform",
            lambda u: median + sigma * torch.tan(math.pi * (u - 0.5)),
            f"cauchy_({median}, {sigma})",
        )
    if name == "geometric_":
        (p,) = _bound(rest, kwargs, ("p",), (None,))
        return _transformed(
            replay,
            tensor,
            "uniform",
            lambda u: 1 + torch.floor(torch.log1p(-u) / math.log1p(-p)),
            f"geometric_({p})",
        )
    raise UnsupportedDrawError(_unsupported(replay, f"Tensor.{name}"))


def _factory(replay: Replay, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    options = {k: kwargs[k] for k in ("dtype", "device", "layout", "pin_memory") if k in kwargs}
    requires_grad = kwargs.get("requires_grad", False)
    if name in ("rand", "randn"):
        out = torch.empty(_size(args, kwargs), **options)
        unit: Callable[..., Any] = _uniform if name == "rand" else _normal
        unit(replay, out, 0.0, 1.0, f"torch.{name}")
    elif name in ("rand_like", "randn_like"):
        out = torch.empty_like(args[0], **options)
        unit = _uniform if name == "rand_like" else _normal
        unit(replay, out, 0.0, 1.0, f"torch.{name}")
    elif name == "randint":
        numbers = [a for a in args if isinstance(a, int)]
        low, high = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
        low, high = kwargs.get("low", low), kwargs.get("high", high)
        size = kwargs.get("size", next(a for a in args if isinstance(a, (tuple, list, torch.Size))))
        out = torch.empty(tuple(size), **{"dtype": torch.int64, **options})
        _transformed(
            replay, out, "uniform", lambda u: torch.floor(low + u * (high - low)), "torch.randint"
        )
    elif name == "randperm":
        n = int(args[0] if args else kwargs["n"])
        keys = torch.empty(n, dtype=torch.float64, device=options.get("device"))
        _uniform(replay, keys, 0.0, 1.0, "torch.randperm")
        out = torch.argsort(keys, stable=True).to(options.get("dtype", torch.int64))
    elif name == "normal" and not any(
        isinstance(a, torch.Tensor) for a in (*args, *kwargs.values())
    ):
        mean, std = _bound(args, kwargs, ("mean", "std"), (0.0, 1.0))
        size = kwargs.get("size", args[2] if len(args) > 2 else None)
        if size is None:
            raise UnsupportedDrawError(_unsupported(replay, "torch.normal without a size"))
        out = torch.empty(tuple(size), **options)
        _normal(replay, out, mean, std, "torch.normal")
    else:
        raise UnsupportedDrawError(_unsupported(replay, f"torch.{name}"))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _unsupported(replay: Replay, what: str) -> str:
    where = f" in {replay.module!r}'s init" if replay.module else ""
    return (
        f"the model's own init code calls {what}{where}, which the 'own' preset cannot take "
        "from the portable stream; the model is left as it was. Pass seed=None or a "
        "torch.Generator to run that code with torch's generator, or use a preset."
    )


# -- the functions whose values are more than one elementwise draw --------------------


def _kaiming_uniform(replay: Replay, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    tensor = args[0]
    a, mode, nonlinearity = _bound(
        args[1:], kwargs, ("a", "mode", "nonlinearity"), (0, "fan_in", "leaky_relu")
    )
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    fan = nn.init._calculate_correct_fan(tensor, mode)
    gain = nn.init.calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * (gain / math.sqrt(fan))
    return _uniform(replay, tensor, -bound, bound, f"kaiming_uniform_(a={a}, mode={mode!r})")


def _trunc_normal(replay: Replay, tensor: Any, mean: float, std: float, a: float, b: float) -> Any:
    law = BoundedNormal.between(float(mean), float(std), float(a), float(b))
    return replay.draw(
        tensor, Law(law, f"trunc_normal_({mean}, {std}, a={a}, b={b})"), "trunc_normal_"
    )


def _orthogonal(replay: Replay, tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    if tensor.ndimension() < 2:
        msg = "Only tensors with 2 or more dimensions are supported"
        raise ValueError(msg)
    if tensor.numel() == 0:
        return tensor
    return replay.draw(tensor, Orthogonal(float(gain)), f"orthogonal_(gain={gain})")


def _sparse(
    replay: Replay, tensor: Any, sparsity: float, std: float = 0.01, generator: Any = None
) -> Any:
    from ...dialects.torch_nn_init import sparse_

    if tensor.is_meta:
        return tensor
    _, path = replay.owner(tensor)
    replay.touch(tensor, "sparse_")
    sparse_(tensor, sparsity, std, seed=replay.keys(path))
    return tensor


_DROPOUTS = (
    "dropout",
    "alpha_dropout",
    "feature_alpha_dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "rrelu",
)
_TENSOR_METHODS = (
    "uniform_",
    "normal_",
    "exponential_",
    "bernoulli_",
    "log_normal_",
    "cauchy_",
    "geometric_",
    "random_",
)
_FACTORIES = (
    "rand",
    "randn",
    "rand_like",
    "randn_like",
    "randint",
    "randint_like",
    "randperm",
    "normal",
    "bernoulli",
    "multinomial",
    "poisson",
)


#: Operations that read a tensor's metadata only (not its values): no pending draw is due.
_METADATA = frozenset(
    (
        "__get__",
        "dim",
        "ndimension",
        "size",
        "numel",
        "nelement",
        "stride",
        "storage_offset",
        "element_size",
        "is_floating_point",
        "is_complex",
        "is_contiguous",
        "get_device",
        "data_ptr",
        "untyped_storage",
        "__len__",
        "__hash__",
    )
)


class _Intercept(TorchFunctionMode):  # type: ignore[misc]
    """Every random draw torch can make, sent to the replay."""

    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self.replay = replay
        handlers: dict[Any, Callable[[tuple[Any, ...], dict[str, Any]], Any]] = {}
        for name in _TENSOR_METHODS:
            handlers[getattr(torch.Tensor, name)] = functools.partial(_tensor_method, replay, name)
        for name in _FACTORIES:
            handlers[getattr(torch, name)] = functools.partial(_factory, replay, name)
        refused = [(torch.Tensor, name, "Tensor.") for name in ("bernoulli", "multinomial")]
        refused += [(nn.functional, name, "F.") for name in _DROPOUTS]
        for owner, name, prefix in refused:
            if hasattr(owner, name):
                handlers[getattr(owner, name)] = functools.partial(
                    _unsupported_call, replay, prefix + name
                )
        init = nn.init
        handlers[init.uniform_] = lambda a, k: _init_uniform(
            replay, *_strip(a, k), **_no_generator(k)
        )
        handlers[init.normal_] = lambda a, k: _init_normal(
            replay, *_strip(a, k), **_no_generator(k)
        )
        handlers[init.kaiming_uniform_] = lambda a, k: _kaiming_uniform(
            replay, _strip(a, k), _no_generator(k)
        )
        # transformers swaps its guarded copies into torch.nn.init while it initialises, so a
        # dispatched call names them: the same draws (Replay.draw skips what it marks).
        guarded = sys.modules.get("transformers.initialization")
        for name in ("uniform_", "normal_", "kaiming_uniform_"):
            function = getattr(guarded, name, None)
            if function is not None:
                handlers[function] = handlers[getattr(init, name)]
        self.handlers = handlers

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        handler = self.handlers.get(func)
        if handler is None or self.replay.busy:
            name = getattr(func, "__name__", "")
            if not self.replay.busy and name not in _METADATA:
                for value in (*args, *kwargs.values()):
                    for tensor in value if isinstance(value, (list, tuple)) else (value,):
                        if isinstance(tensor, torch.Tensor):
                            self.replay.touch(tensor, name)
            return func(*args, **kwargs)
        self.replay.busy = True
        try:
            with torch.no_grad():
                return handler(args, kwargs)
        finally:
            self.replay.busy = False


def _init_uniform(replay: Replay, tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    return _uniform(replay, tensor, a, b, f"uniform_({a}, {b})")


def _init_normal(replay: Replay, tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    return _normal(replay, tensor, mean, std, f"normal_({mean}, {std})")


def _strip(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """A dispatched ``torch.nn.init`` call's arguments: the tensor comes as a keyword too."""
    return args if args else (kwargs["tensor"],)


def _no_generator(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in ("generator", "tensor")}


def _unsupported_call(replay: Replay, what: str, *call: Any) -> Any:
    raise UnsupportedDrawError(_unsupported(replay, what))


@contextlib.contextmanager
def _swapped(replay: Replay, model: nn.Module) -> Iterator[None]:
    """``trunc_normal_``, ``orthogonal_`` and ``sparse_`` as anyinit's laws wherever the init
    code reaches them: the helpers they call through module globals, and the same function
    objects wherever the model's code and torch.nn imported them (transformers keeps a
    table of them)."""

    def busy(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            replay.busy = True
            try:
                with torch.no_grad():
                    return function(*args, **kwargs)
            finally:
                replay.busy = False

        return call

    def trunc(
        tensor: Any,
        mean: float = 0.0,
        std: float = 1.0,
        a: float = -2.0,
        b: float = 2.0,
        generator: Any = None,
    ) -> Any:
        return _trunc_normal(replay, tensor, mean, std, a, b)

    swaps: dict[Any, Callable[..., Any]] = {
        nn.init.trunc_normal_: busy(trunc),
        nn.init.orthogonal_: busy(lambda *a, **k: _orthogonal(replay, *a, **k)),
        nn.init.sparse_: busy(lambda *a, **k: _sparse(replay, *a, **k)),
    }
    timm_helper = getattr(sys.modules.get("timm.layers.weight_init"), "_trunc_normal_", None)
    if timm_helper is not None:  # timm's trunc_normal_ and trunc_normal_tf_ draw through it
        swaps[timm_helper] = busy(
            lambda tensor, mean, std, a, b: _trunc_normal(replay, tensor, mean, std, a, b)
        )
    undo: list[tuple[Any, str, Any]] = []
    try:
        for module in _code_modules(model):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for name, value in list(namespace.items()):
                try:
                    replacement = swaps.get(value)
                except TypeError:  # unhashable
                    continue
                if replacement is not None:
                    undo.append((module, name, value))
                    setattr(module, name, replacement)
        table = getattr(
            sys.modules.get("transformers.initialization"), "TORCH_INIT_FUNCTIONS", None
        )
        if isinstance(table, dict):
            for name, value in list(table.items()):
                if value in swaps:
                    undo.append((table, name, value))
                    table[name] = swaps[value]
        yield
    finally:
        for holder, name, value in reversed(undo):
            if isinstance(holder, dict):
                holder[name] = value
            else:
                setattr(holder, name, value)


def _code_modules(model: nn.Module) -> list[Any]:
    """The Python modules whose globals the init code may call: torch.nn's, timm's layers',
    and those defining the model's classes and their bases (where `from torch.nn.init
    import trunc_normal_` binds the name)."""
    names = {n for n in sys.modules if n.startswith(("torch.nn.", "timm.layers"))}
    names.add("torch.nn")
    for module in model.modules():
        names.update(cls.__module__ for cls in type(module).__mro__)
    return [sys.modules[n] for n in sorted(names) if n in sys.modules]


# -- running the model's own init ------------------------------------------------------


def _reset(module: nn.Module) -> Callable[[], Any] | None:
    for name in ("reset_parameters", "_reset_parameters"):
        method = getattr(module, name, None)
        if callable(method) and _takes_no_arguments(method):
            return method  # type: ignore[no-any-return]
    return None


def _takes_no_arguments(method: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


def _is_transformers(model: nn.Module) -> bool:
    return any(
        c.__module__.startswith("transformers") and c.__name__ == "PreTrainedModel"
        for c in type(model).__mro__
    )


def _transformers_init(model: nn.Module, replay: Replay) -> None:
    """transformers' own traversal (``init_weights``: ``_init_weights`` on every module, each
    sub-model's own, then the ties), with the module flags it sets cleared first and put back,
    and each call told its module's path."""
    paths = {id(m): name for name, m in model.named_modules()}
    flags = {id(m): m.__dict__.get("_is_hf_initialized") for m in model.modules()}
    wrapped = []
    for sub in model.modules():
        sub.__dict__.pop("_is_hf_initialized", None)
        if _is_transformers(sub) and "_init_weights" not in sub.__dict__:
            original = sub._init_weights

            def within(module: nn.Module, _original: Any = original) -> Any:
                with replay.within(paths.get(id(module), "")):
                    return _original(module)

            sub.__dict__["_init_weights"] = within
            wrapped.append(sub)
    try:
        model.init_weights()
    finally:
        for sub in wrapped:
            sub.__dict__.pop("_init_weights", None)
        for sub in model.modules():
            flag = flags.get(id(sub))
            if flag is None:
                sub.__dict__.pop("_is_hf_initialized", None)
            else:
                sub.__dict__["_is_hf_initialized"] = flag


def _one_module(method: Any) -> bool:
    """A method that takes one module (``self._init_weights(m)``, for ``self.apply``)."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in parameters
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return len(required) == 1


def whole_model_init(model: nn.Module) -> tuple[str, Callable[[], Any]] | None:
    """The model's own whole-model init, as its constructor ran it, where it has one that
    can be called again: ``init_weights()`` (timm's ViTs and ResNets, torchtitan), or
    ``self.apply(self._init_weights)`` (timm's MetaFormers, PVT, CaiT, XCiT, many research
    codebases), or timm's module-level ``named_apply(_init_weights, model)`` (ConvNeXt,
    RegNet, EdgeNeXt) and ``efficientnet_init_weights(model)`` (EfficientNet, MobileNetV3,
    ReXNet), each with its defaults."""
    init_weights = getattr(model, "init_weights", None)
    if callable(init_weights) and _takes_no_arguments(init_weights):
        return "init_weights()", init_weights
    method = getattr(model, "_init_weights", None)
    if callable(method) and _one_module(method):
        return "apply(_init_weights)", lambda: model.apply(method)
    home = sys.modules.get(type(model).__module__)
    if type(model).__module__.startswith("timm.") and home is not None:
        function = getattr(home, "_init_weights", None)
        if inspect.isfunction(function):
            named_apply = importlib.import_module("timm.models").named_apply
            return "named_apply(_init_weights)", lambda: named_apply(function, model)
        function = getattr(home, "efficientnet_init_weights", None)
        if inspect.isfunction(function):
            return "efficientnet_init_weights", lambda: function(model)
    return None


#: Calls in a constructor's source that initialise weights.
_INIT_CALL = re.compile(
    r"(\binit_weights\(|_init_weights\b|named_apply\(|\.apply\(|nn\.init\.|\binit\.\w+_\("
    r"|\btrunc_normal_\w*\(|\.normal_\(|\.uniform_\(|\.zero_\(|\.fill_\()"
)


def constructor_note(model: nn.Module, replayed: str | None) -> str | None:
    """Why the constructor's own init may not be what was replayed, or None: the model's
    ``__init__`` (and its bases' outside torch) calls init code, and either no whole-model
    init was found to replay, or the constructor passes it arguments of its own."""
    lines = []
    for cls in type(model).__mro__:
        if cls.__module__.startswith("torch.") or "__init__" not in vars(cls):
            continue
        try:
            source = inspect.getsource(vars(cls)["__init__"])
        except (OSError, TypeError):
            continue
        lines += [line.strip() for line in source.splitlines() if _INIT_CALL.search(line)]
    inner = _inner_subtree_inits(model)
    if not lines and not inner:
        return None
    if not lines:
        return (
            f"the constructors of {', '.join(inner)} initialise their submodules with code the "
            "'own' preset cannot call again; name it to replay it exactly: "
            "anyinit.presets.own(lambda model: ...)."
        )
    if replayed is not None:
        with_arguments = [line for line in lines if re.search(r"\w=\w", line.replace(" ", ""))]
        if not with_arguments and not inner:
            return None
        lines = with_arguments or lines
    shown = "; ".join(lines[:3])
    return (
        f"{type(model).__name__}'s constructor initialises weights with code the 'own' preset "
        f"{'replays with its defaults' if replayed else 'cannot call again'} ({shown}); name "
        "it to replay it exactly: anyinit.presets.own(lambda model: ...)."
    )


_SUBTREE_INIT = re.compile(r"(\.apply\(|named_apply\(|\binit_weights\()")


#: A submodule constructor's subtree init that can be called again exactly as it ran.
_REPLAYABLE = {
    "self.apply(self._init_weights)": lambda m: m.apply(m._init_weights),
    "self.init_weights()": lambda m: m.init_weights(),
}


def _constructor_source(cls: type) -> str:
    if cls.__module__.startswith("torch.") or "__init__" not in vars(cls):
        return ""
    try:
        return inspect.getsource(vars(cls)["__init__"])
    except (OSError, TypeError):
        return ""


def _replayable(module: nn.Module) -> list[Callable[[nn.Module], Any]]:
    """The subtree inits `module`'s constructor ran that can run again exactly as they did."""
    source = _constructor_source(type(module)).replace(" ", "")
    return [call for text, call in _REPLAYABLE.items() if text.replace(" ", "") in source]


def _inner_subtree_inits(model: nn.Module) -> list[str]:
    """The submodule classes (not the model's) whose constructors initialise a subtree in a
    way that cannot be called again exactly."""
    found = []
    for module in {type(m): m for m in model.modules() if m is not model}.values():
        source = _constructor_source(type(module))
        calls = [line for line in source.splitlines() if _SUBTREE_INIT.search(line)]
        if len(calls) > len(_replayable(module)):
            found.append(type(module).__name__)
    return sorted(found)


def _own_init(model: nn.Module, function: Callable[[Any], Any] | None, replay: Replay) -> None:
    for path, module in _post_order(model):
        own = list(module.parameters(recurse=False))
        if own and all(_marked(p) for p in own):
            continue  # every parameter loaded (transformers' mark): its reset would undo that
        reset = _reset(module)
        calls = _replayable(module) if module is not model else []
        with replay.within(path):
            if reset is not None:
                reset()
            for call in calls:  # a submodule's constructor initialised its subtree so
                call(module)
    if function is not None:
        function(model)
    elif _is_transformers(model):
        _transformers_init(model, replay)
    else:
        found = whole_model_init(model)
        note = constructor_note(model, None if found is None else found[0])
        if note is not None:
            warnings.warn(note, OwnInitWarning, stacklevel=4)
        if found is not None:
            found[1]()


def run(
    model: nn.Module,
    function: Callable[[Any], Any] | None,
    slots: list[Slot],
    keys: Callable[[str], Any] | None,
    fill: Callable[..., None],
    fill_many: Callable[[list[tuple[Slot, Any, Any]]], None],
    generator: Any = None,
) -> tuple[dict[str, str], set[str]] | None:
    """Run `model`'s own init with every draw replayed (`keys`), or drawn from `generator`
    (a native ``torch.Generator``; None with no keys: torch's global generator, as written).

    Returns what drew each parameter (native path -> label) and the paths written with
    constants; None where the code ran on a native generator. On any error every
    parameter and buffer is put back as it was, and the error raised."""
    from ..walkers.torch import _unwrapped

    model = _unwrapped(model)  # torch.compile's, DataParallel's: paths as the walker's
    if keys is None:
        saved = {
            name: tensor.detach().clone()
            for name, tensor in (*model.named_parameters(), *model.named_buffers())
            if tensor is not None and not tensor.is_meta
        }
        try:
            with _with_generator(generator):
                _own_init(model, function, Replay(model, slots, lambda path: None, fill, fill_many))
        except BaseException:
            current = dict((*model.named_parameters(), *model.named_buffers()))
            with torch.no_grad():
                for name, value in saved.items():
                    if (tensor := current.get(name)) is not None:
                        tensor.copy_(value)
            raise
        return None
    state = torch.get_rng_state()
    replay = Replay(model, slots, keys, fill, fill_many)
    try:
        with _swapped(replay, model), _Intercept(replay):
            _own_init(model, function, replay)
        if not torch.equal(torch.get_rng_state(), state):
            msg = (
                "the model's own init code drew from torch's global generator by a route the "
                "'own' preset does not see, so its values would not be reproducible; the model "
                "is left as it was. Pass seed=None or a torch.Generator to run it as written."
            )
            raise UnsupportedDrawError(msg)
        for slot, _, _ in replay.pending.values():  # what the last draws may fail to write
            if "parts" in slot.info or slot.info.get("padding_idx") is not None:
                replay.save(slot.value)
        replay.finish()
    except BaseException:
        replay.restore()
        torch.set_rng_state(state)
        raise
    return replay.drawn, replay.touched


@contextlib.contextmanager
def _with_generator(generator: Any) -> Iterator[None]:
    """The init code as written, its draws from `generator` where one is given."""
    if generator is None:
        yield
        return

    class Inject(TorchFunctionMode):  # type: ignore[misc]
        def __torch_function__(
            self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
        ) -> Any:
            kwargs = dict(kwargs or {})
            name = getattr(func, "__name__", "")
            takes = name in _TENSOR_METHODS or (name in _FACTORIES and not name.endswith("_like"))
            dispatched = func in (nn.init.uniform_, nn.init.normal_, nn.init.kaiming_uniform_)
            if (takes or dispatched) and kwargs.get("generator") is None:
                kwargs["generator"] = generator
            return func(*args, **kwargs)

    with Inject():
        yield
