"""The "own" preset: the model's own init code, its draws from the portable stream.

The zoo half runs ``tests/zoo/own.py`` in a fresh process: every transformers model
type in the auto mappings that builds from a tiny config (with non-default init knobs)
and timm's families, each compared with the package's own init. The rest are the
behaviours a user relies on, on small torch models.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import pathlib
import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import anyinit  # noqa: E402
from anyinit import OwnInitWarning, UnsupportedDrawError  # noqa: E402


def _zoo(which: str, tmp_path: pathlib.Path) -> dict[str, dict]:
    from zoo.run import run_script

    if importlib.util.find_spec(which) is None:
        pytest.skip(f"{which} is not installed (nox -s tests-frameworks installs it)")
    return run_script(tmp_path, "own.py", which)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("own")
    return {which: _zoo(which, tmp_path) for which in ("transformers", "timm")}


def _built(results):
    return {name: r for name, r in results.items() if "skipped" not in r}


def test_every_transformers_model_type_that_builds_gets_hfs_own_law_with_its_knobs(zoo):
    built = _built(zoo["transformers"])
    assert not [name for name, r in built.items() if "error" in r]
    wrong = {name: r["bad"] for name, r in built.items() if r["bad"]}
    assert not wrong, wrong
    # Every parameter own init touches is at HF's law (constants and zero rows exactly);
    # only parameters set in constructors alone are left, and named.
    clean = [name for name, r in built.items() if not r["uncovered"]]
    assert len(clean) >= 40, len(clean)
    for name in ("gpt2", "llama", "mistral", "qwen2", "gemma", "bert", "t5", "mamba"):
        assert f"transformers/{name}" in clean, name


def test_timm_families_get_timms_own_law_or_say_why_not(zoo):
    built = _built(zoo["timm"])
    assert not [name for name, r in built.items() if "error" in r]
    right = [name for name, r in built.items() if not r["bad"]]
    assert len(right) >= 20, right
    for name in ("timm/resnet18", "timm/vit_tiny_patch16_224", "timm/convnext_atto"):
        assert name in right, name
    # A constructor init that cannot be replayed as it ran is never silent.
    silent = [name for name, r in built.items() if r["bad"] and not r["warned"]]
    assert not silent, silent


# -- behaviours -----------------------------------------------------------------------


class Scaled(nn.Linear):
    """A Linear subclass with an extra parameter its own reset_parameters draws."""

    def __init__(self, n_in, n_out):
        self.gain = None
        super().__init__(n_in, n_out)
        self.gain = nn.Parameter(torch.empty(n_out))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        if self.gain is not None:
            nn.init.uniform_(self.gain, 0.5, 1.5)


class Fresh(nn.Module):
    """Draws a fresh tensor and copies it in, as Mamba's ``dt`` init does."""

    def __init__(self):
        super().__init__()
        self.dt_bias = nn.Parameter(torch.empty(16))
        self.reset_parameters()

    def reset_parameters(self):
        dt = torch.exp(torch.rand(16) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
        with torch.no_grad():
            self.dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))


def _net():
    return nn.Sequential(Scaled(8, 16), nn.ReLU(), nn.Linear(16, 4), Fresh())


def test_a_subclass_extra_parameter_gets_its_own_init():
    net = _net()
    _, report = anyinit.initialize(net, "own", seed=0, return_report=True)
    gain = net[0].gain.detach()
    assert bool(((gain >= 0.5) & (gain < 1.5)).all())
    assert float(gain.std()) > 0.1
    rows = {row.native_path: row.initializer for row in report}
    assert rows["0.gain"].startswith("uniform_(0.5, 1.5)")


def test_own_is_reproducible_and_independent_of_torchs_generator():
    torch.manual_seed(1)
    a = _net()
    torch.manual_seed(2)
    b = _net()
    state = torch.get_rng_state()
    anyinit.initialize(a, "own", seed=3)
    anyinit.initialize(b, "own", seed=3)
    assert torch.equal(state, torch.get_rng_state())
    for (name, x), (_, y) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert torch.equal(x, y), name
    c = anyinit.initialize(_net(), "own", seed=4)
    assert not torch.equal(c[2].weight, a[2].weight)


def test_a_fresh_draw_copied_in_is_reproducible_and_at_its_law():
    a, b = Fresh(), Fresh()
    anyinit.initialize(a, "own", seed=0)
    anyinit.initialize(b, "own", seed=0)
    assert torch.equal(a.dt_bias, b.dt_bias)
    dt = torch.nn.functional.softplus(a.dt_bias.detach())
    assert float(dt.min()) >= 0.001 * 0.999
    assert float(dt.max()) <= 0.1 * 1.001


