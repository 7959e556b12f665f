"""``torch.nn.init``-style in-place functions, for every mutable array library.

They take torch's arguments, defaults and fan convention (dim 0 = out,
dim 1 = in, the rest receptive field), write into the given array and
return it. On a torch tensor with a ``generator`` they return exactly what
``torch.nn.init`` returns, because they issue the same tensor operations in
the same order. Every argument is checked before anything is written, so a
call that fails leaves the array untouched.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

from .. import _compat, sampling
from .._typing import Array
from .._validation import as_fill_value, as_finite_float, as_int
from ..adapters.protocol import ComplexViews, InPlaceDraws, Sharded, supports
from ..initializers.constant import Dirac, check_fill, fill_for
from ..initializers.orthogonal import orthogonal_matrix
from ..laws.dtypes import check_fits, component_name
from ..laws.fans import calculate_gain, compute_fans
from ..laws.records import BoundedNormal, Normal, Uniform
from ..sharding import check_whole, reproducible
from ..stream import independent_streams
from ..target import Target, _for_array, check_seed, resolve_target

__all__ = [
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_OUT_OF_PLACE = {
    "uniform_": "anyinit.RandomUniform(a, b)",
    "normal_": "anyinit.RandomNormal(mean, std)",
    "trunc_normal_": "anyinit.TruncatedNormal(mean, std)",
    "constant_": "anyinit.Constant(val)",
    "ones_": "anyinit.Ones()",
    "zeros_": "anyinit.Zeros()",
    "eye_": "anyinit.Identity()",
    "dirac_": "anyinit.Dirac(groups)",
    "xavier_uniform_": "anyinit.GlorotUniform(in_axis=1, out_axis=0)",
    "xavier_normal_": 'anyinit.VarianceScaling(gain**2, "fan_avg", "untruncated_normal", '
    "in_axis=1, out_axis=0)",
    "kaiming_uniform_": 'anyinit.VarianceScaling(gain**2, mode, "uniform", in_axis=1, out_axis=0)',
    "kaiming_normal_": 'anyinit.VarianceScaling(gain**2, mode, "untruncated_normal", '
    "in_axis=1, out_axis=0)",
    "orthogonal_": "anyinit.Orthogonal(gain)",
    "sparse_": "anyinit.Sparse(sparsity, std)",
}
_FLOATING = ("real floating", "complex floating")


def _shard_aware(function: Callable[..., Array]) -> Callable[..., Array]:
    """Let `function` write a distributed tensor (a DTensor): this rank's shard only.

    The whole tensor is computed on every rank (the same everywhere: an
    integer seed reproduces it, other seeds are made to agree by a broadcast
    from the mesh's first rank) and each rank writes its block. Memory is the
    whole tensor per rank; ``anyinit.initialize`` and the out-of-place
    initializers draw the shard alone.
    """

    @functools.wraps(function)
    def write_shard(tensor: Array, *args: Any, **kwargs: Any) -> Array:
        try:
            _, backend = _for_array(tensor)
        except TypeError:
            return function(tensor, *args, **kwargs)
        shards = backend.shards(tensor) if supports(backend, Sharded) else None
        if shards is None:
            return function(tensor, *args, **kwargs)
        shape = tuple(int(n) for n in tensor.shape)
        check_whole(shape, f"anyinit.{function.__name__}")
        local = tensor.to_local()
        xp = _compat.array_namespace(local)
        whole = xp.empty(shape, dtype=local.dtype, device=_compat.device(local))
        function(whole, *args, **kwargs)
        if not reproducible(kwargs.get("seed")) or kwargs.get("generator") is not None:
            whole = shards.agree(whole)
        backend.write(local, whole[shards.region(shape)])
        return tensor

    return write_shard


_TARGETS: dict[tuple[Any, ...], Target] = {}
_TARGETS_LIMIT = 256


def _target(tensor: Array, function: str, kinds: tuple[str, ...] | None = None) -> Target:
    """The tensor's own library, device and dtype, after checking it can be written."""
    try:
        _, backend = _for_array(tensor)
    except TypeError:
        msg = f"`tensor` must be an array; {function} received {type(tensor).__name__}."
        raise TypeError(msg) from None
    if not backend.is_mutable(tensor):
        _raise_immutable(tensor, function)
    try:  # what decides the target, as resolve_target's memo (here for ~0.5 µs a call)
        key: tuple[Any, ...] = (
            type(tensor),
            tensor.dtype,
            tensor.device,
            backend.layout_key(tensor),
            kinds,
        )
        found = _TARGETS.get(key)
    except (AttributeError, TypeError):  # unhashable devices or dtypes
        key, found = (), None
    if found is not None:
        return found
    target = _resolve_writable(tensor, function, kinds)
    if key and len(_TARGETS) < _TARGETS_LIMIT:
        _TARGETS[key] = target
    return target


def _raise_immutable(tensor: Array, function: str) -> None:
    msg = (
        f"anyinit.{function} writes in place, but this {type(tensor).__name__} is immutable "
        f"or read-only; use the out-of-place form {_OUT_OF_PLACE[function]}"
        "(shape, like=array) instead."
    )
    raise TypeError(msg)


def _resolve_writable(tensor: Array, function: str, kinds: tuple[str, ...] | None) -> Target:
    layout = getattr(tensor, "layout", None)
    if layout is not None and str(layout).startswith("torch.") and str(layout) != "torch.strided":
        # torch's own functions fail on sparse tensors with a dispatcher error; say what to do.
        msg = (
            f"anyinit.{function} writes dense (strided) tensors; this tensor's layout is "
            f"{layout}. Initialize a dense tensor and convert it (.to_sparse()), or write "
            "its stored values (tensor.values() of a coalesced COO tensor)."
        )
        raise TypeError(msg)
    try:
        target = resolve_target(like=tensor, dtype=tensor.dtype)
    except TypeError:
        if kinds is not None:
            raise
        # A dtype anyinit does not sample in (torch's float8 types): fills and
        # structured writes are computed in float32 and cast by the write, as torch does.
        target = resolve_target(like=tensor, dtype="float32")
    if kinds is not None and target.kind not in kinds:
        msg = (
            f"anyinit.{function} needs a floating `tensor`; received one of dtype "
            f"{target.dtype_name!r}."
        )
        raise TypeError(msg)
    return target


def _rng(target: Target, generator: Any, seed: Any) -> Any:
    if generator is None and seed is None:
        return target.backend.default_generator(target.device)
    if generator is not None and seed is not None:
        msg = "pass either `generator` or `seed`, not both."
        raise ValueError(msg)
    return sampling.generator(
        target.backend, check_seed(seed if generator is None else generator), target.device
    )


_TORCH_FANS: dict[tuple[int, ...], tuple[int, int]] = {}
_TORCH_FANS_LIMIT = 1024


def _torch_fans(tensor: Array) -> tuple[int, int]:
    # An array's shape is ints already, so the general validation runs once per
    # shape (a model has a handful): ~2 µs of a small call otherwise.
    shape = tuple(tensor.shape)
    fans = _TORCH_FANS.get(shape)
    if fans is not None:
        return fans
    if len(shape) < 2:
        msg = "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        raise ValueError(msg)
    fan_in, fan_out = compute_fans(shape, in_axis=1, out_axis=0)
    fans = int(fan_in), int(fan_out)
    if len(_TORCH_FANS) < _TORCH_FANS_LIMIT:
        _TORCH_FANS[shape] = fans
    return fans


def _fan_for_mode(tensor: Array, mode: str) -> int:
    lowered = mode.lower() if isinstance(mode, str) else mode
    if lowered not in ("fan_in", "fan_out"):
        msg = f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']"
        raise ValueError(msg)
    fan_in, fan_out = _torch_fans(tensor)
    return fan_in if lowered == "fan_in" else fan_out


def _check_bounds_fit(a: Any, b: Any, magnitude: float, target: Target) -> None:
    """Overflow of an interval's values: the message names the larger bound."""
    name, value = ("a", a) if abs(float(a)) > abs(float(b)) else ("b", b)
    check_fits(name, value, magnitude, target.dtype_name)


def _sample(target: Target, tensor: Array, law: Any, rng: Any) -> Array:
    if not target.materializes or 0 in tensor.shape:
        return tensor
    if target.kind == "complex floating":
        _sample_complex(target, tensor, law, rng)
    else:
        law.sample_into(target, tensor, rng)
    return tensor


def _sample_complex(target: Target, tensor: Array, law: Any, rng: Any) -> None:
    """torch's complex ``uniform_`` / ``normal_``: the real and imaginary parts drawn as
    interleaved real pairs, U(a, b) each, or N(mean, std²/2) each (mean on both parts)."""
    xp, backend = target.xp, target.backend
    name = component_name(target.dtype_name)
    part = Target(xp, backend, target.device, backend.dtype(name), name)
    if isinstance(law, Normal):
        law = Normal(law.loc, law.scale / math.sqrt(2.0))
    view = backend.real_view(tensor) if supports(backend, ComplexViews) else None
    if view is not None:  # the parts in place: the library's own draw (torch's, bit for bit)
        law.sample_into(part, view, rng)
        return
    pairs = law.sample(part, rng, (*tuple(tensor.shape), 2))
    unit = xp.asarray(1j, dtype=target.dtype, device=target.xp_device)
    real, imag = pairs[..., 0], pairs[..., 1]
    values = xp.astype(real, target.dtype) + unit * xp.astype(imag, target.dtype)
    backend.write(tensor, values)


@_shard_aware
def uniform_(
    tensor: Array, a: float = 0.0, b: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Array:
    """Fill `tensor` with U(a, b) in place, as ``torch.nn.init.uniform_``.

    Parameters
    ----------
    tensor : array
        A mutable floating array (NumPy, torch, CuPy, …); also a strided view.
    a, b : float
        The bounds, ``a <= b``.
    generator : native generator, optional
        ``torch.Generator``, ``numpy.random.Generator`` or ``cupy.random.Generator``.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.uniform_(np.empty((2, 3), np.float32), -1.0, 1.0, seed=0)
    >>> bool((abs(w) <= 1).all())
    True
    """
    target = _target(tensor, "uniform_", _FLOATING)
    low, high = as_finite_float("a", a), as_finite_float("b", b)
    if low > high:
        msg = f"uniform_ expects a <= b; received a={a!r}, b={b!r}."
        raise ValueError(msg)
    law = Uniform(low, high)
    _check_bounds_fit(a, b, law.magnitude, target)
    return _sample(target, tensor, law, _rng(target, generator, seed))


@_shard_aware
def normal_(
    tensor: Array, mean: float = 0.0, std: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Array:
    """Fill `tensor` with N(mean, std²) in place, as ``torch.nn.init.normal_``.

    Parameters
    ----------
    tensor : array
        A mutable floating array.
    mean, std : float
        Mean and standard deviation (``std >= 0``).
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.normal_(np.empty(10_000, np.float32), 1.0, 0.5, seed=0)
    >>> round(float(w.mean()), 1), round(float(w.std()), 1)
    (1.0, 0.5)
    """
    target = _target(tensor, "normal_", _FLOATING)
    law = Normal(as_finite_float("mean", mean), as_finite_float("std", std, minimum=0.0))
    check_fits("std", std, law.magnitude, target.dtype_name)
    return _sample(target, tensor, law, _rng(target, generator, seed))


@_shard_aware
def trunc_normal_(
    tensor: Array,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
    *,
    seed: Any = None,
) -> Array:
    """Fill `tensor` with N(mean, std²) truncated to the absolute interval ``[a, b]``.

    torch's semantics: `a` and `b` are values, not standard deviations (so
    ``trunc_normal_(w, std=0.02)`` is hardly truncated). Unlike torch, no
    value ever lies outside ``[a, b]``, whatever the dtype.

    Parameters
    ----------
    tensor : array
        A mutable floating array.
    mean, std : float
        Mean and standard deviation before truncation (``std > 0``).
    a, b : float
        The bounds, ``a < b``.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.trunc_normal_(np.empty(10_000, np.float32), std=1.0, a=-1.0, b=0.5, seed=0)
    >>> bool(w.min() >= -1.0 and w.max() <= 0.5)
    True
    """
    target = _target(tensor, "trunc_normal_", _FLOATING[:1])
    mean_ = as_finite_float("mean", mean)
    std_ = as_finite_float("std", std, minimum=0.0, strict=True)
    low, high = as_finite_float("a", a), as_finite_float("b", b)
    if low >= high:
        msg = f"trunc_normal_ expects a < b; received a={a!r}, b={b!r}."
        raise ValueError(msg)
    if (mean_ < low - 2 * std_) or (mean_ > high + 2 * std_):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=3,  # past trunc_normal_'s shard-aware wrapper
        )
    law = BoundedNormal.between(mean_, std_, low, high)
    _check_bounds_fit(a, b, law.magnitude, target)
    return _sample(target, tensor, law, _rng(target, generator, seed))


@_shard_aware
def constant_(tensor: Array, val: float) -> Array:
    """Fill `tensor` with `val` in place.

    Parameters
    ----------
    tensor : array
        A mutable array of any numeric dtype.
    val : float
        The value: data, so ±inf and NaN are allowed in floating arrays (as
        in torch); an integer array needs an integral value in its range.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> anyinit.constant_(np.empty(3), 0.5).tolist()
    [0.5, 0.5, 0.5]
    """
    target = _target(tensor, "constant_")
    value = as_fill_value("val", val)
    check_fill("val", value, target.dtype_name)
    if target.materializes:
        target.backend.fill(tensor, fill_for(value, target.kind))
    return tensor


@_shard_aware
def ones_(tensor: Array) -> Array:
    """Fill `tensor` with ones in place.

    Parameters
    ----------
    tensor : array
        A mutable array.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> anyinit.ones_(np.empty(2, np.int32)).tolist()
    [1, 1]
    """
    target = _target(tensor, "ones_")
    if target.materializes:
        target.backend.fill(tensor, 1)
    return tensor


@_shard_aware
def zeros_(tensor: Array) -> Array:
    """Fill `tensor` with zeros in place.

    Parameters
    ----------
    tensor : array
        A mutable array.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> anyinit.zeros_(np.ones(2)).tolist()
    [0.0, 0.0]
    """
    target = _target(tensor, "zeros_")
    if target.materializes:
        target.backend.fill(tensor, 0)
    return tensor


@_shard_aware
def eye_(tensor: Array) -> Array:
    """Write the identity matrix into a 2-D `tensor` (non-square pads with zeros).

    Parameters
    ----------
    tensor : array
        A mutable 2-D array.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> anyinit.eye_(np.empty((2, 3))).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    target = _target(tensor, "eye_")
    if len(tensor.shape) != 2:
        msg = "Only tensors with 2 dimensions are supported"
        raise ValueError(msg)
    if target.materializes:
        rows, cols = tensor.shape
        eye = target.backend.eye(rows, cols, target.dtype, target.device)
        target.backend.write(tensor, eye)
    return tensor


@_shard_aware
def dirac_(tensor: Array, groups: int = 1) -> Array:
    """Write the Dirac delta into a ``(out, in, *kernel)`` convolution weight.

    Parameters
    ----------
    tensor : array
        A mutable 3-, 4- or 5-D array in torch's layout.
    groups : int, default 1
        Number of groups; it must divide ``tensor.shape[0]``.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.dirac_(np.empty((2, 2, 3)))
    >>> w[:, :, 1].tolist(), float(w.sum())
    ([[1.0, 0.0], [0.0, 1.0]], 2.0)
    """
    target = _target(tensor, "dirac_")
    rank = len(tensor.shape)
    if rank not in (3, 4, 5):
        msg = "Only tensors with 3, 4, or 5 dimensions are supported"
        raise ValueError(msg)
    groups = as_int("groups", groups, minimum=1)
    if tensor.shape[0] % groups:
        msg = f"dim 0 must be divisible by groups: shape[0]={tensor.shape[0]}, groups={groups}"
        raise ValueError(msg)
    if target.materializes:
        out, in_, *spatial = tensor.shape
        kernel = Dirac(groups)._generate((*spatial, in_, out), target)
        # (*spatial, in, out) -> (out, in, *spatial)
        order = (rank - 1, rank - 2, *range(rank - 2))
        target.backend.write(tensor, target.xp.permute_dims(kernel, order))
    return tensor


def _zero_element_no_op(tensor: Array) -> bool:
    if 0 in tuple(tensor.shape):
        # 1: here, 2: _kaiming, 3: kaiming_*_, 4: its shard-aware wrapper, 5: the caller's line.
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=5)
        return True
    return False


@_shard_aware
def xavier_uniform_(
    tensor: Array, gain: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Array:
    """Glorot/Xavier uniform in place: U(-l, l), l = gain·sqrt(6 / (fan_in + fan_out)).

    Fans use torch's layout ``(out, in, *kernel)``.

    Parameters
    ----------
    tensor : array
        A mutable floating array of rank >= 2.
    gain : float, default 1.0
        Scaling factor.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.xavier_uniform_(np.empty((128, 256), np.float32), seed=0)
    >>> bool(abs(w).max() <= (6 / 384) ** 0.5)
    True
    """
    target = _target(tensor, "xavier_uniform_", _FLOATING)
    fan_in, fan_out = _torch_fans(tensor)
    gain = as_finite_float("gain", gain, minimum=0.0)
    rng = _rng(target, generator, seed)
    if math.prod(tensor.shape) == 0:
        return tensor  # torch divides by zero for (0, 0); an empty weight needs no values
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    check_fits("gain", gain, bound, target.dtype_name)
    return _sample(target, tensor, Uniform(-bound, bound), rng)


@_shard_aware
def xavier_normal_(
    tensor: Array, gain: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Array:
    """Glorot/Xavier normal in place: N(0, gain² · 2 / (fan_in + fan_out)), untruncated.

    Parameters
    ----------
    tensor : array
        A mutable floating array of rank >= 2.
    gain : float, default 1.0
        Scaling factor.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.xavier_normal_(np.empty((256, 256), np.float32), seed=0)
    >>> round(float(w.std()) / (2 / 512) ** 0.5, 1)
    1.0
    """
    target = _target(tensor, "xavier_normal_", _FLOATING)
    fan_in, fan_out = _torch_fans(tensor)
    gain = as_finite_float("gain", gain, minimum=0.0)
    rng = _rng(target, generator, seed)
    if math.prod(tensor.shape) == 0:
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    law = Normal(0.0, std)
    check_fits("gain", gain, law.magnitude, target.dtype_name)
    return _sample(target, tensor, law, rng)


def _kaiming(
    function: str, tensor: Array, a: float, mode: str, nonlinearity: str, generator: Any, seed: Any
) -> tuple[Target, float, Any] | None:
    target = _target(tensor, function, _FLOATING)
    # Every argument is checked before the zero-element no-op (torch skips them).
    slope = as_finite_float("a", a)
    fan = _fan_for_mode(tensor, mode)
    try:
        gain = calculate_gain(nonlinearity, slope)
    except OverflowError:  # 1 + a² past float64
        msg = f"`a`={a!r} is too large: the gain sqrt(2 / (1 + a²)) cannot be computed."
        raise ValueError(msg) from None
    rng = _rng(target, generator, seed)
    if _zero_element_no_op(tensor):
        return None
    std = gain / math.sqrt(fan)
    check_fits("a", a, math.sqrt(3.0) * std, target.dtype_name)
    return target, std, rng


@_shard_aware
def kaiming_uniform_(
    tensor: Array,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Array:
    """He/Kaiming uniform in place: U(-b, b), b = gain·sqrt(3 / fan).

    ``gain = calculate_gain(nonlinearity, a)``; torch's ``Linear`` default is
    ``a=math.sqrt(5)``, i.e. b = 1/sqrt(fan_in).

    Parameters
    ----------
    tensor : array
        A mutable floating array of rank >= 2, laid out ``(out, in, *kernel)``.
    a : float, default 0
        Negative slope of the leaky ReLU after this layer.
    mode : {"fan_in", "fan_out"}
        Which fan keeps the variance (case-insensitive, as in torch).
    nonlinearity : str, default "leaky_relu"
        See :func:`calculate_gain`.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import math, numpy as np, anyinit
    >>> w = anyinit.kaiming_uniform_(np.empty((64, 128), np.float32), a=math.sqrt(5), seed=0)
    >>> bool(abs(w).max() <= 1 / math.sqrt(128))
    True
    """
    prepared = _kaiming("kaiming_uniform_", tensor, a, mode, nonlinearity, generator, seed)
    if prepared is None:
        return tensor
    target, std, rng = prepared
    bound = math.sqrt(3.0) * std
    return _sample(target, tensor, Uniform(-bound, bound), rng)


@_shard_aware
def kaiming_normal_(
    tensor: Array,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Array:
    """He/Kaiming normal in place: N(0, gain² / fan), untruncated.

    Parameters
    ----------
    tensor : array
        A mutable floating array of rank >= 2, laid out ``(out, in, *kernel)``.
    a : float, default 0
        Negative slope of the leaky ReLU after this layer.
    mode : {"fan_in", "fan_out"}
        Which fan keeps the variance.
    nonlinearity : str, default "leaky_relu"
        See :func:`calculate_gain`.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.kaiming_normal_(np.empty((256, 512), np.float32), nonlinearity="relu", seed=0)
    >>> round(float(w.std()) * (512 / 2) ** 0.5, 1)
    1.0
    """
    prepared = _kaiming("kaiming_normal_", tensor, a, mode, nonlinearity, generator, seed)
    if prepared is None:
        return tensor
    target, std, rng = prepared
    return _sample(target, tensor, Normal(0.0, std), rng)


@_shard_aware
def orthogonal_(
    tensor: Array, gain: float = 1, generator: Any = None, *, seed: Any = None
) -> Array:
    """A (semi-)orthogonal matrix in place, flattened as ``(shape[0], prod(rest))``.

    Unlike torch, float16 and bfloat16 work (the QR runs in float32) and
    strided views are written correctly.

    Parameters
    ----------
    tensor : array
        A mutable floating array of rank >= 2.
    gain : float, default 1
        Scaling factor.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.orthogonal_(np.empty((16, 8)), seed=0)
    >>> bool(np.allclose(w.T @ w, np.eye(8)))
    True
    """
    target = _target(tensor, "orthogonal_", _FLOATING)
    if len(tensor.shape) < 2:
        msg = "Only tensors with 2 or more dimensions are supported"
        raise ValueError(msg)
    gain = as_finite_float("gain", gain)
    check_fits("gain", gain, abs(gain), target.dtype_name)
    rng = _rng(target, generator, seed)
    if math.prod(tensor.shape) == 0 or not target.materializes:
        return tensor
    xp = target.xp
    rows = tensor.shape[0]
    cols = math.prod(tensor.shape) // rows
    q = orthogonal_matrix(target, rng, rows, cols, rows_first=True)
    q = xp.reshape(xp.astype(q, target.dtype), tuple(tensor.shape))
    if gain != 1:
        q = q * gain
    target.backend.write(tensor, q)
    return tensor


@_shard_aware
def sparse_(
    tensor: Array, sparsity: float, std: float = 0.01, generator: Any = None, *, seed: Any = None
) -> Array:
    """N(0, std²) values with ``ceil(sparsity · rows)`` zeros per column, in place.

    Unlike torch, the positions of the zeros come from `generator` / `seed`
    too, so a seeded call is reproducible.

    Parameters
    ----------
    tensor : array
        A mutable floating 2-D array.
    sparsity : float
        Fraction of each column set to zero, in ``[0, 1]``.
    std : float, default 0.01
        Standard deviation of the values.
    generator : native generator, optional
        See :func:`uniform_`.
    seed : int or SeedGenerator, optional
        An alternative to `generator`.

    Returns
    -------
    array
        `tensor` itself.

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> w = anyinit.sparse_(np.empty((10, 4)), sparsity=0.3, seed=0)
    >>> (w == 0).sum(axis=0).tolist()
    [3, 3, 3, 3]
    """
    target = _target(tensor, "sparse_", _FLOATING)
    if len(tensor.shape) != 2:
        msg = "Only tensors with 2 dimensions are supported"
        raise ValueError(msg)
    fraction = as_finite_float("sparsity", sparsity, minimum=0.0)
    if fraction > 1:
        msg = f"`sparsity` must be in [0, 1]; received sparsity={sparsity!r}."
        raise ValueError(msg)
    std = as_finite_float("std", std, minimum=0.0)
    check_fits("std", std, Normal(0.0, std).magnitude, target.dtype_name)
    value_rng, mask_rng = independent_streams(_rng(target, generator, seed), 2)
    if not target.materializes or math.prod(tensor.shape) == 0:
        return tensor
    xp, backend = target.xp, target.backend
    rows, _ = tensor.shape
    _sample(target, tensor, Normal(0.0, std), value_rng)
    zeros = math.ceil(fraction * rows)
    native = None
    if supports(backend, InPlaceDraws):
        native = backend.sparse_zero_mask(mask_rng, tuple(tensor.shape), zeros, target.device)
    if native is not None:  # the library's own draw of the positions (torch's randperm)
        backend.write(tensor, xp.where(native, xp.zeros_like(tensor), tensor))
    elif zeros:
        keys = sampling.uniform(
            backend,
            mask_rng,
            tuple(tensor.shape),
            0.0,
            1.0,
            backend.dtype("float32"),
            target.device,
        )
        ranks = xp.argsort(xp.argsort(keys, axis=0), axis=0)
        # TensorFlow's and MLX's values are read back to the host their adapter computes on.
        current = backend.host_values(tensor) if backend.exports else tensor
        backend.write(tensor, xp.where(ranks < zeros, xp.zeros_like(current), current))
    return tensor
