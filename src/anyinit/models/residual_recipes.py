"""Recipes that make deep residual networks trainable from their init: DeepNet, ReZero,
Fixup, T-Fixup and ZerO.

Each defines the laws of a network's residual branches; every other parameter keeps
the law of `base` (a framework preset or a recipe, ``"torch"`` by default), so the
recipe never guesses a law its paper does not give. Sublayers are read by name, in
every framework's spelling and HF's: the attention's query, key, value and output
projections (``q_proj``/``query``/``wq``/``to_q``, …; torch's packed ``in_proj``
split; a packed ``c_attn``/``qkv`` cut in three equal parts), the feed-forward layers
(``fc1``/``fc2``, ``linear1``/``linear2``, ``c_fc``, ``w1``/``w2``/``w3``, …); the
convolutions ``conv1`` … ``convm`` of a residual block (torchvision's and the
references' names). A model with both an ``encoder`` and a ``decoder`` stack gets each
stack's law.

Sources: Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers" (Figure 2's
``deepnorm_init`` and Table 1's β; torchscale ``torchscale/architecture``); Bachlechner
et al. 2020, "ReZero is All You Need" (``majumderb/rezero``: ``resweight = 0``); Zhang et
al. 2019, "Fixup Initialization" (``hongyi-zhang/Fixup`` ``fixup_resnet_imagenet.py``);
Huang et al. 2020, "Improving Transformer Optimization Through Better Initialization"
(T-Fixup, ``layer6ai-labs/T-Fixup``, on fairseq's ``MultiheadAttention``); Zhao et al.
2022, "ZerO Initialization" (``jiaweizzhao/ZerO-initialization``, Algorithms 1 and 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..initializers.constant import Ones, Zeros
from ..initializers.hadamard import ZerO
from ..initializers.random import RandomNormal, VarianceScaling
from . import presets
from .field_recipes import is_residual_output
from .recipe_base import Recipe, _check_count, _count_blocks, _layer_name, block_index
from .slots import Slot

__all__ = ["RESIDUAL_RECIPES", "deepnet", "fixup", "rezero", "sublayer", "t_fixup", "zero_init"]

_QUERY = frozenset({"q_proj", "query", "q", "wq", "to_q", "q_lin"})
_KEY = frozenset({"k_proj", "key", "k", "wk", "to_k", "k_lin"})
_VALUE = frozenset({"v_proj", "value", "v", "wv", "to_v", "v_lin"})
_OUT = frozenset({"out_proj", "o_proj", "o", "to_out", "out_lin"})
_PACKED = frozenset({"c_attn", "qkv", "query_key_value", "wqkv", "in_proj", "Wqkv"})
_FFN = frozenset(
    {
        "fc1", "fc2", "c_fc", "w1", "w2", "w3", "gate_proj", "up_proj", "down_proj",
        "dense_h_to_4h", "dense_4h_to_h", "linear1", "linear2", "lin1", "lin2",
        "wi", "wi_0", "wi_1", "linear_fc1", "linear_fc2",
    }
)  # fmt: skip
_ATTENTION_PARENTS = ("attn", "attention")
#: Module names whose Linear layers are all a feed-forward block's (x-transformers' ``ff``,
#: torchtitan's ``feed_forward``, T5's ``DenseReluDense``), whatever the layers are called.
_FFN_PARENTS = frozenset({"ff", "ffn", "feed_forward", "feedforward", "DenseReluDense"})


def _parents(slot: Slot) -> list[str]:
    return slot.layer.split(".")[:-1]


def sublayer(slot: Slot) -> str | None:
    """Which transformer sublayer `slot` belongs to: ``"query"``, ``"key"``, ``"value"``,
    ``"out"``, ``"qkv"`` (packed), ``"ffn"``, or None (not a sublayer by its name)."""
    attention = slot.info.get("attention")
    if attention in ("query", "key", "value", "out"):
        return str(attention)
    if slot.kind not in ("dense", "attention"):
        return None
    name = _layer_name(slot)
    parents = _parents(slot)
    parent = parents[-1] if parents else ""
    if name.isdigit() and parent in _OUT:  # diffusers' to_out = [Linear, Dropout]
        return "out"
    if any(p in _FFN_PARENTS for p in parents):  # ff.layers.0.layers.0: a Sequential's
        return "ffn"
    in_attention = any(p.endswith(_ATTENTION_PARENTS) for p in parents[-2:])
    if name in _QUERY:
        return "query"
    if name in _KEY:
        return "key"
    if name in _VALUE:
        return "value"
    if name in _PACKED:
        return "qkv"
    if name in _OUT:
        return "out"
    if name in ("wo", "c_proj", "dense"):
        if in_attention:  # torchtitan's attention.wo, GPT-2's attn.c_proj, BERT's, NeoX's
            return "out"
        if name == "dense" and parent not in ("intermediate", "output"):
            return None  # BERT's pooler, a classifier's dense: not a block's sublayer
        return "ffn"  # T5's DenseReluDense.wo, GPT-2's mlp.c_proj, BERT's FFN dense
    return "ffn" if name in _FFN else None


def _base_rule(base: Any, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
    from .recipe_base import RECIPES

    if isinstance(base, str) and base in RECIPES:
        base = RECIPES[base]()
    if isinstance(base, Recipe):
        return base.bind(slots, model)
    return presets.preset_rule(base)


def _stack(slot: Slot) -> str | None:
    parts = slot.path.split(".")
    if any(p.startswith("decoder") for p in parts):
        return "decoder"
    if any(p.startswith("encoder") for p in parts):
        return "encoder"
    return None


def _stack_depths(
    recipe: str, slots: Sequence[Slot], encoder: int | None, decoder: int | None
) -> tuple[int, int | None]:
    """``(N, M)``: the encoder's and the decoder's number of blocks (M None: one stack)."""
    counted = {
        which: _count_blocks([s for s in slots if _stack(s) == which])
        for which in ("encoder", "decoder")
    }
    n = encoder or counted["encoder"]
    m = decoder or counted["decoder"]
    if n and m:
        return n, m
    single = n or m or _count_blocks(slots)
    if single is None:
        msg = (
            f"the {recipe!r} recipe needs the number of blocks: the paths have no numbered "
            f"blocks; pass anyinit.presets.{recipe}(encoder_layers=…)."
        )
        raise ValueError(msg)
    return single, None


def _packed(law_of: Callable[[str], Any], slot: Slot, recipe: str) -> presets.Blocks:
    """A packed q|k|v kernel as three blocks with each projection's law."""
    width = slot.canonical[-1]
    if width % 3 or width // 3 != slot.canonical[0]:
        msg = (
            f"the {recipe!r} recipe: {slot.path!r} packs projections of shape {slot.canonical} "
            "that are not three equal square parts (grouped-query attention?); give it a law "
            "with a path rule."
        )
        raise ValueError(msg)
    part = width // 3
    return presets.Blocks(tuple((law_of(which), part) for which in ("query", "key", "value")))


