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

from . import backends, frameworks, jax_nn
from ._constant import Constant, Dirac, Identity, Ones, Zeros
from ._fans import calculate_gain, compute_fans
from ._initialize import Assignment, initialize
from ._initializer import Initializer
from ._orthogonal import DeltaOrthogonal, Orthogonal
from ._random import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
from ._seed import SeedGenerator
from ._serialization import deserialize, get, serialize
from ._sparse import Sparse
from ._torch_style import (
    constant_,
    dirac_,
    eye_,
    kaiming_normal_,
    kaiming_uniform_,
    normal_,
    ones_,
    orthogonal_,
    sparse_,
    trunc_normal_,
    uniform_,
    xavier_normal_,
    xavier_uniform_,
    zeros_,
)
from ._version import __version__
from .backends import register_backend

# Lower-case names are the classes themselves, as in Keras
# (``anyinit.glorot_normal(seed=0)`` builds an initializer).
constant = Constant
delta_orthogonal = DeltaOrthogonal
dirac = Dirac
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
identity = Identity
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
ones = Ones
orthogonal = Orthogonal
random_normal = RandomNormal
random_uniform = RandomUniform
sparse = Sparse
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
zeros = Zeros
# Keras's aliases and JAX's names for the same classes.
normal = RandomNormal
uniform = RandomUniform
zero = Zeros
one = Ones
xavier_normal = GlorotNormal
xavier_uniform = GlorotUniform
kaiming_normal = HeNormal
kaiming_uniform = HeUniform
# Keras's deprecated class names.
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

__all__ = [
    "Assignment",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "IdentityInitializer",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "OrthogonalInitializer",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "SeedGenerator",
    "Sparse",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "__version__",
    "backends",
    "calculate_gain",
    "compute_fans",
    "constant",
    "constant_",
    "delta_orthogonal",
    "deserialize",
    "dirac",
    "dirac_",
    "eye_",
    "frameworks",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "initialize",
    "jax_nn",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "normal_",
    "one",
    "ones",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "random_normal",
    "random_uniform",
    "register_backend",
    "serialize",
    "sparse",
    "sparse_",
    "trunc_normal_",
    "truncated_normal",
    "uniform",
    "uniform_",
    "variance_scaling",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zero",
    "zeros",
    "zeros_",
]

# Last: registering reads the names above. Keras learns anyinit's classes,
# whichever of the two is imported first.
frameworks.keras.watch()
