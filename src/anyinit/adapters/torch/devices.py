"""Which torch devices exist on this machine, checked before anything is drawn."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["check", "describe"]


def check(device: Any) -> Any:
    """`device` as a ``torch.device``, or a ValueError naming what this machine has."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        msg = f"`device`={device!r} is not a torch device: {error}"
        raise ValueError(msg) from None
    kind = resolved.type
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = (
            resolved.index
            if resolved.index is not None
            else torch.cuda.current_device()
            if count
            else 0
        )
        if index >= count:
            msg = f"`device`={device!r} is not available: this machine has {count} CUDA device(s)."
            raise ValueError(msg)
    elif kind == "mps" and not torch.backends.mps.is_available():
        msg = f"`device`={device!r} is not available: MPS is not available on this machine."
        raise ValueError(msg)
    elif kind not in ("cpu", "meta"):
        try:  # xla, xpu, privateuse1 …: usable only where their extension is loaded
            torch.empty(0, device=resolved)
        except RuntimeError:
            msg = f"`device`={device!r} is not available to torch on this machine."
            raise ValueError(msg) from None
    return resolved


def describe() -> list[str]:
    """The devices torch can use here (for ``python -m anyinit devices``)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [
            f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())
        ]
    if torch.backends.mps.is_available():
        devices.append("mps")
    devices.append("meta")
    return devices
