"""anyinit in the frameworks' own slots: Keras's saving registry, Flax / Equinox.

Nothing here imports a framework until that framework is imported: Keras
learns anyinit's classes when either package is imported after the other
(:mod:`anyinit.frameworks.keras`); JAX-based frameworks call anyinit
initializers with JAX's convention ``init(key, shape, dtype)``, which every
initializer accepts (see ``docs/frameworks.rst``).
"""

from . import keras

__all__ = ["keras"]
