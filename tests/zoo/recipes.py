"""Each recipe against its reference implementation's own init of the same model.

``python tests/zoo/recipes.py`` builds HF GPT2LMHeadModel, LlamaForCausalLM (also
checked against the depth-scaled recipe's own laws), BertModel and T5Model from
small configs and timm's vit_tiny_patch16_224 (random init), each initialised by
its reference, and a copy initialised by the recipe; every parameter is compared:
constants exactly, the rest by a two-sample KS test (p > 1e-3) and, for tensors of
at least 16384 values, the standard deviation within 2 %. Prints JSON:
``{model: {"checked": n, "failures": [...]}}``. Run by ``tests/test_framework_zoo.py``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import pathlib
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _reference_models():
    import timm
    import torch
    import transformers as hf

    small = {"vocab_size": 1000, "max_position_embeddings": 64}
    torch.manual_seed(0)
    yield (
        "gpt2",
        hf.GPT2LMHeadModel(
            hf.GPT2Config(n_layer=4, n_embd=128, n_head=4, n_positions=64, vocab_size=1000)
        ),
        "gpt2",
    )
    yield "llama", hf.LlamaForCausalLM(
        hf.LlamaConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=4,
                       num_attention_heads=4, num_key_value_heads=2, **small)
    ), "llama"  # fmt: skip
    yield "bert", hf.BertModel(
        hf.BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=256, **small)
    ), "bert"  # fmt: skip
    yield (
        "t5",
        hf.T5Model(
            hf.T5Config(d_model=128, d_kv=32, d_ff=256, num_layers=2, num_heads=4, vocab_size=1000)
        ),
        "t5",
    )
    yield "vit", timm.create_model("vit_tiny_patch16_224", pretrained=False), "vit"
    import anyinit

    jax_mode = timm.create_model("vit_tiny_patch16_224", pretrained=False, weight_init="jax")
    yield "vit jax", jax_mode, anyinit.presets.vit("jax")


def _compare(own, ours, where, failures):
    import numpy as np
    from scipy import stats

    own = own.detach().double().numpy().ravel()
    ours = ours.detach().double().numpy().ravel()
    if len(np.unique(own)) <= 2:
        if not np.array_equal(own, ours):
            failures.append(f"{where}: constants differ ({own[:3]} vs {ours[:3]})")
        return
    p = float(stats.ks_2samp(own, ours).pvalue)
    if p <= 1e-3:
        failures.append(f"{where}: KS p = {p:.2e} (std {own.std():.4g} vs {ours.std():.4g})")
    if own.size >= 16384 and not math.isclose(ours.std(), own.std(), rel_tol=0.02):
        failures.append(f"{where}: std {ours.std():.5g} vs the reference's {own.std():.5g}")


def main() -> int:
    from zoo import torchvision_stand_in

    torchvision_stand_in.install()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import transformers

    import anyinit

    transformers.logging.set_verbosity_error()
    out = {}
    for name, model, recipe in _reference_models():
        ours = copy.deepcopy(model)
        _, report = anyinit.initialize(ours, recipe, seed=1, return_report=True)
        failures = [f"{row.native_path}: not initialised ({row.initializer})"
                    for row in report if row.initializer.startswith("skipped")]  # fmt: skip
        own_params = dict(model.named_parameters())
        for path, value in ours.named_parameters():
            _compare(own_params[path], value, f"{name} {path}", failures)
        out[name] = {"checked": len(own_params), "failures": failures}
    # LLaMA's depth-scaled init (torchtitan): the output projections of block i.
    import torch

    model = next(m for n, m, _ in _reference_models() if n == "llama")
    anyinit.initialize(model, anyinit.presets.llama(depth_init=True), seed=2)
    failures = []
    for i, layer in enumerate(model.model.layers):
        sigma = 0.02 / math.sqrt(2 * (i + 1))
        for weight in (layer.self_attn.o_proj.weight, layer.mlp.down_proj.weight):
            w = weight.detach().double()
            # torchtitan's trunc_normal_(std=σ): torch's default bounds ±2, so more than
            # 4σ occurs (a ±3σ cut, the old mistake, never lets it)
            if not float(w.abs().max()) > 3.5 * sigma:
                failures.append(f"block {i}: truncated near 3σ")
            expected = sigma
            if not math.isclose(float(w.std()), expected, rel_tol=0.03):
                failures.append(f"block {i}: std {float(w.std()):.5g} vs {expected:.5g}")
        q = layer.self_attn.q_proj.weight.detach().double()
        if not math.isclose(float(q.std()), 0.02, rel_tol=0.03):
            failures.append(f"block {i}: q_proj std {float(q.std()):.5g}")
    out["llama depth_init"] = {"checked": 3 * len(model.model.layers), "failures": failures}
    del torch
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
