"""The recipes large-model codebases use: GPT-NeoX, Megatron, OLMo, torchtitan and Mamba.

Each is what its reference's init code does, written as rules on slots like the
recipes of :mod:`anyinit.models.recipes`, so it applies to the same architecture in
any framework and :func:`anyinit.audit` can test a model against it. The references
pick layers by name; so do these, knowing each codebase's names and HF's:

* the residual outputs of a block (the projections whose std a depth scaling divides):
  ``o_proj``/``down_proj`` (HF), ``wo``/``w2`` (torchtitan, Meta), ``w_out``/``w2``
  (OLMo-core), ``attn_out``/``ff_out`` (OLMo), ``dense``/``dense_4h_to_h`` (GPT-NeoX,
  Megatron's legacy names), ``linear_proj``/``linear_fc2`` (Megatron core), ``c_proj``
  (GPT-2), ``out_proj`` (Mamba; torch's and Flax's attention ``out``), ``fc2``,
  ``linear2`` (torch's ``TransformerEncoderLayer``), ``lin2``/``out_lin`` (DistilBERT);
* the final output (the unembedding): ``lm_head``, ``output``, ``embed_out``, or an
  ``ff_out``/``w_out`` outside the blocks.

Sources (read for these recipes, December 2026):

* GPT-NeoX ``megatron/model/init_functions.py`` (``small_init_init_method``,
  ``wang_init_method``) and ``megatron/model/gpt2_model.py`` (which layers get which);
* Megatron-LM ``megatron/core/utils.py`` (``init_method_normal``,
  ``scaled_init_method_normal``) and ``megatron/core/transformer/transformer_config.py``;
* OLMo-core ``src/olmo_core/nn/transformer/init.py`` (``InitMethod``: normal, llama,
  llama_depth) and OLMo ``olmo/initialization.py``, ``olmo/model.py`` (``mitchell``,
  ``full_megatron``);
* torchtitan ``torchtitan/models/llama3/model/model.py`` (``init_weights``);
* ``transformers/models/mamba/modeling_mamba.py`` (``MambaPreTrainedModel._init_weights``,
  ``MambaMixer.init_mamba_weights``) and mamba_ssm ``mamba_ssm/modules/mamba_simple.py``,
  ``mamba_ssm/models/mixer_seq_simple.py`` (``_init_weights``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..initializers.constant import Constant, Ones, Zeros
from ..initializers.random import RandomNormal, RandomUniform, TruncatedNormal
from ..initializers.softplus import InverseSoftplusLogUniform
from . import presets
from .recipe_base import (
    Recipe,
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
from .slots import Slot, kernel_fan_in

__all__ = ["FIELD_RECIPES", "mamba", "megatron", "neox", "olmo", "torchtitan"]

#: The names of a block's residual output projections (see the module's docstring).
RESIDUAL_OUTPUTS = frozenset(
    {
        "o_proj",
        "down_proj",
        "wo",
        "w2",
        "w_out",
        "attn_out",
        "ff_out",
        "dense_4h_to_h",
        "linear_proj",
        "linear_fc2",
        "c_proj",
        "out_proj",
        "out",
        "fc2",
        "linear2",
        "lin2",
        "out_lin",
    }
)
#: The names of a block's up projection, which torchtitan and OLMo-core's llama schemes
#: scale with the outputs (Megatron and GPT-NeoX do not).
UP_PROJECTIONS = frozenset({"up_proj", "w3"})
#: The names of the unembedding when it is outside the blocks.
FINAL_OUTPUTS = frozenset({"lm_head", "output", "embed_out", "ff_out", "w_out"})


#: Residual-output names that also name the unembedding outside the blocks (OLMo's).
_ALSO_FINAL = frozenset({"ff_out", "w_out"})


def is_residual_output(slot: Slot) -> bool:
    """Whether `slot` is a kernel of a block's residual output projection."""
    if slot.role != "kernel" or slot.kind not in ("dense", "attention"):
        return False
    name = _layer_name(slot)
    if name == "dense":  # GPT-NeoX's and Megatron's attention.dense (not BERT's other ones)
        return slot.layer.rpartition(".")[0].endswith("attention")
    if name in _ALSO_FINAL:
        return block_index(slot) is not None
    return name in RESIDUAL_OUTPUTS


