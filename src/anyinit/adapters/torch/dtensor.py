"""torch's DTensor: each rank's block of a sharded tensor, from its mesh and placements."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor
from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

from ..._typing import Array
from ...sharding import check_whole, draw_block

__all__ = ["DTensorShards", "shards_of"]


def shards_of(like: Any) -> DTensorShards | None:
    """The sharding of `like` when it is a DTensor (or a Parameter holding one)."""
    if isinstance(like, DTensor):
        return DTensorShards(like)
    data = like.data if isinstance(like, torch.nn.Parameter) else None
    return DTensorShards(data) if isinstance(data, DTensor) else None


class DTensorShards:
    """A DTensor's mesh and placements, applied to any global shape of the same rank."""

    def __init__(self, like: DTensor) -> None:
        self.mesh = like.device_mesh
        self.placements = tuple(like.placements)
        self.local = like.to_local()

    @property
    def local_like(self) -> Array:
        """An empty tensor of the local shard's dtype and device."""
        return torch.empty(0, dtype=self.local.dtype, device=self.local.device)

    def region(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        """This rank's block of a tensor of global `shape` (uneven shards included)."""
        local, offset = compute_local_shape_and_global_offset(shape, self.mesh, self.placements)
        return tuple(slice(o, o + n) for o, n in zip(offset, local, strict=True))

    def wrap(self, local: Array, shape: tuple[int, ...]) -> Array:
        """The DTensor of global `shape` whose local shard on this rank is `local`."""
        strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
        return DTensor.from_local(
            local.contiguous(),
            self.mesh,
            self.placements,
            run_check=False,
            shape=torch.Size(shape),
            stride=tuple(strides),
        )

    def agree(self, whole: Array) -> Array:
        """`whole` as the mesh's first rank drew it, on every rank (one broadcast per mesh dim)."""
        whole = whole.contiguous()
        for dim in range(self.mesh.ndim):
            group = self.mesh.get_group(dim)
            dist.broadcast(whole, src=dist.get_global_rank(group, 0), group=group)
        return whole

    def draw(
        self, init: Any, shape: tuple[int, ...], dtype: Any, perm: tuple[int, ...] | None = None
    ) -> Array:
        """``init(shape)`` (axes permuted by `perm`) as a DTensor: this rank draws its block."""
        perm = perm or tuple(range(len(shape)))
        native = tuple(shape[source] for source in perm)
        self.check_rank(native)
        region = self.region(native)
        canonical = [slice(0, n) for n in shape]
        for axis, source in enumerate(perm):
            canonical[source] = region[axis]
        block = draw_block(init, shape, tuple(canonical), dtype, self.local_like, self.agree)
        if perm != tuple(range(len(perm))):
            block = block.permute(perm)
        return self.wrap(block, native)

    def distribute(self, make_whole: Any, reproducible: bool, shape: tuple[int, ...]) -> Array:
        """A DTensor cut from a whole array every rank computes (made to agree if need be)."""
        check_whole(shape, "a block-wise rule")
        whole = make_whole(self.local_like)
        if not reproducible:
            whole = self.agree(whole)
        return self.wrap(whole[self.region(shape)], shape)

    def check_rank(self, shape: tuple[int, ...]) -> None:
        """Shard(d) placements need an axis d in `shape`."""
        for placement in self.placements:
            dim = getattr(placement, "dim", None)
            if dim is not None and not -len(shape) <= dim < len(shape):
                msg = (
                    f"the DTensor's placement {placement} cannot shard a result of shape "
                    f"{shape}; pass a shape with that axis."
                )
                raise ValueError(msg)
