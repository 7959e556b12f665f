"""muP's initialisation against the ``mup`` package: an MLP and a small transformer at widths
64, 256 and 1024 with base width 64, every parameter's standard deviation as ``mup``'s
(``set_base_shapes`` then ``mup.init.normal_``), within 2 %."""

from __future__ import annotations

import math
import re

import pytest

import anyinit

torch = pytest.importorskip("torch")
mup = pytest.importorskip("mup")
nn = torch.nn
STD = 0.02


def mlp(width):
    return nn.Sequential(
        nn.Linear(32, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
        mup.MuReadout(width, 10),
    )  # fmt: skip


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.q, self.k, self.v, self.o = (nn.Linear(width, width) for _ in range(4))
        self.up = nn.Linear(width, 4 * width)
        self.down = nn.Linear(4 * width, width)


class Transformer(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.embed = nn.Embedding(100, width)
        self.blocks = nn.ModuleList([Block(width) for _ in range(2)])
        self.readout = mup.MuReadout(width, 100)


def _mup_reference(model, base):
    """What the mup package gives: set_base_shapes, then its init helpers on every matrix."""
    mup.set_base_shapes(model, base, rescale_params=False)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                mup.init.normal_(p, std=STD)
            elif name.endswith("bias"):
                p.zero_()
    return {
        name: STD * (p.infshape.width_mult() ** -0.5 if p.infshape.ninf() == 2 else 1.0)
        for name, p in model.named_parameters()
        if p.dim() > 1
    }, model


@pytest.mark.parametrize("build", [mlp, Transformer], ids=["mlp", "transformer"])
@pytest.mark.parametrize("width", [64, 256, 1024])
def test_mup_matches_the_mup_package_per_parameter(build, width):
    laws, reference = _mup_reference(build(width), build(64))
    ours, report = anyinit.initialize(
        build(width), anyinit.presets.mup(build(64), "bert"), seed=0, return_report=True
    )
    drawn = {row.native_path: row.initializer for row in report}
    params = dict(ours.named_parameters())
    for name, std in laws.items():
        law = float(re.search(r"stddev=([0-9.e-]+)", drawn[name]).group(1))
        assert law == pytest.approx(std, rel=1e-6), name  # the law's std: exactly mup's
        sample = float(params[name].detach().double().std())
        theirs = float(dict(reference.named_parameters())[name].detach().double().std())
        tolerance = 0.02 if params[name].numel() >= 16384 else 4 / math.sqrt(params[name].numel())
        assert sample == pytest.approx(theirs, rel=tolerance + 0.02), name
        assert sample == pytest.approx(std, rel=tolerance), name


def test_mup_classes_each_parameter_by_which_fans_grow():
    from anyinit.models.recipes import mup_class

    assert mup_class((32, 1024), (32, 64)) == "input"
    assert mup_class((1024, 1024), (64, 64)) == "hidden"
    assert mup_class((1024, 10), (64, 10)) == "output"
    assert mup_class((1024,), (64,)) == "input"
    assert mup_class((32, 10), (32, 10)) == "fixed"


def test_mup_readout_options_and_errors():
    base = mlp(64)
    zero = anyinit.initialize(mlp(256), anyinit.presets.mup(base, "bert", readout="zero"), seed=0)
    assert float(zero[4].weight.detach().abs().max()) == 0.0
    scaled = anyinit.initialize(
        mlp(1024), anyinit.presets.mup(base, "bert", readout="scaled"), seed=0
    )
    assert float(scaled[4].weight.detach().std()) == pytest.approx(STD * 64 / 1024, rel=0.1)
    with pytest.raises(ValueError, match="`readout` must be"):
        anyinit.presets.mup(base, readout="half")
    with pytest.raises(ValueError, match="the muP base has no parameter"):
        anyinit.initialize(Transformer(128), anyinit.presets.mup(base, "bert"), seed=0)


def test_mup_gives_a_torch_mlp_and_its_linen_port_the_same_weights():
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    import numpy as np
    from flax import linen

    class TorchMLP(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(32, width), nn.Linear(width, width)
            self.readout = nn.Linear(width, 10)

    class LinenMLP(linen.Module):
        width: int

        @linen.compact
        def __call__(self, x):
            x = linen.Dense(self.width, name="fc1")(x)
            return linen.Dense(10, name="readout")(linen.Dense(self.width, name="fc2")(x))

    def linen_params(width):
        return LinenMLP(width).init(jax.random.key(0), jnp.zeros((1, 32), jnp.float32))

    weights = {}
    for name, build in (("torch", TorchMLP), ("linen", linen_params)):
        recipe = anyinit.presets.mup(build(64), "bert")
        model = anyinit.initialize(build(256), recipe, seed=4)
        weights[name] = {k: np.asarray(v) for k, v in anyinit.canonical_weights(model).items()}
    assert weights["torch"].keys() == weights["linen"].keys()
    for path, value in weights["torch"].items():
        spacing = np.spacing(np.abs(value).astype(np.float32))
        assert np.all(np.abs(weights["linen"][path] - value) <= 4 * spacing), path
    assert weights["torch"]["fc2.kernel"].std() == pytest.approx(STD / 2, rel=0.05)
