"""torch ``nn.Module`` s: parameters by layer type, written in place under ``no_grad``."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ...adapters.protocol import HostMemory, supports
from ...target import array_backend
from ..slots import Slot, canonical_shape, layout_permutation, normalise_path

__all__ = ["read_state_dict", "slots", "write"]

_RECURRENT = re.compile(r"(weight|bias)_(ih|hh|hr)_(l\d+(?:_reverse)?)$")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_NORMS = (
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.batchnorm._NormBase,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)


def _transpose_layout(rank: int) -> tuple[int, ...]:
    # ConvTranspose weights are (in, out/groups, *k): canonical (*k, in, out/groups).
    return (rank - 2, rank - 1, *range(rank - 2))


#: Layer classes and their kinds, first match wins (a transposed conv is a _ConvNd too).
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (nn.Linear, "dense"),
    (nn.modules.conv._ConvTransposeNd, "conv_transpose"),
    (nn.modules.conv._ConvNd, "conv"),
    ((nn.Embedding, nn.EmbeddingBag), "embedding"),
    (_NORMS, "norm"),
    (nn.LSTM, "lstm"),
    (nn.GRU, "gru"),
    (nn.RNN, "rnn"),
    (nn.MultiheadAttention, "attention"),
    (nn.RNNCellBase, "rnn_cell"),
    (nn.Bilinear, "bilinear"),
    (nn.PReLU, "prelu"),
)


#: Parameters of model-zoo modules, by (class in the module's MRO, parameter): the owner's
#: documented init, which the "torch" preset gives them (a law: ``(name, argument)``).
#: timm's trunc_normal_(std=.02) truncates at ±2 (absolute): ±100σ, a normal law.
_ZOO: dict[tuple[str, str], tuple[str, float]] = {
    ("VisionTransformer", "cls_token"): ("normal", 1e-6),
    ("VisionTransformer", "reg_token"): ("normal", 1e-6),
    ("VisionTransformer", "pos_embed"): ("normal", 0.02),
    ("VisionTransformerDistilled", "dist_token"): ("normal", 0.02),
    ("Eva", "cls_token"): ("normal", 0.02),
    ("Eva", "reg_token"): ("normal", 0.02),
    ("Eva", "pos_embed"): ("normal", 0.02),
    ("Beit", "cls_token"): ("normal", 0.02),
    ("Beit", "pos_embed"): ("normal", 0.02),
    ("WindowAttention", "relative_position_bias_table"): ("normal", 0.02),
    ("Attention", "relative_position_bias_table"): ("normal", 0.02),
    ("Attention", "q_bias"): ("constant", 0.0),
    ("Attention", "v_bias"): ("constant", 0.0),
    ("EvaAttention", "q_bias"): ("constant", 0.0),
    ("EvaAttention", "v_bias"): ("constant", 0.0),
    ("EvaAttention", "k_bias"): ("constant", 0.0),
}
#: Norm classes outside torch.nn (HF's LlamaRMSNorm, T5LayerNorm, timm's RmsNorm, …) by name.
_ZOO_NORM = re.compile(r"(RMSNorm|RmsNorm|RMSNormGated|T5LayerNorm)$")


def _zoo_law(module: nn.Module, name: str, param: Any) -> dict[str, Any]:
    """The owner's law of a model-zoo parameter, as slot info (empty where unknown)."""
    library = type(module).__module__.partition(".")[0]
    if library not in ("timm", "transformers"):
        return {}
    for cls in type(module).__mro__:
        law = _ZOO.get((cls.__name__, name))
        if law is not None:
            return {"owner": law}
    if name == "gamma" and hasattr(module, "init_values"):  # timm's LayerScale(2d)
        return {"owner": ("constant", float(getattr(module, "init_values")))}  # noqa: B009
    return {}


#: The scale each zoo norm class's constructor sets, read once per class (a model holds the
#: same norm class in every block).
_NORM_SCALES: dict[type, float] = {}


