"""The "own" preset against the model zoos' own init: every parameter at the model's own law.

``python tests/zoo/own.py transformers|timm`` prints JSON: for each model built from the
installed package (every transformers model type in the auto mappings that builds on the
CPU from a tiny config with non-default init knobs; timm's families), ``{"ok": [...],
"bad": {parameter: why}, "uncovered": [...]}``, comparing ``anyinit.initialize(model,
"own", seed=0)`` with the weights the package's own constructor drew (``from_config`` /
``timm.create_model`` after ``torch.manual_seed(0)``): constants and all-zero rows
exactly, random parameters by mean, std and a two-sample KS test. Run by
``tests/test_framework_own.py`` in a fresh process (timm's torchvision imports get the
stand-in ``tests/zoo/torchvision_stand_in.py``).
"""

from __future__ import annotations

import json
import logging
import pathlib
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from zoo.swap import _TINY, TIMM

#: Non-default init knobs: each config that has one gets it (the default is 0.02 or 1.0).
KNOBS = {"initializer_range": 0.05, "init_std": 0.05, "initializer_factor": 2.0}
#: A model much larger than a tiny config should give is not built (a config that ignores
#: the tiny sizes): it would only slow the test.
MAX_PARAMETERS = 3_000_000


def compare(reference, own) -> str | None:
    """None where `own` is a draw of `reference`'s law, else why not."""
    import numpy as np
    from scipy import stats

    ref = reference.detach().double().cpu().numpy()
    ours = own.detach().double().cpu().numpy()
    if ref.shape != ours.shape:
        return f"shape {ours.shape} != {ref.shape}"
    flat, our_flat = ref.ravel(), ours.ravel()
    if flat.size == 0:
        return None
    if not np.isfinite(our_flat).all():
        return "not finite"
    if np.unique(flat).size == 1:  # a constant: exactly
        return None if np.array_equal(flat, our_flat) else f"constant {flat[0]} not kept"
    if ref.ndim >= 2:  # rows the own code sets to zero (padding rows): exactly
        zero_rows = np.all(ref.reshape(ref.shape[0], -1) == 0, axis=1)
        our_zero = np.all(ours.reshape(ours.shape[0], -1) == 0, axis=1)
        if zero_rows.any() and not np.array_equal(zero_rows, our_zero):
            return "zero rows differ"
    if np.unique(flat).size <= 3:  # a few constants (a mask, a schedule): the same multiset
        return None if np.array_equal(np.sort(flat), np.sort(our_flat)) else "values differ"
    std, our_std = flat.std(), our_flat.std()
    n = flat.size
    if n < 100:  # a handful of values (attention sinks, per-head decays): the KS test alone
        p = stats.ks_2samp(flat, our_flat).pvalue
        return None if p >= 1e-6 else f"KS p = {p:.2g}"
    if abs(our_std - std) > std * (0.05 + 6 / np.sqrt(n)):
        return f"std {our_std:.4g} against {std:.4g}"
    if abs(our_flat.mean() - flat.mean()) > std * (0.02 + 8 / np.sqrt(n)):
        return f"mean {our_flat.mean():.4g} against {flat.mean():.4g}"
    p = stats.ks_2samp(flat, our_flat).pvalue
    if p < 1e-6:
        return f"KS p = {p:.2g}"
    return None


def check(model, torch, anyinit) -> dict[str, object]:
    reference = {name: t.detach().clone() for name, t in model.state_dict().items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anyinit.initialize(model, "own", seed=0)
    uncovered = [
        str(w.message) for w in caught if issubclass(w.category, anyinit.UncoveredParametersWarning)
    ]
    said = [str(w.message) for w in caught if w.category.__name__ == "OwnInitWarning"]
    bad, ok = {}, []
    for name, value in model.state_dict().items():
        if not value.is_floating_point():
            continue
        why = compare(reference[name], value)
        if why is None:
            ok.append(name)
        else:
            bad[name] = why
    return {"ok": ok, "bad": bad, "uncovered": uncovered, "warned": said}


def transformers_types():
    """Every model type in the auto mappings of causal LM, masked LM, seq2seq, image
    classification and the bare models, with the task class to build it by."""
    from transformers.models.auto import modeling_auto as auto

    found: dict[str, str] = {}
    for task, mapping in (
        ("AutoModelForCausalLM", auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES),
        ("AutoModelForMaskedLM", auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES),
        ("AutoModelForSeq2SeqLM", auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES),
        ("AutoModelForImageClassification", auto.MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES),
    ):
        for kind in mapping:
            found.setdefault(kind, task)
    return found


def build_transformers(kind: str, task: str, settings: dict | None = None):
    import transformers

    config_class = transformers.CONFIG_MAPPING[kind]
    defaults = config_class().to_dict()
    settings = {**_TINY, **KNOBS} if settings is None else settings
    values = {k: v for k, v in settings.items() if k in defaults}
    config = config_class(**values)
    return getattr(transformers, task).from_config(config)


def main(which: str) -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    if which == "timm":
        from zoo import torchvision_stand_in

        torchvision_stand_in.install()
    import torch

    import anyinit

    torch.set_num_threads(1)
    out: dict[str, object] = {}
    if which == "transformers":
        import transformers

        transformers.logging.set_verbosity_error()
        for kind, task in sorted(transformers_types().items()):
            print(kind, file=sys.stderr, flush=True)
            try:
                with torch.device("meta"):  # its size first: some configs ignore tiny sizes
                    size = sum(p.numel() for p in build_transformers(kind, task).parameters())
                if size > MAX_PARAMETERS:
                    out[f"transformers/{kind}"] = {"skipped": f"not tiny ({size} parameters)"}
                    continue
                torch.manual_seed(0)
                model = build_transformers(kind, task)
            except Exception as error:
                out[f"transformers/{kind}"] = {"skipped": f"{type(error).__name__}: {error}"[:200]}
                continue
            try:
                out[f"transformers/{kind}"] = check(model, torch, anyinit)
            except Exception as error:
                out[f"transformers/{kind}"] = {"error": f"{type(error).__name__}: {error}"[:300]}
    else:
        import timm

        for name in TIMM:
            torch.manual_seed(0)
            model = timm.create_model(name, pretrained=False)
            try:
                out[f"timm/{name}"] = check(model, torch, anyinit)
            except Exception as error:
                out[f"timm/{name}"] = {"error": f"{type(error).__name__}: {error}"[:300]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
