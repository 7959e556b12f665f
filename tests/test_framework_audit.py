"""``anyinit.audit`` and the field's recipes against real model code.

Each recipe is checked against its reference's own init where that code is installable
(transformers' Mamba and GPT-2, megatron-core, torchtitan where present), with
non-default knobs; each shipped bug class is a real model with the bug, and the audit
must flag exactly the parameters the bug touched; the false-alarm rate is measured over
100 seeds of correctly initialised models.
"""

from __future__ import annotations

import math
import pathlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch import nn  # noqa: E402

import anyinit  # noqa: E402
from anyinit.cli import nested  # noqa: E402


def _quiet(build, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build(*args, **kwargs)


def _gpt2(seed=0, **knobs):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        n_layer=4, n_embd=64, n_head=4, vocab_size=96, n_positions=32, **knobs
    )
    return _quiet(transformers.GPT2LMHeadModel, config)


MAMBA_KNOBS = {
    "initializer_range": 0.05,
    "time_step_min": 0.01,
    "time_step_max": 0.2,
    "time_step_scale": 0.5,
    "rescale_prenorm_residual": True,
}


def _mamba(seed=0, **knobs):
    torch.manual_seed(seed)
    config = transformers.MambaConfig(
        vocab_size=64, hidden_size=32, state_size=8, num_hidden_layers=3, expand=2,
        conv_kernel=4, time_step_rank=4, **knobs,
    )  # fmt: skip
    return _quiet(transformers.MambaForCausalLM, config)


def _failed(report):
    return sorted(row.native_path for row in report.failed)


# -- the recipes against their references' own init ---------------------------------------


@pytest.mark.parametrize("knobs", [{}, MAMBA_KNOBS], ids=["defaults", "knobs"])
def test_the_mamba_recipe_is_transformers_own_init(knobs):
    for seed in range(3):
        model = _mamba(seed, **knobs)
        report = anyinit.audit(model, "mamba")
        assert report.ok, str(report)
        assert all(row.ok for row in report)  # every parameter has a law and was tested
    ours = anyinit.initialize(_mamba(**knobs), "mamba", seed=0)
    assert anyinit.audit(ours, "mamba").ok
    low, high = knobs.get("time_step_min", 0.001), knobs.get("time_step_max", 0.1)
    dt = nn.functional.softplus(ours.backbone.layers[0].mixer.dt_proj.bias.detach().double())
    assert low * 0.999 <= float(dt.min())
    assert float(dt.max()) <= high * 1.001
    a_log = ours.backbone.layers[1].mixer.A_log.detach()
    torch.testing.assert_close(a_log[5], torch.log(torch.arange(1.0, 9.0)))


def test_the_mamba_ssm_reference_keeps_torchs_linear_and_conv_laws_and_rescales():
    model = anyinit.initialize(_mamba(), anyinit.presets.mamba("mamba_ssm"), seed=1)
    mixer = model.backbone.layers[0].mixer
    rows = {row.native_path: row for row in anyinit.audit(model, "mamba").failed}
    # HF's in_proj is N(0, 0.1); the reference keeps torch's U(±1/√32) (std 0.102)
    in_proj = mixer.in_proj.weight.detach()
    assert float(in_proj.abs().max()) <= 1 / math.sqrt(32)
    assert "backbone.layers.0.mixer.in_proj.weight" in rows
    out = mixer.out_proj.weight.detach()  # U(±1/√64) / √3: rescale_prenorm_residual on
    assert float(out.abs().max()) <= 1 / 8 / math.sqrt(3) + 1e-7
    assert float(out.abs().max()) > 0.9 / 8 / math.sqrt(3)
    assert float(mixer.conv1d.bias.detach().abs().max()) > 0  # torch's Conv1d bias law


def test_the_gpt2_recipe_is_transformers_own_init_at_a_non_default_range():
    for seed in range(3):
        report = anyinit.audit(_gpt2(seed, initializer_range=0.05), "gpt2")
        assert report.ok, str(report)


# -- the shipped bug classes: exactly the touched parameters are flagged ---------------------


