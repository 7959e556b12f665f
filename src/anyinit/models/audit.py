"""``anyinit.audit``: does what a model holds follow the law a recipe gives each parameter?

Init bugs are mostly silent: a depth scaling skipped, a bias the recipe draws zeroed
by a later generic init, ``trunc_normal_`` bounds given in absolute units. An audit
reads every parameter as it is now, in the canonical layout, and tests it against
the law the rules give it: constants exactly (to the dtype's rounding); random laws
by their bounds, mean and standard deviation (limits of a few standard errors at the
parameter's size) and a Kolmogorov–Smirnov test against the law's exact CDF;
orthogonal matrices by their exact root-mean-square.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..initializers.base import Initializer
from ..initializers.random import RandomInitializer
from ..laws.goodness import fit, relative_eps
from ..plotting import to_numpy
from .presets import Blocks, describe
from .recipe_base import path_block_index
from .slots import Slot

__all__ = ["AuditReport", "audit"]


@dataclass(frozen=True)
class AuditRow:
    """One parameter's audit: its statistics, the law's, and why it failed (if it did)."""

    path: str
    native_path: str
    law: str
    count: int
    mean: float
    std: float
    expected_mean: float | None
    expected_std: float | None
    ks: float | None
    ks_limit: float | None
    ok: bool | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AuditReport:
    """What :func:`audit` found, one row per parameter.

    ``ok`` is True where every parameter the rules cover fits its law; ``failed`` lists
    the rows that do not; :meth:`rows` gives them as dicts; ``str(report)`` is a
    table, failures first; :meth:`plot` draws measured against expected standard
    deviations in model order (depth).

    Examples
    --------
    >>> import numpy as np, anyinit
    >>> params = {"fc": {"kernel": np.zeros((64, 64), np.float32)}}
    >>> report = anyinit.audit(params, {"*.kernel": anyinit.RandomNormal(0.0, 0.02)})
    >>> report.ok, report.failed[0].path, report.failed[0].reason.split(";")[0]
    (False, 'fc.kernel', 'std 0, expected 0.02 ± 0.0011')
    """

    def __init__(self, rows: list[AuditRow], rules: Any) -> None:
        self._rows = rows
        self.rules = rules

    @property
    def ok(self) -> bool:
        """Whether every covered parameter fits its law."""
        return all(row.ok is not False for row in self._rows)

    @property
    def failed(self) -> list[AuditRow]:
        """The rows of the parameters that do not fit their law, in model order."""
        return [row for row in self._rows if row.ok is False]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per parameter: ``path``, ``native_path``, ``law``, ``count``, ``mean``,
        ``std``, ``expected_mean``, ``expected_std``, ``ks``, ``ks_limit``, ``ok`` (None
        where the rules give no law or the law cannot be tested) and ``reason``."""
        return [row.as_dict() for row in self._rows]

    def __iter__(self) -> Iterator[AuditRow]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __str__(self) -> str:
        order = sorted(self._rows, key=lambda row: {False: 0, True: 1, None: 2}[row.ok])
        width = max([len(row.native_path) for row in order] + [9])
        lines = [f"{'parameter':<{width}}  {'std':>10}  {'expected':>10}  result"]
        for row in order:
            expected = f"{row.expected_std:10.4g}" if row.expected_std is not None else " " * 10
            result = {False: "FAIL ", True: "ok", None: "-- "}[row.ok] + (
                row.reason if row.ok is not True else ""
            )
            lines.append(f"{row.native_path:<{width}}  {row.std:10.4g}  {expected}  {result}")
        checked = sum(row.ok is not None for row in self._rows)
        lines.append(
            f"{len(self.failed)} of {checked} checked parameter(s) failed; "
            f"{len(self._rows) - checked} not checked"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AuditReport: {len(self.failed)} failed of {len(self._rows)} parameters>"

    def plot(self, path: str | Path) -> Path:
        """Save a figure of each parameter's measured and expected standard deviation in
        model order (the block index on the axis where paths have one); failures in red.

        Needs matplotlib (``pip install "anyinit-xp[plot]"``). Returns the path written.
        """
        from matplotlib.figure import Figure

        rows = [row for row in self._rows if row.expected_std is not None]
        figure = Figure(figsize=(max(6.0, 0.12 * len(rows) + 3), 4.0))
        axes = figure.add_subplot()
        x = np.arange(len(rows))
        axes.plot(
            x, [row.expected_std for row in rows], "_", color="#555555", ms=12, label="expected"
        )
        colours = ["#d62728" if row.ok is False else "#1f77b4" for row in rows]
        axes.scatter(
            x, [max(row.std, 1e-12) for row in rows], c=colours, s=14, label="measured", zorder=3
        )
        if any(row.expected_std for row in rows):
            axes.set_yscale("log")
        ticks = [(i, row.path) for i, row in enumerate(rows)]
        blocks = [
            (i, f"block {index}")
            for i, path in ticks
            if (index := path_block_index(path)) is not None
            and (i == 0 or path_block_index(rows[i - 1].path) != index)
        ]
        shown = blocks or ticks[:: max(1, len(ticks) // 12)]
        axes.set_xticks(
            [i for i, _ in shown],
            [label for _, label in shown],
            rotation=60,
            ha="right",
            fontsize=7,
        )
        axes.set_ylabel("standard deviation")
        axes.set_title(f"audit: {len(self.failed)} of {len(rows)} failed")
        axes.legend(loc="best", fontsize=8)
        figure.tight_layout()
        target = Path(path)
        figure.savefig(target)
        return target


def audit(
    model: Any,
    rules: Any,
    *,
    names: Mapping[str, str] | None = None,
) -> AuditReport:
    """Test every parameter `model` holds now against the law `rules` give it.

    Parameters
    ----------
    model
        Anything :func:`anyinit.initialize` takes: a torch module, a Keras model,
        Flax params, an NNX or Equinox module, an MLX or ``tf.Module`` model, a pytree.
    rules
        What :func:`anyinit.initialize` takes, but ``"own"`` (which replays code rather
        than naming laws): a preset, a recipe (``"gpt2"``, ``anyinit.presets.megatron(…)``),
        a mapping from path patterns to initializers, or a callable.
    names : mapping, optional
        Renames, as in :func:`anyinit.initialize`.

    Returns
    -------
    AuditReport
        ``report.ok``, ``report.failed``, ``report.rows()``, ``str(report)``,
        ``report.plot(path)``.

    Notes
    -----
    A constant law (zeros, ones, identity) must hold exactly, to the dtype's rounding.
    A random law's bounds hold for every value; its mean and standard deviation within
    five standard errors; a Kolmogorov–Smirnov test at a one-in-a-million level (on at
    most 65 536 evenly strided values, with each value's rounding allowed for). An
    orthogonal law's root-mean-square is exact. A parameter with a NaN or an infinity
    always fails. Laws without an exact distribution (a custom callable) are reported
    and not tested.

    Examples
    --------
    >>> import torch, anyinit
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
    >>> anyinit.audit(model, "torch").ok
    True
    >>> _ = torch.nn.init.normal_(model[2].weight, std=0.02)
    >>> [row.path for row in anyinit.audit(model, "torch").failed]
    ['layers.2.kernel']
    """
    from . import walkers
    from .initialize import _link, _recipe, _refuse_colliding_paths, _rule

    if isinstance(rules, str) and rules == "own":
        msg = (
            "`rules` for audit must name laws (a preset, a recipe, a mapping or a callable); "
            "'own' replays the model's code and has no law to test against."
        )
        raise ValueError(msg)
    walker = walkers.walker_for(model)
    slots = walker.slots(model, names)
    leaves = [part for slot in slots for part in slot.info.get("parts", (slot,))]
    _refuse_colliding_paths(leaves)
    _link(leaves)
    rules = _recipe(rules)
    choose = _rule(rules, leaves, model)
    rows = []
    for slot in slots:
        for leaf, values, dtype_name in _canonical_parts(slot):
            chosen, _ = choose(leaf)
            rows.append(_row(leaf, chosen, values, dtype_name))
    return AuditReport(rows, rules)


def _canonical_parts(slot: Slot) -> Iterator[tuple[Slot, np.ndarray, str]]:
    """Each leaf of `slot` with its current values (float64 NumPy, canonical layout) and
    the name of the dtype they are held in."""
    from .initialize import canonical_parts

    for leaf, values in canonical_parts(slot):
        yield leaf, to_numpy(values), str(getattr(values, "dtype", "float32"))


def _row(slot: Slot, chosen: Any, values: np.ndarray, dtype_name: str) -> AuditRow:
    mean = float(values.mean()) if values.size else math.nan
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0

    def row(law: str, ok: bool | None, reason: str, **stats: Any) -> AuditRow:
        fields = {"expected_mean": None, "expected_std": None, "ks": None, "ks_limit": None}
        fields.update(stats)
        return AuditRow(
            slot.path,
            slot.native_path,
            law,
            int(values.size),
            mean,
            std,
            ok=ok,
            reason=reason,
            **fields,
        )

    if chosen is None:
        return row("", None, "no law: the rules do not cover it")
    law_text = describe(chosen)
    if np.iscomplexobj(values):
        return row(law_text, None, "complex values: not tested")
    if not np.isfinite(values).all():
        bad = int(np.count_nonzero(~np.isfinite(values)))
        return row(law_text, False, f"{bad} value(s) NaN or infinite")
    padding = slot.info.get("padding_idx") if slot.kind == "embedding" else None
    if padding is not None and values.ndim == 2 and -values.shape[0] <= padding < values.shape[0]:
        if np.any(values[padding] != 0):
            return row(law_text, False, f"padding row {padding} is not zero")
        values = np.delete(values, padding, axis=0)
    try:
        verdict = _check(chosen, values, dtype_name)
    except _UntestableError as why:
        return row(law_text, None, str(why))
    failures, stats = verdict
    return row(law_text, not failures, "; ".join(failures), **stats)


class _UntestableError(Exception):
    """The law has no exact distribution to test against."""


def _check(
    chosen: Initializer | Blocks, values: np.ndarray, dtype_name: str
) -> tuple[list[str], dict[str, Any]]:
    if isinstance(chosen, Blocks):
        failures: list[str] = []
        start = 0
        for i, (init, width) in enumerate(chosen.parts):
            part, _ = _check(init, values[..., start : start + width], dtype_name)
            failures += [f"block {i}: {reason}" for reason in part]
            start += width
        return failures, {}
    shape = tuple(values.shape)
    if not isinstance(chosen, RandomInitializer):
        return _check_exact(chosen, values, dtype_name)
    try:
        law = chosen.law(shape, "real floating")
    except NotImplementedError:
        msg = f"{type(chosen).__name__} has no law record: not tested"
        raise _UntestableError(msg) from None
    if law.kind == "sphere_coordinate":  # orthogonal: the sum of squares is exact
        rms = float(np.sqrt(np.mean(values**2)))
        limit = 1e-3 * law.std + relative_eps(dtype_name) * 4 * law.std
        exact = {"expected_mean": 0.0, "expected_std": law.std}
        if abs(rms - law.std) > limit:
            return [f"root-mean-square {rms:.4g}, an orthogonal matrix's is {law.std:.4g}"], exact
        return [], exact
    if law.kind in ("with_zeros",) or not hasattr(law, "cdf"):
        msg = f"{law.describe()}: not tested"
        raise _UntestableError(msg)
    if law.std == 0:
        return _check_exact(chosen, values, dtype_name)
    result = fit(values, law, dtype_name)
    stats: dict[str, Any] = {
        "expected_mean": law.mean,
        "expected_std": law.std,
        "ks": result.ks,
        "ks_limit": result.ks_limit,
    }
    return list(result.failures), stats


def _check_exact(
    chosen: Initializer, values: np.ndarray, dtype_name: str
) -> tuple[list[str], dict[str, Any]]:
    """A law without randomness: every value must equal the expected one (to rounding)."""
    try:
        expected = to_numpy(chosen(tuple(values.shape), "float64"))
    except Exception as error:  # a law that cannot be drawn at this shape
        msg = f"cannot draw it at {tuple(values.shape)}: {error}"
        raise _UntestableError(msg) from None
    # rounding to the nearest value of the dtype moves a constant by at most half a step
    eps = relative_eps(dtype_name)
    wrong = int(np.count_nonzero(np.abs(values - expected) > 0.5 * eps * np.abs(expected)))
    stats: dict[str, Any] = {
        "expected_mean": float(expected.mean()),
        "expected_std": float(expected.std(ddof=1)) if expected.size > 1 else 0.0,
    }
    if wrong:
        return [f"{wrong} of {values.size} value(s) differ from {describe(chosen)}"], stats
    return [], stats