def _block(recipe: str, slot: Slot) -> int:
    """The index of `slot`'s block, which a depth-indexed law needs: read from its path."""
    index = block_index(slot)
    if index is None:
        msg = (
            f"the {recipe!r} recipe scales {slot.path!r} by its block's index, and its path has "
            "none (layers.3, h.3, blocks.3): initialise the whole model, or choose the "
            "scheme that scales by the number of blocks."
        )
        raise ValueError(msg)
    return index


def is_final_output(slot: Slot) -> bool:
    """Whether `slot` is the unembedding's kernel (a dense layer outside the blocks)."""
    if slot.role != "kernel" or slot.kind != "dense" or block_index(slot) is not None:
        return False
    return _layer_name(slot) in FINAL_OUTPUTS or ".lm_head." in f".{slot.layer}."


def _width(recipe: str, argument: str, given: Any, model: Any, slots: list[Slot]) -> int:
    """The model width (``d_model``): given, else the config's, else the embedding's."""
    value = given or _config(model, "hidden_size", "d_model", "n_embd", "dim")
    if value is None:
        value = next((s.canonical[-1] for s in slots if s.kind == "embedding"), None)
    return int(_required(recipe, argument, value))


def _truncated(std: float, cutoff: float) -> TruncatedNormal:
    """``trunc_normal_(std=std, a=-cutoff·std, b=cutoff·std)``."""
    return TruncatedNormal(0.0, std, lower=-cutoff, upper=cutoff)


def _torch_bounded(std: float) -> TruncatedNormal:
    """torch's ``trunc_normal_(std=std)`` with its default absolute bounds ±2."""
    return TruncatedNormal(0.0, std, lower=-2.0 / std, upper=2.0 / std)


def _with_laws(slot: Slot, kernel: Any, *, embedding: Any) -> Any:
    """A transformer's other parameters: `kernel` for dense/conv kernels, `embedding` for
    embeddings, zero biases, norms ones and zeros."""
    if slot.kind == "embedding":
        return embedding
    if slot.kind in ("dense", "conv", "conv_transpose") or (
        slot.kind == "attention" and slot.info.get("attention") is not None
    ):
        if slot.role == "kernel":
            return kernel
        return Zeros() if slot.role == "bias" else None
    if slot.kind == "norm":
        return presets.norm_rule(slot)
    return None


# -- GPT-NeoX ----------------------------------------------------------------------------


def neox(hidden_size: int | None = None, n_layer: int | None = None) -> Recipe:
    """GPT-NeoX's ``small_init`` with ``wang_init`` on the residual outputs.

    Every Linear and embedding weight ``N(0, √(2/(5d)))`` (``small_init``, Nguyen &
    Salazar 2019); the residual output projections (``attention.dense``,
    ``mlp.dense_4h_to_h``, and their other names) ``N(0, 2/(L·√d))`` (``wang_init``,
    from Mesh-Transformer-JAX); biases zero, norms ones and zeros. The configuration
    GPT-NeoX's own 20B and Pythia models were trained with
    (``"init_method": "small_init", "output_layer_init_method": "wang_init"``).

    Parameters
    ----------
    hidden_size : int, optional
        ``d``: read from a model's ``config.hidden_size``, else the embedding width.
    n_layer : int, optional
        ``L``: read from a model's config, else counted from the paths.

    Returns
    -------
    Recipe

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.neox(hidden_size=1024, n_layer=24)
    anyinit.presets.neox(hidden_size=1024, n_layer=24)
    """
    _check_count("neox", "hidden_size", hidden_size)
    _check_count("neox", "n_layer", n_layer)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        d = _width("neox", "hidden_size", recipe.arguments["hidden_size"], model, slots)
        layers = depth(recipe, model, slots)
        small = RandomNormal(0.0, math.sqrt(2 / (5 * d)))
        wang = RandomNormal(0.0, 2 / (layers * math.sqrt(d)))

        def rule(slot: Slot) -> Any:
            if is_residual_output(slot):
                return wang
            return _with_laws(slot, small, embedding=small)

        return rule

    return Recipe("neox", {"hidden_size": hidden_size, "n_layer": n_layer}, make)


