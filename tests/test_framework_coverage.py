"""Every parameterised layer class of each framework, under that framework's preset.

The classes are enumerated from the installed packages (``torch.nn``,
``keras.layers``, ``flax.linen``, ``flax.nnx``, ``equinox.nn``), not from a hand
list: each is built (with the constructor arguments below where it needs some),
initialised by the framework itself and by ``anyinit.initialize`` with the
framework's own preset, and every parameter is either drawn from the
framework's own law (constants exactly; random laws by a two-sample KS test
and their range) or not covered: then it is in :data:`NOT_COVERED` (which
``docs/models.rst`` lists) and the preset warned about it with
:class:`anyinit.UncoveredParametersWarning`. A class that appears in a new
release fails here until it is built below (or named as holding no parameters).
"""

from __future__ import annotations

import copy
import inspect
import pathlib
import re
import warnings

import numpy as np
import pytest

import anyinit

pytest.importorskip("torch")
pytest.importorskip("keras")
pytest.importorskip("flax")
pytest.importorskip("equinox")
stats = pytest.importorskip("scipy.stats")

N = 32

#: Parameters a framework's preset does not cover, by (framework, class, parameter name):
#: each is left as it is with a warning. docs/models.rst lists every one with the reason.
NOT_COVERED = {
    ("keras", "STFTSpectrogram", "real_kernel"),
    ("keras", "STFTSpectrogram", "imag_kernel"),
    ("keras", "AdditiveAttention", "scale"),
    ("keras", "Attention", "scale"),
    ("keras", "Attention", "concat_score_weight"),
    # A params tree holds names and shapes only: a kernel of rank >= 3 beside a bias of
    # rank >= 2 is DenseGeneral's (fans of the flattened axes) or Einsum's (JAX's fans of
    # the raw shape), and nothing says which. NNX's modules say, and are covered.
    ("flax", "DenseGeneral", "kernel"),
    ("flax", "DenseGeneral", "bias"),
    ("flax", "Einsum", "kernel"),
    ("flax", "Einsum", "bias"),
    ("flax", "ConvLocal", "kernel"),
    ("flax", "ConvLocal", "bias"),
    # Weight normalisation's scale is derived (the norm of the wrapped weight, or ones):
    # initialise the layer, then wrap it.
    ("flax", "WeightNorm", "scale"),
    ("equinox", "WeightNorm", "g"),
}

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "models.rst"


def _same_law(own, ours, where):
    own = np.asarray(own, np.float64).ravel()
    ours = np.asarray(ours, np.float64).ravel()
    assert own.shape == ours.shape, where
    if len(np.unique(own)) <= 2:  # constants, LSTM's zeros-and-ones forget bias
        np.testing.assert_array_equal(ours, own, err_msg=where)
        return
    if own.size >= 500:  # the sample's range is the law's only for many values
        top, our_top = np.abs(own).max(), np.abs(ours).max()
        assert top * 0.6 <= our_top <= top * 1.6 + 1e-12, (where, top, our_top)
    assert stats.ks_2samp(own, ours).pvalue > 1e-4, where


