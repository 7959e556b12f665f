"""Each framework's default initialisation, as rules on :class:`~anyinit.models.slots.Slot` s.

A preset maps a slot (its layer kind, role and canonical shape) to the
initializer that framework's own layer would use, or to :class:`Blocks` (the
canonical last axis cut into pieces, each drawn by its own initializer: gates
of a recurrent layer, LSTM's unit forget bias), or None (left as it is).
Sources, as of torch 2.13, Keras 3.15, Flax 0.12 and Equinox 0.13:

* torch: ``torch/nn/modules/{linear,conv,sparse,normalization,batchnorm,rnn,activation}.py``
  (``reset_parameters``);
* Keras: ``keras/src/layers/{core/dense,convolutional/base_conv,core/embedding,
  normalization/*,rnn/*}.py`` (constructor defaults);
* Flax: ``flax/linen/{linear,normalization,recurrent}.py`` (``default_kernel_init``,
  ``default_embed_init``, ``initializers.zeros_init``/``ones_init``);
* Equinox: ``equinox/nn/{_linear,_conv,_embedding,_normalisation,_rnn}.py``;
* MLX (0.32): ``mlx/nn/layers/{linear,convolution,embedding,normalization,recurrent}.py``
  (constructors).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..dialects import jax_nn
from ..initializers.base import Initializer
from ..initializers.constant import Constant, Ones, Zeros
from ..initializers.orthogonal import Orthogonal
from ..initializers.random import (
    GlorotUniform,
    HeUniform,
    LecunNormal,
    RandomNormal,
    RandomUniform,
)
from .slots import Slot, kernel_fan_in

__all__ = ["PRESETS", "Blocks", "preset_rule"]

Rule = Callable[[Slot], "Initializer | Blocks | None"]
_KERNELS = ("dense", "conv", "conv_transpose", "attention")
_RECURRENT = ("rnn", "lstm", "gru")
#: The recurrent parameters every framework's cells have (torch's LSTM adds a projection,
#: ``weight_hr``, which only the "torch" preset has a law for: never guessed elsewhere).
_RECURRENT_ROLES = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")


@dataclass(frozen=True)
class Blocks:
    """Pieces of the canonical last axis, each ``(initializer, width)``, drawn apart."""

    parts: tuple[tuple[Initializer, int], ...]


def _symmetric(bound: float) -> Initializer:
    return RandomUniform(-bound, bound) if bound > 0 else Zeros()


def _fan_in(slot: Slot) -> int:
    """The fan-in of the slot's layer (a bias takes its kernel's)."""
    if "kernel" in slot.info:
        return _fan_in(slot.info["kernel"])
    return kernel_fan_in(slot.canonical)


def norm_rule(slot: Slot) -> Initializer | None:
    """A norm layer's scale ones and bias zeros (every framework, and the HF recipes)."""
    return Ones() if slot.role == "scale" else Zeros() if slot.role == "bias" else None


# -- torch ------------------------------------------------------------------------


def _torch_fan_in(slot: Slot) -> int:
    if "kernel" in slot.info:
        return _torch_fan_in(slot.info["kernel"])
    shape = slot.canonical
    if slot.kind == "conv_transpose":
        # torch reads the fan-in of (in, out/groups, *k) from axis 1: the output channels.
        return math.prod(shape[:-2]) * shape[-1]
    return kernel_fan_in(shape)


def _torch_kaiming_bound(fan_in: int) -> float:
    # kaiming_uniform_(w, a=math.sqrt(5)), computed as torch computes it.
    if fan_in == 0:
        return 0.0
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
    return math.sqrt(3.0) * (gain / math.sqrt(fan_in))


def _torch_xavier_bound(fan_in: int, fan_out: int) -> float:
    # xavier_uniform_(w), computed as torch computes it (the same bits as the "own" preset).
    if fan_in + fan_out == 0:
        return 0.0
    return math.sqrt(3.0) * (1.0 * math.sqrt(2.0 / float(fan_in + fan_out)))


