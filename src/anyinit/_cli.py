"""The ``anyinit`` command line: ``info``, ``list`` and ``sample``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import sys
from collections.abc import Sequence
from typing import Any

from ._initializer import Initializer
from ._serialization import ALIASES, ALL_INITIALIZERS, get
from ._version import __version__

__all__ = ["main"]

_ALIASES = {"jax": "jax.numpy", "dask": "dask.array"}
_BACKEND_MODULES = ("numpy", "torch", "cupy", "array_api_strict", "jax.numpy", "dask.array")


def _info(_: argparse.Namespace) -> int:
    from .backends import backend_for_namespace, known_backends

    print(f"anyinit {__version__} (Python {sys.version.split()[0]})")
    print(
        f"registered adapters: {', '.join(known_backends())} (others: generic Array API fallback)"
    )
    print("installed backends:")
    for module_name in _BACKEND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            reason = "not installed" if isinstance(error, ImportError) else f"unusable: {error}"
            print(f"  {module_name:<17} {reason}")
            continue
        version = getattr(module, "__version__", None) or getattr(
            sys.modules.get(module_name.partition(".")[0]), "__version__", "?"
        )
        try:
            from ._target import _for_module

            namespace, backend = _for_module(module)
            devices = ", ".join(backend.describe_devices()) or "default"
            adapter = type(backend_for_namespace(namespace)).__name__
            adapter = "generic" if adapter == "Backend" else adapter
        except Exception as error:
            print(f"  {module_name:<17} {version}  (unusable: {error})")
            continue
        print(f"  {module_name:<17} {version:<12} adapter {adapter:<15} devices: {devices}")
    return 0


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else ""


def _list(_: argparse.Namespace) -> int:
    names: dict[type, list[str]] = {cls: [] for cls in ALL_INITIALIZERS}
    for alias, cls in ALIASES.items():
        if alias[0].islower():
            names[cls].append(alias)
    width = max(len(cls.__name__) for cls in ALL_INITIALIZERS)
    for cls in ALL_INITIALIZERS:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("_")
        aliases = ", ".join([snake, *names[cls]])
        print(f"{cls.__name__:<{width}}  {_summary(cls)}")
        print(f"{'':<{width}}  names: {aliases}")
    return 0


def _to_host(array: Any) -> Any:
    import numpy as np

    if hasattr(array, "detach"):  # torch: any device and dtype (bfloat16 has no NumPy twin)
        import torch

        real = array.detach().cpu()
        return real.to(torch.complex128 if real.is_complex() else torch.float64).numpy()
    if hasattr(array, "get"):  # cupy
        return array.get()
    try:
        return np.asarray(array)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(array)


def _expected(
    init: Any, shape: tuple[int, ...], kind: str
) -> tuple[str, float, float, float, float]:
    from ._orthogonal import Orthogonal
    from ._random import RandomInitializer

    if isinstance(init, Orthogonal) and len(shape) >= 2:
        cols = shape[init.column_axis]
        rows = math.prod(shape) // max(cols, 1)
        std = abs(init.gain) / math.sqrt(max(rows, cols, 1))
        return "orthogonal (QR of a Gaussian matrix)", 0.0, std, -abs(init.gain), abs(init.gain)
    if isinstance(init, RandomInitializer):
        try:
            law = init.distribution(shape, kind)
        except NotImplementedError:
            return "", math.nan, math.nan, math.nan, math.nan
        low, high = law.bounds
        return law.describe(), law.mean, law.std, low, high
    return "", math.nan, math.nan, math.nan, math.nan


def _sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ._random import VarianceScaling

    try:
        xp = importlib.import_module(_ALIASES.get(args.backend, args.backend))
    except ImportError as error:
        print(
            f"anyinit sample: backend {args.backend!r} is not installed ({error})", file=sys.stderr
        )
        return 2
    try:
        factory = get(args.name)
    except (TypeError, ValueError) as error:
        print(f"anyinit sample: {error}; see `anyinit list`", file=sys.stderr)
        return 2
    if not isinstance(factory, Initializer):  # pragma: no cover - get() of a str is one
        return 2
    try:
        config = factory.get_config()
        init = factory
        if args.seed is not None and "seed" in config:
            init = type(factory).from_config({**config, "seed": args.seed})
        shape = tuple(args.shape)
        values = init(shape, args.dtype, xp=xp, device=args.device)
    except (TypeError, ValueError) as error:
        print(f"anyinit sample: {error}", file=sys.stderr)
        return 2
    host = _to_host(values)
    print(f"{type(init).__name__} on {args.backend}, shape {shape}, dtype {args.dtype}")
    if isinstance(init, VarianceScaling):
        fan_in, fan_out = init.fans(shape)
        print(f"fans: fan_in={fan_in}, fan_out={fan_out}  (mode {init.mode}, scale {init.scale:g})")
    kind = "complex floating" if np.iscomplexobj(host) else "real floating"
    law, mean, std, low, high = _expected(init, shape, kind)
    if law:
        print(f"distribution: {law}")
    if np.iscomplexobj(host):
        data = np.abs(host).ravel()
        measured = (
            float(np.mean(host).real),
            float(np.sqrt(np.mean(data**2))),
            float(data.min()),
            float(data.max()),
        )
        labels = ("mean (real part)", "rms |w|", "min |w|", "max |w|")
    else:
        data = host.astype(np.float64).ravel()
        measured = (
            (float(data.mean()), float(data.std()), float(data.min()), float(data.max()))
            if data.size
            else (math.nan,) * 4
        )
        labels = ("mean", "std", "min", "max")
    print(f"{'':<17}{'expected':>14}{'measured':>14}")
    for label, want, got in zip(labels, (mean, std, low, high), measured, strict=True):
        note = "(bound)" if label.startswith(("min", "max")) else ""
        print(f"{label:<17}{want:>14.6g}{got:>14.6g}  {note}".rstrip())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anyinit", description="Neural-network weight initializers for every array library."
    )
    parser.add_argument("--version", action="version", version=f"anyinit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="version, installed backends and their devices").set_defaults(
        run=_info
    )
    commands.add_parser("list", help="initializers, their names and formulas").set_defaults(
        run=_list
    )
    sample = commands.add_parser(
        "sample", help="draw one array and compare its statistics with the exact distribution"
    )
    sample.add_argument("name", help="initializer name, e.g. glorot_normal (see `anyinit list`)")
    sample.add_argument("--shape", type=int, nargs="+", required=True, help="e.g. --shape 256 128")
    sample.add_argument(
        "--backend", default="numpy", help="numpy (default), torch, cupy, array_api_strict, …"
    )
    sample.add_argument(
        "--seed", type=int, default=None, help="integer seed (default: fresh entropy)"
    )
    sample.add_argument("--dtype", default="float32", help="dtype name (default float32)")
    sample.add_argument(
        "--device", default=None, help="device of the backend (default: its default)"
    )
    sample.set_defaults(run=_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a usage error.

    Examples
    --------
    >>> from anyinit._cli import main
    >>> main(["sample", "he_uniform", "--shape", "4", "3", "--seed", "0"])  # doctest: +ELLIPSIS
    HeUniform on numpy, shape (4, 3), dtype float32
    ...
    0
    """
    args = _parser().parse_args(argv)
    return int(args.run(args))