def _required(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [
        p
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _initialize(model, preset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, report = anyinit.initialize(model, preset, seed=0, return_report=True)
    uncovered = [w for w in caught if issubclass(w.category, anyinit.UncoveredParametersWarning)]
    skipped = {row.native_path for row in report if row.initializer.startswith("skipped")}
    return result, skipped, uncovered


def _check(framework, cls_name, own, ours, skipped, uncovered, name_of):
    """Each parameter: the framework's law, or listed as not covered (and warned)."""
    assert own.keys() == ours.keys(), cls_name
    for path, value in own.items():
        if path in skipped:
            assert (framework, cls_name, name_of(path)) in NOT_COVERED, (cls_name, path)
            assert uncovered, (cls_name, path)
            continue
        _same_law(value, ours[path], f"{framework} {cls_name} {path}")


# -- torch.nn ---------------------------------------------------------------------------


def _torch_classes():
    from torch import nn

    found = {v for v in vars(nn).values() if inspect.isclass(v) and issubclass(v, nn.Module)}
    return sorted(found, key=lambda c: c.__name__)


def _torch_overrides():
    from torch import nn

    return {
        "AdaptiveLogSoftmaxWithLoss": lambda: nn.AdaptiveLogSoftmaxWithLoss(N, 64, [16, 32]),
        "Unflatten": lambda: nn.Unflatten(1, (2, 2)),
        "Fold": lambda: nn.Fold(4, 2),
        "LinearCrossEntropyLoss": lambda: nn.LinearCrossEntropyLoss(N, 64),
        "FractionalMaxPool2d": lambda: nn.FractionalMaxPool2d(2, output_ratio=0.5),
        "FractionalMaxPool3d": lambda: nn.FractionalMaxPool3d(2, output_ratio=0.5),
        "RNN": lambda: nn.RNN(N, N),
        "LSTM": lambda: nn.LSTM(N, N, proj_size=8),
        "GRU": lambda: nn.GRU(N, N, num_layers=2, bidirectional=True),
        "RNNBase": lambda: nn.RNNBase("LSTM", N, N),
        "TransformerEncoder": lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(N, 4, 64), 2
        ),
        "TransformerDecoder": lambda: nn.TransformerDecoder(
            nn.TransformerDecoderLayer(N, 4, 64), 2
        ),
        "MultiheadAttention": lambda: nn.MultiheadAttention(
            N, 4, add_bias_kv=True, kdim=16, vdim=8
        ),
        "Embedding": lambda: nn.Embedding(64, N, padding_idx=3),
        "DataParallel": lambda: nn.DataParallel(nn.Linear(N, N)),
    }


#: Lazy modules have no shape until a first forward: initialize refuses them (tested below).
_TORCH_LAZY = re.compile(r"^Lazy")


def _torch_build(cls):
    overrides = _torch_overrides()
    with warnings.catch_warnings():  # deprecations and performance hints of constructors
        warnings.simplefilter("ignore")
        if cls.__name__ in overrides:
            return overrides[cls.__name__]()
        try:
            return cls()
        except Exception:
            pass
        required = _required(cls)
        for size in (N, 2):
            try:
                return cls(*[size] * len(required))
            except Exception:
                continue
    if cls.__name__ in _TORCH_WITHOUT_PARAMETERS:
        return None
    pytest.fail(f"torch.nn.{cls.__name__}: give its constructor arguments in _torch_overrides")
    return None


#: Deprecated torch.nn classes without parameters that take no sizes.
_TORCH_WITHOUT_PARAMETERS = {"Container"}


@pytest.mark.parametrize("cls", _torch_classes(), ids=lambda c: c.__name__)
def test_every_torch_nn_layer_gets_torchs_own_law_or_is_named_uncovered(cls):
    import torch

    if _TORCH_LAZY.match(cls.__name__):
        module = cls(*[N] * len(_required(cls)))
        with pytest.raises(ValueError, match="lazy module"):
            anyinit.initialize(module, "torch", seed=0)
        return
    torch.manual_seed(0)
    module = _torch_build(cls)
    if module is None or not list(module.parameters()):
        return
    ours = copy.deepcopy(module)
    ours, skipped, uncovered = _initialize(ours, "torch")

    def values(m):
        return {k: v.detach().numpy() for k, v in m.named_parameters()}

    prefix = "module." if cls.__name__ == "DataParallel" else ""
    own = {k.removeprefix(prefix): v for k, v in values(module).items()}
    theirs = {k.removeprefix(prefix): v for k, v in values(ours).items()}
    _check("torch", cls.__name__, own, theirs, skipped, uncovered, lambda p: p.rpartition(".")[2])


@pytest.mark.parametrize("cls", _torch_classes(), ids=lambda c: c.__name__)
def test_every_torch_nn_layer_gets_the_same_bits_from_own_as_from_the_torch_preset(cls):
    """The "own" preset replays the layer's own reset_parameters: where the "torch" preset
    describes the same law, the same bits; every parameter that code draws is drawn."""
    import torch

    if _TORCH_LAZY.match(cls.__name__):
        return
    torch.manual_seed(0)
    module = _torch_build(cls)
    if module is None or not list(module.parameters()):
        return
    preset, own = copy.deepcopy(module), copy.deepcopy(module)
    preset, skipped, _ = _initialize(preset, "torch")
    state = torch.get_rng_state()
    own, own_skipped, _ = _initialize(own, "own")
    assert torch.equal(state, torch.get_rng_state()), cls.__name__
    theirs = dict(preset.named_parameters())
    for name, value in own.named_parameters():
        if name not in skipped:
            assert torch.equal(value, theirs[name]), (cls.__name__, name)
    # What "own" leaves untouched, torch's own constructor left at its allocation too.
    assert own_skipped <= skipped, (cls.__name__, own_skipped - skipped)


# -- keras.layers -----------------------------------------------------------------------


def _keras_classes():
    import keras

    layers = keras.layers
    found = {v for v in vars(layers).values() if inspect.isclass(v) and issubclass(v, layers.Layer)}
    return sorted(found, key=lambda c: c.__name__)


def _keras_cases():
    """Constructor and build shape for the classes that need them."""
    import keras

    layers = keras.layers
    image = (2, 8, 8, 4)
    return {
        "Conv1D": (lambda: layers.Conv1D(N, 3), (2, 8, 4)),
        "Conv2D": (lambda: layers.Conv2D(N, 3), image),
        "Conv3D": (lambda: layers.Conv3D(N, 3), (2, 6, 6, 6, 4)),
        "Conv1DTranspose": (lambda: layers.Conv1DTranspose(N, 3), (2, 8, 4)),
        "Conv2DTranspose": (lambda: layers.Conv2DTranspose(N, 3), image),
        "Conv3DTranspose": (lambda: layers.Conv3DTranspose(N, 3), (2, 6, 6, 6, 4)),
        "DepthwiseConv1D": (lambda: layers.DepthwiseConv1D(3, depth_multiplier=4), (2, 8, N)),
        "DepthwiseConv2D": (lambda: layers.DepthwiseConv2D(3, depth_multiplier=4), (2, 8, 8, N)),
        "SeparableConv1D": (lambda: layers.SeparableConv1D(N, 3, depth_multiplier=2), (2, 8, N)),
        "SeparableConv2D": (lambda: layers.SeparableConv2D(N, 3, depth_multiplier=2), image),
        "ConvLSTM1D": (lambda: layers.ConvLSTM1D(8, 3), (2, 3, 8, 4)),
        "ConvLSTM2D": (lambda: layers.ConvLSTM2D(8, 3), (2, 3, 8, 8, 4)),
        "ConvLSTM3D": (lambda: layers.ConvLSTM3D(4, 3), (2, 3, 6, 6, 6, 2)),
        "Dense": (lambda: layers.Dense(N), (2, N)),
        "EinsumDense": (lambda: layers.EinsumDense("ab,bcd->acd", (4, 8), bias_axes="cd"), (2, N)),
        "Embedding": (lambda: layers.Embedding(64, N), (2, 3)),
        "ReversibleEmbedding": (
            lambda: layers.ReversibleEmbedding(64, N, tie_weights=False),
            (2, 3),
        ),
        "SimpleRNN": (lambda: layers.SimpleRNN(N), (2, 5, 16)),
        "LSTM": (lambda: layers.LSTM(N), (2, 5, 16)),
        "GRU": (lambda: layers.GRU(N), (2, 5, 16)),
        "SimpleRNNCell": (lambda: layers.SimpleRNNCell(N), (2, 16)),
        "LSTMCell": (lambda: layers.LSTMCell(N), (2, 16)),
        "GRUCell": (lambda: layers.GRUCell(N), (2, 16)),
        "RNN": (lambda: layers.RNN(layers.LSTMCell(N)), (2, 5, 16)),
        "StackedRNNCells": (
            lambda: layers.StackedRNNCells([layers.GRUCell(N), layers.LSTMCell(N)]),
            (2, 16),
        ),
        "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(N)), (2, 5, 16)),
        "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(N)), (2, 5, 16)),
        "PReLU": (lambda: layers.PReLU(), (2, N)),
        "BatchNormalization": (lambda: layers.BatchNormalization(), (2, N)),
        "LayerNormalization": (lambda: layers.LayerNormalization(), (2, N)),
        "GroupNormalization": (lambda: layers.GroupNormalization(4), (2, N)),
        "RMSNormalization": (lambda: layers.RMSNormalization(), (2, N)),
        "MultiHeadAttention": (lambda: layers.MultiHeadAttention(4, 8), ((2, 5, N), (2, 5, N))),
        "GroupedQueryAttention": (
            lambda: layers.GroupQueryAttention(8, 4, 2),
            ((2, 5, N), (2, 5, N)),
        ),
        "Attention": (lambda: layers.Attention(use_scale=True, score_mode="concat"), None),
        "AdditiveAttention": (lambda: layers.AdditiveAttention(), ((2, 5, N), (2, 5, N))),
        "STFTSpectrogram": (lambda: layers.STFTSpectrogram(frame_length=64), (2, 256, 1)),
        "SpectralNormalization": (
            lambda: layers.SpectralNormalization(layers.Dense(N)),
            (2, N),
        ),
    }


#: Keras layers that cannot be built here or hold no trainable weights by construction.
_KERAS_WITHOUT_WEIGHTS = re.compile(
    r"^(Activation|Add|Average|Concatenate|Dot|Maximum|Minimum|Multiply|Subtract|Lambda"
    r"|Permute|Reshape|InputLayer|.*Dropout.*|GaussianNoise|Random.*|.*Lookup|Hashing"
    r"|HashedCrossing|TextVectorization|TFSMLayer|CategoryEncoding|Discretization|Wrapper"
    r"|FlaxLayer|JaxLayer|TorchModuleWrapper)$"
)


@pytest.mark.parametrize("cls", _keras_classes(), ids=lambda c: c.__name__)
def test_every_keras_layer_gets_kerass_own_law_or_is_named_uncovered(cls):
    import keras

    cases = _keras_cases()
    if cls.__name__ in cases:
        build, shape = cases[cls.__name__]
    elif _KERAS_WITHOUT_WEIGHTS.match(cls.__name__):
        return
    else:
        required = _required(cls)
        layer = cls(*[N] * len(required)) if required else cls()
        for shape in ((2, N), (2, 8, N), (2, 8, 8, N)):
            try:
                layer.build(shape)
                break
            except Exception:
                continue
        if not layer.built:
            pytest.fail(f"keras.layers.{cls.__name__}: add it to _keras_cases")
        assert not layer.trainable_weights, f"{cls.__name__}: add it to _keras_cases"
        return
    keras.utils.set_random_seed(1)
    own, ours = build(), build()
    for layer in (own, ours):
        if shape is None:  # Attention(score_mode="concat") builds on a call
            x = np.zeros((2, 5, N), "float32")
            layer([x, x])
        elif isinstance(shape[0], tuple):
            x = np.zeros(shape[0], "float32")
            layer(
                x, x
            ) if "Attention" in cls.__name__ and cls.__name__ != "AdditiveAttention" else layer(
                [x, x]
            )
        else:
            layer.build(shape)
    _, skipped, uncovered = _initialize(ours, "keras")

    def values(layer):  # by position and name: the two layers' automatic names differ
        return {
            f"{i}:{w.name}": keras.ops.convert_to_numpy(w.value)
            for i, w in enumerate(layer.trainable_weights)
        }

    skipped = {f"{i}:{w.name}" for i, w in enumerate(ours.trainable_weights) if w.path in skipped}
    _check("keras", cls.__name__, values(own), values(ours), skipped, uncovered,
           lambda p: p.partition(":")[2])  # fmt: skip


@pytest.mark.parametrize("cls", _keras_classes(), ids=lambda c: c.__name__)
def test_every_keras_layer_gets_its_own_initializers_under_own(cls):
    """ "own" on a Keras layer: each weight by its layer's own initializer (Keras's law), with
    the "keras" preset's bits wherever the two name the same initializer."""
    import keras

    cases = _keras_cases()
    if cls.__name__ not in cases:
        return  # weightless, or built as above
    build, shape = cases[cls.__name__]
    keras.utils.set_random_seed(1)
    layers = [build(), build()]
    for layer in layers:
        if shape is None:
            x = np.zeros((2, 5, N), "float32")
            layer([x, x])
        elif isinstance(shape[0], tuple):
            x = np.zeros(shape[0], "float32")
            if "Attention" in cls.__name__ and cls.__name__ != "AdditiveAttention":
                layer(x, x)
            else:
                layer([x, x])
        else:
            layer.build(shape)
    theirs, ours = layers

    def values(layer):
        return [keras.ops.convert_to_numpy(w.value) for w in layer.trainable_weights]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, preset_report = anyinit.initialize(ours, "keras", seed=0, return_report=True)
        by_preset = values(ours)
        _, own_report = anyinit.initialize(ours, "own", seed=0, return_report=True)
    laws = {row.native_path: row.initializer for row in preset_report}
    own_laws = {row.native_path: row.initializer for row in own_report}
    rows = zip(ours.trainable_weights, values(ours), values(theirs), by_preset, strict=True)
    for variable, value, reference, preset in rows:
        where = f"keras {cls.__name__} {variable.path}"
        if own_laws[variable.path].startswith("skipped"):
            # The layer keeps no initializer for it (add_weight(initializer="ones")): named.
            assert (cls.__name__, variable.name) in _KERAS_WITHOUT_INITIALIZER, where
            continue
        _same_law(reference, value, where)
        if laws.get(variable.path) == own_laws[variable.path]:
            np.testing.assert_array_equal(value, preset, err_msg=where)


#: Keras weights whose layer keeps no initializer attribute: "own" leaves and names them.
_KERAS_WITHOUT_INITIALIZER = {
    ("Attention", "scale"),
    ("Attention", "concat_score_weight"),
    ("RMSNormalization", "scale"),
    ("AdditiveAttention", "scale"),
    ("STFTSpectrogram", "real_kernel"),
    ("STFTSpectrogram", "imag_kernel"),
}


def test_own_on_keras_takes_the_configured_initializers():
    import keras

    layer = keras.layers.Dense(
        256, kernel_initializer="he_normal", bias_initializer=keras.initializers.Constant(0.5)
    )
    layer.build((None, 512))
    anyinit.initialize(layer, "own", seed=0)
    kernel = keras.ops.convert_to_numpy(layer.kernel.value)
    assert abs(float(kernel.std()) - np.sqrt(2 / 512)) < 0.003  # he_normal: truncated, rescaled
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.bias.value), 0.5)

    def custom(shape, dtype=None):
        return keras.random.uniform(shape, 2.0, 3.0, dtype=dtype, seed=custom.seed)

    custom.seed = None
    again = keras.layers.Dense(4, kernel_initializer=custom)
    again.build((None, 4))
    _, report = anyinit.initialize(again, "own", seed=0, return_report=True)
    first = keras.ops.convert_to_numpy(again.kernel.value)
    assert first.min() >= 2.0
    assert "custom initializer, seeded from the path" in report[0].rule
    anyinit.initialize(again, "own", seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again.kernel.value), first)


