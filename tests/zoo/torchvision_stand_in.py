"""An import-time stand-in for torchvision, for timm's imports only.

timm imports torchvision at ``import timm`` (its data pipeline's transforms and
datasets, and ``torchvision.ops.misc.FrozenBatchNorm2d`` in its layers), but
building a model never calls any of it. The package index's torchvision is a
CUDA build that fails to import beside the CPU torch this project pins (and a
failed import of it then breaks ``import transformers``), so the zoo tests
install timm without its dependencies and put this finder first on
``sys.meta_path`` in their own subprocess: every ``torchvision.*`` module is an
empty module whose attributes are placeholder classes, and calling one raises.
A test that reached into torchvision would fail loudly, not pass.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types


class _PlaceholderType(type):
    # Enum members read at import (InterpolationMode.NEAREST as a dict key): a name each.
    def __getattr__(cls, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return f"{cls.__module__}.{cls.__name__}.{name}"


class _Placeholder(metaclass=_PlaceholderType):
    def __init__(self, *args: object, **kwargs: object) -> None:
        msg = "torchvision is a stand-in here (tests/zoo/torchvision_stand_in.py): not callable"
        raise RuntimeError(msg)


class _Module(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        placeholder = type(name, (_Placeholder,), {"__module__": self.__name__})
        setattr(self, name, placeholder)
        return placeholder


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "torchvision" or fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Module(spec.name)
        module.__path__ = []
        module.__version__ = "0.0+stand-in"
        return module

    def exec_module(self, module):
        return None


def install() -> None:
    """Put the stand-in first, unless a real torchvision imports already."""
    if "torchvision" in sys.modules:
        return
    sys.meta_path.insert(0, _Finder())
