"""Behaviour specific to PyTorch: bit parity with torch.nn.init, meta tensors, generators
on devices, autograd. Collected in the torch run alone (tests/conftest.py)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import anyinit
from test_torch_style import RANDOM, SHAPES


@pytest.mark.parametrize(
    "init",
    [
        anyinit.Orthogonal(),
        anyinit.GlorotNormal(),
        anyinit.TruncatedNormal(),
        anyinit.Sparse(0.5),
        anyinit.Identity(),
        anyinit.Dirac(),
        anyinit.Zeros(),
    ],
    ids=lambda i: type(i).__name__,
)
def test_meta_tensors_stay_on_meta(init):
    shape = (3, 4, 4) if isinstance(init, anyinit.Dirac) else (512, 512)
    values = init(shape, like=torch.empty(0, device="meta", dtype=torch.bfloat16))
    assert values.device.type == "meta"
    assert values.dtype == torch.bfloat16
    assert tuple(values.shape) == shape


def test_results_do_not_require_grad(backend):
    values = anyinit.HeNormal(seed=0)((4, 4), like=torch.empty(0, requires_grad=True))
    assert not values.requires_grad


def test_orthogonal_works_where_torch_raises():
    with pytest.raises(NotImplementedError):
        torch.nn.init.orthogonal_(torch.empty(8, 8, dtype=torch.bfloat16))
    values = anyinit.Orthogonal(seed=0)((8, 8), like=torch.empty(0, dtype=torch.bfloat16))
    gram = values.float() @ values.float().T
    assert torch.allclose(gram, torch.eye(8), atol=5e-2)


def test_native_generator_gives_torch_own_stream():
    # A torch.Generator is torch's own stream: the familiar torch.manual_seed values.
    values = anyinit.RandomNormal(0.0, 1.0, seed=torch.Generator().manual_seed(42))((5,), xp=torch)
    expected = torch.empty(5).normal_(0.0, 1.0, generator=torch.Generator().manual_seed(42))
    assert torch.equal(values, expected)


# -- torch: bit-identical to torch.nn.init ------------------------------------------


def _dtypes(torch, name):
    all_ = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
    return all_[:2] if name == "orthogonal_" else all_  # torch has no 16-bit QR


@pytest.mark.parametrize("name", list(RANDOM))
@pytest.mark.parametrize("shape", [*SHAPES, (0, 4), (4, 0)])
def test_bit_identical_to_torch(backend, name, shape):
    reference_function = getattr(torch.nn.init, name)
    for dtype in _dtypes(torch, name):
        for seed in (0, 12345):
            ours, theirs = (
                torch.empty(shape, dtype=dtype, device=backend.device) for _ in range(2)
            )
            gen_ours = torch.Generator(device=backend.device).manual_seed(seed)
            gen_theirs = torch.Generator(device=backend.device).manual_seed(seed)
            with _quiet_zero_element_warning(shape):
                result = getattr(anyinit, name)(ours, generator=gen_ours, **RANDOM[name])
                if not (name == "xavier_uniform_" and 0 in shape and sum(shape) == 0):
                    reference_function(theirs, generator=gen_theirs, **RANDOM[name])
            assert result is ours
            if 0 not in shape:
                _assert_torch_values_where_inside(torch, name, shape, ours, theirs)
                assert torch.equal(gen_ours.get_state(), gen_theirs.get_state())
            assert torch.equal(gen_ours.get_state(), gen_theirs.get_state()), (name, shape, dtype)


def _uniform_bounds(name, shape):
    """The exact interval of the uniform functions (None for the others)."""
    if name == "uniform_":
        return RANDOM[name]["a"], RANDOM[name]["b"]
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    if name == "xavier_uniform_":
        bound = RANDOM[name]["gain"] * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3.0)
    elif name == "kaiming_uniform_":
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + 5)) / math.sqrt(fan_in)
    else:
        return None
    return -bound, bound


def _assert_torch_values_where_inside(torch, name, shape, ours, theirs):
    """Equal to torch.nn.init wherever torch's value lies in the interval; where torch's
    16-bit rounding crossed a bound, ours is the nearest value inside instead."""
    bounds = _uniform_bounds(name, shape)
    if bounds is None:
        assert torch.equal(ours, theirs), (name, shape, ours.dtype)
        return
    low, high = bounds
    wide = theirs.double()
    inside = (wide >= low) & (wide <= high)
    assert torch.equal(ours[inside], theirs[inside]), (name, shape, ours.dtype)
    assert bool(((ours.double() >= low) & (ours.double() <= high)).all())
    crossed = (~inside).sum().item()
    if ours.dtype in (torch.float32, torch.float64):
        assert crossed == 0, "torch crossed a bound in 32 or 64 bits"


def _quiet_zero_element_warning(shape):
    import contextlib
    import warnings

    if 0 not in shape:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")
    return stack


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (0.3, 1.0, 1.5, 3.0), (0.0, 1.0, 0.1, 0.2)],
)
def test_trunc_normal_bit_identical_in_both_torch_branches(backend, mean, std, a, b):
    for dtype in (torch.float32, torch.float64):
        ours, theirs = torch.empty(300, 200, dtype=dtype), torch.empty(300, 200, dtype=dtype)
        g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
        anyinit.trunc_normal_(ours, mean, std, a, b, generator=g1)
        torch.nn.init.trunc_normal_(theirs, mean, std, a, b, generator=g2)
        assert torch.equal(ours, theirs)
        assert torch.equal(g1.get_state(), g2.get_state())


def test_parity_on_strided_views_and_leaf_parameters(backend):
    for name in ("uniform_", "normal_", "kaiming_uniform_", "xavier_normal_", "trunc_normal_"):
        ours = torch.nn.Parameter(torch.zeros(10, 12))
        theirs = torch.nn.Parameter(torch.zeros(10, 12))
        g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        getattr(anyinit, name)(ours[::2, 1::2], generator=g1, **RANDOM[name])
        getattr(torch.nn.init, name)(theirs[::2, 1::2], generator=g2, **RANDOM[name])
        assert torch.equal(ours, theirs), name
        assert ours.requires_grad
        assert ours.grad_fn is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_uniform_keeps_torchs_values_in_32_and_64_bits_and_clamps_16_bits(backend, dtype):
    # Bounds one step apart, each nearer the float outside the interval: torch draws from
    # the rounded bounds, so its values land on fl(low) < low. In float32 / float64 that is
    # low as the dtype represents it: anyinit keeps torch's values bit for bit. In 16 bits
    # (torch draws in float32 and rounds) anyinit clamps to the bounds rounded inward.
    eps = torch.finfo(dtype).eps  # the float after 1 is 1 + eps
    low, high = 1 + 0.4 * eps, 1 + 2.4 * eps
    theirs = torch.empty(100_000, dtype=dtype).uniform_(
        low, high, generator=torch.Generator().manual_seed(3)
    )
    ours = anyinit.uniform_(
        torch.empty(100_000, dtype=dtype), low, high, generator=torch.Generator().manual_seed(3)
    )
    fl_low, fl_high = torch.tensor([low, high], dtype=dtype).tolist()
    if dtype != torch.float64:  # Python floats are float64 values: they cannot round
        assert float(theirs.min()) < low  # torch's own fl(low)
    if dtype in (torch.float32, torch.float64):
        assert torch.equal(ours, theirs)
        assert fl_low <= float(ours.min())
        assert float(ours.max()) <= fl_high
    else:
        assert float(ours.min()) >= low
        assert float(ours.max()) <= high
        top = 1 + 0.6 * eps  # fl(top) = 1 + eps lies above it
        ours = anyinit.uniform_(torch.empty(100_000, dtype=dtype), 1.0, top)
        assert float(ours.max()) <= top
        assert float(ours.min()) >= 1.0


def test_float32_parity_where_torch_draws_the_rounded_lower_bound(backend):
    """torch's uniform_ returns exactly float32(-0.1) at index 411302 for this generator;
    anyinit returned -0.099999994 there (a clamp inward of float32's -0.1)."""
    theirs = torch.nn.init.uniform_(
        torch.empty(411303), -0.1, 0.1, generator=torch.Generator().manual_seed(12)
    )
    ours = anyinit.uniform_(
        torch.empty(411303), -0.1, 0.1, generator=torch.Generator().manual_seed(12)
    )
    assert float(theirs[411302]) == float(torch.tensor(-0.1))
    assert torch.equal(ours, theirs)
    weight = torch.empty(1536, 384)
    theirs = torch.nn.init.kaiming_uniform_(
        weight.clone(), a=math.sqrt(5), generator=torch.Generator().manual_seed(12)
    )
    ours = anyinit.kaiming_uniform_(
        weight.clone(), a=math.sqrt(5), generator=torch.Generator().manual_seed(12)
    )
    assert torch.equal(ours, theirs)


def test_writes_through_autograd_leave_parameters_leaves(backend):
    weight = torch.nn.Parameter(torch.zeros(4, 3))
    version = weight._version
    anyinit.uniform_(weight, -1.0, 1.0)
    anyinit.normal_(weight, seed=0)  # the portable stream: a copy into the parameter
    anyinit.constant_(weight, 0.5)
    assert weight.is_leaf
    assert weight.requires_grad
    assert weight.grad_fn is None
    assert weight._version > version  # autograd sees the writes
    (weight * 2).sum().backward()
    assert torch.equal(weight.grad, torch.full((4, 3), 2.0))


def test_constants_eye_dirac_equal_torch(backend):
    for dtype in (torch.float32, torch.int64, torch.bfloat16):
        for ours_fn, theirs_fn, shape in [
            (lambda t: anyinit.constant_(t, 3), lambda t: torch.nn.init.constant_(t, 3), (3, 4)),
            (anyinit.ones_, torch.nn.init.ones_, (3, 4)),
            (anyinit.zeros_, torch.nn.init.zeros_, (3, 4)),
            (anyinit.eye_, torch.nn.init.eye_, (3, 5)),
            (lambda t: anyinit.dirac_(t, 2), lambda t: torch.nn.init.dirac_(t, 2), (6, 3, 4, 4)),
        ]:
            a, b = torch.full(shape, 9, dtype=dtype), torch.full(shape, 9, dtype=dtype)
            assert torch.equal(ours_fn(a), theirs_fn(b))


def test_sparse_values_equal_torch_and_mask_follows_the_generator(backend):
    g1, g2 = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    ours = anyinit.sparse_(torch.empty(20, 30), 0.4, generator=g1)
    theirs = torch.nn.init.sparse_(torch.empty(20, 30), 0.4, generator=g2)
    kept = (ours != 0) & (theirs != 0)
    assert torch.equal(ours[kept], theirs[kept])  # the same normal draws
    again = anyinit.sparse_(torch.empty(20, 30), 0.4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(ours, again)  # torch's mask would differ here (it ignores the generator)


def test_orthogonal_half_precision_where_torch_raises(backend):
    for dtype in (torch.float16, torch.bfloat16):
        with pytest.raises(NotImplementedError):
            torch.nn.init.orthogonal_(torch.empty(16, 16, dtype=dtype))
        q = anyinit.orthogonal_(torch.empty(16, 16, dtype=dtype), seed=0).float()
        assert torch.allclose(q @ q.T, torch.eye(16), atol=0.1)


def test_meta_tensors_are_accepted(backend):
    for name in RANDOM:
        tensor = torch.empty(8, 4, device="meta")
        assert getattr(anyinit, name)(tensor, **RANDOM[name]) is tensor
    assert anyinit.dirac_(torch.empty(4, 4, 3, device="meta")).is_meta
    assert anyinit.sparse_(torch.empty(4, 4, device="meta"), 0.5).is_meta


def test_unseeded_calls_follow_torch_manual_seed(backend):
    torch.manual_seed(7)
    ours = anyinit.kaiming_uniform_(torch.empty(5, 5))
    torch.manual_seed(7)
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(5, 5))
    assert torch.equal(ours, theirs)


# -- torch: the cases real model code hit --------------------------------------------


@pytest.mark.parametrize(
    "name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
             "kaiming_normal_"],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_tensors_bit_identical_to_torch(backend, name, dtype):
    # nn.Linear(8, 8, dtype=torch.complex64) calls kaiming_uniform_ on a complex weight.
    kind = getattr(torch, dtype)
    ours, theirs = (torch.empty(6, 5, dtype=kind, device=backend.device) for _ in range(2))
    gen_ours = torch.Generator(device=backend.device).manual_seed(4)
    gen_theirs = torch.Generator(device=backend.device).manual_seed(4)
    getattr(anyinit, name)(ours, generator=gen_ours)
    getattr(torch.nn.init, name)(theirs, generator=gen_theirs)
    assert torch.equal(ours, theirs)
    assert torch.equal(gen_ours.get_state(), gen_theirs.get_state())


def test_complex_layers_build_with_anyinit_in_place_of_torch_nn_init(backend):
    layer = torch.nn.Linear(8, 8, dtype=torch.complex64)
    torch.manual_seed(0)
    anyinit.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    ours = layer.weight.detach().clone()
    torch.manual_seed(0)
    torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    assert torch.equal(ours, layer.weight)


def test_sparse_without_generator_matches_torch_and_its_generator_state(backend):
    for sparsity in (0.0, 0.3, 1.0):
        torch.manual_seed(0)
        theirs = torch.nn.init.sparse_(torch.empty(7, 5, device=backend.device), sparsity)
        after_theirs = torch.rand(4)
        torch.manual_seed(0)
        ours = anyinit.sparse_(torch.empty(7, 5, device=backend.device), sparsity)
        assert torch.equal(ours, theirs)
        assert torch.equal(torch.rand(4), after_theirs)


@pytest.mark.parametrize("kind", ["float8_e4m3fn", "float8_e5m2"])
def test_float8_fills_as_torch(backend, kind):
    dtype = getattr(torch, kind)
    for name, args in [("zeros_", ()), ("ones_", ()), ("constant_", (2.5,)), ("eye_", ())]:
        ours = getattr(anyinit, name)(torch.empty(3, 4, dtype=dtype), *args)
        theirs = getattr(torch.nn.init, name)(torch.empty(3, 4, dtype=dtype), *args)
        assert torch.equal(ours.float(), theirs.float()), name
    ours = anyinit.dirac_(torch.empty(2, 2, 3, dtype=dtype))
    assert torch.equal(
        ours.float(), torch.nn.init.dirac_(torch.empty(2, 2, 3, dtype=dtype)).float()
    )
    with pytest.raises(TypeError, match="not one of the torch dtypes anyinit supports"):
        anyinit.normal_(torch.empty(2, dtype=dtype))


def test_meta_tensor_with_a_cpu_generator_is_a_no_op(backend):
    weight = torch.empty(4, 4, device="meta")
    assert anyinit.kaiming_uniform_(weight, generator=torch.Generator()) is weight


def test_inference_tensors_are_refused_before_any_write(backend):
    with torch.inference_mode():
        weight = torch.full((3, 3), 7.0)
    for name in ("normal_", "xavier_uniform_", "zeros_", "orthogonal_"):
        with pytest.raises(TypeError, match="immutable or read-only"):
            getattr(anyinit, name)(weight)
        assert (weight == 7.0).all()
    with torch.inference_mode():
        assert anyinit.normal_(weight, seed=0) is weight  # inside inference mode it may write


# -- anyinit.initialize on torch modules: the "torch" preset is reset_parameters' law --------

_LAYERS = {
    "Linear": lambda: torch.nn.Linear(300, 400),
    "Conv2d": lambda: torch.nn.Conv2d(16, 64, 5),
    "Conv1d groups": lambda: torch.nn.Conv1d(32, 64, 7, groups=4),
    "ConvTranspose2d": lambda: torch.nn.ConvTranspose2d(48, 16, 5),
    "Embedding": lambda: torch.nn.Embedding(500, 64, padding_idx=3),
    "LayerNorm": lambda: torch.nn.LayerNorm(128),
    "BatchNorm2d": lambda: torch.nn.BatchNorm2d(32),
    "GroupNorm": lambda: torch.nn.GroupNorm(4, 32),
    "LSTM": lambda: torch.nn.LSTM(64, 96, num_layers=2, bidirectional=True),
    "GRU": lambda: torch.nn.GRU(64, 96),
    "RNN": lambda: torch.nn.RNN(64, 96),
    "MultiheadAttention": lambda: torch.nn.MultiheadAttention(128, 8, add_bias_kv=True),
    "RNNCell": lambda: torch.nn.RNNCell(64, 96),
    "LSTMCell": lambda: torch.nn.LSTMCell(64, 96),
    "GRUCell": lambda: torch.nn.GRUCell(64, 96),
    "Bilinear": lambda: torch.nn.Bilinear(30, 20, 40),
    "PReLU": lambda: torch.nn.PReLU(8, init=0.1),
}


@pytest.mark.parametrize("layer", list(_LAYERS))
def test_the_torch_preset_draws_what_reset_parameters_draws(layer):
    """Per parameter: the same support (exact bounds or constants) and a two-sample
    Kolmogorov-Smirnov test against torch's own initialisation."""
    scipy_stats = pytest.importorskip("scipy.stats")
    torch.manual_seed(0)
    theirs = _LAYERS[layer]()
    ours = anyinit.initialize(_LAYERS[layer](), "torch", seed=0)
    for (name, a), (_, b) in zip(theirs.named_parameters(), ours.named_parameters(), strict=True):
        a, b = a.detach().ravel().double(), b.detach().ravel().double()
        if torch.all(a == a[0]):
            assert torch.equal(a, b), (layer, name)  # ones, zeros
            continue
        if layer != "Embedding" and name not in ("bias_k", "bias_v"):  # the uniform laws
            assert b.abs().max() <= a.abs().max() * 1.05 + 1e-12, (layer, name)
        p_value = scipy_stats.ks_2samp(a.numpy(), b.numpy()).pvalue
        assert p_value > 1e-4, (layer, name, p_value)


def test_a_padding_row_stays_zero_and_buffers_are_left_alone():
    net = torch.nn.Sequential(torch.nn.Embedding(20, 8, padding_idx=0), torch.nn.BatchNorm1d(8))
    net[1].running_mean.fill_(3.0)
    anyinit.initialize(net, "flax", seed=0)
    assert torch.all(net[0].weight[0] == 0)
    assert torch.all(net[0].weight[1:] != 0)
    assert torch.all(net[1].running_mean == 3.0)


def test_modules_are_written_in_place_without_autograd_and_meta_stays_meta():
    net = torch.nn.Linear(8, 4)
    weight = net.weight
    assert anyinit.initialize(net, "keras", seed=0) is net
    assert net.weight is weight
    assert net.weight.requires_grad
    assert net.weight.grad_fn is None
    with torch.device("meta"):
        meta = torch.nn.Linear(8, 4)
    assert anyinit.initialize(meta, "torch", seed=0).weight.is_meta
    empty = meta.to_empty(device="cpu")  # materialised: now initialised
    anyinit.initialize(empty, "torch", seed=0)
    torch.testing.assert_close(
        empty.weight, anyinit.initialize(torch.nn.Linear(8, 4), "torch", seed=0).weight
    )


def test_tied_weights_are_drawn_once_under_their_first_name():
    embed = torch.nn.Embedding(30, 16)
    head = torch.nn.Linear(16, 30, bias=False)
    head.weight = embed.weight
    net = torch.nn.ModuleDict({"embed": embed, "head": head})
    _, report = anyinit.initialize(net, "torch", seed=0, return_report=True)
    assert [row.native_path for row in report] == ["embed.weight"]


def test_torch_names_are_normalised_like_flax_and_keras():
    net = torch.nn.ModuleDict(
        {
            "fc1": torch.nn.Linear(4, 3),
            "norm": torch.nn.LayerNorm(3),
            "emb": torch.nn.Embedding(5, 2),
            "rnn": torch.nn.LSTM(3, 2),
        }
    )
    _, report = anyinit.initialize(net, "torch", seed=0, return_report=True)
    paths = {row.native_path: row.path for row in report}
    assert paths["fc1.weight"] == "fc1.kernel"
    assert paths["norm.weight"] == "norm.scale"
    assert paths["emb.weight"] == "emb.embedding"
    assert paths["rnn.weight_hh_l0"] == "rnn.l0.recurrent_kernel"


def test_the_keras_preset_puts_lstm_forget_bias_at_one_and_orthogonal_recurrence():
    lstm = anyinit.initialize(torch.nn.LSTM(8, 16), "keras", seed=0)
    bias = lstm.bias_ih_l0.detach()
    assert torch.all(bias[16:32] == 1)
    assert torch.all(bias[:16] == 0)
    assert torch.all(lstm.bias_hh_l0 == 0)
    recurrent = lstm.weight_hh_l0.detach().T  # canonical (16, 64): orthogonal rows
    torch.testing.assert_close(recurrent @ recurrent.T, torch.eye(16), atol=1e-5, rtol=0)


def test_a_12_block_transformer_initialises_every_parameter():
    layer = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    net = torch.nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
    _, report = anyinit.initialize(net, "torch", seed=0, return_report=True)
    # The packed in_proj_weight / in_proj_bias report one row per projection (q, k, v).
    assert len({row.native_path.partition("[")[0] for row in report}) == len(list(net.parameters()))
    assert len(report) == len(list(net.parameters())) + 12 * 4
    kernels = [row for row in report if row.path.endswith("self_attn.query.kernel")]
    assert len(kernels) == 12
    first, second = net.layers[0].self_attn.in_proj_weight, net.layers[1].self_attn.in_proj_weight
    assert not torch.equal(first, second)


class _BasicBlock(torch.nn.Module):
    """torchvision's ResNet BasicBlock, as torchvision writes it."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(planes)
        self.relu = torch.nn.ReLU(inplace=True)
        self.conv2 = torch.nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(planes)
        self.downsample = torch.nn.Sequential(
            torch.nn.Conv2d(inplanes, planes, 1, stride, bias=False), torch.nn.BatchNorm2d(planes)
        )


class _VitBlock(torch.nn.Module):
    """A ViT's patch embedding, class token, position embedding and one encoder block."""

    def __init__(self, dim=64):
        super().__init__()
        self.patch_embed = torch.nn.Conv2d(3, dim, 16, 16)
        self.cls_token = torch.nn.Parameter(torch.full((1, 1, dim), 7.0))
        self.pos_embed = torch.nn.Parameter(torch.full((1, 5, dim), 7.0))
        self.block = torch.nn.TransformerEncoderLayer(dim, 4, 4 * dim, batch_first=True)


@pytest.mark.parametrize("preset", ["torch", "keras", "flax", "equinox"])
def test_torchvision_style_blocks_take_every_preset(preset):
    block = anyinit.initialize(_BasicBlock(32, 64, stride=2), preset, seed=0)
    for conv in (block.conv1, block.conv2, block.downsample[0]):
        assert conv.weight.std() > 0
    for bn in (block.bn1, block.bn2, block.downsample[1]):
        assert torch.all(bn.weight == 1)
        assert torch.all(bn.bias == 0)
    # Custom parameters have no framework default: left as they are, and said.
    with pytest.warns(
        anyinit.UncoveredParametersWarning, match="2 parameter.*cls_token, pos_embed"
    ):
        vit, report = anyinit.initialize(_VitBlock(), preset, seed=0, return_report=True)
    assert torch.all(vit.cls_token == 7.0)
    assert torch.all(vit.pos_embed == 7.0)
    assert {row.native_path for row in report} >= {"patch_embed.weight", "block.linear1.weight"}
    skipped = {row.native_path: row.initializer for row in report if not row.rule}
    assert set(skipped) == {"cls_token", "pos_embed"}
    assert all(reason.startswith("skipped: preset") for reason in skipped.values())
    assert not torch.isnan(vit.block.self_attn.in_proj_weight).any()


# -- the int32 Threefry kernel (CUDA and other non-CPU devices), forced on the CPU -----------


@pytest.mark.parametrize(
    ("shape", "region"),
    [
        ((37, 11, 5), None),
        ((37, 11, 5), (slice(3, 30), slice(2, 9), slice(1, 4))),
        ((1000,), (slice(7, 993),)),
        ((4, 3, 300), (slice(1, 3), slice(0, 3), slice(17, 290))),
        # 2**33 elements: positions past 2**32 take the int64 counters and a high word of 1.
        ((1 << 22, 1 << 11), (slice((1 << 22) - 3, 1 << 22), slice(5, 300))),
    ],
)
@pytest.mark.parametrize("limit", [1, 5, 64, 1 << 24])
def test_the_torch_kernel_in_blocks_equals_the_reference_bits(monkeypatch, shape, region, limit):
    import array_api_compat.numpy as xnp

    from anyinit.adapters.torch import kernel as torch_kernel
    from anyinit.stream import key_from_seed
    from anyinit.stream.threefry import random_bits, uniform01_from_bits

    key = key_from_seed(11)
    monkeypatch.setattr(torch_kernel, "BLOCK", limit)
    got = torch_kernel.uniform01(key, shape, region, "cpu")
    expected = uniform01_from_bits(xnp, random_bits(xnp, key, shape, region, "cpu"), "cpu")
    assert got.dtype == torch.float32
    assert torch.equal(got, torch.from_numpy(expected))


def test_the_torch_kernel_peak_memory_is_the_result_plus_a_few_blocks(tmp_path):
    """A 256 MiB result drawn by the int32 kernel on the CPU. Measured: 7.0x the result with a
    whole-array int64 index, 3.0x with int32 counters in one block, 1.5x in 16M-element blocks
    (the result and one block's counters and words)."""
    import subprocess
    import sys

    script = tmp_path / "peak.py"
    script.write_text(
        "import resource, torch\n"
        "from anyinit.adapters.torch import kernel as torch_kernel\n"
        "from anyinit.stream import key_from_seed\n"
        "torch.set_num_threads(1)\n"
        "key = key_from_seed(0)\n"
        "torch_kernel.uniform01(key, (8, 8), None, 'cpu')  # torch's own start-up allocations\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "out = torch_kernel.uniform01(key, (64, 1 << 20), None, 'cpu')\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before\n"
        "print(peak / (out.numel() * 4))\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=600
    )
    assert run.returncode == 0, run.stderr
    ratio = float(run.stdout)
    # The result (1x) and one block's temporaries (16M elements of int32 words: 0.5x here),
    # never the whole array's (2x more).
    assert ratio <= 1.75, f"peak {ratio:.2f}x the result"


@pytest.mark.parametrize("wrap", ["compile", "data_parallel"])
def test_wrappers_do_not_change_the_weights(wrap):
    """torch.compile (``_orig_mod.``) and DataParallel (``module.``) add a path prefix: the
    weights must be those of the model itself."""

    def model():
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(6, 5), torch.nn.LayerNorm(5), torch.nn.Linear(5, 2)
        )

    plain = anyinit.initialize(model(), "torch", seed=0)
    inner = model()
    if wrap == "compile":
        import warnings

        with warnings.catch_warnings():  # torch 2.13's dynamo imports a deprecated jit API
            warnings.simplefilter("ignore", DeprecationWarning)
            wrapped = torch.compile(inner)
    else:
        wrapped = torch.nn.DataParallel(inner)
    assert anyinit.initialize(wrapped, "torch", seed=0) is wrapped
    pairs = zip(plain.state_dict().items(), inner.state_dict().values(), strict=True)
    for (name, expected), got in pairs:
        assert torch.equal(got, expected), name