def test_the_docs_list_every_parameter_no_preset_covers():
    text = DOCS.read_text()
    section = text.split("Not covered by the presets", 1)[1]
    for framework, cls_name, parameter in sorted(NOT_COVERED):
        label = {"keras": "Keras", "flax": "linen", "nnx": "NNX", "equinox": "Equinox"}[framework]
        line = next((row for row in section.splitlines() if f"{label} ``{cls_name}``" in row), "")
        assert f"``{parameter}``" in line, (framework, cls_name, parameter)


# -- flax.linen (params trees: names and shapes are all anyinit sees) -------------------

_FLAX_N = 16


def _linen_classes():
    from flax import linen

    found = {v for v in vars(linen).values() if inspect.isclass(v) and issubclass(v, linen.Module)}
    return sorted(found, key=lambda c: c.__name__)


def _linen_cases():
    import jax.numpy as jnp
    from flax import linen as nn

    n = _FLAX_N
    f32 = jnp.float32  # float32 also where JAX runs with float64 enabled
    x2, x3, x4 = jnp.zeros((2, n), f32), jnp.zeros((2, 5, n), f32), jnp.zeros((2, 8, 8, n), f32)
    return {
        "BatchNorm": (lambda: nn.BatchNorm(use_running_average=False), (x2,)),
        "Conv": (lambda: nn.Conv(n, (3, 3)), (x4,)),
        "ConvLocal": (lambda: nn.ConvLocal(4, (3, 3)), (x4,)),
        "ConvTranspose": (lambda: nn.ConvTranspose(n, (3, 3)), (x4,)),
        "Dense": (lambda: nn.Dense(n), (x2,)),
        "DenseGeneral": (lambda: nn.DenseGeneral((4, 8)), (x2,)),
        "Einsum": (lambda: nn.Einsum((n, 4, 8), "ab,bcd->acd"), (x2,)),
        "Embed": (lambda: nn.Embed(64, n), (jnp.zeros((2,), jnp.int32),)),
        "GroupNorm": (lambda: nn.GroupNorm(4), (x2,)),
        "InstanceNorm": (lambda: nn.InstanceNorm(), (x4,)),
        "LayerNorm": (lambda: nn.LayerNorm(), (x2,)),
        "RMSNorm": (lambda: nn.RMSNorm(), (x2,)),
        "PReLU": (lambda: nn.PReLU(), (x2,)),
        "MultiHeadDotProductAttention": (lambda: nn.MultiHeadDotProductAttention(4), (x3,)),
        "MultiHeadAttention": (lambda: nn.MultiHeadAttention(4), (x3,)),
        "SelfAttention": (lambda: nn.SelfAttention(4), (x3,)),
        "SimpleCell": (lambda: nn.SimpleCell(n), "cell"),
        "LSTMCell": (lambda: nn.LSTMCell(n), "cell"),
        "OptimizedLSTMCell": (lambda: nn.OptimizedLSTMCell(n), "cell"),
        "GRUCell": (lambda: nn.GRUCell(n), "cell"),
        "MGUCell": (lambda: nn.MGUCell(n), "cell"),
        "ConvLSTMCell": (lambda: nn.ConvLSTMCell(n, (3, 3)), "conv cell"),
        "RNN": (lambda: nn.RNN(nn.LSTMCell(n)), (x3,)),
        "Bidirectional": (
            lambda: nn.Bidirectional(nn.RNN(nn.GRUCell(n)), nn.RNN(nn.GRUCell(n))),
            (x3,),
        ),
        "SpectralNorm": (lambda: nn.SpectralNorm(nn.Dense(n)), "spectral"),
        "WeightNorm": (lambda: nn.WeightNorm(nn.Dense(n)), (x2,)),
        "Sequential": (lambda: nn.Sequential([nn.Dense(n), nn.relu, nn.Dense(n)]), (x2,)),
    }