# -- Megatron ----------------------------------------------------------------------------


def megatron(
    init_method_std: float | None = None,
    n_layer: int | None = None,
    *,
    use_scaled_init_method: bool = True,
) -> Recipe:
    """Megatron-LM's init: ``init_method_normal`` and ``scaled_init_method_normal``.

    Every Linear and embedding weight (word, position, an untied output layer)
    ``N(0, σ)``; the residual outputs (``linear_proj``/``linear_fc2``, the legacy
    ``attention.dense``/``mlp.dense_4h_to_h``, HF's ``o_proj``/``down_proj``, …)
    ``N(0, σ/√(2L))`` (with `use_scaled_init_method`, Megatron's default); biases
    zero, norms ones and zeros.

    Parameters
    ----------
    init_method_std : float, optional
        ``σ``: read from a model's ``config.init_method_std`` (Megatron's) or
        ``config.initializer_range`` (HF's), else 0.02.
    n_layer : int, optional
        ``L``: read from a model's config, else counted from the paths.
    use_scaled_init_method : bool, default True

    Returns
    -------
    Recipe

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.megatron(0.006, n_layer=32)
    anyinit.presets.megatron(init_method_std=0.006, n_layer=32, use_scaled_init_method=True)
    """
    _check_knob("megatron", "init_method_std", init_method_std)
    _check_count("megatron", "n_layer", n_layer)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        std = _knob(
            recipe, model, "init_method_std", "init_method_std", "initializer_range", default=0.02
        )
        base = RandomNormal(0.0, std)
        scaled = base
        if recipe.arguments["use_scaled_init_method"]:
            scaled = RandomNormal(0.0, std / math.sqrt(2 * depth(recipe, model, slots)))

        def rule(slot: Slot) -> Any:
            return scaled if is_residual_output(slot) else _with_laws(slot, base, embedding=base)

        return rule

    arguments = {
        "init_method_std": init_method_std,
        "n_layer": n_layer,
        "use_scaled_init_method": use_scaled_init_method,
    }
    return Recipe("megatron", arguments, make)


# -- OLMo --------------------------------------------------------------------------------

OLMO_SCHEMES = ("normal", "llama", "llama_depth", "mitchell", "full_megatron")


