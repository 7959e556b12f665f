"""The initialisation recipes of famous model families, as presets: GPT-2, LLaMA, BERT, T5, ViT.

A recipe is what a model family's reference code does in its own init,
written as rules on :class:`~anyinit.models.slots.Slot` s (layer kind, role,
the layer's name where the reference picks layers by name, the block index),
so it applies to the same architecture written in any framework. Each cites
its source; its parameters are arguments with the reference's defaults, and
what the reference reads from its config (``n_layer``, ``num_heads``) is read
from a torch model's ``config`` where there is one, else counted from the
paths, else required.

Sources, as of transformers 5.25 and timm 1.0.31:

* ``transformers/modeling_utils.py`` ``PreTrainedModel._init_weights`` (every HF recipe's base);
* ``transformers/models/gpt2/modeling_gpt2.py`` ``GPT2PreTrainedModel._init_weights``
  (and nanoGPT's ``GPT._init_weights``: the same laws);
* ``transformers/models/llama/modeling_llama.py`` (the base) and torchtitan's
  ``models/llama3/model.py`` ``TransformerBlock.init_weights`` (``depth_init``);
* ``transformers/models/bert/modeling_bert.py`` ``BertPreTrainedModel._init_weights``;
* ``transformers/models/t5/modeling_t5.py`` ``T5PreTrainedModel._init_weights``;
* ``timm/models/vision_transformer.py`` ``VisionTransformer.init_weights``,
  ``init_weights_vit_timm`` and ``init_weights_vit_jax``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ..initializers.constant import Constant, Zeros
from ..initializers.random import (
    TRUNCATED_STD,
    GlorotUniform,
    LecunNormal,
    RandomNormal,
    TruncatedNormal,
)
from . import presets
from .field_recipes import FIELD_RECIPES
from .recipe_base import (
    _KERNELS,
    FAMILIES,
    RECIPES,
    Recipe,
    RecipeFamilyWarning,
    _check_count,
    _check_knob,
    _config,
    _hf,
    _knob,
    _layer_name,
    _required,
    block_index,
    depth,
)
from .residual_recipes import RESIDUAL_RECIPES
from .slots import Slot, check_names, kernel_fan_in

__all__ = [
    "FAMILIES",
    "RECIPES",
    "Recipe",
    "RecipeFamilyWarning",
    "bert",
    "gpt2",
    "llama",
    "mup",
    "mup_class",
    "t5",
    "vit",
]

# -- GPT-2 -------------------------------------------------------------------------------


def gpt2(initializer_range: float | None = None, n_layer: int | None = None) -> Recipe:
    """GPT-2's init (HF ``GPT2PreTrainedModel._init_weights``, nanoGPT ``_init_weights``).

    Linear/``Conv1D`` and embedding weights ``N(0, initializer_range)``, zero
    biases, LayerNorm ones and zeros; the residual projections (the layers named
    ``c_proj``, as both references name and pick them) ``N(0, initializer_range
    / √(2·n_layer))``.

    Parameters
    ----------
    initializer_range : float, optional
        The standard deviation of the weights: read from a model's
        ``config.initializer_range``, else 0.02 (the reference's default).
    n_layer : int, optional
        The number of blocks; read from a model's ``config.n_layer``, else
        counted from the paths (``h.0`` … ``h.11``).

    Returns
    -------
    Recipe

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.gpt2(n_layer=12)
    anyinit.presets.gpt2(initializer_range=None, n_layer=12)
    """
    _check_count("gpt2", "n_layer", n_layer)
    _check_knob("gpt2", "initializer_range", initializer_range)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        std = _knob(recipe, model, "initializer_range", default=0.02)
        layers = depth(recipe, model, slots, "n_layer", "num_hidden_layers")
        residual = std / math.sqrt(2 * layers)

        def rule(slot: Slot) -> Any:
            if _layer_name(slot) == "c_proj" and slot.role == "kernel":
                return RandomNormal(0.0, residual)
            return _hf(slot, std)

        return rule

    return Recipe("gpt2", {"initializer_range": initializer_range, "n_layer": n_layer}, make)


# -- LLaMA -------------------------------------------------------------------------------

#: torchtitan's names (wo, w2, w3) and HF's (o_proj, down_proj, up_proj) of the projections
#: whose std the depth-scaled init divides.
_LLAMA_SCALED = ("o_proj", "down_proj", "up_proj", "wo", "w2", "w3")


def llama(
    initializer_range: float | None = None,
    *,
    depth_init: bool = False,
    n_layer: int | None = None,
) -> Recipe:
    """LLaMA's init: HF ``LlamaPreTrainedModel`` (the ``PreTrainedModel`` base), or torchtitan's.

    HF: Linear and embedding weights ``N(0, initializer_range)``, zero biases,
    RMSNorm ones. With ``depth_init=True``, torchtitan's
    ``TransformerBlock.init_weights``: the output projections of block ``i``
    (``o_proj``/``down_proj``/``up_proj``; torchtitan's ``wo``/``w2``/``w3``) get
    ``trunc_normal_(std=σᵢ)`` with ``σᵢ = initializer_range / √(2·(i + 1))`` and torch's
    default bounds ±2 (absolute: untruncated in effect); the others stay
    ``N(0, initializer_range)``. :func:`~anyinit.presets.torchtitan` is
    torchtitan's whole init (its embeddings and output layer too).

    Parameters
    ----------
    initializer_range : float, optional
        Read from a model's ``config.initializer_range``, else 0.02.
    depth_init : bool, default False
    n_layer : int, optional
        Unused by the laws (each block's index is read from its path); accepted
        for symmetry with :func:`gpt2`.

    Returns
    -------
    Recipe

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.llama(depth_init=True)
    anyinit.presets.llama(initializer_range=None, depth_init=True, n_layer=None)
    """
    _check_count("llama", "n_layer", n_layer)
    _check_knob("llama", "initializer_range", initializer_range)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        std = _knob(recipe, model, "initializer_range", default=0.02)

        def rule(slot: Slot) -> Any:
            index = block_index(slot)
            if (
                recipe.arguments["depth_init"]
                and index is not None
                and _layer_name(slot) in _LLAMA_SCALED
                and slot.role == "kernel"
            ):
                sigma = std / math.sqrt(2 * (index + 1))
                # torchtitan's trunc_normal_(std=σ) keeps torch's default bounds, ±2 absolute
                return TruncatedNormal(0.0, sigma, lower=-2.0 / sigma, upper=2.0 / sigma)
            return _hf(slot, std)

        return rule

    arguments = {
        "initializer_range": initializer_range,
        "depth_init": depth_init,
        "n_layer": n_layer,
    }
    return Recipe("llama", arguments, make)


# -- BERT --------------------------------------------------------------------------------


def bert(initializer_range: float | None = None) -> Recipe:
    """BERT's init (HF ``BertPreTrainedModel._init_weights``).

    Linear and embedding weights ``N(0, initializer_range)`` (the padding row
    zero), zero biases (the LM head's too), LayerNorm ones and zeros.
    `initializer_range` is read from a model's config where not given, else 0.02.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.bert()
    anyinit.presets.bert(initializer_range=None)
    """

    _check_knob("bert", "initializer_range", initializer_range)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        std = _knob(recipe, model, "initializer_range", default=0.02)

        def rule(slot: Slot) -> Any:
            if slot.kind == "other" and slot.role == "bias":
                return Zeros()  # BertLMPredictionHead.bias (decoder's, tied)
            return _hf(slot, std)

        return rule

    return Recipe("bert", {"initializer_range": initializer_range}, make)


# -- T5 ----------------------------------------------------------------------------------


def t5(
    initializer_factor: float | None = None,
    num_heads: int | None = None,
    d_model: int | None = None,
) -> Recipe:
    """T5's per-matrix init (HF ``T5PreTrainedModel._init_weights``).

    With ``f = initializer_factor``: the query projection ``q`` ``N(0, f·(d_model·d_kv)^-½)``,
    ``k``, ``v``, ``o`` and the feed-forward ``wi``/``wi_0``/``wi_1``/``wo``
    ``N(0, f·fan_in^-½)`` (``d_model``, ``H·d_kv``, ``d_ff``), the shared embedding
    and an untied ``lm_head`` ``N(0, f)``, the relative attention bias
    ``N(0, f·d_model^-½)``, ``T5LayerNorm`` ``f``.

    Parameters
    ----------
    initializer_factor : float, optional
        Read from a model's ``config.initializer_factor``, else 1.0.
    num_heads, d_model : int, optional
        Read from a model's ``config``; ``d_model`` also from the shared embedding.
        The query projection's width must be a multiple of `num_heads`.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.t5(num_heads=8)
    anyinit.presets.t5(initializer_factor=None, num_heads=8, d_model=None)
    """
    _check_count("t5", "num_heads", num_heads)
    _check_knob("t5", "initializer_factor", initializer_factor)
    _check_count("t5", "d_model", d_model)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        f = _knob(recipe, model, "initializer_factor", default=1.0)
        heads = recipe.arguments["num_heads"] or _config(model, "num_heads")
        width = recipe.arguments["d_model"] or _config(model, "d_model")
        if width is None:
            width = next((s.canonical[-1] for s in slots if s.kind == "embedding"), None)

        def rule(slot: Slot) -> Any:
            name = _layer_name(slot)
            if slot.kind == "embedding":
                if name == "relative_attention_bias":
                    return RandomNormal(0.0, f * _required("t5", "d_model", width) ** -0.5)
                return RandomNormal(0.0, f)
            if slot.kind == "norm":
                return Constant(f) if slot.role == "scale" else Zeros()
            if slot.kind not in (*_KERNELS, "attention"):
                return None
            if slot.role != "kernel":
                return Zeros() if slot.role == "bias" else None
            fan_in = kernel_fan_in(slot.canonical)
            if name == "lm_head":
                return RandomNormal(0.0, f)
            if name == "q":
                count = _required("t5", "num_heads", heads)
                if slot.canonical[-1] % count:
                    msg = (
                        f"the 't5' recipe: {slot.path!r} has {slot.canonical[-1]} outputs, not a "
                        f"multiple of num_heads={count}; pass the model's num_heads."
                    )
                    raise ValueError(msg)
                head_dim = slot.canonical[-1] // count
                return RandomNormal(0.0, f * (fan_in * head_dim) ** -0.5)
            return RandomNormal(0.0, f * fan_in**-0.5)

        return rule

    arguments = {
        "initializer_factor": initializer_factor,
        "num_heads": num_heads,
        "d_model": d_model,
    }
    return Recipe("t5", arguments, make)


# -- ViT ---------------------------------------------------------------------------------


def vit(mode: str = "", head_bias: float = 0.0) -> Recipe:
    """timm's ``VisionTransformer.init_weights(mode)``.

    ``mode=""`` (timm's default, ``init_weights_vit_timm``): Linear weights
    ``N(0, 0.02)`` (timm's ``trunc_normal_(std=.02)``, truncated at ±2 absolute,
    ±100σ), zero biases; everything else its module's own init (torch's, as the
    ``"torch"`` preset: the patch-embedding Conv2d, LayerNorm); ``pos_embed``
    ``N(0, 0.02)``, ``cls_token``/``reg_token`` ``N(0, 10⁻⁶)``. ``mode="jax"``
    (``init_weights_vit_jax``): Linear weights ``xavier_uniform_``, the head's
    zero (its bias `head_bias`), MLP biases ``N(0, 10⁻⁶)``, other biases zero, the
    patch embedding ``lecun_normal_``.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.vit("jax")
    anyinit.presets.vit(mode='jax', head_bias=0.0)
    """
    if mode not in ("", "jax"):
        msg = f"`mode` must be '' (timm's default) or 'jax'; received mode={mode!r}."
        raise ValueError(msg)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        jax_mode = recipe.arguments["mode"] == "jax"
        torch_rule = presets.PRESETS["torch"]
        tokens = {"pos_embed": 0.02, "cls_token": 1e-6, "reg_token": 1e-6}

        def rule(slot: Slot) -> Any:
            if slot.kind == "other" and slot.role in tokens:
                return RandomNormal(0.0, tokens[slot.role])
            if slot.kind == "dense":
                if not jax_mode:
                    return RandomNormal(0.0, 0.02) if slot.role == "kernel" else Zeros()
                if slot.path.startswith("head."):
                    return (
                        Zeros()
                        if slot.role == "kernel"
                        else Constant(recipe.arguments["head_bias"])
                    )
                if slot.role == "kernel":
                    return GlorotUniform()
                return RandomNormal(0.0, 1e-6) if ".mlp." in f".{slot.path}" else Zeros()
            if jax_mode and slot.kind == "conv":
                return LecunNormal() if slot.role == "kernel" else Zeros()
            return torch_rule(slot)

        return rule

    return Recipe("vit", {"mode": mode, "head_bias": head_bias}, make)


RECIPES.update(
    {
        "gpt2": gpt2,
        "llama": llama,
        "bert": bert,
        "t5": t5,
        "vit": vit,
        **FIELD_RECIPES,
        **RESIDUAL_RECIPES,
    }
)


# -- muP ---------------------------------------------------------------------------------


def _std(init: Any, shape: tuple[int, ...]) -> float | None:
    """The standard deviation of a zero-mean law at `shape`, or None (a constant, other)."""
    from ..initializers.random import RandomUniform, VarianceScaling

    if isinstance(init, RandomNormal) and init.mean == 0:
        return float(init.stddev)
    if isinstance(init, TruncatedNormal) and init.mean == 0:
        return float(init.stddev)  # the scale parameter: scaling it scales the law
    if isinstance(init, RandomUniform) and init.minval == -init.maxval:
        return float(init.maxval) / math.sqrt(3.0)
    if isinstance(init, VarianceScaling):
        return math.sqrt(init.variance(shape))
    return None


def _with_std(init: Any, shape: tuple[int, ...], std: float) -> Any:
    """`init`'s family of law, with standard deviation `std` (its shape no longer counts)."""
    from ..initializers.random import RandomUniform, VarianceScaling

    if isinstance(init, RandomNormal):
        return RandomNormal(0.0, std)
    if isinstance(init, TruncatedNormal):
        return TruncatedNormal(0.0, std, lower=init.lower, upper=init.upper)
    if isinstance(init, RandomUniform):
        return RandomUniform(-std * math.sqrt(3.0), std * math.sqrt(3.0))
    if isinstance(init, VarianceScaling):
        if init.distribution == "uniform":
            return RandomUniform(-std * math.sqrt(3.0), std * math.sqrt(3.0))
        if init.distribution == "untruncated_normal":
            return RandomNormal(0.0, std)
        return TruncatedNormal(0.0, std / TRUNCATED_STD)
    return init


def mup_class(canonical: tuple[int, ...], base: tuple[int, ...]) -> str:
    """muP's class of a parameter from its canonical shape and its base shape: ``"hidden"``
    (fan_in and fan_out both grow with width), ``"output"`` (only fan_in), ``"input"``
    (only fan_out, or a vector: biases, norms), ``"fixed"`` (nothing grows)."""
    if len(canonical) != len(base):
        msg = f"a parameter of shape {canonical} has base shape {base}: the ranks differ."
        raise ValueError(msg)
    grows = [n != b for n, b in zip(canonical, base, strict=True)]
    if not any(grows):
        return "fixed"
    if len(canonical) < 2:
        return "input"
    fan_in = any(grows[:-1])
    fan_out = grows[-1]
    return "hidden" if fan_in and fan_out else "output" if fan_in else "input"


def mup(
    base: Any,
    recipe: Any = "torch",
    *,
    readout: str = "mup",
    names: Mapping[str, str] | None = None,
) -> Recipe:
    """muP's initialisation (Tensor Programs V; the ``mup`` package): `recipe` at `base`'s width.

    Each parameter is classed by which of its fans grow from `base` (a model
    of the same architecture at the base width, or ``{path: canonical shape}``)
    to the model: input weights, biases and norms keep the recipe's standard
    deviation at the base shape; hidden weights get it times
    ``√(base fan_in / fan_in)``; output (readout) weights keep it
    (``readout="mup"``, as ``mup.init`` does: the readout's ``1/width_mult``
    multiplier, ``mup.MuReadout``, does the rest in the forward pass), or are
    zero (``"zero"``), or get it times ``base fan_in / fan_in`` (``"scaled"``: the
    multiplier folded into the init, for a model without ``MuReadout``).

    Only the initialisation: muP also needs its optimizer scaling
    (``mup.MuAdam``/``MuSGD``: per-class learning rates) and the readout
    multiplier, which are not initialisation and not here.

    Parameters
    ----------
    base
        The base model (any framework ``initialize`` takes) or its shapes.
    recipe : str or Recipe, default "torch"
        The law at the base width: a framework preset or a recipe.
    readout : {"mup", "zero", "scaled"}, default "mup"
    names : mapping, optional
        Renames for the base's paths, as :func:`anyinit.initialize`'s `names` are for the
        model's (give the same ones where the two need them).

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> def mlp(width):
    ...     return {"fc1": {"kernel": np.zeros((16, width), np.float32)},
    ...             "fc2": {"kernel": np.zeros((width, width), np.float32)}}
    >>> big = anyinit.initialize(mlp(1024), anyinit.presets.mup(mlp(64), "bert"), seed=0)
    >>> round(float(big["fc1"]["kernel"].std()), 3), round(float(big["fc2"]["kernel"].std()), 4)
    (0.02, 0.005)
    """
    if readout not in ("mup", "zero", "scaled"):
        msg = f"`readout` must be 'mup', 'zero' or 'scaled'; received readout={readout!r}."
        raise ValueError(msg)
    if not isinstance(recipe, (str, Recipe)):
        msg = (
            "`recipe` must be a preset or recipe name ('torch', 'gpt2', …) or a Recipe "
            f"(anyinit.presets.gpt2(...)): the law at the base width; received "
            f"{type(recipe).__name__}."
        )
        raise TypeError(msg)
    check_names(names)

    def make(this: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        base_shapes = _base_shapes(this.arguments["base"], this.arguments["names"])
        _check_widths(slots, base_shapes)
        inner = this.arguments["recipe"]
        if isinstance(inner, str):
            inner = RECIPES[inner]() if inner in RECIPES else inner
        if isinstance(inner, Recipe):
            base_rule = inner.bind(
                [_at_base(s, base_shapes) for s in slots], this.arguments["base"]
            )
        else:
            base_rule = presets.preset_rule(inner)

        def rule(slot: Slot) -> Any:
            at_base = _at_base(slot, base_shapes)
            init = base_rule(at_base)
            kind = mup_class(slot.canonical, at_base.canonical)
            if init is None or isinstance(init, presets.Blocks) or kind in ("fixed",):
                return init
            std = _std(init, at_base.canonical)
            if std is None:
                return init
            if kind == "hidden":
                std *= math.sqrt(kernel_fan_in(at_base.canonical) / kernel_fan_in(slot.canonical))
            elif kind == "output":
                if this.arguments["readout"] == "zero":
                    return Zeros()
                if this.arguments["readout"] == "scaled":
                    std *= kernel_fan_in(at_base.canonical) / kernel_fan_in(slot.canonical)
            return _with_std(init, at_base.canonical, std)

        return rule

    arguments = {"base": base, "recipe": recipe, "readout": readout, "names": names}
    return Recipe("mup", arguments, make)


def _check_widths(slots: list[Slot], base_shapes: dict[str, tuple[int, ...]]) -> None:
    """The base and the model are one architecture, with no zero-width parameter: muP's
    ratios of fans would divide by zero (or give all-zero weights)."""
    for where, shapes in (
        ("the muP base", base_shapes),
        ("the model", {s.path: s.canonical for s in slots}),
    ):
        empty = next((p for p, shape in shapes.items() if 0 in shape), None)
        if empty is not None:
            msg = (
                f"{where} has a zero-width parameter {empty!r} of shape {shapes[empty]}: muP "
                "scales by ratios of widths, which must be >= 1."
            )
            raise ValueError(msg)
    missing = next((s.path for s in slots if s.path not in base_shapes), None)
    if missing is not None:
        msg = (
            f"the muP base has no parameter {missing!r}; the base must be the same "
            "architecture (same paths) at the base width."
        )
        raise ValueError(msg)
    extra = sorted(set(base_shapes) - {s.path for s in slots})
    if extra:
        shown = ", ".join(repr(p) for p in extra[:4]) + (" …" if len(extra) > 4 else "")
        msg = (
            f"the muP base has parameters the model lacks ({shown}); the base must be the same "
            "architecture (same paths) at the base width."
        )
        raise ValueError(msg)


def _base_shapes(base: Any, names: Mapping[str, str] | None = None) -> dict[str, tuple[int, ...]]:
    from . import walkers

    if isinstance(base, dict) and all(isinstance(v, tuple) for v in base.values()):
        return {str(k): tuple(int(n) for n in v) for k, v in base.items()}
    shapes = {}
    for slot in walkers.walker_for(base).slots(base, names):
        for leaf in slot.info.get("parts", (slot,)):
            shapes[leaf.path] = leaf.canonical
    return shapes


def _at_base(slot: Slot, shapes: dict[str, tuple[int, ...]]) -> Slot:
    """`slot` as it is in the base model (its canonical shape there)."""
    import copy

    at_base = copy.copy(slot)
    at_base.canonical = shapes.get(slot.path, slot.canonical)
    kernel = slot.info.get("kernel")
    if kernel is not None:
        at_base.info = {**slot.info, "kernel": _at_base(kernel, shapes)}
    return at_base
