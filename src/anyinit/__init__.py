"""anyinit: neural-network weight initializers for every array library.

One definition of Glorot, He, LeCun, orthogonal, truncated normal and the
rest produces weights on the caller's own library (NumPy, PyTorch, CuPy or
any Array API library), device and dtype.

>>> import anyinit
>>> w = anyinit.glorot_normal(seed=0)((256, 128))
>>> w.shape, str(w.dtype)
((256, 128), 'float32')
"""

from __future__ import annotations

import sys as _sys

from . import adapters, diagnostics, dialects, initializers, presets
from ._version import __version__
from .adapters import register_backend
from .diagnostics import diagnose, lsuv
from .dialects import jax_nn, mlx_nn, torch_nn_init
from .dialects import keras as _keras_dialect
from .dialects.torch_nn_init import *  # noqa: F403 - torch.nn.init's names: its __all__
from .initializers import *  # noqa: F403 - the classes and their names: initializers.__all__
from .initializers.registry import deserialize, get, serialize
from .laws.fans import calculate_gain, compute_fans
from .models.audit import AuditReport, audit
from .models.initialize import (
    Assignment,
    UncoveredParametersWarning,
    canonical_weights,
    initialize,
)
from .models.own import OwnInitWarning, UnsupportedDrawError
from .models.recipes import RecipeFamilyWarning
from .seeds import SeedGenerator

__all__ = [
    "Assignment",
    "AuditReport",
    "OwnInitWarning",
    "RecipeFamilyWarning",
    "SeedGenerator",
    "UncoveredParametersWarning",
    "UnsupportedDrawError",
    "__version__",
    "adapters",
    "audit",
    "calculate_gain",
    "canonical_weights",
    "compute_fans",
    "deserialize",
    "diagnose",
    "diagnostics",
    "dialects",
    "get",
    "initialize",
    "jax_nn",
    "lsuv",
    "mlx_nn",
    "presets",
    "register_backend",
    "serialize",
]
# The initializers' classes and names (initializers.__all__, the one table of them) and
# the torch.nn.init-style functions (torch_nn_init.__all__).
__all__ += initializers.__all__
__all__ += torch_nn_init.__all__
__all__.sort()

# The public module paths of earlier releases name the same module objects (not copies):
# ``import anyinit.jax_nn`` and ``from anyinit.backends import Backend`` keep working.
backends = adapters
_sys.modules[f"{__name__}.jax_nn"] = jax_nn
_sys.modules[f"{__name__}.mlx_nn"] = mlx_nn
_sys.modules[f"{__name__}.backends"] = adapters

# Last: registering reads the names above. Keras learns anyinit's classes,
# whichever of the two is imported first (the hook lives in dialects/keras.py).
_keras_dialect.watch()
