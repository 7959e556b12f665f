"""The residual recipes against their references: DeepNet against x-transformers 1.16's
``deepnorm_init`` (encoder-only and encoder-decoder), ReZero against the ``rezero``
package's layers, Fixup against the reference's init loop, ZerO against its Algorithm 1
(on SciPy's Hadamard matrix), T-Fixup against its formulas; and the laws each leaves to
its base."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import anyinit  # noqa: E402
from anyinit.models import walkers  # noqa: E402
from anyinit.models.residual_recipes import sublayer  # noqa: E402


def _needs(module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (nox -s tests-frameworks installs it)")


def _sublayer_paths(model):
    return {
        s.path
        for slot in walkers.walker_for(model).slots(model, None)
        for s in slot.info.get("parts", (slot,))
        if sublayer(s) is not None
    }


# -- DeepNet ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stacks", ["encoder", "encoder-decoder"])
def test_deepnet_is_x_transformers_deepnorm_init_on_every_sublayer(stacks):
    _needs("x_transformers")
    from x_transformers import Encoder, TransformerWrapper, XTransformer

    for seed in range(3):
        torch.manual_seed(seed)
        if stacks == "encoder":
            model = TransformerWrapper(
                num_tokens=64, max_seq_len=16,
                attn_layers=Encoder(dim=64, depth=6, heads=4, deepnorm=True),
            )  # fmt: skip
            recipe = anyinit.presets.deepnet(6)  # x-transformers counts attention+ff as one
        else:
            model = XTransformer(
                dim=64, enc_num_tokens=64, enc_depth=4, enc_heads=4, enc_max_seq_len=16,
                dec_num_tokens=64, dec_depth=3, dec_heads=4, dec_max_seq_len=16, deepnorm=True,
            )  # fmt: skip
            recipe = anyinit.presets.deepnet(4, 3)
        report = anyinit.audit(model, recipe)
        defined = _sublayer_paths(model)
        checked = [row for row in report if row.path in defined]
        assert len(checked) >= 48
        assert [row.path for row in checked if not row.ok] == []
        # what DeepNet does not define is the base's, not x-transformers' own choice
        assert all(row.path not in defined for row in report.failed)


def test_deepnet_gives_each_stack_its_beta():
    model = nn.Transformer(
        64, 4, num_encoder_layers=4, num_decoder_layers=3, dim_feedforward=128, batch_first=True
    )
    anyinit.initialize(model, "deepnet", seed=0)
    weights = anyinit.canonical_weights(model)
    encoder_beta = 0.87 * (4**4 * 3) ** (-1 / 16)
    decoder_beta = (12 * 3) ** -0.25
    xavier = math.sqrt(2 / (64 + 64))
    assert weights["encoder.layers.0.self_attn.value.kernel"].std().item() == pytest.approx(
        encoder_beta * xavier, rel=0.05
    )
    assert weights["decoder.layers.2.multihead_attn.out.kernel"].std().item() == pytest.approx(
        decoder_beta * xavier, rel=0.05
    )
    assert weights["decoder.layers.1.self_attn.query.kernel"].std().item() == pytest.approx(
        xavier, rel=0.05
    )
    ffn = math.sqrt(2 / (64 + 128))
    assert weights["encoder.layers.3.linear1.kernel"].std().item() == pytest.approx(
        encoder_beta * ffn, rel=0.05
    )
    assert anyinit.audit(model, "deepnet").ok


# -- ReZero -----------------------------------------------------------------------------------


def test_rezero_is_the_rezero_packages_own_init():
    _needs("rezero")
    from rezero.transformer import RZTXDecoderLayer, RZTXEncoderLayer

    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(
        RZTXEncoderLayer(64, 4, 128), num_layers=3, enable_nested_tensor=False
    )
    decoder = nn.TransformerDecoder(RZTXDecoderLayer(64, 4, 128), num_layers=2)
    for model in (encoder, decoder):
        report = anyinit.audit(model, "rezero")
        assert report.ok
        assert all(row.ok for row in report)
        with torch.no_grad():
            model.layers[1].resweight.fill_(0.5)
        assert [row.native_path for row in anyinit.audit(model, "rezero").failed] == [
            "layers.1.resweight"
        ]
        anyinit.initialize(model, "rezero", seed=0)
        assert float(model.layers[1].resweight.detach()) == 0.0


def test_rezero_names_what_it_did_not_find():
    with pytest.raises(ValueError, match=r"no residual weight named .*rezero\(names="):
        anyinit.initialize(nn.Linear(4, 4), "rezero", seed=0)


# -- Fixup ------------------------------------------------------------------------------------


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, planes, stride=1):
        super().__init__()
        self.bias1a, self.bias1b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
        self.conv1 = nn.Conv2d(planes // stride, planes, 3, stride, 1, bias=False)
        self.bias2a, self.bias2b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.scale = nn.Parameter(torch.ones(1))
        if stride > 1:
            self.downsample = nn.Conv2d(planes // stride, planes, 1, stride, bias=False)


class _Bottleneck(nn.Module):
    def __init__(self, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(planes * 4, planes, 1, bias=False)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.scale = nn.Parameter(torch.ones(1))


class _FixupResNet(nn.Module):
    """The Fixup reference's layout: a stem conv, residual blocks, a zero-init classifier."""

    def __init__(self, block):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bias1 = nn.Parameter(torch.zeros(1))
        if block == "basic":
            self.layer1 = nn.Sequential(_Basic(16), _Basic(16))
            self.layer2 = nn.Sequential(_Basic(32, stride=2), _Basic(32))
            width = 32
        else:
            self.layer1 = nn.Sequential(*(_Bottleneck(8) for _ in range(3)))
            width = 32
        self.bias2 = nn.Parameter(torch.zeros(1))
        self.fc = nn.Linear(width, 10)