def _torch_attention(slot: Slot) -> Initializer | None:
    """``nn.MultiheadAttention._reset_parameters`` on the canonical q/k/v/out projections."""
    role, canonical = slot.role, slot.canonical
    if slot.info.get("attention") == "out":
        # out_proj is a Linear (kaiming_uniform_(a=√5)) whose bias is then zeroed.
        return _symmetric(_torch_kaiming_bound(_fan_in(slot))) if role == "kernel" else Zeros()
    if role == "kernel":
        # xavier_uniform_ on the packed (3E, E) in_proj_weight where q, k and v read the
        # same width (fan_out counts all three), else on each (E, kdim) projection.
        fan_in, fan_out = canonical
        fan_out *= 3 if slot.info.get("packed") else 1
        return _symmetric(_torch_xavier_bound(fan_in, fan_out))
    if role in ("bias_k", "bias_v"):
        # xavier_normal_ on (1, 1, E): torch's fans are E and E.
        return RandomNormal(0.0, 1.0 * math.sqrt(2.0 / float(2 * canonical[-1])))
    return Zeros() if role == "bias" else None


def _lora(slot: Slot, a_law: Initializer) -> Initializer | None:
    """LoRA's adapters: A by `a_law` on (in, rank), B zeros (the adapted layer starts as it was)."""
    return a_law if slot.role == "lora_a" else Zeros() if slot.role == "lora_b" else None


def _owner(law: tuple[str, float]) -> Initializer:
    name, value = law
    return RandomNormal(0.0, value) if name == "normal" else Constant(value)


def _torch(slot: Slot) -> Initializer | Blocks | None:
    kind, role = slot.kind, slot.role
    if "owner" in slot.info:  # a model-zoo parameter: its owner's documented init
        return _owner(slot.info["owner"])
    if role in (
        "lora_a",
        "lora_b",
    ):  # PEFT's LoRA: lora_A a Linear, kaiming_uniform_(a=√5); lora_B zeros
        return _lora(slot, _symmetric(_torch_kaiming_bound(kernel_fan_in(slot.canonical))))
    if slot.info.get("xavier") and slot.info.get("attention") not in ("query", "key", "value"):
        # inside nn.Transformer (its packed q/k/v: the same law), as torch computes the bound
        receptive = math.prod(slot.canonical[:-2])
        fan_in, fan_out = slot.canonical[-2] * receptive, slot.canonical[-1] * receptive
        return _symmetric(_torch_xavier_bound(fan_in, fan_out))
    if kind == "embedding":
        return RandomNormal(0.0, 1.0)
    if kind == "norm":
        return norm_rule(slot)
    if kind in _RECURRENT or kind == "rnn_cell":
        # RNNBase / RNNCellBase.reset_parameters: every parameter U(±1/sqrt(hidden_size)).
        hidden = slot.info["hidden_size"]
        return _symmetric(1.0 / math.sqrt(hidden) if hidden > 0 else 0.0)
    if kind == "bilinear":
        # Bilinear.reset_parameters: weight and bias U(±1/sqrt(in1_features)).
        return _symmetric(1.0 / math.sqrt(slot.info["in1_features"]))
    if kind == "prelu":
        return Constant(slot.info.get("init", 0.25))  # PReLU.reset_parameters: its `init`
    if kind == "attention":
        return _torch_attention(slot)
    if kind in _KERNELS:
        fan_in = _torch_fan_in(slot)
        if role == "kernel":
            return _symmetric(_torch_kaiming_bound(fan_in))
        if role == "bias":
            return _symmetric(1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0)
    return None


# -- Keras ------------------------------------------------------------------------


def _keras(slot: Slot) -> Initializer | Blocks | None:
    kind, role = slot.kind, slot.role
    if kind == "embedding":
        return RandomUniform(-0.05, 0.05)
    if kind == "prelu":
        return Zeros()  # PReLU(alpha_initializer="Zeros")
    if role in (
        "lora_a",
        "lora_b",
    ):  # Dense.enable_lora: lora_kernel_a he_uniform, lora_kernel_b zeros
        return _lora(slot, HeUniform())
    if kind == "norm":
        return norm_rule(slot)
    if kind in _RECURRENT:
        if role not in _RECURRENT_ROLES:  # torch's LSTM projection: Keras's has none
            return None
        if role == "kernel":
            return GlorotUniform()
        if role == "recurrent_kernel":
            return Orthogonal()
        if role == "bias" and kind == "lstm" and slot.info.get("unit_forget_bias", True):
            # LSTM(unit_forget_bias=True): the forget gate's bias starts at one.
            units = slot.info["hidden_size"]
            return Blocks(((Zeros(), units), (Ones(), units), (Zeros(), 2 * units)))
        return Zeros()
    if kind in _KERNELS:
        return GlorotUniform() if role.endswith("kernel") else Zeros()
    return None


