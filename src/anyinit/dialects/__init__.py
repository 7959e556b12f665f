"""The frameworks' own vocabularies over the one core: ``torch_nn_init`` (the ``*_`` in-place
functions, one import replaces ``torch.nn.init``), ``jax_nn`` (``jax.nn.initializers``' names,
defaults and meanings), ``mlx_nn`` (``mlx.nn.init``'s) and ``keras`` (Keras's saving
registry learns anyinit's classes, whichever of the two is imported first). None of them
imports its framework.

Examples
--------
>>> from anyinit.dialects import jax_nn, torch_nn_init
>>> type(jax_nn.glorot_normal()).__name__, torch_nn_init.calculate_gain("relu") ** 2
('GlorotNormal', 2.0000000000000004)
"""
