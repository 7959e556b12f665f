"""torch.nn.init's own in-place draws, step for step (torch 2.13), for bit-identical weights.

The torch adapter's ``uniform_into``, ``normal_into`` and ``trunc_normal_into``
call these with torch's default generator (``rng=None``) or a
``torch.Generator``; each returns False for any other generator (the
portable stream), and the core then draws and writes instead. In float32 and
float64 the values are torch's own, bit for bit: ``float32(a)`` is how ``a`` is
represented there, so a draw of ``fl(a)`` is inside the interval; 16-bit draws
(and truncated normals) are clamped to the bounds rounded inward, which changes
nothing wherever torch's own value is inside them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ...stream import truncated_from01, uniform_proposal_acceptance

__all__ = ["normal_", "trunc_normal_", "uniform_", "writable"]


def uniform_(array: Any, low: float, high: float, clip: tuple[float, float], rng: Any) -> bool:
    """``array.uniform_(low, high)`` as torch draws it, or False for a non-torch generator.

    float32 / float64: torch's values, kept inside ``[fl(low), fl(high)]`` (the bounds
    as the dtype represents them); 16-bit: clamped to `clip` (the bounds rounded inward).
    """
    if not _native(rng):
        return False
    drawn = writable(array).uniform_(low, high, generator=rng)
    if array.dtype not in _EXACT:
        # torch draws in the dtype from the exact bounds, so its rounding can cross them
        # (bfloat16 xavier_uniform_, bounds below float32's resolution).
        drawn.clamp_(*clip)
    elif not (_CPU_HALF_OPEN and array.is_cpu):
        drawn.clamp_(low, high)  # the scalars round to nearest in the dtype: fl(low), fl(high)
    return True


# torch's CPU uniform_ draws in [fl(low), fl(high)) in float32 and float64 since 2.13 (a
# value rounded up to fl(high) becomes fl(low)), so there no clamp can change a value and
# none runs (~1.5 µs of a small call); elsewhere torch's draw is kept in [fl(low), fl(high)].
_CPU_HALF_OPEN = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 13)
_EXACT = (torch.float32, torch.float64)


def normal_(array: Any, mean: float, std: float, rng: Any) -> bool:
    """``array.normal_(mean, std)``, or False for a non-torch generator."""
    if not _native(rng):
        return False
    writable(array).normal_(mean, std, generator=rng)
    return True


def trunc_normal_(
    array: Any,
    mean: float,
    std: float,
    bounds: tuple[float, float],
    clip: tuple[float, float],
    rng: Any,
    wide: Any,
) -> bool:
    """torch's ``trunc_normal_`` clamped to `clip`, or False for a non-torch generator."""
    if not _native(rng):
        return False
    array = writable(array)
    _trunc_normal_like_torch(array, mean, std, *bounds, rng, wide)
    # torch rejects against the bounds cast to the dtype, which can lie
    # outside [a, b]; clamping changes nothing whenever torch is inside.
    array.clamp_(*clip)
    return True


def writable(array: Any) -> Any:
    """`array`, or where autograd watches it a detached alias of the same memory.

    Writing through ``detach()`` is what ``torch.no_grad()`` allows, at a
    fraction of its cost on small tensors (~0.5 µs against ~2 µs); the alias
    shares the version counter, so autograd still sees the write.
    """
    return array.detach() if array.requires_grad else array


def _native(rng: Any) -> bool:
    """torch's default generator (None) or a torch.Generator, not the portable stream."""
    return rng is None or isinstance(rng, torch.Generator)


def _trunc_normal_like_torch(
    tensor: Any, mean: float, std: float, a: float, b: float, generator: Any, wide: Any
) -> None:
    """torch 2.13's ``_no_grad_trunc_normal_``, step for step, for bit-identical draws."""

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    lower, upper = (a - mean) / std, (b - mean) / std
    if p <= 0.3 and uniform_proposal_acceptance(lower, upper) < 1e-3:
        # torch's loop would run for thousands of full-tensor rounds, or forever
        # ([1000σ, 2000σ]): the inverse CDF of torch uniforms instead (total).
        u = torch.empty(tensor.shape, dtype=torch.float32, device=tensor.device)
        u.uniform_(generator=generator)
        values = truncated_from01(_compat_torch(), u, lower, upper, wide)
        tensor.copy_(values.mul_(std).add_(mean))
        return
    if p > 0.3:
        lo = tensor.new_tensor(a, device="cpu").item()
        hi = tensor.new_tensor(b, device="cpu").item()
        result = tensor.normal_(mean, std, generator=generator)
        while True:
            mask = (result < lo) | (result > hi)
            if not mask.any():
                break
            result = torch.where(
                mask, torch.empty_like(result).normal_(mean, std, generator=generator), result
            )
        if tensor is not result:
            tensor.copy_(result)
        return
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    candidates = torch.empty_like(tensor)
    accept_buf = torch.empty_like(tensor)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
    pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
    if not pending.any():
        return
    result = tensor
    while True:
        candidates.uniform_(a, b, generator=generator)
        result = torch.where(pending, candidates, result)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = torch.where(
            pending, accept_buf.uniform_(generator=generator).log_().gt(candidates), pending
        )
        if not pending.any():
            break
    tensor.copy_(result)


def _compat_torch() -> Any:
    import array_api_compat.torch

    return array_api_compat.torch
