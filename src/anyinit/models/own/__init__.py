"""The ``"own"`` preset: a model's own init code, replayed on the portable stream.

``anyinit.initialize(model, "own", seed=0)`` runs the code that defines the
model's initialisation (torch's ``reset_parameters``, a transformers model's
``_init_weights``, a timm model's ``init_weights``, or a function the user names
with ``anyinit.presets.own``) and turns every random draw that code makes into a draw from
anyinit's portable stream: a fill of a parameter is keyed by the seed and that
parameter's canonical path and drawn in the canonical layout, as a preset's is;
a fresh tensor the code draws (``torch.randn(...)`` then ``copy_``) is keyed by
its module's path and the draw's order. Constants run as written.

So the law of every parameter is the model's own, by construction, and the bits
are anyinit's: the same on every device, on a model built on ``meta`` then
``to_empty``, independent of ``torch.manual_seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Own", "OwnInitWarning", "UnsupportedDrawError", "own"]


class OwnInitWarning(UserWarning):
    """The model's constructor runs init code that the ``"own"`` preset cannot replay as it
    ran (inline code, or a call with the constructor's own arguments).

    Name the function to replay with ``anyinit.presets.own``.

    Examples
    --------
    >>> import warnings, torch, anyinit
    >>> class Inline(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = torch.nn.Linear(4, 4)
    ...         torch.nn.init.normal_(self.fc.weight, std=0.01)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = anyinit.initialize(Inline(), "own", seed=0)
    >>> caught[0].category.__name__
    'OwnInitWarning'
    """


class UnsupportedDrawError(ValueError):
    """The model's own init code made a random draw the ``"own"`` preset cannot take from the
    portable stream (``torch.multinomial``, ``Tensor.random_``, a route around torch's
    dispatch); the model is left as it was.

    Examples
    --------
    >>> import anyinit
    >>> issubclass(anyinit.UnsupportedDrawError, ValueError)
    True
    """


@dataclass(frozen=True)
class Own:
    """The ``"own"`` preset, optionally with the init function to replay.

    Built by ``anyinit.presets.own``; the string ``"own"`` is ``Own()``.
    """

    function: Callable[[Any], Any] | None = None

    def __repr__(self) -> str:
        if self.function is None:
            return "own()"
        return f"own({getattr(self.function, '__qualname__', self.function)!r})"


def own(function: Callable[[Any], Any] | None = None) -> Own:
    """The ``"own"`` preset: replay the model's own init code on the portable stream.

    Parameters
    ----------
    function : callable, optional
        On a torch model: the whole-model init code to replay, called once as
        ``function(model)`` after every module's ``reset_parameters`` (e.g. a
        torchtitan-style ``lambda m: m.init_weights()``, or
        ``lambda m: m.apply(my_init)``). By default the model's own whole-model
        init (a transformers ``PreTrainedModel``'s ``_init_weights`` traversal, an
        ``init_weights()`` method that takes no arguments, ``apply(_init_weights)``).
        On a Flax linen params tree: the code that created it, ``function(key)``
        (``lambda key: module.init(key, x)``), whose modules' initializers are
        re-run by path.

    Returns
    -------
    Own
        Rules for :func:`anyinit.initialize`.

    Examples
    --------
    >>> import torch, anyinit
    >>> net = torch.nn.Linear(4, 3)
    >>> def my_init(m):
    ...     torch.nn.init.normal_(m.weight, std=0.5)
    ...     torch.nn.init.zeros_(m.bias)
    >>> _ = anyinit.initialize(net, anyinit.presets.own(my_init), seed=0)
    >>> float(net.bias.detach().abs().max())
    0.0
    """
    if function is not None and not callable(function):
        msg = f"`function` must be a callable taking the model; received {function!r}."
        raise TypeError(msg)
    return Own(function)
