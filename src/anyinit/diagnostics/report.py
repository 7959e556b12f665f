"""The per-layer statistics of one forward pass, as a table, as rows and as a figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DiagnosisReport", "LayerDiagnosis", "layer_statistics"]

#: At most this many values of a layer are kept for its histogram (a regular stride).
_KEPT = 1 << 20


def _saturated(values: np.ndarray, activation: str | None) -> float | None:
    """The fraction of units in an activation's flat tails, where its gradient vanishes."""
    if activation in ("sigmoid", "hard_sigmoid"):
        return float(np.mean((values < 0.01) | (values > 0.99)))
    if activation in ("tanh", "hard_tanh", "softsign"):
        return float(np.mean(np.abs(values) > 0.99))
    return None


@dataclass(frozen=True)
class LayerDiagnosis:
    """One layer's line of a :class:`~anyinit.diagnostics.DiagnosisReport`.

    `mean`, `std` (population), `saturated` (the fraction of units with
    ``|tanh| > 0.99`` or sigmoid ``< 0.01`` or ``> 0.99``; None for an
    activation without flat tails) and `zeros` (the fraction of exact zeros)
    describe the layer's output after its activation (`activation`, None when
    none follows it); `grad_std` is the standard deviation of the gradient of
    the layer's main weight (`weight`) with ``loss=``.

    Examples
    --------
    >>> import numpy as np
    >>> from anyinit.diagnostics import layer_statistics
    >>> row = layer_statistics("fc1", "dense", "fc1.kernel", np.array([0.0, 0.5, 1.0]), "sigmoid")
    >>> row.mean, row.saturated, row.zeros
    (0.5, 0.6666666666666666, 0.3333333333333333)
    """

    layer: str
    kind: str
    weight: str
    activation: str | None
    mean: float
    std: float
    saturated: float | None
    zeros: float
    grad_std: float | None
    values: np.ndarray  # a float32 sample of the output, for the histogram

    def row(self, *, with_grad: bool) -> dict[str, Any]:
        row = {"layer": self.layer, "mean": self.mean, "std": self.std,
               "saturated": self.saturated, "zeros": self.zeros}  # fmt: skip
        if with_grad:
            row["grad_std"] = self.grad_std
        return row