# -- Flax -------------------------------------------------------------------------


def _flax(slot: Slot) -> Initializer | Blocks | None:
    kind, role = slot.kind, slot.role
    if kind == "prelu":
        return Constant(0.01)  # linen / nnx PReLU(negative_slope_init=0.01)
    if role in ("lora_a", "lora_b"):  # nnx.LoRA: a_initializer he_uniform(), b_initializer zeros
        return _lora(slot, HeUniform())
    if kind == "embedding":
        # default_embed_init = variance_scaling(1.0, "fan_in", "normal", out_axis=0)
        # on (num, features): N(0, 1/features).
        embed: Initializer = jax_nn.variance_scaling(
            1.0, "fan_in", "normal", in_axis=-1, out_axis=0
        )
        return embed
    if kind == "norm":
        return norm_rule(slot)
    if kind in _RECURRENT:
        if role not in _RECURRENT_ROLES:  # torch's LSTM projection: Flax's cells have none
            return None
        if role == "kernel":
            return LecunNormal()
        if role == "bias" and kind == "gru" and slot.info.get("gate") == "if":
            return Ones()  # MGUCell(forget_bias_init=ones)
        if role == "recurrent_kernel":
            # One Dense per gate (hi, hf, hg, ho), each orthogonal on (H, H).
            units = slot.info["hidden_size"]
            return Blocks(tuple((Orthogonal(), units) for _ in range(slot.info["gates"])))
        return Zeros()
    if kind in _KERNELS:
        return LecunNormal() if role.endswith("kernel") else Zeros()
    return None


# -- Equinox ----------------------------------------------------------------------


def _equinox(slot: Slot) -> Initializer | Blocks | None:
    kind = slot.kind
    if kind == "prelu":
        return Constant(0.25)  # eqx.nn.PReLU(init_alpha=0.25)
    if kind == "embedding":
        return RandomNormal(0.0, 1.0)
    if kind == "norm":
        return norm_rule(slot)
    if kind in _RECURRENT:  # (torch's LSTM projection: Equinox's cells have none)
        if slot.role not in _RECURRENT_ROLES:
            return None
        return _symmetric(math.sqrt(1.0 / slot.info["hidden_size"]))
    if kind in _KERNELS:
        # Linear, Conv and ConvTranspose: U(±1/sqrt(in/groups · prod(kernel))) for weight and bias.
        fan_in = _fan_in(slot)
        return _symmetric(1.0 / math.sqrt(fan_in) if fan_in else 1.0)
    return None


# -- MLX --------------------------------------------------------------------------


def _mlx(slot: Slot) -> Initializer | Blocks | None:
    kind, role = slot.kind, slot.role
    if kind == "embedding":
        return RandomNormal(0.0, math.sqrt(1.0 / slot.canonical[-1]))  # normal · √(1/dims)
    if kind == "norm":
        return norm_rule(slot)
    if kind in _RECURRENT:  # RNN, LSTM, GRU: every array U(±1/√hidden); no projection
        if role not in _RECURRENT_ROLES:
            return None
        return _symmetric(1.0 / math.sqrt(slot.info["hidden_size"]))
    if kind == "conv":  # weight U(±√(1/(in/groups · prod(kernel)))), bias zeros
        return _symmetric(math.sqrt(1.0 / _fan_in(slot))) if role == "kernel" else Zeros()
    if kind in ("dense", "attention"):  # Linear (MultiHeadAttention's projections too)
        return _symmetric(math.sqrt(1.0 / _fan_in(slot)))
    return None


PRESETS: dict[str, Rule] = {
    "torch": _torch,
    "keras": _keras,
    "flax": _flax,
    "equinox": _equinox,
    "mlx": _mlx,
}


def preset_rule(name: str) -> Rule:
    """The rule of a preset by name."""
    if name not in PRESETS:
        msg = f"`rules` as a preset must be one of {tuple(PRESETS)}; received {name!r}."
        raise ValueError(msg)
    return PRESETS[name]


def describe(init: Initializer | Blocks) -> str:
    """A short description for the report."""
    if isinstance(init, Blocks):
        return "Blocks(" + ", ".join(f"{describe(i)}×{w}" for i, w in init.parts) + ")"
    return repr(init)
