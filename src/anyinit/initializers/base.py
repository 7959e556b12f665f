"""The :class:`Initializer` base class and its call protocol."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._compat import is_array_api_obj
from .._typing import Array, ArrayNamespace, Device, DType, ShapeLike
from .._validation import as_shape
from ..adapters.protocol import KeyCalls, Sharded, supports
from ..laws.dtypes import kind_of
from ..models.slots import canonical_shape, layout_permutation
from ..seeds import seed_from_json
from ..target import Target, array_backend, resolve_target, workable

__all__ = ["Initializer", "KeyDraw"]

_NUMERIC = ("bool", "integral", "real floating", "complex floating")
_SHAPE_TYPES = (tuple, int, list)


@dataclass(frozen=True)
class KeyDraw:
    """What an initializer called with a random key draws: JAX's recipe for it.

    `name` is the ``jax.nn.initializers`` factory (or ``"sparse"``, which JAX
    lacks) and `arguments` its keyword arguments; `shift` is added after (a
    Keras mean, which JAX's factories do not take).
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    shift: float = 0.0


def _shards_of(backend: Any, like: Any) -> Any:
    """The sharding of `like` where its library has distributed arrays, else None."""
    return backend.shards(like) if supports(backend, Sharded) else None


class Initializer:
    """Base class of every anyinit initializer.

    An initializer is a callable object built once from its parameters and
    called with a shape::

        init(shape, dtype=None, *, like=None, xp=None, device=None) -> array

    The result is made by the library of `like` (or the namespace `xp`, or
    NumPy when neither is given), on `device` (or `like`'s device), in
    `dtype` (or `like`'s floating dtype, or float32).

    Subclasses implement ``_generate`` and :meth:`get_config`, and list
    the dtype kinds they accept in ``dtype_kinds``.

    Examples
    --------
    >>> import anyinit
    >>> class Halves(anyinit.Initializer):
    ...     def _generate(self, shape, target):
    ...         return target.backend.full(shape, 0.5, target.dtype, target.device)
    >>> Halves()((2,)).tolist()
    [0.5, 0.5]
    """

    dtype_kinds: ClassVar[tuple[str, ...]] = _NUMERIC
    #: ``(seed, config)``: the Keras seed config :meth:`from_config` read, written back as
    #: it was while the seed is still the one built from it.
    _seed_config: tuple[Any, Any] | None = None
    #: The dtype of a call that names none (None: `like`'s, else float32). The JAX
    #: dialect's factories set it, as ``jax.nn.initializers.normal(dtype=...)`` does.
    default_dtype: DType | str | None = None
    #: Built from intermediates of other shapes (a QR, an eye): made on the
    #: backend's working device, then laid out as the target asks (Dask chunks).
    structured: ClassVar[bool] = False

    def __call__(
        self,
        shape: ShapeLike,
        dtype: DType | str | None = None,
        *key_call: Any,
        like: Array | None = None,
        xp: ArrayNamespace | None = None,
        device: Device | None = None,
        chunks: Any = None,
        layout: Any = None,
        sharding: Any = None,
    ) -> Array:
        """Return a new array of `shape` initialised by this initializer.

        Also callable with JAX's convention, ``init(key, shape, dtype=None)``,
        as Flax and Equinox call initializers: the key decides the values
        (a `seed` given to the constructor is not used), the draw is
        ``jax.nn.initializers``' own (bit for bit) and traceable under
        ``jit``, ``vmap`` and ``eval_shape``.

        Parameters
        ----------
        shape : int or sequence of int
            The shape of the result (Python or NumPy ints, ``torch.Size``).
        dtype : dtype or str, optional
            A dtype of the target library or a name (``"float32"``,
            ``"bfloat16"``, …). Default: `like`'s floating dtype, else float32.
        like : array, optional
            An array whose library and device the result takes (or a framework
            variable holding one in ``.value``, such as a ``keras.Variable``).
        xp : module, optional
            The array namespace to use when there is no `like`.
        device : optional
            The target library's device; overrides `like`'s.
        chunks : optional
            Dask only: the result's chunks (as ``dask.array`` takes them;
            default ``"auto"``). Other libraries reject it.
        layout : str or sequence of int, optional
            The layout `shape` is given in: ``"torch"`` (``(out, in, *kernel)``,
            torch's and Equinox's weights), ``"mlx"`` (``(out, *kernel, in)``),
            ``"canonical"`` (``(*kernel, in,
            out)``, also ``"flax"``, ``"keras"``, ``"jax"``) or a permutation
            (axis ``i`` of the result is axis ``layout[i]`` of the canonical
            layout). The values are drawn in the canonical layout, with its
            fans, and transposed: ``init((256, 784), layout="torch")`` equals
            ``init((784, 256)).T``.
        sharding : optional
            JAX only: a ``jax.sharding.Sharding`` for the result, computed
            shard by shard under ``jit`` (a `like` laid over several devices,
            or a torch DTensor, gives its own sharding without this). The
            values equal the unsharded result for integer seeds.

        Returns
        -------
        array
            A new array of the target library.
        """
        if type(shape) not in _SHAPE_TYPES and is_array_api_obj(shape):
            keyed = self._keyed_call(shape, dtype, key_call, like, xp, device, chunks)
            if keyed is not None:
                return keyed
            template = self._template_call(shape, dtype, key_call, like, xp, device, chunks)
            if template is not None:
                return template
        if key_call:
            msg = (
                f"{type(self).__name__} takes (shape, dtype) or JAX's (key, shape, dtype); "
                f"received {2 + len(key_call)} positional arguments."
            )
            raise TypeError(msg)
        if dtype is None:
            dtype = self.default_dtype
        dims = as_shape(shape)
        if layout is not None:
            return self._in_layout(dims, layout, dtype, like, xp, device, chunks)
        if sharding is not None:
            return self._sharded(dims, dtype, self._shards_for(sharding, like, xp))
        if like is not None and xp is None and is_array_api_obj(like):
            shards = _shards_of(array_backend(like)[1], like)
            if shards is not None:
                return self._sharded(dims, dtype, shards)
        target = resolve_target(like=like, xp=xp, device=device, dtype=dtype, chunks=chunks)
        self._check_target(dims, target)
        if not target.materializes:
            return target.backend.empty(dims, target.dtype, target.device)
        if self.structured:
            values = self._generate(dims, target.working())
            result = target.backend.place(target.backend.as_array(values), target.device)
        elif dims == ():  # 0-d results of NumPy arithmetic are scalars, not arrays
            result = target.backend.as_array(self._generate(dims, target))
        else:
            result = self._generate(dims, target)
        if target.backend.exports:  # computed by NumPy for TensorFlow or MLX: hand it over
            return target.backend.export(result, target.dtype_name, target.device)
        return result

    def _shards_for(self, sharding: Any, like: Any, xp: Any) -> Any:
        if like is None and xp is None:
            msg = "`sharding` needs the library: pass xp= (jax.numpy) or like=."
            raise TypeError(msg)
        backend = array_backend(like)[1] if like is not None else resolve_target(xp=xp).backend
        shards = _shards_of(backend, sharding)
        if shards is None:
            msg = f"`sharding`={sharding!r} is not a sharding {backend.name} understands."
            raise TypeError(msg)
        return shards

    def _sharded(self, dims: tuple[int, ...], dtype: Any, shards: Any) -> Array:
        """A distributed result (a DTensor, a sharded JAX array), each shard computed apart."""
        return shards.draw(self, dims, dtype)

    def _in_layout(self, dims: tuple[int, ...], layout: Any, dtype: Any, *where: Any) -> Array:
        perm = layout_permutation(layout, len(dims))
        values = self(
            canonical_shape(dims, perm),
            dtype,
            like=where[0],
            xp=where[1],
            device=where[2],
            chunks=where[3],
        )
        if perm == tuple(range(len(dims))):
            return values
        xp, held, back = workable(values)
        return back(xp.permute_dims(held, perm))

    def _keyed_call(
        self, key: Any, shape: Any, rest: tuple[Any, ...], *placement: Any
    ) -> Array | None:
        """``init(key, shape, dtype)``, where `key` is a random key of its library; else None."""
        _, backend = array_backend(key)
        if not (supports(backend, KeyCalls) and backend.is_key(key)):
            return None  # an array given as a shape (a NumPy integer, …)
        if any(value is not None for value in placement):
            msg = "a call with a random key takes no like=, xp=, device= or chunks=."
            raise TypeError(msg)
        if len(rest) > 1:
            msg = f"JAX's convention is init(key, shape, dtype); received {2 + len(rest)}."
            raise TypeError(msg)
        dtype = rest[0] if rest else self.default_dtype
        return backend.call_with_key(self, key, as_shape(shape), dtype)

    def _template_call(self, array: Any, dtype: Any, rest: tuple[Any, ...], *placement: Any) -> Any:
        """``init(array)``, ``mlx.nn.init``'s convention: new values shaped and typed like a
        floating MLX array (an integer array stays a shape, as elsewhere); else None.

        The array is read in MLX's layout, ``(out, *kernel, in)`` (``nn.Linear``'s
        ``(out, in)``, ``nn.Conv2d``'s ``(out, kh, kw, in)``), so the fans are MLX's own."""
        backend = array_backend(array)[1]
        if not backend.exports or rest or any(value is not None for value in placement):
            return None
        name = backend.dtype_of(array)
        if name is None or kind_of(name) not in ("real floating", "complex floating"):
            return None
        return self(tuple(array.shape), dtype, like=array, layout="mlx")

    def key_draw(self, shape: tuple[int, ...] = ()) -> KeyDraw | None:
        """What a call with a random key draws for `shape` (``jax.nn.initializers``' recipe).

        None for initializers whose values need no randomness (zeros, a
        constant, the identity): a keyed call computes them as usual.

        Examples
        --------
        >>> import anyinit
        >>> anyinit.GlorotNormal().key_draw().name
        'variance_scaling'
        >>> anyinit.Zeros().key_draw() is None
        True
        """
        return None

    def _check_target(self, shape: tuple[int, ...], target: Target) -> None:
        """Reject dtypes (and shapes) this initializer cannot produce."""
        if target.kind not in self.dtype_kinds:
            allowed = " or ".join(self.dtype_kinds)
            article = "an" if allowed[0] in "aeiou" else "a"
            msg = (
                f"`dtype`={target.dtype_name!r} is not supported by {type(self).__name__}; "
                f"it needs {article} {allowed} dtype."
            )
            raise ValueError(msg)

    def _generate(self, shape: tuple[int, ...], target: Target) -> Array:
        msg = "Initializer subclasses must implement `_generate(shape, target)`."
        raise NotImplementedError(msg)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dictionary.

        Returns
        -------
        dict
            Arguments such that ``type(self)(**config)`` rebuilds the initializer.
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Build an initializer from the output of :meth:`get_config`.

        Parameters
        ----------
        config : dict
            The constructor arguments.

        Returns
        -------
        Initializer
            A new instance.

        Notes
        -----
        Keras calls this with the configs it saved: a seed stored as a
        ``SeedGenerator`` config becomes a :class:`anyinit.SeedGenerator`, and a
        ``dtype`` key (Keras's ``Constant`` and ``Identity`` may carry one) is
        dropped: the dtype is the call's.
        """
        arguments = dict(config)
        if "seed" in arguments:
            arguments["seed"] = seed_from_json(arguments["seed"])
        arguments.pop("dtype", None)
        accepted = inspect.signature(cls).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
            unknown = sorted(set(arguments) - set(accepted))
            if unknown:
                msg = (
                    f"{cls.__name__} takes no argument {unknown[0]!r}; its arguments are "
                    f"{', '.join(accepted) or 'none'}."
                )
                raise TypeError(msg)
        instance = cls(**arguments)
        written = config.get("seed")
        if isinstance(written, Mapping) and str(written.get("module", "")).startswith("keras"):
            # a keras.random.SeedGenerator's config: get_config writes it back as it was read,
            # as Keras's own initializers do (the seed itself is anyinit's, Keras-free)
            instance._seed_config = (getattr(instance, "seed", None), dict(written))
        return instance

    def clone(self) -> Initializer:
        """Return a copy built from this initializer's config."""
        return self.from_config(self.get_config())

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(type(self).__name__)