#: linen modules with no parameters of their own (bases, dropout, fp8 ops' non-param state).
_LINEN_WITHOUT_PARAMETERS = re.compile(r"^(Module|RNNCellBase|Dropout|.*Fp8.*)$")


def _linen_params(module, args, seed):
    import jax
    import jax.numpy as jnp

    key = jax.random.key(seed)
    n = _FLAX_N
    if args == "cell":
        carry = module.initialize_carry(key, (2, n))
        return module.init(key, carry, jnp.zeros((2, n), jnp.float32))["params"]
    if args == "conv cell":
        carry = module.initialize_carry(key, (2, 8, 8, n))
        return module.init(key, carry, jnp.zeros((2, 8, 8, n), jnp.float32))["params"]
    if args == "spectral":
        return module.init(key, jnp.zeros((2, n), jnp.float32), update_stats=True)["params"]
    with warnings.catch_warnings():  # SelfAttention's deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return module.init(key, *args)["params"]


def _leaves(tree):
    import jax

    return {
        "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): np.asarray(v)
        for path, v in jax.tree_util.tree_leaves_with_path(tree)
    }


@pytest.mark.parametrize("cls", _linen_classes(), ids=lambda c: c.__name__)
def test_every_linen_module_gets_flaxs_own_law_or_is_named_uncovered(cls):
    cases = _linen_cases()
    if cls.__name__ not in cases:
        assert _LINEN_WITHOUT_PARAMETERS.match(cls.__name__), (
            f"flax.linen.{cls.__name__}: add it to _linen_cases"
        )
        return
    build, args = cases[cls.__name__]
    own = _linen_params(build(), args, 1)
    ours, skipped, uncovered = _initialize({"params": own}, "flax")
    skipped = {path.removeprefix("params/") for path in skipped}
    _check("flax", cls.__name__, _leaves(own), _leaves(ours["params"]), skipped, uncovered,
           lambda p: p.rpartition("/")[2])  # fmt: skip