def _zoo_norm_scale(module: nn.Module) -> float:
    """1, or 0 for the zero-centred RMSNorms (Gemma's ``x · (1 + weight)``)."""
    cls = type(module)
    if cls not in _NORM_SCALES:
        try:
            source = inspect.getsource(cls.forward)
        except (OSError, TypeError):
            source = ""
        compact = source.replace(" ", "")
        zero_centred = re.search(r"\(1(\.0)?\+self\.weight", compact)
        _NORM_SCALES[cls] = 0.0 if zero_centred else 1.0
    return _NORM_SCALES[cls]


#: Layers outside torch.nn that hold a torch layer's parameters under its names and in its
#: layout, by (library, class name): Megatron's tensor-parallel layers (their whole shapes
#: at a tensor-parallel size of 1; a shard's fans are the shard's).
_ZOO_KINDS = {
    ("megatron", "ColumnParallelLinear"): "dense",
    ("megatron", "RowParallelLinear"): "dense",
    ("megatron", "VocabParallelEmbedding"): "embedding",
}


def _kind(module: nn.Module) -> str:
    if type(module).__name__ == "Conv1D" and type(module).__module__.startswith("transformers"):
        return "hf_conv1d"
    library = type(module).__module__.partition(".")[0]
    if (zoo := _ZOO_KINDS.get((library, type(module).__name__))) is not None:
        return zoo
    if _ZOO_NORM.search(type(module).__name__):
        return "zoo_norm"
    if isinstance(module, nn.RNNBase):  # RNNBase("LSTM", …) is an LSTM without the subclass
        return {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")
    return next((kind for classes, kind in _KINDS if isinstance(module, classes)), "other")


def _slot(
    module_name: str,
    module: nn.Module,
    kind: str,
    name: str,
    param: Any,
    names: Any,
    parts: tuple[str, ...] | None = None,
) -> Slot:
    if parts is None:
        parts = tuple(p for p in module_name.split(".") if p)
    rank = param.dim()
    perm = tuple(range(rank))
    role = name
    info: dict[str, Any] = {}
    if kind in _GATES and (match := _RECURRENT.match(name)):
        weight, side, layer = match.groups()
        parts = (*parts, layer)
        role = {"ih": "kernel", "hh": "recurrent_kernel", "hr": "projection"}[side]
        if weight == "bias":
            role = "bias" if side == "ih" else "recurrent_bias"
        info = {"hidden_size": module.hidden_size, "gates": _GATES[kind]}
        perm = layout_permutation("torch", rank)
    elif kind == "attention":
        return _attention_slot(parts, module_name, module, name, param, names)
    elif kind == "embedding" and name == "weight":
        role = "embedding"
        info = {"padding_idx": getattr(module, "padding_idx", None)}
    elif kind == "norm":
        role = "scale" if name == "weight" else name
    elif kind == "rnn_cell":
        # RNNCell / LSTMCell / GRUCell: torch's (gates·H, in) weights, one law for all.
        roles = {
            "weight_ih": "kernel",
            "weight_hh": "recurrent_kernel",
            "bias_hh": "recurrent_bias",
        }
        role = roles.get(name, "bias")
        perm = layout_permutation("torch", rank) if name.startswith("weight") else perm
        info = {"hidden_size": module.hidden_size}
    elif kind == "bilinear":
        # Bilinear's weight is (out, in1, in2); torch bounds it by 1/sqrt(in1).
        role = "kernel" if name == "weight" else name
        info = {"in1_features": module.in1_features}
    elif kind == "prelu":
        role, info = "slope", {"init": float(getattr(module, "init", 0.25))}
    elif kind in ("dense", "conv") and name == "weight":
        role, perm = "kernel", layout_permutation("torch", rank)
    elif kind == "hf_conv1d":
        # transformers' Conv1D (GPT-2): a Linear whose weight is (in, out), the canonical
        # layout; its constructor draws it N(0, 0.02), the bias zeros.
        kind = "dense"
        role = "kernel" if name == "weight" else name
        info = {"owner": ("normal", 0.02) if name == "weight" else ("constant", 0.0)}
    elif kind == "zoo_norm":
        kind = "norm"
        role = "scale" if name == "weight" else name
        if role == "scale":
            info = {"owner": ("constant", _zoo_norm_scale(module))}
    elif kind == "conv_transpose" and name == "weight":
        role, perm = "kernel", _transpose_layout(rank)
    else:
        info = _zoo_law(module, name, param)
    path = normalise_path(parts, role, names)
    native = f"{module_name}.{name}" if module_name else name
    return Slot(path, native, kind, role, param, perm, canonical_shape(param.shape, perm), info)


#: torch's MultiheadAttention parameters, by the canonical projection they belong to.
_PROJECTIONS = {"q_proj_weight": "query", "k_proj_weight": "key", "v_proj_weight": "value"}
_CANONICAL_NAMES = ("query", "key", "value")


def _attention_slot(
    parts: tuple[str, ...], module_name: str, module: Any, name: str, param: Any, names: Any
) -> Slot:
    """nn.MultiheadAttention in the canonical form every framework's attention maps to:
    ``query``, ``key``, ``value`` kernels ``(E_in, H·D)`` and biases ``(H·D,)``. The packed
    ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) hold three such slots as parts."""
    native = f"{module_name}.{name}" if module_name else name
    rank = param.dim()
    if name in ("bias_k", "bias_v"):  # (1, 1, E), drawn as they are
        path = normalise_path(parts, name, names)
        return Slot(path, native, "attention", name, param, (0, 1, 2), tuple(param.shape))
    if name in _PROJECTIONS:
        role, which = "kernel", _PROJECTIONS[name]
        perm = layout_permutation("torch", rank)
        path = normalise_path((*parts, which), role, names)
        info = {"attention": which}
        return Slot(
            path, native, "attention", role, param, perm, canonical_shape(param.shape, perm), info
        )
    # in_proj_weight / in_proj_bias: three parts along the canonical output axis.
    role = "kernel" if name == "in_proj_weight" else "bias"
    perm = layout_permutation("torch", rank) if role == "kernel" else (0,)
    canonical = canonical_shape(param.shape, perm)
    width = canonical[-1] // 3
    pieces = [
        Slot(
            normalise_path((*parts, which), role, names),
            f"{native}[{which}]",
            "attention",
            role,
            param,
            tuple(range(len(canonical))),
            (*canonical[:-1], width),
            {"attention": which},
        )
        for which in _CANONICAL_NAMES
    ]
    path = normalise_path(parts, role, names)
    return Slot(path, native, "attention", role, param, perm, canonical, {"parts": pieces})


def _unwrapped(model: nn.Module) -> nn.Module:
    """The module a wrapper holds: ``torch.compile``'s (``_orig_mod``), ``DataParallel``'s and
    ``DistributedDataParallel``'s (``module``). Their parameters are the same objects, and
    paths without the wrapper's prefix give the same keys, so the same weights."""
    wrappers = (nn.DataParallel, nn.parallel.DistributedDataParallel)
    while True:
        inner = getattr(model, "_orig_mod", None)
        if isinstance(inner, nn.Module):
            model = inner
        elif isinstance(model, wrappers):
            model = model.module
        else:
            return model


def _reparametrized(module: nn.Module) -> dict[str, tuple[str, Any]]:
    """The module's tensors that a parametrization computes, ``{name: (how, detail)}``.

    ``torch.nn.utils.parametrize`` (``parametrizations.weight_norm``,
    ``spectral_norm``, ``orthogonal``, custom ones): the parameters live in a
    ``ParametrizationList`` and the module's ``weight`` is computed; it is set
    through the list's ``right_inverse``. The older hook-based ``weight_norm``
    (``weight_g``, ``weight_v``) and ``spectral_norm`` (``weight_orig``) too.
    """
    from torch.nn.utils import parametrize
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    found: dict[str, tuple[str, Any]] = {}
    if parametrize.is_parametrized(module):
        for name, chain in getattr(module, "parametrizations").items():  # noqa: B009
            missing = [type(p).__name__ for p in chain if not hasattr(type(p), "right_inverse")]
            found[name] = ("parametrize", missing)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm):
            found[hook.name] = ("weight_norm", hook.dim)
        elif isinstance(hook, SpectralNorm):
            found[hook.name] = ("spectral_norm", None)
    return found


