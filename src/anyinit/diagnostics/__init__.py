"""Per-layer signal diagnostics (:func:`anyinit.diagnose`) and data-dependent initialisation
(:func:`anyinit.lsuv`) on a user's own model, in torch, Flax (linen and NNX), Equinox and
Keras, and the seed's experiment on plain arrays of any backend
(:func:`~anyinit.diagnostics.mlp_experiment`).

Examples
--------
>>> import anyinit
>>> from anyinit.diagnostics import mlp_experiment
>>> report = mlp_experiment(anyinit.RandomNormal(0.0, 0.01), depth=3)
>>> [round(row["std"], 3) for row in report.rows()]
[0.025, 0.013, 0.013]
"""

from __future__ import annotations

from .diagnose import diagnose
from .experiment import mlp_experiment
from .lsuv import LSUVLayer, lsuv
from .report import DiagnosisReport, LayerDiagnosis, layer_statistics

__all__ = [
    "DiagnosisReport",
    "LSUVLayer",
    "LayerDiagnosis",
    "diagnose",
    "layer_statistics",
    "lsuv",
    "mlp_experiment",
]