def layer_statistics(
    layer: str,
    kind: str,
    weight: str,
    output: Any,
    activation: str | None,
    grad: Any = None,
) -> LayerDiagnosis:
    """The statistics of one layer's output (a NumPy array), computed in float64."""
    values = np.asarray(output)
    if np.iscomplexobj(values):
        values = np.abs(values)
    flat = values.astype(np.float64, copy=False).ravel()
    if flat.size == 0:
        mean = std = math.nan
        saturated, zeros = None, math.nan
    else:
        mean, std = float(flat.mean()), float(flat.std())
        saturated, zeros = _saturated(flat, activation), float(np.mean(flat == 0))
    grad_std = None if grad is None else float(np.asarray(grad, np.float64).std())
    stride = max(1, -(-flat.size // _KEPT))
    sample = flat[::stride].astype(np.float32)
    return LayerDiagnosis(layer, kind, weight, activation, mean, std, saturated, zeros, grad_std,
                          sample)  # fmt: skip


def _cell(value: float | None, spec: str) -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (format(value, spec))
    )


class DiagnosisReport:
    """What :func:`anyinit.diagnose` saw: one :class:`~anyinit.diagnostics.LayerDiagnosis` per
    layer, in the order the forward pass ran them.

    ``str(report)`` is a table, :meth:`rows` one dict per layer, :meth:`plot` the
    seed's figure (one activation histogram per layer, and the std by depth).

    Examples
    --------
    >>> import numpy as np
    >>> from anyinit.diagnostics import DiagnosisReport, layer_statistics
    >>> report = DiagnosisReport(
    ...     [layer_statistics("fc1", "dense", "fc1.kernel", np.zeros(4), "relu")], "numpy")
    >>> report.rows()
    [{'layer': 'fc1', 'mean': 0.0, 'std': 0.0, 'saturated': None, 'zeros': 1.0}]
    """

    def __init__(self, layers: Sequence[LayerDiagnosis], framework: str, *,
                 with_grad: bool = False, title: str = "") -> None:  # fmt: skip
        self.layers: tuple[LayerDiagnosis, ...] = tuple(layers)
        self.framework = framework
        self.with_grad = with_grad
        self.title = title

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Any:
        return iter(self.layers)

    def __getitem__(self, index: int) -> LayerDiagnosis:
        return self.layers[index]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per layer: ``layer``, ``mean``, ``std``, ``saturated``, ``zeros``, and
        ``grad_std`` when the report was made with ``loss=``."""
        return [layer.row(with_grad=self.with_grad) for layer in self.layers]

    def __repr__(self) -> str:
        return f"<DiagnosisReport: {len(self.layers)} layers, {self.framework}>"

    def __str__(self) -> str:
        width = max([5, *(len(layer.layer) for layer in self.layers)])
        head = (f"{'layer':<{width}}  {'activation':<10} {'mean':>10} {'std':>10} "
                f"{'saturated':>9} {'zeros':>7}")  # fmt: skip
        if self.with_grad:
            head += f" {'grad std':>10}"
        lines = [head, "-" * len(head)]
        for layer in self.layers:
            line = (
                f"{layer.layer:<{width}}  {layer.activation or '—':<10} "
                f"{_cell(layer.mean, '.4g'):>10} {_cell(layer.std, '.4g'):>10} "
                f"{_cell(layer.saturated, '.1%'):>9} {_cell(layer.zeros, '.1%'):>7}"
            )
            if self.with_grad:
                line += f" {_cell(layer.grad_std, '.3g'):>10}"
            lines.append(line)
        title = self.title or f"{len(self.layers)} layers ({self.framework})"
        return "\n".join([title, *lines])

    def plot(self, path: str | Path | None = None, *, bins: int = 50) -> Figure:
        """The seed's figure: a histogram of each layer's output, and the std by depth.

        Needs matplotlib (``pip install "anyinit-xp[plot]"``). With `path`, also
        writes the figure there (the format by its suffix, PNG by default).

        Returns
        -------
        matplotlib.figure.Figure
            ``len(report) + 1`` panels: one per layer, then the std by depth.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as error:  # pragma: no cover - the plot extra is missing
            msg = "DiagnosisReport.plot needs matplotlib: pip install 'anyinit-xp[plot]'"
            raise ImportError(msg) from error
        if not self.layers:
            msg = "the report has no layers to plot (the forward pass ran none that own weights)"
            raise ValueError(msg)
        count = len(self.layers) + 1
        columns = min(count, 5)
        rows = -(-count // columns)
        figure = Figure(figsize=(2.4 * columns, 2.0 * rows + 0.5), layout="constrained")
        figure.suptitle(self.title or f"activations per layer ({self.framework})", fontsize=10)
        grid = figure.subplots(rows, columns, squeeze=False)
        panels = [axes for line in grid for axes in line]
        for axes, layer in zip(panels, self.layers, strict=False):
            data = layer.values[np.isfinite(layer.values)]
            if layer.activation in ("sigmoid", "hard_sigmoid"):
                span: tuple[float, float] | None = (0.0, 1.0)
            elif layer.activation in ("tanh", "hard_tanh", "softsign"):
                span = (-1.0, 1.0)
            else:
                span = None
            axes.hist(data, bins=bins, range=span, color="#1f77b4")
            label = layer.layer if not layer.activation else f"{layer.layer} → {layer.activation}"
            axes.set_title(label, fontsize=8)
            axes.set_yticks([])
            axes.tick_params(labelsize=7)
            note = f"std {_cell(layer.std, '.3g')}"
            if layer.saturated is not None:
                note += f"\n{layer.saturated:.0%} saturated"
            if layer.zeros > 0.005:
                note += f"\n{layer.zeros:.0%} zeros"
            axes.text(0.97, 0.95, note, transform=axes.transAxes, ha="right", va="top",
                      fontsize=7, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none",
                                        "pad": 1})  # fmt: skip
        depth = panels[len(self.layers)]
        depth.plot(range(1, len(self.layers) + 1), [layer.std for layer in self.layers], "o-")
        depth.set_title("std by depth", fontsize=8)
        depth.set_xlabel("layer", fontsize=7)
        depth.tick_params(labelsize=7)
        depth.set_ylim(bottom=0)
        for axes in panels[count:]:
            axes.remove()  # the figure holds exactly one panel per layer, and the depth panel
        if path is not None:
            figure.savefig(path, dpi=110)
        return figure