def _fixup_reference_init(model):
    """The loop of ``fixup_resnet_imagenet.py``'s ``FixupResNet.__init__``, as it is."""
    blocks = [m for m in model.modules() if isinstance(m, (_Basic, _Bottleneck))]
    num_layers = len(blocks)
    for m in model.modules():
        if isinstance(m, _Basic):
            w = m.conv1.weight
            std = np.sqrt(2 / (w.shape[0] * np.prod(w.shape[2:]))) * num_layers ** (-0.5)
            nn.init.normal_(w, mean=0, std=std)
            nn.init.constant_(m.conv2.weight, 0)
            if hasattr(m, "downsample"):
                w = m.downsample.weight
                nn.init.normal_(w, mean=0, std=np.sqrt(2 / (w.shape[0] * np.prod(w.shape[2:]))))
        elif isinstance(m, _Bottleneck):
            for conv in (m.conv1, m.conv2):
                w = conv.weight
                std = np.sqrt(2 / (w.shape[0] * np.prod(w.shape[2:]))) * num_layers ** (-0.25)
                nn.init.normal_(w, mean=0, std=std)
            nn.init.constant_(m.conv3.weight, 0)
        elif isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0)
            nn.init.constant_(m.bias, 0)


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_fixup_is_the_references_init(block):
    for seed in range(3):
        torch.manual_seed(seed)
        model = _FixupResNet(block)
        _fixup_reference_init(model)
        report = anyinit.audit(model, "fixup")
        assert report.ok, str(report)
        assert all(row.ok for row in report)
    ours = anyinit.initialize(_FixupResNet(block), "fixup", seed=0)
    assert anyinit.audit(ours, "fixup").ok
    assert float(ours.layer1[0].scale.detach()) == 1.0
    assert float(ours.fc.weight.detach().abs().max()) == 0.0


def test_fixup_refuses_a_model_without_residual_blocks():
    with pytest.raises(ValueError, match="found no residual block"):
        anyinit.initialize(nn.Sequential(nn.Conv2d(3, 4, 3)), "fixup", seed=0)


# -- T-Fixup ----------------------------------------------------------------------------------


