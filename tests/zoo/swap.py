"""Build timm and transformers models with torch.nn.init as it is, or swapped for anyinit's.

``python tests/zoo/swap.py torch|anyinit`` prints JSON: for each model, a hash of
every parameter and buffer and of the global RNG state after building it, each
built after ``torch.manual_seed(0)``. ``anyinit`` first sets every function of
``torch.nn.init`` to anyinit's of the same name (before timm or transformers
import, as a codebase switching over would), so equal output means anyinit's
functions drew the same bits from the same generator, and advanced it alike.
Run by ``tests/test_zoo.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pathlib
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

#: timm models, one per family (small variants, random init).
TIMM = (
    "resnet18",
    "resnext26ts",
    "vit_tiny_patch16_224",
    "deit_tiny_patch16_224",
    "swin_tiny_patch4_window7_224",
    "eva02_tiny_patch14_224",
    "beit_base_patch16_224",
    "convnext_atto",
    "efficientnet_b0",
    "mobilenetv3_small_050",
    "mobilenetv4_conv_small",
    "regnetx_002",
    "mixer_s16_224",
    "levit_128s",
    "coatnet_nano_rw_224",
    "maxvit_nano_rw_256",
    "ghostnetv2_100",
    "efficientvit_b0",
    "densenet121",
    "mobilevit_xxs",
    "poolformer_s12",
    "pvt_v2_b0",
    "cait_xxs24_224",
    "xcit_nano_12_p16_224",
    "edgenext_xx_small",
    "lcnet_050",
    "repvgg_a0",
    "fastvit_t8",
    "dla34",
    "rexnet_100",
    "convmixer_768_32",
    "hrnet_w18_small",
)

#: transformers model types, each with a tiny config.
TRANSFORMERS = (
    "gpt2",
    "bert",
    "roberta",
    "distilbert",
    "albert",
    "electra",
    "t5",
    "bart",
    "opt",
    "llama",
    "mistral",
    "qwen2",
    "gpt_neox",
    "bloom",
    "falcon",
    "phi",
    "vit",
    "deberta-v2",
    "mamba",
)

_TINY = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 99,
    "max_position_embeddings": 64,
    # the names some configs use instead
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 4,
    "d_model": 32,
    "d_ff": 64,
    "d_kv": 8,
    "num_layers": 2,
    "num_heads": 4,
    "dim": 32,
    "hidden_dim": 64,
    "n_heads": 4,
    "n_layers": 2,
    "ffn_dim": 64,
    "word_embed_proj_dim": 32,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
    "embedding_size": 16,
    "image_size": 32,
    "patch_size": 8,
    "state_size": 8,
    "expand": 2,
    "n_positions": 64,
}


CALLS = {"count": 0}


def swap_torch_nn_init() -> list[str]:
    import functools

    import torch

    import anyinit

    swapped = []
    for name in anyinit.torch_nn_init.__all__:
        if hasattr(torch.nn.init, name):
            ours = getattr(anyinit, name)

            @functools.wraps(ours)
            def counted(*args, _ours=ours, **kwargs):
                CALLS["count"] += 1  # the test checks that anyinit's functions did the work
                return _ours(*args, **kwargs)

            setattr(torch.nn.init, name, counted)
            swapped.append(name)
    return swapped


def digest(model, torch) -> dict[str, str]:
    out = {}
    for name, tensor in (*model.named_parameters(), *model.named_buffers()):
        data = tensor.detach().contiguous().cpu().reshape(-1)
        out[name] = hashlib.sha256(data.view(torch.uint8).numpy().tobytes()).hexdigest()[:16]
    state = torch.get_rng_state().numpy().tobytes()
    out["<rng state>"] = hashlib.sha256(state).hexdigest()[:16]
    out["<anyinit calls>"] = CALLS["count"]
    CALLS["count"] = 0
    return out


def build_transformers(kind: str):
    import transformers

    config_class = transformers.CONFIG_MAPPING[kind]
    names = set(config_class().to_dict())
    config = config_class(**{k: v for k, v in _TINY.items() if k in names})
    if kind in ("bert", "roberta", "albert", "electra", "deberta-v2", "distilbert"):
        return transformers.AutoModelForMaskedLM.from_config(config)
    if kind in ("t5", "bart"):
        return transformers.AutoModelForSeq2SeqLM.from_config(config)
    if kind == "vit":
        return transformers.AutoModelForImageClassification.from_config(config)
    return transformers.AutoModelForCausalLM.from_config(config)


#: Models whose every parameter the "torch" preset covers (by the owners' documented inits).
PRESET_COVERED = (
    "timm/vit_tiny_patch16_224",
    "timm/deit_tiny_distilled_patch16_224",
    "timm/eva02_tiny_patch14_224",
    "timm/swin_tiny_patch4_window7_224",
    "transformers/gpt2",
    "transformers/llama",
    "transformers/t5",
    "transformers/gemma",
)


def presets() -> dict[str, object]:
    """The "torch" preset on model-zoo models: what each parameter got, what was skipped;
    and, for every RMSNorm class in transformers, its constructor's scale against anyinit's."""
    import importlib
    import pkgutil

    import timm
    import torch
    import transformers

    import anyinit
    from anyinit.models.walkers import torch as torch_walker

    out: dict[str, object] = {}
    for name in PRESET_COVERED:
        library, _, model = name.partition("/")
        torch.manual_seed(0)
        built = timm.create_model(model) if library == "timm" else build_transformers(model)
        _, report = anyinit.initialize(built, "torch", seed=0, return_report=True)
        out[name] = {row.native_path: row.initializer for row in report}
    norms = {}
    for info in pkgutil.iter_modules(transformers.models.__path__):
        try:
            module = importlib.import_module(
                f"transformers.models.{info.name}.modeling_{info.name}"
            )
        except Exception:
            continue
        for attribute in dir(module):
            cls = getattr(module, attribute)
            if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
                continue
            if not torch_walker._ZOO_NORM.search(cls.__name__) or cls.__module__ != module.__name__:
                continue
            try:
                norm = cls(8)
            except Exception:
                continue
            weight = getattr(norm, "weight", None)
            if weight is None or weight.dim() != 1:
                continue
            values = set(weight.detach().tolist())
            own = values.pop() if len(values) == 1 else None
            norms[f"{cls.__module__}.{cls.__name__}"] = [own, torch_walker._zoo_norm_scale(norm)]
    out["<rmsnorm classes>"] = norms
    return out


def main(which: str) -> int:
    if which == "preset":
        from zoo import torchvision_stand_in

        torchvision_stand_in.install()
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        json.dump(presets(), sys.stdout)
        return 0
    if which == "anyinit":
        swap_torch_nn_init()
    from zoo import torchvision_stand_in

    torchvision_stand_in.install()
    warnings.simplefilter("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.disable(logging.WARNING)
    import timm
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    result = {}
    for name in TIMM:
        torch.manual_seed(0)
        result[f"timm/{name}"] = digest(timm.create_model(name, pretrained=False), torch)
    for kind in TRANSFORMERS:
        torch.manual_seed(0)
        result[f"transformers/{kind}"] = digest(build_transformers(kind), torch)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