def olmo(
    scheme: str = "normal",
    init_std: float | None = None,
    *,
    d_model: int | None = None,
    n_layer: int | None = None,
    cutoff: float | None = 3.0,
) -> Recipe:
    """OLMo's init schemes (OLMo-core's ``InitMethod`` and OLMo's ``InitFnType``).

    Every law is ``trunc_normal_(std=s, a=-3s, b=3s)`` (``cutoff``·s), biases zero,
    norms ones and zeros, with ``σ = init_std``, ``d = d_model``, ``L`` blocks and ``i``
    the block's index:

    ``"normal"`` (OLMo-core)
        Every Linear and embedding weight, the output layer's too: ``s = σ``.
    ``"llama"`` / ``"llama_depth"`` (OLMo-core)
        q, k, v and the FFN's ``w1``: ``s = σ``; the attention output, ``w2`` and ``w3``:
        ``s = σ/√(2L)`` (``llama``) or ``σ/√(2(i + 1))`` (``llama_depth``); embeddings
        ``N(0, 1)`` untruncated; the output layer ``s = d^-½``.
    ``"mitchell"`` (OLMo)
        Input projections and embeddings ``s = d^-½``; the attention output
        ``s = 1/√(2·d·(i + 1))``, the FFN output ``s = 1/√(2·h·(i + 1))`` (``h`` its
        fan-in); the output layer ``s = d^-½``.
    ``"full_megatron"`` (OLMo)
        Input projections and embeddings ``s = σ``; the residual outputs ``σ/√(2L)``; the
        output layer ``s = d^-½``.

    Parameters
    ----------
    scheme : {"normal", "llama", "llama_depth", "mitchell", "full_megatron"}
    init_std : float, optional
        ``σ``: read from a model's ``config.initializer_range``, else 0.02.
    d_model, n_layer : int, optional
        Read from a model's config, else the embedding width and the count of blocks.
    cutoff : float or None, default 3.0
        The truncation, in standard deviations (OLMo's ``init_cutoff_factor``). None is
        OLMo's default config: ``"normal"`` untruncated (``normal_``), ``"mitchell"`` and
        ``"full_megatron"`` at 3 (OLMo's ``init_cutoff_factor or 3``); OLMo-core's
        ``llama`` schemes always cut at 3.

    Returns
    -------
    Recipe

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.olmo("llama_depth", init_std=0.02).arguments["scheme"]
    'llama_depth'
    """
    if scheme not in OLMO_SCHEMES:
        msg = f"`scheme` must be one of {OLMO_SCHEMES}; received scheme={scheme!r}."
        raise ValueError(msg)
    _check_knob("olmo", "init_std", init_std)
    _check_count("olmo", "d_model", d_model)
    _check_count("olmo", "n_layer", n_layer)
    if cutoff is not None and (
        isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not cutoff > 0
    ):
        msg = f"the 'olmo' recipe's `cutoff` must be a number > 0 or None; received {cutoff!r}."
        raise ValueError(msg)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        arguments = recipe.arguments
        std = _knob(recipe, model, "init_std", "initializer_range", default=0.02)
        d = _width("olmo", "d_model", arguments["d_model"], model, slots)
        layers = depth(recipe, model, slots) if scheme in ("llama", "full_megatron") else 0

        def law(s: float) -> TruncatedNormal | RandomNormal:
            if arguments["cutoff"] is None:
                return RandomNormal(0.0, s) if scheme == "normal" else _truncated(s, 3.0)
            return _truncated(s, float(arguments["cutoff"]))

        def rule(slot: Slot) -> Any:
            name = _layer_name(slot)
            if scheme == "normal":
                return _with_laws(slot, law(std), embedding=law(std))
            if is_final_output(slot):
                return law(d**-0.5)
            if scheme in ("llama", "llama_depth"):
                scaled = is_residual_output(slot) or (
                    name in UP_PROJECTIONS and slot.role == "kernel"
                )
                if scaled:
                    depth = 2 * layers if scheme == "llama" else 2 * (_block("olmo", slot) + 1)
                    return law(std / math.sqrt(depth))
                return _with_laws(slot, law(std), embedding=RandomNormal(0.0, 1.0))
            if scheme == "mitchell":
                if is_residual_output(slot):
                    is_attention = name in (
                        "o_proj",
                        "wo",
                        "w_out",
                        "attn_out",
                        "dense",
                        "linear_proj",
                        "c_proj",
                        "out_proj",
                    ) and not (name == "c_proj" and ".mlp." in f".{slot.layer}.")
                    fan_in = d if is_attention else kernel_fan_in(slot.canonical)
                    return law(1 / math.sqrt(2 * fan_in * (_block("olmo", slot) + 1)))
                return _with_laws(slot, law(d**-0.5), embedding=law(d**-0.5))
            # full_megatron
            if is_residual_output(slot):
                return law(std / math.sqrt(2 * layers))
            return _with_laws(slot, law(std), embedding=law(std))

        return rule

    arguments = {
        "scheme": scheme,
        "init_std": init_std,
        "d_model": d_model,
        "n_layer": n_layer,
        "cutoff": cutoff,
    }
    return Recipe("olmo", arguments, make)


# -- torchtitan --------------------------------------------------------------------------


