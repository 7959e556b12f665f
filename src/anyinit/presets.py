"""Presets: each framework's default initialisation, and the recipes of model families.

``anyinit.initialize(model, preset, seed=...)`` takes a framework's preset by
name (``"torch"``, ``"keras"``, ``"flax"``, ``"equinox"``, ``"mlx"``), the model's own init
code replayed on the portable stream (``"own"``, or :func:`own` naming the function), or a
recipe: by name with its reference defaults (``"gpt2"``, ``"llama"``, ``"bert"``, ``"t5"``,
``"vit"``; ``"neox"``, ``"megatron"``, ``"olmo"``, ``"torchtitan"``, ``"mamba"``;
``"deepnet"``, ``"rezero"``, ``"fixup"``, ``"t_fixup"``, ``"zero_init"``) or built here with
arguments (``anyinit.presets.gpt2(n_layer=12)``).
See :doc:`/recipes`.

Examples
--------
>>> import numpy as np, anyinit
>>> tree = {"h": {"0": {"attn": {"c_proj": {"kernel": np.zeros((64, 64), np.float32)}}}}}
>>> new = anyinit.initialize(tree, anyinit.presets.gpt2(n_layer=1), seed=0)
>>> round(float(new["h"]["0"]["attn"]["c_proj"]["kernel"].std()), 3)  # 0.02 / √2
0.014
"""

from __future__ import annotations

from .models.field_recipes import mamba, megatron, neox, olmo, torchtitan
from .models.own import Own, own
from .models.presets import PRESETS
from .models.recipes import RECIPES, Recipe, bert, gpt2, llama, mup, t5, vit
from .models.residual_recipes import deepnet, fixup, rezero, t_fixup, zero_init

__all__ = [
    "PRESETS",
    "RECIPES",
    "Own",
    "Recipe",
    "bert",
    "deepnet",
    "fixup",
    "gpt2",
    "llama",
    "mamba",
    "megatron",
    "mup",
    "neox",
    "olmo",
    "own",
    "rezero",
    "t5",
    "t_fixup",
    "torchtitan",
    "vit",
    "zero_init",
]