# -- flax.nnx -----------------------------------------------------------------------------


def _nnx_classes():
    from flax import nnx

    found = {v for v in vars(nnx).values() if inspect.isclass(v) and issubclass(v, nnx.Module)}
    return sorted(found, key=lambda c: c.__name__)


def _nnx_cases():
    from flax import nnx

    n = _FLAX_N
    return {
        "BatchNorm": lambda r: nnx.BatchNorm(n, rngs=r),
        "Conv": lambda r: nnx.Conv(n, n, (3, 3), rngs=r),
        "ConvTranspose": lambda r: nnx.ConvTranspose(n, n, (3, 3), rngs=r),
        "Einsum": lambda r: nnx.Einsum("ab,bcd->acd", (n, 4, 8), (4, 8), rngs=r),
        "Embed": lambda r: nnx.Embed(64, n, rngs=r),
        "GroupNorm": lambda r: nnx.GroupNorm(n, 4, rngs=r),
        "InstanceNorm": lambda r: nnx.InstanceNorm(n, rngs=r),
        "LayerNorm": lambda r: nnx.LayerNorm(n, rngs=r),
        "RMSNorm": lambda r: nnx.RMSNorm(n, rngs=r),
        "Linear": lambda r: nnx.Linear(n, n, rngs=r),
        "LinearGeneral": lambda r: nnx.LinearGeneral(n, (4, 8), rngs=r),
        "LoRA": lambda r: nnx.LoRA(n, 4, n, rngs=r),
        "LoRALinear": lambda r: nnx.LoRALinear(n, n, lora_rank=4, rngs=r),
        "MultiHeadAttention": lambda r: nnx.MultiHeadAttention(4, n, decode=False, rngs=r),
        "PReLU": lambda r: nnx.PReLU(),
        "SimpleCell": lambda r: nnx.SimpleCell(n, n, rngs=r),
        "LSTMCell": lambda r: nnx.LSTMCell(n, n, rngs=r),
        "OptimizedLSTMCell": lambda r: nnx.OptimizedLSTMCell(n, n, rngs=r),
        "GRUCell": lambda r: nnx.GRUCell(n, n, rngs=r),
        "RNN": lambda r: nnx.RNN(nnx.LSTMCell(n, n, rngs=r)),
        "Bidirectional": lambda r: nnx.Bidirectional(
            nnx.RNN(nnx.GRUCell(n, n, rngs=r)), nnx.RNN(nnx.GRUCell(n, n, rngs=r))
        ),
        "Sequential": lambda r: nnx.Sequential(nnx.Linear(n, n, rngs=r), nnx.Linear(n, n, rngs=r)),
        "List": lambda r: nnx.List([nnx.Linear(n, n, rngs=r)]),
        "Dict": lambda r: nnx.Dict({"fc": nnx.Linear(n, n, rngs=r)}),
        "SpectralNorm": lambda r: nnx.SpectralNorm(nnx.Linear(n, n, rngs=r), rngs=r),
        "WeightNorm": lambda r: nnx.WeightNorm(nnx.Linear(n, n, rngs=r), rngs=r),
    }


