"""Diagnose the initialisation of two real models, then fix it with LSUV.

A small ResNet-style CNN (no normalisation layers, as in Fixup-style
networks) and a pre-norm transformer block, written in PyTorch and left at
torch's own initialisation, go through :func:`anyinit.diagnose` on a batch of
random data; then :func:`anyinit.lsuv` rescales each dense and convolution
layer to unit output variance, and they are diagnosed again::

    python examples/diagnose_models.py --output figures/

It prints each report and, with ``--output``, writes one figure per report
(needs matplotlib). The documentation's "Diagnose your initialisation" page
is drawn by this script while the pages are built.
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Sequence
from typing import Any

import anyinit

WIDTH, CLASSES = 32, 10


def resnet_ish() -> Any:
    """A stem convolution, three residual blocks of two 3×3 convolutions, a linear head."""
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(WIDTH, WIDTH, 3, padding=1)
            self.conv2 = nn.Conv2d(WIDTH, WIDTH, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, WIDTH, 3, padding=1)
            self.blocks = nn.ModuleList([Residual() for _ in range(3)])
            self.head = nn.Linear(WIDTH, CLASSES)

        def forward(self, x: Any) -> Any:
            x = torch.relu(self.stem(x))
            for block in self.blocks:
                x = block(x)
            return self.head(x.mean(dim=(2, 3)))

    return Net()


def transformer_block(width: int = 64, heads: int = 4) -> Any:
    """A pre-norm block: LayerNorm, self-attention, LayerNorm, a GELU MLP, two residuals."""
    from torch import nn
    from torch.nn import functional as F  # noqa: N812 - torch's own spelling

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1 = nn.LayerNorm(width)
            self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
            self.norm2 = nn.LayerNorm(width)
            self.fc1 = nn.Linear(width, 4 * width)
            self.fc2 = nn.Linear(4 * width, width)

        def forward(self, x: Any) -> Any:
            h = self.norm1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

    return Block()


def run(seed: int = 0) -> dict[str, anyinit.diagnostics.DiagnosisReport]:
    """The four reports: each model at torch's defaults and after LSUV."""
    import torch

    torch.manual_seed(seed)
    images = anyinit.RandomNormal(0.0, 1.0, seed=seed)((64, 3, 16, 16), like=torch.empty(0))
    tokens = anyinit.RandomNormal(0.0, 1.0, seed=seed + 1)((16, 24, 64), like=torch.empty(0))
    reports = {}
    for name, build, batch in (("ResNet-ish CNN", resnet_ish, images),
                               ("transformer block", transformer_block, tokens)):  # fmt: skip
        model = build()

        def loss(output: Any) -> Any:
            return (output**2).mean()

        before = anyinit.diagnose(model, batch, loss=loss)
        before.title = f"{name}: torch's default initialisation"
        reports[before.title] = before
        model, steps = anyinit.lsuv(model, batch, seed=seed, return_report=True)
        after = anyinit.diagnose(model, batch, loss=loss)
        iterations = ", ".join(str(step.iterations) for step in steps)
        after.title = f"{name}: after LSUV (rescalings per layer: {iterations})"
        reports[after.title] = after
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=pathlib.Path, help="folder for the PNG figures")
    args = parser.parse_args(argv)
    for index, report in enumerate(run(args.seed).values()):
        print(report, end="\n\n")
        if args.output is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            path = args.output / f"diagnose_{index}.png"
            report.plot(path)
            print(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