def test_meta_built_then_to_empty_equals_cpu_built_bit_for_bit():
    torch.manual_seed(0)
    cpu = _net()
    with torch.device("meta"):
        meta = _net()
    meta = meta.to_empty(device="cpu")
    anyinit.initialize(cpu, "own", seed=0)
    anyinit.initialize(meta, "own", seed=0)
    for (name, x), (_, y) in zip(cpu.named_parameters(), meta.named_parameters(), strict=True):
        assert torch.equal(x, y), name


def test_own_on_torch_nn_layers_gives_the_torch_presets_bits():
    layers = nn.Sequential(
        nn.Linear(8, 16),
        nn.Conv2d(3, 4, 3),
        nn.Embedding(10, 4, padding_idx=0),
        nn.LayerNorm(4),
        nn.MultiheadAttention(8, 2, add_bias_kv=True),
        nn.LSTM(4, 6),
        nn.ConvTranspose2d(8, 8, 3, groups=4),
    )
    preset, own = copy.deepcopy(layers), copy.deepcopy(layers)
    anyinit.initialize(preset, "torch", seed=0)
    anyinit.initialize(own, "own", seed=0)
    for (name, x), (_, y) in zip(preset.named_parameters(), own.named_parameters(), strict=True):
        assert torch.equal(x, y), name
    assert float(own[2].weight.detach()[0].abs().max()) == 0.0  # Embedding's own padding row


def test_a_named_function_is_replayed_after_the_layers_own_resets():
    def init_fn(model):
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
                nn.init.zeros_(module.bias)

    net = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64))
    _, report = anyinit.initialize(net, anyinit.presets.own(init_fn), seed=0, return_report=True)
    weight = net[0].weight.detach()
    assert float(weight.abs().max()) <= 0.04
    assert abs(float(weight.std()) - 0.0174) < 0.002  # 0.02 truncated at ±2σ
    assert float(net[0].bias.detach().abs().max()) == 0.0
    assert {row.native_path: row.initializer for row in report}["1.weight"].startswith("a constant")


def test_orthogonal_is_anyinits_orthogonal_law():
    net = nn.Linear(32, 16)
    anyinit.initialize(net, anyinit.presets.own(lambda m: nn.init.orthogonal_(m.weight)), seed=0)
    w = net.weight.detach().double()
    assert torch.allclose(w @ w.T, torch.eye(16, dtype=torch.float64), atol=1e-5)


def test_an_untouched_parameter_is_left_and_named():
    class Extra(nn.Linear):
        def __init__(self):
            super().__init__(4, 4)
            self.scale = nn.Parameter(torch.full((4,), 3.0))

    net = Extra()
    with pytest.warns(anyinit.UncoveredParametersWarning, match="scale"):
        anyinit.initialize(net, "own", seed=0)
    assert torch.equal(net.scale.detach(), torch.full((4,), 3.0))


def test_a_draw_that_cannot_be_replayed_raises_and_leaves_the_model_as_it_was():
    class Sampled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.idx = nn.Parameter(torch.zeros(3))

        def init_weights(self):
            nn.init.normal_(self.fc.weight)
            with torch.no_grad():
                self.idx.copy_(torch.multinomial(torch.ones(4), 3).float())

    net = Sampled()
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    state = torch.get_rng_state()
    with pytest.raises(UnsupportedDrawError, match="multinomial"):
        anyinit.initialize(net, "own", seed=0)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert torch.equal(state, torch.get_rng_state())


def test_a_native_generator_runs_the_code_on_it():
    a, b = nn.Linear(8, 8), nn.Linear(8, 8)
    anyinit.initialize(a, "own", seed=torch.Generator().manual_seed(5))
    generator = torch.Generator().manual_seed(5)
    nn.init.kaiming_uniform_(b.weight, a=math.sqrt(5), generator=generator)
    bound = 1 / math.sqrt(8)
    nn.init.uniform_(b.bias, -bound, bound, generator=generator)
    assert torch.equal(a.weight, b.weight)
    assert torch.equal(a.bias, b.bias)


def test_a_constructor_init_own_cannot_replay_is_said():
    class Inline(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.01)

    with pytest.warns(OwnInitWarning, match="cannot call again"):
        anyinit.initialize(Inline(), "own", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OwnInitWarning)
        anyinit.initialize(_net(), "own", seed=0)