@pytest.mark.parametrize("cls", _nnx_classes(), ids=lambda c: c.__name__)
def test_every_nnx_module_gets_flaxs_own_law_or_is_named_uncovered(cls):
    from flax import nnx

    cases = _nnx_cases()
    if cls.__name__ not in cases:
        assert cls.__name__ in ("Module", "RNNCellBase", "Dropout"), (
            f"flax.nnx.{cls.__name__}: add it to _nnx_cases"
        )
        return
    own, ours = cases[cls.__name__](nnx.Rngs(1)), cases[cls.__name__](nnx.Rngs(2))
    _, skipped, uncovered = _initialize(ours, "flax")

    def values(module):
        return {
            "/".join(str(p) for p in path): np.asarray(node.get_value())
            for path, node in nnx.iter_graph(module)
            if isinstance(node, nnx.Param)
        }

    _check("nnx", cls.__name__, values(own), values(ours), skipped, uncovered,
           lambda p: p.rpartition("/")[2])  # fmt: skip


# -- equinox.nn ---------------------------------------------------------------------------


def _equinox_classes():
    import equinox as eqx

    found = {v for v in vars(eqx.nn).values() if inspect.isclass(v) and issubclass(v, eqx.Module)}
    return sorted(found, key=lambda c: c.__name__)


