"""anyinit in the frameworks' own slots: Keras's saving registry, Flax / Equinox.

Nothing here imports a framework until that framework is imported: Keras
learns anyinit's classes when either package is imported after the other
(``anyinit.frameworks.keras``); JAX-based frameworks call anyinit
initializers with JAX's convention ``init(key, shape, dtype)``, which every
initializer accepts (see ``docs/frameworks.rst``).

Examples
--------
What a call with a JAX key draws: ``jax.nn.initializers``' own recipe.

>>> import anyinit
>>> draw = anyinit.GlorotNormal().key_draw((3, 3))
>>> draw.name, draw.arguments["distribution"]
('variance_scaling', 'truncated_normal')
"""

from . import keras

__all__ = ["keras"]
