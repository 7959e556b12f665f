"""The initializer classes (Keras's names and defaults), one module per family, and the one
table of their public names: each class, its lower-case name (the class itself, as in Keras:
``anyinit.glorot_normal(seed=0)`` builds an initializer) and the aliases of Keras, JAX and
torch. ``anyinit`` exports exactly these names, and ``registry`` (``get``, ``deserialize``,
the CLI, the tests) reads them from here, so a new initializer is its class in one module plus
its lines below.
"""

from .base import Initializer
from .constant import Constant, Dirac, Identity, Ones, Zeros
from .orthogonal import DeltaOrthogonal, Orthogonal
from .random import (
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
from .sparse import Sparse

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
    "Sparse",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "constant",
    "delta_orthogonal",
    "dirac",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "one",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "sparse",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zero",
    "zeros",
]
