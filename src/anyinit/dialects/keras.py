"""Keras 3's saving registry learns anyinit's classes, whichever is imported first.

With anyinit's initializers registered under ``"anyinit>ClassName"``, a model
that uses them saves and loads (``model.save`` / ``keras.models.load_model``,
``clone_model``, ``model_from_json``, ``Layer.from_config``,
``keras.initializers.deserialize``) without ``custom_objects``, and gets
anyinit's classes back with their arguments.

Importing anyinit never imports Keras: where Keras is already imported the
classes are registered at once; otherwise a one-shot import hook registers
them right after Keras's own ``import`` completes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

__all__ = ["register", "watch"]

_PACKAGE = "anyinit"
_LOCK = threading.Lock()
_registered = False


def register() -> None:
    """Register every anyinit initializer class (and ``SeedGenerator``) with Keras.

    Safe to call more than once; ``import anyinit`` calls it (now or when Keras
    is imported).

    Examples
    --------
    >>> import keras, anyinit
    >>> anyinit.dialects.keras.register()
    >>> keras.saving.get_registered_object("anyinit>GlorotNormal") is anyinit.GlorotNormal
    True
    """
    global _registered
    with _LOCK:
        if _registered:
            return
        from keras.saving import register_keras_serializable

        from ..initializers.registry import initializer_classes
        from ..seeds import SeedGenerator

        for cls in (*initializer_classes(), SeedGenerator):
            register_keras_serializable(package=_PACKAGE, name=cls.__name__)(cls)
        _teach_einsum_dense()
        _registered = True


def _teach_einsum_dense() -> None:
    """Let Keras's ``EinsumDense`` give anyinit's variance-scaling classes its fan axes.

    ``EinsumDense.build`` clones its kernel initializer with ``input_axes`` and
    ``output_axes`` (the einsum's, so that an attention kernel ``(E, H, D)`` has
    fan_in E, not E·H) only when ``isinstance(init, VarianceScaling)`` for
    Keras's own class. anyinit's classes take the same two arguments, so the name
    that check reads in that one module is given a class whose ``isinstance``
    also accepts anyinit's. Nothing else in Keras reads it; Keras's own classes
    are unchanged.
    """
    try:
        from keras.src.layers.core import einsum_dense
    except ImportError:  # a Keras without that module has no such check to teach
        return
    keras_class = getattr(einsum_dense, "VarianceScaling", None)
    if keras_class is None or getattr(keras_class, "_anyinit_taught", False):
        return
    from ..initializers.random import VarianceScaling

    accepted = (keras_class, VarianceScaling)

    class _EitherVarianceScaling(type):
        def __instancecheck__(cls, instance: object) -> bool:
            return isinstance(instance, accepted)

        def __subclasscheck__(cls, subclass: type) -> bool:
            return issubclass(subclass, accepted)

    class KerasOrAnyinitVarianceScaling(metaclass=_EitherVarianceScaling):
        _anyinit_taught = True

    einsum_dense.VarianceScaling = KerasOrAnyinitVarianceScaling


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps Keras's own loader so that :func:`register` runs after it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras":
            return None
        _unwatch()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            register()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_WATCHER = _AfterKerasImport()


def _unwatch() -> None:
    with _LOCK:
        if _WATCHER in sys.meta_path:
            sys.meta_path.remove(_WATCHER)


def watch() -> None:
    """Register now if Keras is imported, else as soon as it is (``import anyinit`` calls this)."""
    if "keras" in sys.modules:
        register()
        return
    with _LOCK:
        if _WATCHER not in sys.meta_path:
            sys.meta_path.insert(0, _WATCHER)