def _sublayer_law(
    slot: Slot, recipe: str, fallback: Callable[[Slot], Any], law_of: Callable[[str], Any]
) -> Any:
    """A transformer sublayer's kernel by `law_of` its part (a packed q|k|v by each third's),
    its bias zero; anything else `fallback`'s."""
    which = sublayer(slot)
    if which is None or slot.role not in ("kernel", "bias"):
        return fallback(slot)
    if slot.role == "bias":
        return Zeros()
    return _packed(law_of, slot, recipe) if which == "qkv" else law_of(which)


def _xavier(gain: float, distribution: str) -> VarianceScaling:
    """``xavier_<distribution>_(w, gain)``: variance ``gain²·2/(fan_in + fan_out)``."""
    return VarianceScaling(gain * gain, "fan_avg", distribution)


# -- DeepNet -----------------------------------------------------------------------------


def deepnet(
    encoder_layers: int | None = None,
    decoder_layers: int | None = None,
    *,
    base: Any = "torch",
) -> Recipe:
    """DeepNet's ``deepnorm_init`` (Wang et al. 2022, Figure 2).

    The feed-forward, value and output projections ``xavier_normal_(gain=β)``, the query
    and key projections ``xavier_normal_(gain=1)``, their biases zero. β (Table 1): one
    stack of ``L`` blocks ``(8L)^-¼``; an encoder of ``N`` and a decoder of ``M`` blocks
    ``0.87·(N⁴M)^-1/16`` (encoder) and ``(12M)^-¼`` (decoder). DeepNorm's residual scale
    α (``(2L)^¼``; ``0.81·(N⁴M)^1/16`` and ``(3M)^¼``) belongs to the forward pass, not
    the init. Everything else: `base`.

    Parameters
    ----------
    encoder_layers, decoder_layers : int, optional
        Counted from the paths (blocks under ``encoder``/``decoder``, or all of them).
    base : str or Recipe, default "torch"
        The law of the parameters DeepNet does not define.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.deepnet(12).arguments["encoder_layers"]
    12
    """
    _check_count("deepnet", "encoder_layers", encoder_layers)
    _check_count("deepnet", "decoder_layers", decoder_layers)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        n, m = _stack_depths("deepnet", slots, encoder_layers, decoder_layers)
        if m is None:  # one stack: every sublayer's β is (8L)^-¼
            beta = dict.fromkeys(("encoder", "decoder", None), (8 * n) ** -0.25)
        else:
            encoder_beta = 0.87 * (n**4 * m) ** (-1 / 16)
            beta = {"encoder": encoder_beta, "decoder": (12 * m) ** -0.25, None: encoder_beta}
        fallback = _base_rule(recipe.arguments["base"], slots, model)

        def rule(slot: Slot) -> Any:
            scaled = beta[_stack(slot)]

            def law(part: str) -> VarianceScaling:
                return _xavier(1.0 if part in ("query", "key") else scaled, "untruncated_normal")

            return _sublayer_law(slot, "deepnet", fallback, law)

        return rule

    arguments = {"encoder_layers": encoder_layers, "decoder_layers": decoder_layers, "base": base}
    return Recipe("deepnet", arguments, make)


