"""timm and transformers with ``torch.nn.init`` swapped for anyinit: bit-identical models.

``tests/zoo/swap.py`` builds 32 timm models (one per family) and 19 transformers
model types (tiny configs) after ``torch.manual_seed(0)``, once with torch's own
``torch.nn.init`` and once with every function of it replaced by anyinit's of the
same name, each in a fresh process. Every parameter and buffer, and the global RNG
state after each model, must be bit-identical, and anyinit's functions must have
done the work. timm is installed without its dependencies (its torchvision
imports get an import-time stand-in, ``tests/zoo/torchvision_stand_in.py``).
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

pytest.importorskip("torch")
# Not imported here: timm imports torchvision, which the subprocess stands in for.
for _package in ("timm", "transformers"):
    if importlib.util.find_spec(_package) is None:
        pytest.skip(
            f"{_package} is not installed (nox -s tests-frameworks installs it)",
            allow_module_level=True,
        )


def _build(which: str, tmp_path: pathlib.Path) -> dict[str, dict[str, object]]:
    from zoo.run import run_script

    return run_script(tmp_path, "swap.py", which, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("zoo")
    return _build("torch", tmp_path), _build("anyinit", tmp_path)


def test_enough_families_and_model_types_are_built(built):
    own, _ = built
    assert sum(name.startswith("timm/") for name in own) >= 25
    assert sum(name.startswith("transformers/") for name in own) >= 15


def test_swapping_torch_nn_init_for_anyinit_changes_no_bit_and_no_rng_state(built):
    own, ours = built
    assert own.keys() == ours.keys()
    different = {}
    for model, hashes in own.items():
        theirs = {k: v for k, v in ours[model].items() if k != "<anyinit calls>"}
        hashes = {k: v for k, v in hashes.items() if k != "<anyinit calls>"}
        assert hashes.keys() == theirs.keys(), model
        bad = [name for name in hashes if hashes[name] != theirs[name]]
        if bad:
            different[model] = bad[:5]
    assert not different


def test_anyinits_functions_did_the_initialising(built):
    _, ours = built
    idle = [model for model, hashes in ours.items() if hashes["<anyinit calls>"] == 0]
    assert not idle


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    return _build("preset", tmp_path_factory.mktemp("zoo-preset"))


def test_the_torch_preset_covers_model_zoo_parameters_by_their_owners_inits(presets):
    # Regression: HF Conv1D (16 of GPT-2's 28 tensors), RMSNorm weights, timm's cls_token /
    # pos_embed / dist_token, Swin's relative-position tables and EVA's q/v biases were
    # skipped silently.
    models = {name: laws for name, laws in presets.items() if not name.startswith("<")}
    assert len(models) == 8
    for name, laws in models.items():
        skipped = [path for path, law in laws.items() if law.startswith("skipped")]
        assert not skipped, (name, skipped[:5])
    gpt2 = models["transformers/gpt2"]
    assert gpt2["transformer.h.0.attn.c_attn.weight"].startswith(
        "RandomNormal(mean=0.0, stddev=0.02"
    )
    assert gpt2["transformer.h.0.attn.c_attn.bias"] == "Constant(value=0.0)"
    assert models["transformers/llama"]["model.norm.weight"] == "Constant(value=1.0)"
    assert models["transformers/gemma"]["model.norm.weight"] == "Constant(value=0.0)"
    vit = models["timm/vit_tiny_patch16_224"]
    assert vit["cls_token"].startswith("RandomNormal(mean=0.0, stddev=1e-06")
    assert vit["pos_embed"].startswith("RandomNormal(mean=0.0, stddev=0.02")
    swin = models["timm/swin_tiny_patch4_window7_224"]
    table = [law for path, law in swin.items() if path.endswith("relative_position_bias_table")]
    assert table
    assert all(law.startswith("RandomNormal(mean=0.0, stddev=0.02") for law in table)


def test_every_transformers_rmsnorm_gets_the_scale_its_constructor_sets(presets):
    # Ones for most; zeros for the zero-centred ones (Gemma's x · (1 + weight)).
    norms = presets["<rmsnorm classes>"]
    assert len(norms) >= 150
    wrong = {name: pair for name, pair in norms.items() if pair[0] != pair[1]}
    assert not wrong
    assert {pair[0] for pair in norms.values()} == {0.0, 1.0}


def test_each_recipe_draws_its_reference_implementations_laws(tmp_path):
    # HF GPT-2, LLaMA, BERT, T5 (small configs) and timm's ViT, each initialised by its own
    # reference code, against a copy initialised by the recipe: every parameter.
    from zoo.run import run_script

    results = run_script(tmp_path, "recipes.py", timeout=900)
    assert set(results) == {"gpt2", "llama", "bert", "t5", "vit", "vit jax", "llama depth_init"}
    for model, result in results.items():
        assert result["checked"] >= 12, model
        assert result["failures"] == [], model