def _parametrized_slots(
    module_name: str,
    module: nn.Module,
    kind: str,
    names: Any,
    seen: set[int],
    where: dict[str, tuple[str, ...]],
) -> list[Slot]:
    """Slots for the computed tensors (the layer's law on `weight`, as torch's own
    ``reset_parameters`` then the parametrization would give); their storage is not a slot."""
    found = []
    for name, (how, detail) in _reparametrized(module).items():
        if how == "parametrize":
            chain = getattr(module, "parametrizations")[name]  # noqa: B009 - typed as Tensor
            seen.update(id(p) for p in chain.parameters())
            if detail:
                location = f"{module_name}.{name}" if module_name else name
                msg = (
                    f"{location!r} is computed by the parametrization {', '.join(detail)}, which "
                    "has no right_inverse, so it cannot be set to new values; give it a "
                    "right_inverse, or remove the parametrization (torch.nn.utils.parametrize."
                    "remove_parametrizations), initialize, then register it again."
                )
                raise ValueError(msg)
            with torch.no_grad():
                value = getattr(module, name).detach()
        elif how == "weight_norm":
            seen.update({id(getattr(module, name + "_g")), id(getattr(module, name + "_v"))})
            value = getattr(module, name + "_v").detach()
        else:  # the old spectral_norm: `weight_orig` holds the weight
            seen.add(id(getattr(module, name + "_orig")))
            value = getattr(module, name + "_orig").detach()
        slot = _slot(module_name, module, kind, name, value, names, where.get(module_name))
        slot.info["reparametrized"] = (module, name, how, detail)
        found.append(slot)
    return found