def test_transformers_knobs_and_ties(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(
        n_embd=32, n_layer=2, n_head=4, vocab_size=300, n_positions=32, initializer_range=0.05
    )
    model = transformers.AutoModelForCausalLM.from_config(config)
    anyinit.initialize(model, "own", seed=0)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert abs(float(model.transformer.wte.weight.detach().std()) - 0.05) < 0.003
    c_proj = model.transformer.h[0].attn.c_proj.weight.detach()
    assert abs(float(c_proj.std()) - 0.05 / math.sqrt(4)) < 0.003
    again = transformers.AutoModelForCausalLM.from_config(config)
    anyinit.initialize(again, "own", seed=0)
    assert torch.equal(again.transformer.wte.weight, model.transformer.wte.weight)


# -- the hand recipes against HF's own init, with non-default knobs --------------------

_RECIPE_CASES = {
    "gpt2": ("gpt2", {"initializer_range": 0.05}),
    "llama": ("llama", {"initializer_range": 0.05}),
    "mistral": ("llama", {"initializer_range": 0.05}),
    "qwen2": ("llama", {"initializer_range": 0.05}),
    "gemma": ("llama", {"initializer_range": 0.05}),
    "bert": ("bert", {"initializer_range": 0.05}),
    "t5": ("t5", {"initializer_factor": 2.0}),
}


@pytest.mark.parametrize("kind", sorted(_RECIPE_CASES))
def test_each_hand_recipe_reads_the_configs_knobs_as_hf_does(kind):
    pytest.importorskip("transformers")
    from zoo.own import _TINY, build_transformers, compare, transformers_types

    recipe, knobs = _RECIPE_CASES[kind]
    torch.manual_seed(0)
    model = build_transformers(kind, transformers_types()[kind], {**_TINY, **knobs})
    reference = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error", anyinit.RecipeFamilyWarning)
        anyinit.initialize(model, recipe, seed=0)
    wrong = {}
    for name, value in model.state_dict().items():
        if value.is_floating_point() and (why := compare(reference[name], value)) is not None:
            wrong[name] = why
    assert not wrong, wrong


def test_a_recipe_given_another_family_warns():
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=64, n_positions=16)
    model = transformers.AutoModelForCausalLM.from_config(config)
    with pytest.warns(anyinit.RecipeFamilyWarning, match="'gpt2' model"):
        anyinit.initialize(model, "llama", seed=0)


def test_hf_recipes_give_multihead_attentions_out_proj_the_linear_law():
    attention = nn.MultiheadAttention(64, 4)
    anyinit.initialize(attention, anyinit.presets.bert(initializer_range=0.02), seed=0)
    assert abs(float(attention.out_proj.weight.detach().std()) - 0.02) < 0.002
    assert float(attention.out_proj.bias.detach().abs().max()) == 0.0


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: anyinit.presets.gpt2(n_layer=-1), ValueError, "n_layer` must be >= 1"),
        (lambda: anyinit.presets.gpt2(n_layer=0), ValueError, "n_layer` must be >= 1"),
        (lambda: anyinit.presets.gpt2(n_layer=1.5), TypeError, "n_layer` must be an int"),
        (lambda: anyinit.presets.gpt2(n_layer=True), TypeError, "n_layer` must be an int"),
        (lambda: anyinit.presets.bert(initializer_range="x"), TypeError, "must be a number"),
        (lambda: anyinit.presets.t5(num_heads=0), ValueError, "num_heads` must be >= 1"),
    ],
)
def test_recipe_arguments_are_checked_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_t5_refuses_a_head_count_that_does_not_divide_the_width():
    transformers = pytest.importorskip("transformers")
    config = transformers.T5Config(d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
    model = transformers.T5ForConditionalGeneration(config)
    with pytest.raises(ValueError, match="not a multiple of num_heads=3"):
        anyinit.initialize(model, anyinit.presets.t5(num_heads=3), seed=0)


def test_every_law_torch_can_draw_is_replayed_reproducibly_and_in_its_support():
    class Many(nn.Module):
        def __init__(self):
            super().__init__()
            for name in ("exp", "bern", "lognormal", "cauchy", "geom", "perm", "ints"):
                self.register_parameter(name, nn.Parameter(torch.empty(4096)))

        def init_weights(self):
            with torch.no_grad():
                self.exp.exponential_(2.0)
                self.bern.bernoulli_(0.25)
                self.lognormal.log_normal_(0.0, 0.5)
                self.cauchy.cauchy_()
                self.geom.geometric_(0.5)
                self.perm.copy_(torch.randperm(4096).float())
                self.ints.copy_(torch.randint(3, 7, (4096,)).float())

    a, b = Many(), Many()
    anyinit.initialize(a, "own", seed=0)
    anyinit.initialize(b, "own", seed=0)
    for (name, x), (_, y) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert torch.equal(x, y), name
        assert bool(torch.isfinite(x).all()), name
    assert abs(float(a.exp.detach().mean()) - 0.5) < 0.03
    assert set(a.bern.detach().unique().tolist()) == {0.0, 1.0}
    assert abs(float(a.bern.detach().mean()) - 0.25) < 0.03
    assert float(a.lognormal.detach().min()) > 0
    assert float(a.geom.detach().min()) >= 1
    assert abs(float(a.geom.detach().mean()) - 2.0) < 0.1
    assert torch.equal(a.perm.detach().sort().values, torch.arange(4096.0))
    assert set(a.ints.detach().unique().tolist()) == {3.0, 4.0, 5.0, 6.0}


def test_what_transformers_marks_as_loaded_is_left_as_it_is():
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_embd=32, n_layer=1, n_head=4, vocab_size=64, n_positions=16)
    model = transformers.AutoModelForCausalLM.from_config(config)
    loaded = model.transformer.h[0].mlp.c_fc.weight
    loaded._is_hf_initialized = True  # as from_pretrained marks a weight it loaded
    before = loaded.detach().clone()
    with pytest.warns(anyinit.UncoveredParametersWarning, match="c_fc.weight"):
        anyinit.initialize(model, "own", seed=0)
    assert torch.equal(loaded.detach(), before)
    assert not torch.equal(model.transformer.h[0].attn.c_attn.weight.detach(), before[:, :96])