def _plain_and_wrapped(wrap, make):
    torch.manual_seed(0)
    plain = anyinit.initialize(make(), "torch", seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the old, hook-based weight_norm
        wrapped = wrap(make())
    with warnings.catch_warnings():
        warnings.simplefilter("error", anyinit.UncoveredParametersWarning)
        anyinit.initialize(wrapped, "torch", seed=4)
    return plain, wrapped


_REPARAMETRIZATIONS = {
    "parametrizations.weight_norm": torch.nn.utils.parametrizations.weight_norm,
    "parametrizations.spectral_norm": torch.nn.utils.parametrizations.spectral_norm,
    "weight_norm (hooks)": torch.nn.utils.weight_norm,
    "spectral_norm (hooks)": torch.nn.utils.spectral_norm,
}


@pytest.mark.parametrize("wrap", list(_REPARAMETRIZATIONS))
@pytest.mark.parametrize(
    "make", [lambda: torch.nn.Conv1d(64, 64, 16, groups=4), lambda: torch.nn.Linear(100, 50)]
)
def test_a_reparametrized_weight_gets_its_layers_law_through_the_parametrization(wrap, make):
    # Regression: the bias was drawn from U(-1, 1) (no kernel, fan 1) and the weight's
    # parameters (original0/original1, weight_g/weight_v, weight_orig) were left alone.
    plain, wrapped = _plain_and_wrapped(_REPARAMETRIZATIONS[wrap], make)
    torch.testing.assert_close(wrapped.bias, plain.bias, rtol=0, atol=0)
    if "weight_norm" in wrap:  # the computed weight is the drawn one (g = ‖v‖)
        torch.testing.assert_close(wrapped.weight, plain.weight, rtol=1e-6, atol=1e-7)
    elif wrap.startswith("parametrizations"):
        original = wrapped.parametrizations.weight.original
        torch.testing.assert_close(original, plain.weight, rtol=0, atol=0)
    else:
        torch.testing.assert_close(wrapped.weight_orig, plain.weight, rtol=0, atol=0)


def test_a_parametrization_without_right_inverse_is_refused_before_anything_is_written():
    class Symmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).T

    layer = torch.nn.Linear(4, 4)
    torch.nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
    before = layer.bias.detach().clone()
    with pytest.raises(ValueError, match="Symmetric, which has no right_inverse"):
        anyinit.initialize(layer, "torch", seed=0)
    assert torch.equal(layer.bias, before)


