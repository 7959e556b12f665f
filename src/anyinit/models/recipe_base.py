"""What every recipe is built from: the :class:`Recipe` record, the one table of recipes
by name (filled by :mod:`anyinit.models.recipes`), and the helpers the recipes share
(a block's index from its path, a knob read from the model's config, argument checks,
HF's base ``_init_weights`` law, the family check)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..initializers.base import Initializer
from ..initializers.constant import Constant, Zeros
from ..initializers.random import RandomNormal
from . import presets
from .slots import Slot

__all__ = [
    "FAMILIES",
    "RECIPES",
    "Recipe",
    "RecipeFamilyWarning",
    "block_index",
    "check_family",
    "depth",
    "path_block_index",
]

_KERNELS = ("dense", "conv", "conv_transpose")
_BLOCK = re.compile(r"(?:^|\.)(?:h|layers|layer|blocks|block)\.(\d+)(?:\.|$)")


@dataclass
class Recipe:
    """A named initialisation recipe: a rule per slot, given the model's slots first.

    Built by :func:`gpt2`, :func:`llama`, :func:`bert`, :func:`t5` or :func:`vit`
    (``anyinit.presets.gpt2(...)``); :func:`anyinit.initialize` takes one
    wherever it takes a preset name, and a recipe's name as a string is the
    recipe with its defaults.
    """

    name: str
    arguments: dict[str, Any]
    make: Callable[[Recipe, list[Slot], Any], Callable[[Slot], Any]] = field(repr=False)

    def bind(self, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        """The rule for this model: the recipe's arguments completed from the model (a
        model of another family than the recipe describes gets a RecipeFamilyWarning)."""
        check_family(self, model)
        return self.make(self, slots, model)

    def __repr__(self) -> str:
        def short(value: Any) -> str:
            simple = (int, float, str, bool, type(None), tuple, Recipe)
            return repr(value) if isinstance(value, simple) else f"<{type(value).__name__}>"

        arguments = ", ".join(f"{k}={short(v)}" for k, v in self.arguments.items())
        return f"anyinit.presets.{self.name}({arguments})"


def _config(model: Any, *names: str) -> Any:
    config = getattr(model, "config", None)
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    return None


def block_index(slot: Slot) -> int | None:
    """The index of the block (``h.3``, ``layers.3``, ``blocks.3``) holding `slot`, if any."""
    return path_block_index(slot.path)


def path_block_index(path: str) -> int | None:
    """The index of the block a normalised `path` names (``h.3``, ``layers.3``), if any."""
    found = _BLOCK.findall(path)
    return int(found[-1]) if found else None


def _count_blocks(slots: Sequence[Slot]) -> int | None:
    indices = {index for slot in slots if (index := block_index(slot)) is not None}
    return max(indices) + 1 if indices else None


def depth(
    recipe: Recipe,
    model: Any,
    slots: Sequence[Slot],
    *config_names: str,
) -> int:
    """The number of blocks a recipe scales by: its ``n_layer`` argument, else the model's
    config (`config_names`, HF's and the field's spellings by default), else counted from
    the paths, else an error saying to pass it."""
    names = config_names or ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
    value = recipe.arguments["n_layer"] or _config(model, *names)
    return int(_required(recipe.name, "n_layer", value or _count_blocks(slots)))


def _check_count(recipe: str, name: str, value: Any) -> None:
    """A count argument (``n_layer``, ``num_heads``): None or an int >= 1."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"the {recipe!r} recipe's `{name}` must be an int; received {value!r}."
        raise TypeError(msg)
    if value < 1:
        msg = f"the {recipe!r} recipe's `{name}` must be >= 1; received {value!r}."
        raise ValueError(msg)


def _required(recipe: str, argument: str, value: Any) -> Any:
    if value is None:
        msg = (
            f"the {recipe!r} recipe needs `{argument}`: the model has no config that says it "
            f"and its paths have no numbered blocks; pass anyinit.presets.{recipe}("
            f"{argument}=…)."
        )
        raise ValueError(msg)
    return value


