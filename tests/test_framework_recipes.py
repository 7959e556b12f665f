"""Recipes across frameworks: a GPT-2 block written in torch (nanoGPT's and HF's), Flax linen,
NNX, Equinox and Keras (on JAX), and a LLaMA block in torch (HF's), linen and NNX, get the same
weights under the recipe and seed, compared through ``anyinit.canonical_weights``; and the
recipes' own rules (names, depth, errors)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import anyinit

pytest.importorskip("torch")
pytest.importorskip("flax")

E, HEADS, FFN = 64, 4, 256
#: The portable stream's documented bound between torch's kernel and JAX's for normal laws.
ULP = 4


def _gpt2_blocks():
    import jax
    import jax.numpy as jnp
    import torch
    from flax import linen, nnx

    class NanoAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = torch.nn.Linear(E, 3 * E)
            self.c_proj = torch.nn.Linear(E, E)

    class NanoMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = torch.nn.Linear(E, FFN)
            self.c_proj = torch.nn.Linear(FFN, E)

    class NanoBlock(torch.nn.Module):  # nanoGPT's Block
        def __init__(self):
            super().__init__()
            self.ln_1 = torch.nn.LayerNorm(E)
            self.attn = NanoAttention()
            self.ln_2 = torch.nn.LayerNorm(E)
            self.mlp = NanoMLP()

    class _LinenAttention(linen.Module):
        @linen.compact
        def __call__(self, x):
            q = linen.Dense(3 * E, name="c_attn")(x)
            return linen.Dense(E, name="c_proj")(q[..., :E])

    class _LinenMLP(linen.Module):
        @linen.compact
        def __call__(self, x):
            return linen.Dense(E, name="c_proj")(linen.Dense(FFN, name="c_fc")(x))

    class LinenGPT2Block(linen.Module):
        @linen.compact
        def __call__(self, x):
            x = x + _LinenAttention(name="attn")(linen.LayerNorm(name="ln_1")(x))
            return x + _LinenMLP(name="mlp")(linen.LayerNorm(name="ln_2")(x))

    class NNXAttention(nnx.Module):
        def __init__(self, rngs):
            self.c_attn = nnx.Linear(E, 3 * E, rngs=rngs)
            self.c_proj = nnx.Linear(E, E, rngs=rngs)

    class NNXMLP(nnx.Module):
        def __init__(self, rngs):
            self.c_fc = nnx.Linear(E, FFN, rngs=rngs)
            self.c_proj = nnx.Linear(FFN, E, rngs=rngs)

    class NNXBlock(nnx.Module):
        def __init__(self, rngs):
            self.ln_1 = nnx.LayerNorm(E, rngs=rngs)
            self.attn = NNXAttention(rngs)
            self.ln_2 = nnx.LayerNorm(E, rngs=rngs)
            self.mlp = NNXMLP(rngs)

    import equinox as eqx

    keys = iter(jax.random.split(jax.random.key(0), 8))

    def linear(fan_in, fan_out):
        return eqx.nn.Linear(fan_in, fan_out, key=next(keys), dtype=jnp.float32)

    class EqxAttention(eqx.Module):
        c_attn: eqx.nn.Linear
        c_proj: eqx.nn.Linear

        def __init__(self):
            self.c_attn, self.c_proj = linear(E, 3 * E), linear(E, E)

    class EqxMLP(eqx.Module):
        c_fc: eqx.nn.Linear
        c_proj: eqx.nn.Linear

        def __init__(self):
            self.c_fc, self.c_proj = linear(E, FFN), linear(FFN, E)

    class EqxBlock(eqx.Module):
        ln_1: eqx.nn.LayerNorm
        attn: EqxAttention
        ln_2: eqx.nn.LayerNorm
        mlp: EqxMLP

        def __init__(self):
            self.ln_1, self.ln_2 = eqx.nn.LayerNorm(E), eqx.nn.LayerNorm(E)
            self.attn, self.mlp = EqxAttention(), EqxMLP()

    models = {
        "nanoGPT": NanoBlock(),
        "equinox": EqxBlock(),
        "keras": _keras_gpt2_block(),
        "linen": LinenGPT2Block().init(jax.random.key(0), jnp.zeros((1, 3, E), jnp.float32)),
        "nnx": NNXBlock(nnx.Rngs(0)),
    }
    if importlib.util.find_spec("transformers") is not None:
        from transformers import GPT2Config
        from transformers.models.gpt2.modeling_gpt2 import GPT2Block

        config = GPT2Config(n_embd=E, n_head=HEADS, n_inner=FFN, n_layer=12)
        models["HF GPT2Block"] = GPT2Block(config)
    return models


def _keras_gpt2_block():
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    layers = keras.layers

    class Attention(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.c_attn = layers.Dense(3 * E, name="c_attn")
            self.c_proj = layers.Dense(E, name="c_proj")

        def call(self, x):
            return self.c_proj(self.c_attn(x)[..., :E])

    class MLP(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.c_fc = layers.Dense(FFN, name="c_fc")
            self.c_proj = layers.Dense(E, name="c_proj")

        def call(self, x):
            return self.c_proj(self.c_fc(x))

    class Block(keras.Model):
        def __init__(self):
            super().__init__(name="block")
            self.ln_1 = layers.LayerNormalization(name="ln_1")
            self.attn = Attention(name="attn")
            self.ln_2 = layers.LayerNormalization(name="ln_2")
            self.mlp = MLP(name="mlp")

        def call(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    block = Block()
    block(np.zeros((1, 3, E), "float32"))
    return block


def _llama_blocks():
    import jax
    import jax.numpy as jnp
    from flax import linen, nnx

    names = ("q_proj", "k_proj", "v_proj", "o_proj")

    class LinenAttention(linen.Module):
        @linen.compact
        def __call__(self, x):
            q, k, v = (linen.Dense(E, use_bias=False, name=n)(x) for n in names[:3])
            return linen.Dense(E, use_bias=False, name="o_proj")(q + k + v)

    class LinenMLP(linen.Module):
        @linen.compact
        def __call__(self, x):
            gate = linen.Dense(FFN, use_bias=False, name="gate_proj")(x)
            up = linen.Dense(FFN, use_bias=False, name="up_proj")(x)
            return linen.Dense(E, use_bias=False, name="down_proj")(gate * up)

    class LinenLlamaBlock(linen.Module):
        @linen.compact
        def __call__(self, x):
            x = x + LinenAttention(name="self_attn")(linen.RMSNorm(name="input_layernorm")(x))
            norm = linen.RMSNorm(name="post_attention_layernorm")
            return x + LinenMLP(name="mlp")(norm(x))

    class NNXAttention(nnx.Module):
        def __init__(self, rngs):
            for n in names:
                setattr(self, n, nnx.Linear(E, E, use_bias=False, rngs=rngs))

    class NNXMLP(nnx.Module):
        def __init__(self, rngs):
            self.gate_proj = nnx.Linear(E, FFN, use_bias=False, rngs=rngs)
            self.up_proj = nnx.Linear(E, FFN, use_bias=False, rngs=rngs)
            self.down_proj = nnx.Linear(FFN, E, use_bias=False, rngs=rngs)

    class NNXLlamaBlock(nnx.Module):
        def __init__(self, rngs):
            self.input_layernorm = nnx.RMSNorm(E, rngs=rngs)
            self.self_attn = NNXAttention(rngs)
            self.post_attention_layernorm = nnx.RMSNorm(E, rngs=rngs)
            self.mlp = NNXMLP(rngs)

    models = {
        "linen": LinenLlamaBlock().init(jax.random.key(0), jnp.zeros((1, 3, E), jnp.float32)),
        "nnx": NNXLlamaBlock(nnx.Rngs(0)),
    }
    if importlib.util.find_spec("transformers") is not None:
        from transformers import LlamaConfig
        from transformers.models.llama.modeling_llama import LlamaDecoderLayer

        config = LlamaConfig(
            hidden_size=E, intermediate_size=FFN, num_attention_heads=HEADS,
            num_key_value_heads=HEADS, num_hidden_layers=1,
        )  # fmt: skip
        models["HF LlamaDecoderLayer"] = LlamaDecoderLayer(config, layer_idx=0)
    return models


def _weights(model):
    return {k: np.asarray(v, np.float64) for k, v in anyinit.canonical_weights(model).items()}


def _assert_same(found, torch_like):
    # Keras draws with its backend's kernel (torch or JAX): within the ulp bound either way.
    jax_side = [name for name in found if name in ("linen", "nnx", "equinox")]
    reference = found[jax_side[0]]
    for name, weights in found.items():
        assert weights.keys() == reference.keys(), (name, sorted(weights), sorted(reference))
        for path, value in weights.items():
            if name in jax_side:  # bit for bit among the JAX frameworks
                np.testing.assert_array_equal(value, reference[path], err_msg=f"{name} {path}")
            else:
                spacing = np.spacing(np.abs(reference[path]).astype(np.float32))
                assert np.all(np.abs(value - reference[path]) <= ULP * spacing), (name, path)
    assert any(name in torch_like for name in found)


def test_a_gpt2_block_gets_the_same_weights_in_torch_hf_linen_nnx_equinox_and_keras():
    recipe = anyinit.presets.gpt2(n_layer=12)
    found = {}
    for name, model in _gpt2_blocks().items():
        found[name] = _weights(anyinit.initialize(model, recipe, seed=3))
    _assert_same(found, ("nanoGPT", "HF GPT2Block"))
    proj = found["nanoGPT"]["attn.c_proj.kernel"]
    assert proj.std() == pytest.approx(0.02 / math.sqrt(24), rel=0.05)
    assert found["nanoGPT"]["mlp.c_fc.kernel"].std() == pytest.approx(0.02, rel=0.05)


def test_a_llama_block_gets_the_same_weights_in_hf_linen_and_nnx():
    found = {}
    for name, model in _llama_blocks().items():
        found[name] = _weights(anyinit.initialize(model, "llama", seed=3))
    _assert_same(found, ("HF LlamaDecoderLayer",) if len(found) > 2 else ("linen", "nnx"))
    np.testing.assert_array_equal(found["nnx"]["input_layernorm.scale"], np.ones(E))


def test_gpt2_needs_n_layer_where_nothing_says_it():
    tree = {"attn": {"c_proj": {"kernel": np.zeros((8, 8), np.float32)}}}
    with pytest.raises(ValueError, match=r"needs `n_layer`.*gpt2\(n_layer="):
        anyinit.initialize(tree, "gpt2", seed=0)
    blocks = {"h": [{"c_proj": {"kernel": np.zeros((64, 64), np.float32)}} for _ in range(8)]}
    new = anyinit.initialize(blocks, "gpt2", seed=0)  # 8 numbered blocks: n_layer = 8
    assert new["h"][7]["c_proj"]["kernel"].std() == pytest.approx(0.02 / 4, rel=0.1)


def test_an_unknown_name_lists_the_presets_and_the_recipes():
    with pytest.raises(ValueError, match=r"preset \('torch'.*recipe \('gpt2'"):
        anyinit.initialize({"w": {"kernel": np.zeros((2, 2))}}, "gpt3", seed=0)
    with pytest.raises(ValueError, match="`mode` must be"):
        anyinit.presets.vit("moco")


#: The field's recipes, with what a lone block cannot say given (its width and depth).
FIELD = {
    "neox": anyinit.presets.neox(hidden_size=E, n_layer=4),
    "megatron": anyinit.presets.megatron(0.01, n_layer=4),
    **{
        f"olmo {scheme}": anyinit.presets.olmo(scheme, d_model=E, n_layer=4)
        for scheme in ("normal", "llama", "full_megatron")
    },
    "torchtitan": anyinit.presets.torchtitan(depth_init=False, n_layer=4, dim=E),
    "deepnet": anyinit.presets.deepnet(12),
    "t_fixup": anyinit.presets.t_fixup(12),
}


@pytest.mark.parametrize("name", sorted(FIELD))
def test_the_field_recipes_give_a_gpt2_block_the_same_weights_in_every_framework(name):
    found = {}
    for framework, model in _gpt2_blocks().items():
        found[framework] = _weights(anyinit.initialize(model, FIELD[name], seed=5))
    _assert_same(found, ("nanoGPT", "HF GPT2Block"))
    # the residual output c_proj gets the scaled law, c_fc the base law
    proj, fc = found["nanoGPT"]["attn.c_proj.kernel"], found["nanoGPT"]["mlp.c_fc.kernel"]
    if name not in ("olmo normal", "deepnet", "t_fixup"):
        assert proj.std() < fc.std()


@pytest.mark.parametrize("name", sorted(FIELD))
def test_the_field_recipes_give_a_llama_block_the_same_weights_in_hf_linen_and_nnx(name):
    found = {}
    for framework, model in _llama_blocks().items():
        found[framework] = _weights(anyinit.initialize(model, FIELD[name], seed=5))
    _assert_same(found, ("HF LlamaDecoderLayer",) if len(found) > 2 else ("linen", "nnx"))


@pytest.mark.parametrize(
    "recipe",
    [
        anyinit.presets.olmo("llama_depth", d_model=E),
        anyinit.presets.olmo("mitchell", d_model=E),
        anyinit.presets.torchtitan(dim=E),
    ],
)
def test_a_law_by_block_index_refuses_a_block_whose_path_has_none(recipe):
    model = _gpt2_blocks()["nanoGPT"]
    with pytest.raises(ValueError, match=r"by its block's index, and its path has none"):
        anyinit.initialize(model, recipe, seed=0)


def test_zero_init_gives_a_gpt2_block_the_same_weights_in_every_framework():
    found = {}
    for framework, model in _gpt2_blocks().items():
        found[framework] = _weights(anyinit.initialize(model, "zero_init", seed=5))
    _assert_same(found, ("nanoGPT", "HF GPT2Block"))
    # c_fc widens 64 → 256: a normalised Hadamard, every entry ±2^(-c/2), c = log₂ 256
    fc = found["nanoGPT"]["mlp.c_fc.kernel"]
    assert set(np.unique(np.abs(fc)).round(6)) == {(2**-4)}


def _numbered_gpt2(blocks=3):
    """Three numbered GPT-2 blocks (``h.0`` … ``h.2``) in torch (nanoGPT's, HF's) and linen."""
    import torch

    made = [_gpt2_blocks() for _ in range(blocks)]
    models = {}
    for name in ("nanoGPT", "HF GPT2Block"):
        if name in made[0]:
            model = torch.nn.Module()
            model.h = torch.nn.ModuleList([m[name] for m in made])
            models[name] = model
    models["linen"] = {"params": {"h": {str(i): m["linen"]["params"] for i, m in enumerate(made)}}}
    return models


@pytest.mark.parametrize(
    "recipe",
    [
        anyinit.presets.olmo("llama_depth", d_model=E),
        anyinit.presets.olmo("mitchell", d_model=E),
        anyinit.presets.torchtitan(dim=E),
        anyinit.presets.deepnet(),
        anyinit.presets.zero_init(),
    ],
    ids=["olmo llama_depth", "olmo mitchell", "torchtitan depth_init", "deepnet", "zero_init"],
)
def test_a_law_by_block_index_gives_numbered_blocks_the_same_weights_in_torch_and_linen(recipe):
    found = {}
    for framework, model in _numbered_gpt2().items():
        weights = _weights(anyinit.initialize(model, recipe, seed=7))
        found[framework] = {k.removeprefix("params."): v for k, v in weights.items()}
    reference = found["linen"]
    for framework, weights in found.items():
        assert weights.keys() == reference.keys(), framework
        for path, value in weights.items():
            spacing = np.spacing(np.abs(reference[path]).astype(np.float32))
            assert np.all(np.abs(value - reference[path]) <= ULP * spacing), (framework, path)
    stds = [found["nanoGPT"][f"h.{i}.attn.c_proj.kernel"].std() for i in range(3)]
    if recipe.name in ("olmo", "torchtitan"):  # scaled by 1/√(2(i + 1)): shrinking with depth
        assert stds[0] > stds[1] > stds[2]
        assert stds[0] / stds[2] == pytest.approx(math.sqrt(3), rel=0.1)