# -- ReZero ------------------------------------------------------------------------------

#: The names ReZero's residual weight goes by (the reference's ``resweight`` first).
REZERO_NAMES = ("resweight", "res_weight", "rezero_weight", "rezero_alpha", "rezero")


def rezero(base: Any = "torch", *, names: Sequence[str] = REZERO_NAMES) -> Recipe:
    """ReZero (Bachlechner et al. 2020): every residual weight ``α = 0``, so each block
    starts as the identity; everything else `base`.

    Parameters
    ----------
    base : str or Recipe, default "torch"
    names : sequence of str
        The parameter names of the residual weights (``resweight``, the reference's, and
        its common spellings).

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.rezero(names=("alpha",)).arguments["names"]
    ('alpha',)
    """
    names = tuple(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        msg = f"`names` must be non-empty parameter names; received {names!r}."
        raise ValueError(msg)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        fallback = _base_rule(recipe.arguments["base"], slots, model)
        chosen = recipe.arguments["names"]
        if not any(slot.role in chosen for slot in slots):
            msg = (
                f"the 'rezero' recipe found no residual weight named {chosen} in the model; "
                "pass anyinit.presets.rezero(names=(…)) with the names your blocks use."
            )
            raise ValueError(msg)

        def rule(slot: Slot) -> Any:
            return Zeros() if slot.role in chosen else fallback(slot)

        return rule

    return Recipe("rezero", {"base": base, "names": names}, make)


# -- Fixup -------------------------------------------------------------------------------


def _conv_branches(slots: Sequence[Slot]) -> dict[str, int]:
    """Each residual block (the layer path holding ``conv1`` … ``convm``) and its ``m``."""
    found: dict[str, set[int]] = {}
    for slot in slots:
        name = _layer_name(slot)
        if slot.kind == "conv" and slot.role == "kernel" and name.startswith("conv"):
            number = name[4:]
            if number.isdigit():
                found.setdefault(slot.layer.rpartition(".")[0], set()).add(int(number))
    return {
        block: max(numbers)
        for block, numbers in found.items()
        if len(numbers) >= 2 and numbers == set(range(1, max(numbers) + 1))
    }


def _branch_of(slot: Slot, branches: dict[str, int]) -> tuple[str, int] | None:
    """The residual block `slot`'s conv ``conv<i>`` belongs to, and ``i``."""
    name = _layer_name(slot)
    block = slot.layer.rpartition(".")[0]
    if block in branches and name.startswith("conv") and name[4:].isdigit():
        return block, int(name[4:])
    return None


def fixup(n_layer: int | None = None, *, base: Any = "torch") -> Recipe:
    """Fixup (Zhang et al. 2019, ``fixup_resnet_imagenet.py``) for residual conv nets.

    In each of the ``L`` residual blocks (``conv1`` … ``convm``): ``conv1`` … ``conv(m-1)``
    He normal by fan-out times ``L^(-1/(2m-2))``, ``convm`` zero, a ``downsample`` conv He
    normal by fan-out; every Linear (the classifier) zero, weight and bias; the scalar
    biases (``bias1a``, …) zero and multipliers (``scale``) one; everything else (the
    stem, norms) `base`.

    Parameters
    ----------
    n_layer : int, optional
        ``L``: counted from the blocks holding ``conv1`` … ``convm``.
    base : str or Recipe, default "torch"

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.fixup(8).arguments["n_layer"]
    8
    """
    _check_count("fixup", "n_layer", n_layer)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        branches = _conv_branches(slots)
        if not branches:
            msg = (
                "the 'fixup' recipe found no residual block (a module holding conv1 … convm); "
                "it describes residual conv nets (ResNet's BasicBlock and Bottleneck)."
            )
            raise ValueError(msg)
        count = recipe.arguments["n_layer"] or len(branches)
        fallback = _base_rule(recipe.arguments["base"], slots, model)
        he_fan_out = VarianceScaling(2.0, "fan_out", "untruncated_normal")

        def rule(slot: Slot) -> Any:
            if slot.kind == "dense" and slot.role in ("kernel", "bias"):
                return Zeros()
            if slot.kind == "other" and slot.role.startswith("bias"):
                return Zeros()
            if slot.kind == "other" and slot.role == "scale":
                return Ones()
            found = _branch_of(slot, branches)
            if found is not None and slot.role == "kernel":
                block, index = found
                m = branches[block]
                if index == m:
                    return Zeros()
                return VarianceScaling(
                    2.0 * count ** (-1 / (m - 1)), "fan_out", "untruncated_normal"
                )
            in_block = any(slot.layer.startswith(f"{block}.downsample") for block in branches)
            if slot.kind == "conv" and slot.role == "kernel" and in_block:
                return he_fan_out
            return fallback(slot)

        return rule

    return Recipe("fixup", {"n_layer": n_layer, "base": base}, make)


# -- T-Fixup -----------------------------------------------------------------------------


def t_fixup(
    encoder_layers: int | None = None,
    decoder_layers: int | None = None,
    *,
    base: Any = "torch",
) -> Recipe:
    """T-Fixup (Huang et al. 2020) on fairseq's transformer, as its reference does it.

    Xavier uniform everywhere (the query and key projections with fairseq's gain
    ``1/√2``), then: in the encoder's ``N`` blocks the value and output projections and
    the feed-forward layers scaled by ``0.67·N^-¼`` (the value projection's fairseq gain
    undone: ``√2``); in the decoder's ``M`` blocks (self- and cross-attention) by
    ``(9M)^-¼``; the embeddings ``N(0, d^-½)``, scaled by ``(9M)^-¼`` where there is a
    decoder. One stack is read as an encoder. Biases of these layers zero; everything
    else `base`.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.t_fixup(6, 6).arguments["decoder_layers"]
    6
    """
    _check_count("t_fixup", "encoder_layers", encoder_layers)
    _check_count("t_fixup", "decoder_layers", decoder_layers)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        n, m = _stack_depths("t_fixup", slots, encoder_layers, decoder_layers)
        scale = {"encoder": 0.67 * n**-0.25, None: 0.67 * n**-0.25}
        scale["decoder"] = (9 * m) ** -0.25 if m is not None else scale["encoder"]
        embedding_scale = (9 * m) ** -0.25 if m is not None else 1.0
        fallback = _base_rule(recipe.arguments["base"], slots, model)

        def rule(slot: Slot) -> Any:
            if slot.kind == "embedding":
                return RandomNormal(0.0, slot.canonical[-1] ** -0.5 * embedding_scale)
            factor = scale[_stack(slot)]

            def law(part: str) -> VarianceScaling:
                gain = 1 / math.sqrt(2) if part in ("query", "key") else factor
                return _xavier(gain, "uniform")

            return _sublayer_law(slot, "t_fixup", fallback, law)

        return rule

    arguments = {"encoder_layers": encoder_layers, "decoder_layers": decoder_layers, "base": base}
    return Recipe("t_fixup", arguments, make)


# -- ZerO --------------------------------------------------------------------------------


def zero_init(base: Any = "torch") -> Recipe:
    """ZerO (Zhao et al. 2022): deterministic, from zeros and ones.

    Every Linear and conv kernel :class:`~anyinit.initializers.hadamard.ZerO` (the
    partial identity where the layer keeps or narrows the width, a normalised Hadamard
    where it widens; convolutions at the centre tap); the last layer of each residual
    branch zero (``convm`` of a residual conv block; a transformer block's output and
    feed-forward output projections); biases zero; everything else (embeddings, norms)
    `base`.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> tree = {"fc": {"kernel": np.ones((4, 2), np.float32)}}
    >>> anyinit.initialize(tree, "zero_init", seed=0)["fc"]["kernel"].tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]
    """

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        branches = _conv_branches(slots)
        fallback = _base_rule(recipe.arguments["base"], slots, model)

        def rule(slot: Slot) -> Any:
            if slot.kind not in ("dense", "conv", "attention"):
                return fallback(slot)
            if slot.role == "bias":
                return Zeros()
            if slot.role != "kernel":
                return fallback(slot)
            found = _branch_of(slot, branches)
            last_conv = found is not None and found[1] == branches[found[0]]
            if last_conv or (is_residual_output(slot) and block_index(slot) is not None):
                return Zeros()
            return ZerO()

        return rule

    return Recipe("zero_init", {"base": base}, make)


#: This module's recipes by name (``anyinit.presets.RECIPES`` holds them with the others).
RESIDUAL_RECIPES: dict[str, Callable[[], Recipe]] = {
    "deepnet": deepnet,
    "rezero": rezero,
    "fixup": fixup,
    "t_fixup": t_fixup,
    "zero_init": zero_init,
}