def _canonical_parts(model: nn.Module) -> dict[str, tuple[str, ...]]:
    """Each module's path parts, an ``nn.Sequential``'s items under ``layers``: Flax's,
    NNX's and Equinox's Sequentials hold them in a ``layers`` list (``seq.layers.0``)."""
    parts: dict[str, tuple[str, ...]] = {"": ()}
    for name, module in model.named_modules():
        for child_name, _ in module.named_children():
            full = f"{name}.{child_name}" if name else child_name
            inner = ("layers", child_name) if isinstance(module, nn.Sequential) else (child_name,)
            parts.setdefault(full, (*parts.get(name, ()), *inner))
    return parts


def slots(model: nn.Module, names: Mapping[str, str] | None) -> list[Slot]:
    """Every parameter of `model` once (shared ones under their first name); a weight that a
    parametrization computes once, as the weight, in place of the parameters behind it."""
    model = _unwrapped(model)
    where = _canonical_parts(model)
    seen: set[int] = set()
    found: list[Slot] = []
    outputs = {
        id(m.out_proj): name
        for name, m in model.named_modules()
        if isinstance(m, nn.MultiheadAttention)
    }
    xavier = {id(m) for t in model.modules() if isinstance(t, nn.Transformer) for m in t.modules()}
    for module_name, module in model.named_modules():
        kind = _kind(module)
        found.extend(_parametrized_slots(module_name, module, kind, names, seen, where))
        for name, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if isinstance(param, nn.parameter.UninitializedParameter):
                location = f"{module_name}.{name}" if module_name else name
                msg = (
                    f"{location!r} belongs to a lazy module ({type(module).__name__}) and has no "
                    "shape yet; run the model once on a batch of the right shape, then call "
                    "anyinit.initialize."
                )
                raise ValueError(msg)
            slot = _slot(module_name, module, kind, name, param, names, where.get(module_name))
            if id(module) in xavier and param.dim() > 1:
                # nn.Transformer._reset_parameters: xavier_uniform_ on every p.dim() > 1.
                slot.info["xavier"] = True
            if id(module) in outputs:
                # MultiheadAttention's out_proj: the canonical `out` projection (H·D, E).
                parent = where.get(outputs[id(module)], ())
                slot.kind, slot.info["attention"] = "attention", "out"
                slot.path = normalise_path((*parent, "out"), slot.role, names)
            found.append(slot)
    return found