def test_a_gpt2_whose_c_proj_depth_scaling_was_skipped_is_flagged_at_its_c_proj():
    model = _gpt2(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("c_proj.weight"):
                param.normal_(0.0, 0.02)  # the 1/√(2·n_layer) forgotten
    report = anyinit.audit(model, "gpt2")
    expected = sorted(
        name for name, _ in model.named_parameters() if name.endswith("c_proj.weight")
    )
    assert _failed(report) == expected
    assert all("std" in row.reason for row in report.failed)


def test_a_mamba_whose_dt_bias_a_generic_bias_init_zeroed_is_flagged_at_dt_bias():
    model = _mamba(0, **MAMBA_KNOBS)
    with torch.no_grad():  # a generic "zero every Linear bias" pass, run after the mixer's
        for module in model.modules():
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.zero_()
    report = anyinit.audit(model, "mamba")
    assert _failed(report) == [f"backbone.layers.{i}.mixer.dt_proj.bias" for i in range(3)]


def _olmo2(seed=0):
    torch.manual_seed(seed)
    config = transformers.Olmo2Config(
        vocab_size=64, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4,
    )  # fmt: skip
    return _quiet(transformers.Olmo2ForCausalLM, config)


def test_trunc_normal_with_absolute_bounds_is_flagged_against_a_3_sigma_cut():
    model = anyinit.initialize(_olmo2(), anyinit.presets.olmo("normal"), seed=0)
    assert anyinit.audit(model, "olmo").ok
    touched = []
    with torch.no_grad():  # trunc_normal_(std=0.02) meant ±3σ; torch's a, b are absolute ±2
        for name, module in model.named_modules():
            if name.endswith(("q_proj", "down_proj")):
                nn.init.trunc_normal_(module.weight, std=0.02)
                touched.append(f"{name}.weight")
    report = anyinit.audit(model, "olmo")
    assert _failed(report) == sorted(touched)
    assert all("outside" in row.reason for row in report.failed)


# -- false alarms -----------------------------------------------------------------------------


def test_the_false_alarm_rate_over_100_seeds_is_at_most_one_percent():
    alarms = {"gpt2 (HF's own init)": 0, "mamba (HF's own init)": 0, "mlp (torch preset)": 0}
    for seed in range(100):
        alarms["gpt2 (HF's own init)"] += not anyinit.audit(_gpt2(seed), "gpt2").ok
        alarms["mamba (HF's own init)"] += not anyinit.audit(_mamba(seed), "mamba").ok
        mlp = nn.Sequential(nn.Linear(48, 96), nn.ReLU(), nn.Linear(96, 96), nn.Conv1d(4, 8, 3))
        anyinit.initialize(mlp, "torch", seed=seed)
        alarms["mlp (torch preset)"] += not anyinit.audit(mlp, "torch").ok
    assert all(count <= 1 for count in alarms.values()), alarms


# -- the report ---------------------------------------------------------------------------------


def test_the_report_lists_failures_first_and_gives_rows_and_a_plot(tmp_path):
    model = _gpt2(0)
    with torch.no_grad():
        model.transformer.h[2].mlp.c_fc.weight.mul_(3.0)
    report = anyinit.audit(model, "gpt2")
    assert not report.ok
    assert len(report.failed) == 1
    text = str(report).splitlines()
    assert text[1].startswith("transformer.h.2.mlp.c_fc.weight")
    assert "FAIL" in text[1]
    assert text[-1].startswith("1 of 52 checked parameter(s) failed")
    rows = report.rows()
    assert {"path", "law", "std", "expected_std", "ok"} <= rows[0].keys()
    bad = next(row for row in rows if row["ok"] is False)
    assert bad["std"] == pytest.approx(0.06, rel=0.05)
    assert bad["expected_std"] == pytest.approx(0.02)
    pytest.importorskip("matplotlib")
    written = report.plot(tmp_path / "audit.png")
    assert pathlib.Path(written).stat().st_size > 10_000


def test_a_nan_always_fails_and_a_parameter_without_a_law_is_listed_not_checked():
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    with torch.no_grad():
        model[0].weight[3, 3] = float("nan")
    report = anyinit.audit(model, {"0.*": anyinit.Zeros()})
    assert _failed(report) == ["0.bias", "0.weight"]  # the NaN; a nonzero bias
    assert "NaN" in next(row.reason for row in report.failed if row.native_path == "0.weight")
    assert [row.ok for row in report if row.native_path.startswith("1.")] == [None, None]


def test_own_is_not_a_law_to_audit_against():
    with pytest.raises(ValueError, match="'own' replays the model's code"):
        anyinit.audit(nn.Linear(2, 2), "own")


# -- every framework initialize walks -----------------------------------------------------------


def _keras_model():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64), keras.layers.Dense(8)])
    return model, keras