def test_a_complex_linear_gets_the_torch_law_on_its_real_and_imaginary_parts():
    # Regression: "'complex64' is not supported by RandomUniform" under every preset.
    layer = anyinit.initialize(torch.nn.Linear(64, 300, dtype=torch.complex64), "torch", seed=0)
    weight = layer.weight.detach()
    assert weight.dtype == torch.complex64
    for part in (weight.real, weight.imag, layer.bias.detach().real):
        assert 0.95 * 0.125 < float(part.abs().max()) <= 0.125  # 1/sqrt(64)
    assert float(weight.real.std()) == pytest.approx(0.125 / 3**0.5, rel=0.05)


@pytest.mark.parametrize("function", ["uniform_", "normal_", "xavier_uniform_", "zeros_", "eye_"])
def test_a_sparse_tensor_gets_a_clear_error_not_torchs_dispatcher_error(function):
    sparse = torch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (3, 3), check_invariants=True)
    with pytest.raises(TypeError, match=f"anyinit.{function} writes dense .*sparse_coo"):
        getattr(anyinit, function)(sparse)


def _zoo_for_direct_fills(dtype=torch.float32) -> torch.nn.Module:
    """Layers whose parameters take the direct fill (Linear, Conv, ConvTranspose with groups,
    Embedding, LSTM, norms) beside ones that do not (packed attention, a padding row, a
    float64 layer, a tied weight)."""
    torch.manual_seed(0)
    net = torch.nn.ModuleDict(
        {
            "fc": torch.nn.Linear(37, 53),
            "conv": torch.nn.Conv2d(6, 10, (3, 5)),
            "up": torch.nn.ConvTranspose2d(8, 8, 3, groups=4),
            "embed": torch.nn.Embedding(50, 16),
            "padded": torch.nn.Embedding(20, 16, padding_idx=3),
            "lstm": torch.nn.LSTM(16, 24),
            "norm": torch.nn.LayerNorm(53),
            "attention": torch.nn.MultiheadAttention(16, 4),
            "wide": torch.nn.Linear(9, 7).double(),
            "head": torch.nn.Linear(16, 50, bias=False),
        }
    )
    net["head"].weight = net["embed"].weight  # tied
    for name, module in net.items():
        if name != "wide":
            module.to(dtype)
    return net


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("rules", ["torch", "flax", "keras", "llama", "bert"])
def test_direct_fills_give_the_drawn_values_bit_for_bit(monkeypatch, rules, dtype):
    """A parameter filled in its own memory (the C kernel's strided counters, 16-bit values
    rounded as it stores them) holds exactly what the canonical draw, transposed, rounded
    and copied, gives."""
    from anyinit.models.walkers import torch as torch_walker

    direct = _zoo_for_direct_fills(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", anyinit.UncoveredParametersWarning)
        anyinit.initialize(direct, rules, seed=5)
        monkeypatch.setattr(torch_walker, "host_view", lambda slot: None)
        drawn = _zoo_for_direct_fills(dtype)
        anyinit.initialize(drawn, rules, seed=5)
    for (name, a), (_, b) in zip(
        direct.state_dict().items(), drawn.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert direct["head"].weight is direct["embed"].weight


def test_direct_fills_are_seen_by_autograd_and_leave_the_model_whole_on_failure():
    from anyinit.adapters.numpy import kernel as numpy_kernel

    if numpy_kernel._EXTENSION is None:
        pytest.skip(f"no direct fills with {numpy_kernel.kernel_name()}")
    net = torch.nn.Linear(64, 32)
    x = torch.randn(4, 64, requires_grad=True)
    y = (net(x) ** 2).sum()  # a graph that saved the weight (for x's gradient)
    before = net.weight._version
    anyinit.initialize(net, "torch", seed=0)
    assert net.weight._version > before  # as copy_ would: backward now refuses stale values
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    # A rule that fails on a later parameter leaves the earlier (direct) ones untouched.
    saved = {k: v.clone() for k, v in net.state_dict().items()}

    class Broken(anyinit.Initializer):
        def _generate(self, shape, target):
            raise ValueError("broken on purpose")

    with pytest.raises(ValueError, match="broken on purpose"):
        anyinit.initialize(net, {"kernel": anyinit.GlorotNormal(), "bias": Broken()}, seed=1)
    for name, value in net.state_dict().items():
        assert torch.equal(value, saved[name]), name


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_seeded_in_place_calls_write_the_tensor_itself(dtype):
    """``normal_(t, seed=…)`` on a CPU tensor: the host kernel writes its memory (no second
    tensor, no copy), the values the out-of-place draw's, and autograd sees the write."""
    weight = torch.nn.Parameter(torch.zeros(96, 80, dtype=dtype))
    storage, version = weight.data_ptr(), weight._version
    anyinit.xavier_normal_(weight, seed=4)
    expected = anyinit.xavier_normal_(torch.zeros(96, 80, dtype=dtype).t().contiguous().t(), seed=4)
    assert weight.data_ptr() == storage
    assert weight._version > version
    assert torch.equal(weight.detach(), expected)
    assert weight.requires_grad
    assert weight.is_leaf