def test_t_fixup_scales_each_stack_and_the_embeddings():
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(100, 64)
            self.transformer = nn.Transformer(64, 4, 3, 2, dim_feedforward=128, batch_first=True)

    model = anyinit.initialize(Seq2Seq(), "t_fixup", seed=0)
    weights = anyinit.canonical_weights(model)
    n, m = 3, 2
    xavier = math.sqrt(2 / 128)  # a (64, 64) projection's Xavier std
    expected = {
        "transformer.encoder.layers.2.self_attn.value.kernel": 0.67 * n**-0.25 * xavier,
        "transformer.encoder.layers.0.self_attn.out.kernel": 0.67 * n**-0.25 * xavier,
        "transformer.encoder.layers.1.linear2.kernel": 0.67 * n**-0.25 * math.sqrt(2 / 192),
        "transformer.decoder.layers.1.multihead_attn.value.kernel": (9 * m) ** -0.25 * xavier,
        "transformer.decoder.layers.0.linear1.kernel": (9 * m) ** -0.25 * math.sqrt(2 / 192),
        "transformer.decoder.layers.0.self_attn.query.kernel": xavier / math.sqrt(2),
        "embed.embedding": 64**-0.5 * (9 * m) ** -0.25,
    }
    for path, std in expected.items():
        assert weights[path].std().item() == pytest.approx(std, rel=0.06), path
    assert anyinit.audit(model, "t_fixup").ok


# -- ZerO -------------------------------------------------------------------------------------


def _zero_reference(weight):
    """ZerO's Algorithm 1 on torch's (out, in) weight, as the authors' notebook writes it."""
    from scipy.linalg import hadamard

    m, n = weight.shape
    if m <= n:
        return torch.nn.init.eye_(torch.empty(m, n))
    clog_m = math.ceil(math.log2(m))
    p = 2**clog_m
    return (
        torch.nn.init.eye_(torch.empty(m, p))
        @ (torch.tensor(hadamard(p)).float() / (2 ** (clog_m / 2)))
        @ torch.nn.init.eye_(torch.empty(p, n))
    )


@pytest.mark.parametrize("shape", [(8, 8), (6, 10), (10, 6), (48, 5), (3, 1), (1, 7)])
def test_zero_init_is_algorithm_1_on_linear_and_conv_layers(shape):
    pytest.importorskip("scipy")
    out, fan_in = shape
    model = nn.Sequential(nn.Linear(fan_in, out), nn.Conv2d(fan_in, out, 3))
    anyinit.initialize(model, "zero_init", seed=0)
    reference = _zero_reference(torch.empty(out, fan_in))
    torch.testing.assert_close(model[0].weight.detach(), reference, rtol=0, atol=1e-7)
    assert float(model[0].bias.detach().abs().max()) == 0.0
    centre = model[1].weight.detach()[:, :, 1, 1]
    torch.testing.assert_close(centre, reference, rtol=0, atol=1e-7)
    assert float(model[1].weight.detach().abs().sum()) == pytest.approx(
        float(reference.abs().sum()), rel=1e-6
    )  # nothing off the centre tap
    assert anyinit.audit(model, "zero_init").ok


def test_zero_init_zeroes_the_last_layer_of_each_residual_branch():
    with pytest.warns(anyinit.UncoveredParametersWarning, match=r"bias1, bias2, layer1\.0"):
        # Fixup's scalar biases are no layer's: ZerO and its torch base leave them
        model = anyinit.initialize(_FixupResNet("basic"), "zero_init", seed=0)
    assert float(model.layer1[1].conv2.weight.detach().abs().max()) == 0.0
    assert float(model.layer1[1].conv1.weight.detach().abs().max()) == 1.0
    layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    block = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    anyinit.initialize(block, "zero_init", seed=0)
    assert float(block.layers[1].self_attn.out_proj.weight.detach().abs().max()) == 0.0
    assert float(block.layers[1].linear2.weight.detach().abs().max()) == 0.0
    assert float(block.layers[1].linear1.weight.detach().abs().max()) > 0.0


# -- muP and the field recipes ------------------------------------------------------------------


def test_the_field_recipes_compose_with_mup():
    def tree(width):
        return {
            "layers": [
                {
                    "attn": {"o_proj": {"kernel": np.zeros((width, width), np.float32)}},
                    "mlp": {"up_proj": {"kernel": np.zeros((width, 4 * width), np.float32)}},
                }
                for _ in range(2)
            ]
        }

    recipe = anyinit.presets.mup(tree(64), anyinit.presets.megatron(0.02))
    big = anyinit.initialize(tree(1024), recipe, seed=0)
    o_proj = big["layers"][1]["attn"]["o_proj"]["kernel"]
    # hidden: Megatron's σ/√(2L) at the base width, times √(64/1024)
    assert float(o_proj.std()) == pytest.approx(0.02 / 2 * 0.25, rel=0.03)