def torchtitan(
    depth_init: bool = True, n_layer: int | None = None, *, dim: int | None = None
) -> Recipe:
    """torchtitan's LLaMA init (``Transformer.init_weights``).

    Token embeddings ``N(0, 1)``; q, k, v and the FFN's ``w1`` (gate)
    ``trunc_normal_(std=0.02)``; the attention output ``wo`` and the FFN's ``w2``
    (down) and ``w3`` (up) ``trunc_normal_(std=s)`` with ``s = 0.02/√(2(i + 1))``
    (`depth_init`, torchtitan's default) or ``0.02/√(2L)``, all with torch's default
    bounds ±2 (absolute, so 100σ or more: untruncated in effect); norms ones; the
    output layer ``trunc_normal_(std=dim^-½, a=-3·dim^-½, b=3·dim^-½)``. HF's names
    (``gate_proj``, ``up_proj``, ``down_proj``, ``o_proj``, ``lm_head``) are read as
    torchtitan's; biases zero (its ``Linear`` configs' ``zeros_``).

    Parameters
    ----------
    depth_init : bool, default True
        ``s`` by the block's index (torchtitan's default; its only law since 0.3) or by
        the number of blocks.
    n_layer : int, optional
        ``L`` (without `depth_init`): read from a model's config, else counted.
    dim : int, optional
        The model width: read from a model's config, else the embedding's.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.torchtitan(depth_init=False)
    anyinit.presets.torchtitan(depth_init=False, n_layer=None, dim=None)
    """
    _check_count("torchtitan", "n_layer", n_layer)
    _check_count("torchtitan", "dim", dim)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        width = _width("torchtitan", "dim", recipe.arguments["dim"], model, slots)
        layers = None if recipe.arguments["depth_init"] else depth(recipe, model, slots)

        def rule(slot: Slot) -> Any:
            if is_final_output(slot):
                return _truncated(width**-0.5, 3.0)
            scaled = is_residual_output(slot) or (
                _layer_name(slot) in UP_PROJECTIONS and slot.role == "kernel"
            )
            if scaled:
                depth = 2 * (_block("torchtitan", slot) + 1) if layers is None else 2 * layers
                return _torch_bounded(0.02 / math.sqrt(depth))
            return _with_laws(slot, _torch_bounded(0.02), embedding=RandomNormal(0.0, 1.0))

        return rule

    arguments = {"depth_init": depth_init, "n_layer": n_layer, "dim": dim}
    return Recipe("torchtitan", arguments, make)


# -- Mamba -------------------------------------------------------------------------------

MAMBA_REFERENCES = ("hf", "mamba_ssm")