# -- Flax linen: the modules' own initializers, by path ---------------------------------


def test_linen_params_get_their_modules_own_initializers_by_path():
    jax = pytest.importorskip("jax")
    linen = pytest.importorskip("flax.linen")
    import numpy as np

    from zoo.own import compare

    class Net(linen.Module):
        @linen.compact
        def __call__(self, x):
            x = linen.Dense(256)(x)
            x = linen.Conv(64, (3,))(x[..., None])
            x = linen.LayerNorm()(x)
            x = linen.Dense(128, kernel_init=linen.initializers.normal(0.3))(x)
            x = linen.DenseGeneral((4, 32), kernel_init=linen.initializers.he_normal())(x)
            return x + linen.Embed(100, 32)(jnp.zeros((2, 1, 1), int))

    import jax.numpy as jnp

    net, x = Net(), jnp.zeros((2, 64))
    variables = net.init(jax.random.key(0), x)  # Flax's own init: the laws to match
    rules = anyinit.presets.own(lambda key: net.init(key, x))
    ours, report = anyinit.initialize(variables, rules, seed=0, return_report=True)
    again = anyinit.initialize(variables, rules, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", anyinit.UncoveredParametersWarning)
        preset, preset_report = anyinit.initialize(variables, "flax", seed=0, return_report=True)
    laws = {row.native_path: row.initializer for row in preset_report}
    flat = dict(jax.tree_util.tree_leaves_with_path(ours))
    theirs = dict(jax.tree_util.tree_leaves_with_path(variables))
    repeat = dict(jax.tree_util.tree_leaves_with_path(again))
    by_preset = dict(jax.tree_util.tree_leaves_with_path(preset))
    rows = {row.native_path: row.initializer for row in report}
    for path, value in flat.items():
        name = "/".join(str(getattr(k, "key", k)) for k in path)
        assert not rows[name].startswith("skipped"), name
        assert np.array_equal(np.asarray(value), np.asarray(repeat[path])), name
        why = compare(torch.tensor(np.asarray(theirs[path])), torch.tensor(np.asarray(value)))
        assert why is None, (name, why)
        if laws.get(name) == rows[name]:
            assert np.array_equal(np.asarray(value), np.asarray(by_preset[path])), name
    assert rows["params/Dense_1/kernel"].startswith("RandomNormal(mean=0.0, stddev=0.3")


def test_own_on_a_params_tree_needs_the_code_that_made_it():
    import numpy as np

    with pytest.raises(ValueError, match=r"module\.init"):
        anyinit.initialize({"w": np.zeros((2, 2), np.float32)}, "own", seed=0)


@pytest.mark.parametrize("preset", ["keras", "flax", "equinox", "mlx"])
def test_a_projection_no_framework_but_torch_has_is_never_guessed(preset):
    # torch's LSTM(proj_size=…) adds weight_hr; the other frameworks' LSTMs have no
    # projection, so their presets leave it as it was and name it (it was zeroed: a dead LSTM).
    lstm = nn.LSTM(16, 32, proj_size=8)
    before = lstm.weight_hr_l0.detach().clone()
    with pytest.warns(anyinit.UncoveredParametersWarning, match="weight_hr_l0"):
        anyinit.initialize(lstm, preset, seed=0)
    assert torch.equal(lstm.weight_hr_l0.detach(), before)