def _set_reparametrized(slot: Slot, new: Any) -> None:
    module, name, how, dim = slot.info["reparametrized"]
    if how == "parametrize":
        setattr(module, name, new)  # the chain's right_inverse sets the originals
    elif how == "weight_norm":
        getattr(module, name + "_v").copy_(new)
        getattr(module, name + "_g").copy_(torch.norm_except_dim(new, 2, dim))
        setattr(module, name, torch._weight_norm(new, getattr(module, name + "_g"), dim))
    else:
        getattr(module, name + "_orig").copy_(new)


def host_view(slot: Slot) -> tuple[Any, str, tuple[slice, ...] | None] | None:
    """A writable NumPy view of `slot`'s own memory in torch's layout, the dtype it holds,
    and the block of the whole parameter it is (None: all of it; a DTensor's, FSDP2's,
    local shard: this rank's block), where the parameter can be filled there directly (the
    torch adapter's ``host_view``: contiguous CPU float32, float16 or bfloat16), laid out
    as the canonical shape permuted; None for everything :func:`write` must handle
    (parametrizations, padding rows, meta and other devices, other dtypes)."""
    if (
        "reparametrized" in slot.info
        or slot.info.get("padding_idx") is not None
        or slot.expanded is not None
        or tuple(slot.value.shape) != tuple(slot.canonical[axis] for axis in slot.perm)
    ):
        return None
    value, region = slot.value, None
    shards = _shards(value)
    if shards is not None:
        region = shards.region(tuple(value.shape))
        value = shards.local
    backend = array_backend(value)[1]  # its host_view refuses anything but plain tensors
    view = backend.host_view(value) if supports(backend, HostMemory) else None
    return None if view is None else (*view, region)


def _shards(value: Any) -> Any:
    """A DTensor parameter's sharding (never importing torch.distributed itself)."""
    if "torch.distributed.tensor" not in sys.modules:
        return None
    from ...adapters.torch.dtensor import shards_of

    return shards_of(value)


def filled(slot: Slot) -> None:
    """Tell autograd that `slot`'s parameter changed (as ``copy_`` would): its memory was
    written through :func:`host_view`, which torch's version counter does not see."""
    shards = _shards(slot.value)
    local = slot.value if shards is None else shards.local
    backend = array_backend(local)[1]
    if supports(backend, HostMemory):
        backend.host_written(local)


def write(
    model: nn.Module, found: list[Slot], values: dict[str, Any], *, padding: bool = True
) -> nn.Module:
    """Copy the new values into the parameters, in place; torch's padding rows stay zero
    (unless `padding` is False: the "own" preset's init code zeros them itself)."""
    with torch.no_grad():
        for slot in found:
            new = values.get(slot.native_path)
            if new is None or slot.value.is_meta:
                continue
            if "reparametrized" in slot.info:
                _set_reparametrized(slot, new)
                continue
            param = slot.value
            start = 0
            if hasattr(new, "to_local"):  # a DTensor (FSDP2) parameter: this rank's shard
                from ...adapters.torch.dtensor import DTensorShards

                offsets = DTensorShards(new).region(tuple(new.shape))
                start = offsets[0].start if offsets else 0
                param, new = param.to_local(), new.to_local()
            param.copy_(new)
            row = slot.info.get("padding_idx") if padding else None
            if row is not None and 0 <= row - start < param.shape[0]:
                param[row - start].fill_(0)
    return model


def read_state_dict(path: Any) -> dict[str, torch.Tensor]:
    """The state dict saved at `path` (``torch.save``'s file or ``.safetensors``; a
    checkpoint's ``state_dict`` or ``model`` entry), on the CPU, loaded without pickled code."""
    from pathlib import Path

    path = Path(path)
    if path.suffix == ".safetensors":
        import importlib

        # safetensors comes with transformers; a plain torch install reads .pt files
        state: Any = importlib.import_module("safetensors.torch").load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):  # the usual checkpoint wrappers
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        msg = f"{str(path)!r} holds no state dict of tensors"
        raise ValueError(msg)
    return state
