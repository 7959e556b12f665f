"""Histograms of drawn weights with the exact density overlaid (matplotlib, optional).

Used by ``anyinit sample --plot`` and by the documentation's gallery. The
figures are built with :class:`matplotlib.figure.Figure` directly, so no
global pyplot state or GUI backend is involved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .laws.records import Distribution, WithZeros

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["histogram_figure", "to_numpy"]

#: Line colours for successive samples (matplotlib's tab10, in order).
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def to_numpy(array: Any) -> Any:
    """A float64 (or complex128) NumPy copy of an array of any supported library."""
    import numpy as np

    from .target import _for_array

    host = np.asarray(_for_array(array)[1].to_host(array))
    return host.astype(np.complex128 if np.iscomplexobj(host) else np.float64)


def _support(law: Distribution, values: list[Any]) -> tuple[float, float]:
    """The plotted range: the law's support, cut to six standard deviations around the mean."""
    spread = law.std if math.isfinite(law.std) and law.std > 0 else 1.0
    low, high = law.bounds
    low = max(low, law.mean - 6 * spread)
    high = min(high, law.mean + 6 * spread)
    finite = [v for v in values if v.size]
    if not finite:
        return low, high
    low = min(low, min(float(v.min()) for v in finite))
    high = max(high, max(float(v.max()) for v in finite))
    if high <= low:
        low, high = low - 1.0, high + 1.0
    margin = 0.06 * (high - low)
    return low - margin, high + margin


def histogram_figure(
    samples: Mapping[str, Any],
    law: Distribution,
    *,
    title: str,
    bins: int = 120,
) -> Figure:
    """Histograms of one or more samples with the exact density of `law` on top.

    Parameters
    ----------
    samples : mapping of str to array
        Label (e.g. the backend's name) to the drawn weights, of any library.
        Complex weights are shown by their modulus.
    law : Distribution
        The exact law of each entry, from ``initializer.law(shape)``.
        For a law with exact zeros (``Sparse``, ``DeltaOrthogonal``), the
        histogram shows the non-zero entries and the legend the zero fraction.
    title : str
        The figure's title.
    bins : int, default 120
        Number of histogram bins over the plotted range.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot; save it with ``figure.savefig(path)``.

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.plotting import histogram_figure
    >>> init = anyinit.he_uniform(seed=0)
    >>> law = init.law((256, 128))
    >>> figure = histogram_figure({"numpy": init((256, 128))}, law, title="he_uniform")
    >>> len(figure.axes)
    1
    """
    import numpy as np
    from matplotlib.figure import Figure

    hosts = {label: to_numpy(values).ravel() for label, values in samples.items()}
    is_complex = any(np.iscomplexobj(v) for v in hosts.values())
    hosts = {k: np.abs(v) if np.iscomplexobj(v) else v for k, v in hosts.items()}
    zeros = law.zero_fraction if isinstance(law, WithZeros) else None
    shown = {k: v[v != 0] if zeros is not None else v for k, v in hosts.items()}
    density_law = law.law if isinstance(law, WithZeros) else law

    low, high = _support(density_law, list(shown.values()))
    edges = np.linspace(low, high, bins + 1)
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    axes = figure.add_subplot()
    for colour, (label, values) in zip(COLOURS * 4, shown.items(), strict=False):
        if zeros is not None:
            measured = 1 - values.size / max(hosts[label].size, 1)
            label = f"{label}: {measured:.2%} zeros"
        axes.hist(
            values,
            bins=edges.tolist(),
            density=True,
            histtype="step",
            linewidth=1.3,
            color=colour,
            label=f"{label} ({values.size:,} values)",
        )
    grid = np.linspace(low, high, 1201)
    exact = [density_law.pdf(float(x)) for x in grid]
    exact_label = "exact density"
    if zeros is not None:
        exact_label += f" (non-zero part; exact zeros {zeros:.2%})"
    axes.plot(grid, exact, color="black", linewidth=1.0, linestyle="--", label=exact_label)
    axes.set_title(f"{title}\n{density_law.describe()}", fontsize=9)
    axes.set_xlabel("|weight|" if is_complex else "weight")
    axes.set_ylabel("density")
    axes.set_xlim(low, high)
    axes.set_ylim(0, axes.get_ylim()[1] * 1.25)  # room for the legend above the curves
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    return figure
