"""Names, aliases, and ``get`` / ``serialize`` / ``deserialize`` (Keras's format).

Only names in the registry below and in ``custom_objects`` are ever
resolved: deserialization never imports a module named in its input.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from .._compat import is_array_api_obj
from ..seeds import seed_from_json, seed_to_json
from .base import Initializer
from .random import RandomInitializer

__all__ = [
    "aliases",
    "deserialize",
    "get",
    "initializer_classes",
    "initializer_names",
    "register_initializer",
    "serialize",
    "snake_case",
]


def snake_case(name: str) -> str:
    """``GlorotNormal`` → ``glorot_normal``: the lower-case name of a class."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


#: Initializers registered at run time (register_initializer): name -> class.
_REGISTERED: dict[str, type[Initializer]] = {}


@functools.cache
def initializer_names() -> dict[str, type[Initializer]]:
    """Every name of an initializer class, and the class.

    The built-in names are the ``anyinit.initializers`` package's one table (the classes,
    their lower-case names and the aliases of Keras, JAX and torch, which ``anyinit``
    exports), followed by those added with :func:`register_initializer`, so ``get``,
    ``deserialize``, the CLI and the tests accept exactly what a user can name.
    """
    from .. import initializers as package

    table: dict[str, type[Initializer]] = {}
    for name in package.__all__:
        obj = getattr(package, name)
        is_class = isinstance(obj, type) and issubclass(obj, Initializer)
        if is_class and obj not in (Initializer, RandomInitializer):  # bases, not initializers
            table[name] = obj
    table.update(_REGISTERED)
    return table


def register_initializer(cls: type[Initializer], *names: str) -> type[Initializer]:
    """Add an initializer class to the registry, under its class name and `names`.

    ``get``, ``deserialize``, Keras's saving registry (when registered before Keras is
    imported) and the conformance suite then know it as they know the built-in classes.
    Usable as a decorator.

    Parameters
    ----------
    cls : type
        A subclass of :class:`anyinit.Initializer`.
    *names : str
        Further names (a lower-case name, aliases).

    Returns
    -------
    type
        `cls`, unchanged.

    Examples
    --------
    >>> import anyinit
    >>> from anyinit.initializers.registry import register_initializer
    >>> @register_initializer
    ... class Halves(anyinit.Constant):
    ...     def __init__(self):
    ...         super().__init__(0.5)
    ...     def get_config(self):
    ...         return {}
    >>> anyinit.get("Halves")((2,)).tolist()
    [0.5, 0.5]
    """
    if not (isinstance(cls, type) and issubclass(cls, Initializer)):
        msg = f"`cls` must be a subclass of anyinit.Initializer; received {cls!r}."
        raise TypeError(msg)
    for name in (cls.__name__, *names):
        if not isinstance(name, str) or not name.isidentifier():
            msg = f"initializer names must be identifiers; received {name!r}."
            raise ValueError(msg)
        known = initializer_names().get(name)
        if known is not None and known is not cls:
            msg = f"the name {name!r} is taken by {known.__module__}.{known.__qualname__}."
            raise ValueError(msg)
        _REGISTERED[name] = cls
    initializer_names.cache_clear()
    return cls


def initializer_classes() -> list[type[Initializer]]:
    """The initializer classes, by name."""
    return sorted(set(initializer_names().values()), key=lambda cls: cls.__name__)


def aliases() -> dict[str, type[Initializer]]:
    """The names other than a class's own and its snake-case name (``xavier_normal``, …)."""
    return {
        name: cls
        for name, cls in initializer_names().items()
        if name not in (cls.__name__, snake_case(cls.__name__))
    }