def _equinox_cases():
    import equinox as eqx

    nn, n = eqx.nn, _FLAX_N
    return {
        "Linear": lambda k: nn.Linear(n, n, key=k),
        "Conv": lambda k: nn.Conv(2, n, n, 3, key=k),
        "Conv1d": lambda k: nn.Conv1d(n, n, 3, key=k),
        "Conv2d": lambda k: nn.Conv2d(n, n, 3, key=k),
        "Conv3d": lambda k: nn.Conv3d(n, 4, 3, key=k),
        "ConvTranspose": lambda k: nn.ConvTranspose(2, n, n, 3, key=k),
        "ConvTranspose1d": lambda k: nn.ConvTranspose1d(n, n, 3, key=k),
        "ConvTranspose2d": lambda k: nn.ConvTranspose2d(n, n, 3, key=k),
        "ConvTranspose3d": lambda k: nn.ConvTranspose3d(n, 4, 3, key=k),
        "Embedding": lambda k: nn.Embedding(64, n, key=k),
        "LayerNorm": lambda k: nn.LayerNorm(n),
        "RMSNorm": lambda k: nn.RMSNorm(n),
        "GroupNorm": lambda k: nn.GroupNorm(4, n),
        "BatchNorm": lambda k: nn.BatchNorm(n, "batch", mode="batch"),
        "LSTMCell": lambda k: nn.LSTMCell(n, n, key=k),
        "GRUCell": lambda k: nn.GRUCell(n, n, key=k),
        "MLP": lambda k: nn.MLP(n, n, n, 2, key=k),
        "MultiheadAttention": lambda k: nn.MultiheadAttention(4, n, key=k),
        "PReLU": lambda k: nn.PReLU(),
        "Sequential": lambda k: nn.Sequential([nn.Linear(n, n, key=k), nn.Lambda(abs)]),
        "SpectralNorm": lambda k: (
            nn.SpectralNorm(nn.Linear(n, n, key=k), "weight", key=k)[0]
            if isinstance(nn.SpectralNorm, tuple)
            else nn.SpectralNorm(nn.Linear(n, n, key=k), "weight", key=k)
        ),
        "WeightNorm": lambda k: nn.WeightNorm(nn.Linear(n, n, key=k)),
    }


