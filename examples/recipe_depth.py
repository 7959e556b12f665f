"""Per-layer standard deviation by depth under the GPT-2 and LLaMA recipes.

A 12-block GPT-2 and a 12-block LLaMA (width 256, NumPy arrays named as the
reference models name them) initialised with ``"gpt2"``, ``"llama"`` and
``anyinit.presets.llama(depth_init=True)``; prints each projection's standard
deviation per block and draws it::

    python examples/recipe_depth.py --plot depth.png
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

import anyinit

BLOCKS, WIDTH = 12, 256


def gpt2_tree() -> dict[str, Any]:
    """GPT-2's parameters by HF's names: ``h.i.attn.c_attn`` … ``h.i.mlp.c_proj``."""
    z = np.zeros

    def block() -> dict[str, Any]:
        return {
            "attn": {"c_attn": {"kernel": z((WIDTH, 3 * WIDTH), np.float32)},
                     "c_proj": {"kernel": z((WIDTH, WIDTH), np.float32)}},
            "mlp": {"c_fc": {"kernel": z((WIDTH, 4 * WIDTH), np.float32)},
                    "c_proj": {"kernel": z((4 * WIDTH, WIDTH), np.float32)}},
        }  # fmt: skip

    return {"h": [block() for _ in range(BLOCKS)]}


def llama_tree() -> dict[str, Any]:
    """LLaMA's parameters by HF's names: ``layers.i.self_attn.q_proj`` … ``mlp.down_proj``."""
    z = np.zeros

    def block() -> dict[str, Any]:
        attention = {n: {"kernel": z((WIDTH, WIDTH), np.float32)} for n in ("q_proj", "o_proj")}
        mlp = {"up_proj": {"kernel": z((WIDTH, 2 * WIDTH), np.float32)},
               "down_proj": {"kernel": z((2 * WIDTH, WIDTH), np.float32)}}  # fmt: skip
        return {"self_attn": attention, "mlp": mlp}

    return {"layers": [block() for _ in range(BLOCKS)]}


def run() -> dict[str, dict[str, list[float]]]:
    """``{recipe: {projection: [std of block 0, …]}}``."""
    gpt2 = (("attn", "c_attn"), ("attn", "c_proj"), ("mlp", "c_proj"))
    llama = (("self_attn", "q_proj"), ("self_attn", "o_proj"), ("mlp", "down_proj"))
    cases = {
        "gpt2": (gpt2_tree, "gpt2", "h", gpt2),
        "llama": (llama_tree, "llama", "layers", llama),
        "llama depth_init": (llama_tree, anyinit.presets.llama(depth_init=True), "layers", llama),
    }
    result: dict[str, dict[str, list[float]]] = {}
    for name, (tree, recipe, blocks, projections) in cases.items():
        new = anyinit.initialize(tree(), recipe, seed=0)
        result[name] = {
            ".".join(p): [float(np.std(b[p[0]][p[1]]["kernel"])) for b in new[blocks]]
            for p in projections
        }
    return result


def summary(result: dict[str, dict[str, list[float]]]) -> str:
    lines = []
    for recipe, by_projection in result.items():
        for projection, stds in by_projection.items():
            shown = " ".join(f"{s:.4f}" for s in stds)
            lines.append(f"{recipe:17} {projection:19} {shown}")
    return "\n".join(lines)


def figure(result: dict[str, dict[str, list[float]]]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(result), figsize=(4 * len(result), 3.2), sharey=True)
    for ax, (recipe, by_projection) in zip(axes, result.items(), strict=True):
        for projection, stds in by_projection.items():
            ax.plot(range(len(stds)), stds, marker="o", markersize=3, label=projection)
        ax.set_title(recipe)
        ax.set_xlabel("block")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("standard deviation")
    fig.tight_layout()
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="write the figure to this PNG")
    args = parser.parse_args(argv)
    result = run()
    print(summary(result))
    if args.plot:
        figure(result).savefig(args.plot, dpi=90)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
