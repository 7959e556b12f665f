"""The field's recipes against their references' own code, in a fresh process each.

``python tests/zoo/references.py megatron``: a Megatron-core ``GPTModel`` (CPU
initialisation, one gloo process) built with its own init, audited against
``anyinit.presets.megatron``; then initialised by that recipe and audited again.
``python tests/zoo/references.py torchtitan``: torchtitan's LLaMA-3 debug model's own
``init_weights`` against ``anyinit.presets.torchtitan``.
``python tests/zoo/references.py olmo``: OLMo-core's ``llama_like`` transformer under each
of its init methods (``normal``, ``llama``, ``llama_depth``) against ``anyinit.presets.olmo``.
``python tests/zoo/references.py olmo1``: OLMo's (ai2-olmo 0.6) ``OLMo`` model under its
``normal``, ``mitchell`` and ``full_megatron`` init functions.
Prints JSON: for each case, the paths the audit flagged and the number of parameters it
checked.
"""

from __future__ import annotations

import json
import os
import sys
import warnings


def _summary(report) -> dict:
    return {
        "checked": sum(row.ok is not None for row in report),
        "failed": [row.path for row in report.failed],
        "unchecked": [row.path for row in report if row.ok is None],
    }


def megatron() -> dict:
    import torch
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29561", RANK="0", WORLD_SIZE="1")
    dist.init_process_group("gloo", rank=0, world_size=1)
    from megatron.core import parallel_state

    parallel_state.initialize_model_parallel(1, 1)
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.models.gpt.gpt_model import GPTModel
    from megatron.core.transformer.transformer_config import TransformerConfig

    import anyinit

    out = {}
    for std, layers, bias in ((0.01, 4, True), (0.02, 6, False)):
        config = TransformerConfig(
            num_layers=layers,
            hidden_size=64,
            num_attention_heads=4,
            use_cpu_initialization=True,
            init_method_std=std,
            add_bias_linear=bias,
        )

        def build():
            return GPTModel(
                config=config,  # noqa: B023 - built inside the loop, for this config
                transformer_layer_spec=get_gpt_layer_local_spec(),
                vocab_size=128,
                max_sequence_length=32,
                share_embeddings_and_output_weights=False,
            )

        for seed in range(3):
            torch.manual_seed(seed)
            own = build()
            out[f"own std={std} L={layers} seed={seed}"] = _summary(anyinit.audit(own, "megatron"))
        ours = anyinit.initialize(build(), "megatron", seed=0)
        out[f"anyinit std={std} L={layers}"] = _summary(anyinit.audit(ours, "megatron"))
        # The depth scaling skipped: the residual outputs at σ are flagged, nothing else.
        wrong = build()
        with torch.no_grad():
            for name, param in wrong.named_parameters():
                if name.endswith(("linear_proj.weight", "linear_fc2.weight")):
                    param.normal_(0.0, std)
        out[f"unscaled std={std} L={layers}"] = _summary(anyinit.audit(wrong, "megatron"))
    dist.destroy_process_group()
    return out


def torchtitan() -> dict:
    import torch
    from torchtitan.models.llama3 import _debugmodel

    import anyinit

    out = {}
    config = _debugmodel("flex")
    for seed in range(3):
        torch.manual_seed(seed)
        model = config.build()
        model.init_weights()
        out[f"own seed={seed}"] = _summary(anyinit.audit(model, "torchtitan"))
    ours = anyinit.initialize(config.build(), "torchtitan", seed=0)
    out["anyinit"] = _summary(anyinit.audit(ours, "torchtitan"))
    return out


def olmo() -> dict:
    import torch
    from olmo_core.nn.transformer import InitMethod, TransformerConfig

    import anyinit

    out = {}
    for method in ("normal", "llama", "llama_depth"):
        config = TransformerConfig.llama_like(d_model=64, vocab_size=256, n_layers=4, n_heads=4)
        config.init_method = InitMethod(method)
        recipe = anyinit.presets.olmo(method, d_model=64, n_layer=4)
        for seed in range(2):
            torch.manual_seed(seed)
            model = config.build(init_device="cpu")
            model.init_weights(device=torch.device("cpu"))
            out[f"own {method} seed={seed}"] = _summary(anyinit.audit(model, recipe))
        ours = anyinit.initialize(config.build(init_device="cpu"), recipe, seed=0)
        out[f"anyinit {method}"] = _summary(anyinit.audit(ours, recipe))
    return out


def olmo1() -> dict:
    import torch
    from olmo.config import InitFnType, ModelConfig
    from olmo.model import OLMo

    import anyinit

    out = {}
    for method in ("normal", "mitchell", "full_megatron"):
        config = ModelConfig(
            d_model=64, n_heads=4, n_layers=3, vocab_size=256, embedding_size=256,
            max_sequence_length=32, init_device="cpu", init_fn=InitFnType(method),
            weight_tying=False,
        )  # fmt: skip
        # OLMo's defaults: init_std 0.02, init_cutoff_factor None
        recipe = anyinit.presets.olmo(method, 0.02, d_model=64, n_layer=3, cutoff=None)
        for seed in range(2):
            torch.manual_seed(seed)
            model = OLMo(config)
            model.reset_parameters()
            out[f"own {method} seed={seed}"] = _summary(anyinit.audit(model, recipe))
    return out


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    cases = {"megatron": megatron, "torchtitan": torchtitan, "olmo": olmo, "olmo1": olmo1}
    case = cases[sys.argv[1]]
    json.dump(case(), sys.stdout)