@pytest.mark.parametrize("framework", ["keras", "linen", "nnx", "equinox"])
def test_audit_reads_every_framework_and_flags_a_rescaled_kernel(framework):
    if framework == "keras":
        model, _ = _keras_model()
        preset = "keras"
    else:
        jax = pytest.importorskip("jax")
        jnp = jax.numpy
        if framework == "linen":
            from flax import linen

            model = linen.Dense(64).init(jax.random.key(0), jnp.zeros((1, 48)))
            preset = "flax"
        elif framework == "nnx":
            from flax import nnx

            model = nnx.Linear(48, 64, rngs=nnx.Rngs(0))
            preset = "flax"
        else:
            eqx = pytest.importorskip("equinox")
            model = eqx.nn.Linear(48, 64, key=jax.random.key(0))
            preset = "equinox"
    model = anyinit.initialize(model, preset, seed=3)
    report = anyinit.audit(model, preset)
    assert len(report) >= 2
    assert all(row.ok for row in report), str(report)
    assert not anyinit.audit(model, {"*kernel": anyinit.RandomNormal(0.0, 0.5)}).ok
    # the canonical weights as a plain pytree read the same; one kernel doubled is flagged
    weights = {path: np.asarray(value) for path, value in anyinit.canonical_weights(model).items()}
    report = anyinit.audit(nested(weights), preset)
    assert all(row.ok for row in report), str(report)
    kernel = next(path for path in weights if path.endswith("kernel"))
    report = anyinit.audit(nested({**weights, kernel: weights[kernel] * 2.0}), preset)
    assert [row.path for row in report.failed] == [kernel]


# -- the command line ---------------------------------------------------------------------------


def test_the_cli_audits_a_saved_state_dict_and_exits_1_on_a_failure(tmp_path, capsys):
    from anyinit.cli import main

    model = _gpt2(0)
    torch.save(model.state_dict(), tmp_path / "good.pt")
    assert (
        main(["audit", str(tmp_path / "good.pt"), "--recipe", "gpt2", "--param", "n_layer=4"]) == 0
    )
    assert "0 of 53 checked parameter(s) failed" in capsys.readouterr().out
    with torch.no_grad():
        model.transformer.h[1].attn.c_proj.weight.normal_(0.0, 0.02)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "bad.pt")
    argv = ["audit", str(tmp_path / "bad.pt"), "--recipe", "gpt2", "--param", "n_layer=4"]
    assert main([*argv, "--plot", str(tmp_path / "audit.png")]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("transformer/h/1/attn/c_proj/weight")
    assert "FAIL" in out.splitlines()[1]
    assert (tmp_path / "audit.png").stat().st_size > 10_000


def test_the_cli_loads_a_state_dict_into_the_model_a_factory_builds(tmp_path, capsys, monkeypatch):
    from anyinit.cli import main

    (tmp_path / "my_models.py").write_text(
        "import torch\n"
        "def build():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Linear(64, 8))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    model = nn.Sequential(nn.Linear(32, 64), nn.Linear(64, 8))
    torch.save(model.state_dict(), tmp_path / "mlp.pth")
    argv = ["audit", str(tmp_path / "mlp.pth"), "--recipe", "torch", "--model", "my_models:build"]
    assert main(argv) == 0
    assert "0 of 4 checked parameter(s) failed" in capsys.readouterr().out


def test_the_cli_audits_a_keras_model_file(tmp_path, capsys):
    from anyinit.cli import main

    model, _ = _keras_model()
    model.save(tmp_path / "model.keras")
    assert main(["audit", str(tmp_path / "model.keras"), "--recipe", "keras"]) == 0
    assert "0 of 4 checked parameter(s) failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.pt", "--recipe", "gpt2"], "no file"),
        (["{file}", "--recipe", "gpt3"], "--recipe must be a recipe"),
        (["{file}", "--recipe", "torch", "--param", "n_layer=2"], "takes no --param"),
        (["{file}", "--recipe", "gpt2", "--param", "depth=2"], "--param"),
        (["{file}", "--recipe", "torch", "--model", "nowhere"], "MODULE:CALLABLE"),
    ],
)
def test_the_cli_says_what_is_wrong_and_exits_2(tmp_path, capsys, argv, message):
    from anyinit.cli import main

    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "w.pt")
    argv = [part.replace("{file}", str(tmp_path / "w.pt")) for part in argv]
    assert main(["audit", *argv]) == 2
    assert message in capsys.readouterr().err