def _layer_name(slot: Slot) -> str:
    return slot.layer.rpartition(".")[2]


def _hf(slot: Slot, std: float) -> Initializer | presets.Blocks | None:
    """``PreTrainedModel._init_weights``: Linear/Conv/Embedding N(0, std) with zero biases,
    norms ones and zeros, torch's own MultiheadAttention law."""
    if slot.kind == "attention":
        if slot.info.get("attention") == "out":  # out_proj: visited as the Linear it is
            return RandomNormal(0.0, std) if slot.role == "kernel" else Zeros()
        return presets.PRESETS["torch"](slot)  # then MultiheadAttention's _reset_parameters
    if slot.kind in _KERNELS:
        if slot.role == "kernel":
            return RandomNormal(0.0, std)
        return Zeros() if slot.role == "bias" else None
    if slot.kind == "embedding":
        return RandomNormal(0.0, std)
    if slot.kind == "norm":
        owner = slot.info.get("owner")
        if slot.role == "scale" and owner is not None and owner[0] == "constant":
            return Constant(owner[1])  # a zero-centred norm (Gemma's x·(1 + w)): w = 0
        return presets.norm_rule(slot)
    return None


def _knob(recipe: Recipe, model: Any, name: str, *config_names: str, default: float) -> float:
    """A recipe's std knob: given, else the model's config's (``initializer_range``, …),
    else the reference default."""
    value = recipe.arguments[name]
    if value is None:
        value = _config(model, *(config_names or (name,)))
    if value is None:
        return default
    return _positive(recipe.name, name, value)


def _check_knob(recipe: str, name: str, value: Any) -> None:
    if value is not None:
        _positive(recipe, name, value)


def _positive(recipe: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"the {recipe!r} recipe's `{name}` must be a number; received {value!r}."
        raise TypeError(msg)
    if not (math.isfinite(value) and value >= 0):
        msg = f"the {recipe!r} recipe's `{name}` must be finite and >= 0; received {value!r}."
        raise ValueError(msg)
    return float(value)


#: The transformers model types each recipe describes (``config.model_type``); a model of
#: another type gets a warning: its own init may differ (the "own" preset replays it).
FAMILIES: dict[str, tuple[str, ...]] = {
    "gpt2": ("gpt2",),
    "llama": ("llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "gemma", "gemma2"),
    "bert": ("bert", "roberta", "electra", "ernie", "camembert", "xlm-roberta"),
    "t5": ("t5", "mt5", "umt5"),
    "mamba": ("mamba", "falcon_mamba"),
}


class RecipeFamilyWarning(UserWarning):
    """A recipe was given a model of another family, whose own init may differ from it.

    Examples
    --------
    >>> import anyinit
    >>> issubclass(anyinit.RecipeFamilyWarning, UserWarning)
    True
    """


def check_family(recipe: Recipe, model: Any) -> None:
    """Warn where `model` says it is of another family than `recipe` describes."""
    import warnings

    kind = _config(model, "model_type")
    known = FAMILIES.get(recipe.name)
    if not isinstance(kind, str) or known is None or kind in known:
        return
    warnings.warn(
        f"the {recipe.name!r} recipe describes {', '.join(known)} models; this is a {kind!r} "
        "model, whose own init may differ (a depth scaling or a layer the recipe does not "
        "know). anyinit.initialize(model, 'own', seed=...) replays the model's own init.",
        RecipeFamilyWarning,
        stacklevel=4,
    )


#: Every recipe by name: a name given as rules is the recipe with its defaults. Filled by
#: :mod:`anyinit.models.recipes` with the model families', the field's and the residual
#: recipes (``anyinit.presets.RECIPES`` is this table).
RECIPES: dict[str, Callable[[], Recipe]] = {}