#: Equinox modules without parameters: pools, dropout, bases, state and sharing helpers.
_EQUINOX_WITHOUT_PARAMETERS = re.compile(
    r"^(.*Pool.*|Dropout|Identity|Lambda|StateIndex|StatefulLayer|Shared"
    r"|RotaryPositionalEmbedding)$"
)


@pytest.mark.parametrize("cls", _equinox_classes(), ids=lambda c: c.__name__)
def test_every_equinox_module_gets_equinoxs_own_law_or_is_named_uncovered(cls):
    import jax

    cases = _equinox_cases()
    if cls.__name__ not in cases:
        assert _EQUINOX_WITHOUT_PARAMETERS.match(cls.__name__), (
            f"equinox.nn.{cls.__name__}: add it to _equinox_cases"
        )
        return
    own = cases[cls.__name__](jax.random.key(1))
    ours = cases[cls.__name__](jax.random.key(2))
    ours, skipped, uncovered = _initialize(ours, "equinox")

    def values(module):
        leaves = jax.tree_util.tree_leaves_with_path(module)
        return {jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves if hasattr(v, "shape")}

    names = {}
    for path, _ in jax.tree_util.tree_leaves_with_path(ours):
        names[jax.tree_util.keystr(path)] = ".".join(
            str(getattr(k, "name", getattr(k, "idx", k))) for k in path
        )
    skipped = {key for key, dotted in names.items() if dotted in skipped}
    _check("equinox", cls.__name__, values(own), values(ours), skipped, uncovered,
           lambda p: p.rpartition(".")[2])  # fmt: skip