MODULE = "anyinit"


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Return a JSON-compatible dict describing `initializer` (Keras's format).

    Parameters
    ----------
    initializer : Initializer
        The initializer to describe.

    Returns
    -------
    dict
        ``{"module": "anyinit", "class_name": ..., "config": {...},
        "registered_name": "anyinit>ClassName"}``: Keras 3's format. The config
        leaves out anyinit-only arguments that hold their defaults, so plain
        Keras reads it as its own class of the same name where one exists.

    Examples
    --------
    >>> import anyinit
    >>> anyinit.serialize(anyinit.HeNormal(seed=3))["config"]["seed"]
    3
    """
    if not isinstance(initializer, Initializer):
        msg = f"`initializer` must be an anyinit.Initializer; received {initializer!r}."
        raise TypeError(msg)
    config = dict(initializer.get_config())
    if "seed" in config:
        config["seed"] = seed_to_json(config["seed"])
    name = type(initializer).__name__
    result = {
        "module": MODULE,
        "class_name": name,
        "config": config,
        # Keras's key for a registered class: with anyinit imported, Keras resolves
        # it to this class; without, Keras falls back to its own class of this name.
        "registered_name": f"{MODULE}>{name}",
    }
    json.dumps(result)  # fail here, not in the caller's json.dump, on unserializable values
    return result


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> Initializer:
    """Build an initializer from :func:`serialize`'s output or a Keras 3 config dict.

    Parameters
    ----------
    config : dict
        ``{"class_name": ..., "config": {...}}`` (other keys are ignored; a
        ``"module"`` key is never imported).
    custom_objects : dict, optional
        Extra ``name -> class`` entries, searched first.

    Returns
    -------
    Initializer
        The rebuilt initializer.

    Examples
    --------
    >>> import anyinit
    >>> init = anyinit.deserialize({"class_name": "VarianceScaling",
    ...                             "config": {"scale": 2.0, "mode": "fan_out"}})
    >>> init.scale, init.mode
    (2.0, 'fan_out')
    """
    if not isinstance(config, Mapping) or "class_name" not in config:
        msg = f"`config` must be a dict with a 'class_name' key; received {config!r}."
        raise ValueError(msg)
    class_name = config["class_name"]
    if not isinstance(class_name, str):
        msg = f"`config['class_name']` must be a string; received {class_name!r}."
        raise ValueError(msg)
    registered = config.get("registered_name") or class_name
    if not isinstance(registered, str):
        registered = class_name
    cls = None
    if custom_objects:
        cls = custom_objects.get(registered, custom_objects.get(class_name))
    if cls is None:
        # "anyinit>GlorotNormal" (Keras's registered name) or the class name.
        package, _, own = registered.rpartition(">")
        cls = initializer_names().get(own if package == MODULE else class_name)
    if cls is None:
        msg = f"Could not interpret initializer identifier: {class_name}"
        raise ValueError(msg)
    inner = config.get("config")
    if inner is not None and not isinstance(inner, Mapping):
        msg = f"`config['config']` must be a dict of constructor arguments; received {inner!r}."
        raise ValueError(msg)
    arguments = dict(inner or {})
    if isinstance(cls, type) and issubclass(cls, Initializer):
        return cls.from_config(arguments)
    if "seed" in arguments:
        arguments["seed"] = seed_from_json(arguments["seed"])
    return cls(**arguments)  # type: ignore[no-any-return]


def get(identifier: Any) -> Initializer | Callable[..., Any] | None:
    """Return an initializer from a name, a config dict, a class or a callable.

    Parameters
    ----------
    identifier : None, str, dict, Initializer, type or callable
        A name (``"glorot_uniform"``, ``"GlorotUniform"``, an alias such as
        ``"normal"`` or ``"kaiming_uniform"``), a config dict (anyinit's or
        Keras 3's), an instance (returned as is), an Initializer subclass
        (instantiated with defaults), an array (a :class:`Constant` of those
        values, as in Keras) or any callable (returned as is).

    Returns
    -------
    Initializer, callable or None

    Examples
    --------
    >>> import anyinit
    >>> anyinit.get("he_normal")
    HeNormal(seed=None)
    >>> anyinit.get({"class_name": "Constant", "config": {"value": 2}})
    Constant(value=2)
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = initializer_names().get(identifier)
        if cls is None:
            msg = f"Could not interpret initializer identifier: {identifier}"
            raise ValueError(msg)
        return cls()
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if is_array_api_obj(identifier):
        # An array means "these values", as in Keras: a Constant broadcasting it.
        from .constant import Constant

        return Constant(identifier)
    if callable(identifier):
        return identifier  # type: ignore[no-any-return]
    msg = f"Could not interpret initializer identifier: {identifier!r}"
    raise ValueError(msg)
