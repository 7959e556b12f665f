"""Adapters: what each array library supplies to the one core (``docs/adapters.rst``).

``base`` is the contract (:class:`Backend`, with defaults for any Array API library) and
``registry`` says which adapter serves which namespace (built-ins, ``register_backend``, the
``anyinit.backends`` entry-point group). Each library's own code lives in its own package
(``numpy/``, ``torch/``, ``jax/``, ``cupy/``, ``dask/``), imported on first use: nothing
outside a library's package imports that library.

Examples
--------
>>> import numpy as np
>>> from anyinit.adapters import backend_for_namespace, host_backend
>>> host_backend().name, backend_for_namespace(host_backend().xp) is host_backend()
('numpy', True)
"""

from .base import Backend, PortableDraw
from .registry import backend_for_namespace, host_backend, known_backends, register_backend

__all__ = [
    "Backend",
    "PortableDraw",
    "backend_for_namespace",
    "host_backend",
    "known_backends",
    "register_backend",
]