def mamba(
    reference: str = "hf",
    initializer_range: float | None = None,
    *,
    n_layer: int | None = None,
    rescale_prenorm_residual: bool | None = None,
) -> Recipe:
    """Mamba's init: HF ``MambaPreTrainedModel`` or the reference ``mamba_ssm``.

    Both: ``dt_proj.weight`` ``U(±r^-½·s)`` (``r`` the time-step rank, ``s``
    ``time_step_scale``; a constant ``r^-½·s`` where ``time_step_init_scheme`` is
    ``"constant"``); ``dt_proj.bias`` the inverse softplus of ``dt`` log-uniform in
    ``[time_step_min, time_step_max]`` floored at ``time_step_floor``
    (:class:`~anyinit.initializers.softplus.InverseSoftplusLogUniform`); ``A_log`` each
    row ``log(1 … N)``; ``D`` ones; norms ones; embeddings ``N(0, initializer_range)``;
    ``out_proj`` torch's ``kaiming_uniform_(a=√5)``, ``U(±1/√fan_in)``, divided by
    ``√L`` with `rescale_prenorm_residual`.

    ``reference="hf"``: the other Linear weights (``in_proj``, ``x_proj``)
    ``N(0, initializer_range)``, their biases zero; ``conv1d`` ``U(±1/√fan_in)`` with a
    zero bias; ``initializer_range`` 0.1 and no rescaling by default (``MambaConfig``'s).
    ``reference="mamba_ssm"``: ``in_proj``/``x_proj`` keep torch's Linear law with zero
    biases; ``conv1d`` torch's Conv1d law (its bias too); ``initializer_range`` 0.02 and
    rescaling by default (``MixerModel``'s ``_init_weights``).

    The time-step knobs are read from a model's config (``time_step_min``, …; both
    references take them); a model without one gets their defaults (0.001, 0.1, 1e-4,
    scale 1, random). ``initializer_range`` and ``rescale_prenorm_residual`` are read from
    the config for ``"hf"`` only: ``mamba_ssm`` fixes them in ``_init_weights``.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.presets.mamba("mamba_ssm").arguments["reference"]
    'mamba_ssm'
    """
    if reference not in MAMBA_REFERENCES:
        msg = f"`reference` must be one of {MAMBA_REFERENCES}; received reference={reference!r}."
        raise ValueError(msg)
    _check_knob("mamba", "initializer_range", initializer_range)
    _check_count("mamba", "n_layer", n_layer)

    def make(recipe: Recipe, slots: list[Slot], model: Any) -> Callable[[Slot], Any]:
        hf = reference == "hf"
        # mamba_ssm's MixerModel takes neither knob from its config: its _init_weights
        # defaults (0.02, rescaling) hold whatever an HF config says.
        if hf:
            std = _knob(recipe, model, "initializer_range", default=0.1)
        else:
            std = recipe.arguments["initializer_range"] or 0.02
        rescale = recipe.arguments["rescale_prenorm_residual"]
        if rescale is None and hf:
            rescale = _config(model, "rescale_prenorm_residual")
        if rescale is None:
            rescale = not hf
        layers = depth(recipe, model, slots) if rescale else 1

        def knob(name: str, default: Any) -> Any:
            value = _config(model, name)
            return default if value is None else value

        dt_law = InverseSoftplusLogUniform(
            float(knob("time_step_min", 0.001)),
            float(knob("time_step_max", 0.1)),
            float(knob("time_step_floor", 1e-4)),
        )
        torch_rule = presets.PRESETS["torch"]

        def fan_in_bound(slot: Slot, divide: float = 1.0) -> RandomUniform:
            bound = 1 / math.sqrt(kernel_fan_in(slot.canonical)) / divide
            return RandomUniform(-bound, bound)

        def rule(slot: Slot) -> Any:
            name = _layer_name(slot)
            if slot.kind == "other":
                if slot.role == "A_log" and len(slot.canonical) == 2:
                    return Constant(np.log(np.arange(1, slot.canonical[-1] + 1, dtype=np.float64)))
                if slot.role == "D":
                    return Ones()
                return None
            if name == "dt_proj":
                if slot.role == "bias":
                    return dt_law
                rank = slot.canonical[0]
                dt_std = float(rank) ** -0.5 * float(knob("time_step_scale", 1.0))
                if knob("time_step_init_scheme", "random") == "constant":
                    return Constant(dt_std)
                return RandomUniform(-dt_std, dt_std)
            if name == "out_proj" and slot.role == "kernel":
                return fan_in_bound(slot, math.sqrt(layers))
            if slot.kind == "conv":
                if slot.role == "kernel":
                    return fan_in_bound(slot)
                return Zeros() if hf else torch_rule(slot)
            if slot.kind == "dense" and slot.role == "kernel" and not hf:
                return torch_rule(slot)
            return _hf(slot, std)

        return rule

    arguments = {
        "reference": reference,
        "initializer_range": initializer_range,
        "n_layer": n_layer,
        "rescale_prenorm_residual": rescale_prenorm_residual,
    }
    return Recipe("mamba", arguments, make)


#: The recipes of this module by name (``anyinit.presets.RECIPES`` holds them with the others).
FIELD_RECIPES: dict[str, Callable[[], Recipe]] = {
    "neox": neox,
    "megatron": megatron,
    "olmo": olmo,
    "torchtitan": torchtitan,
    "mamba": mamba,
}
