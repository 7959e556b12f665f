"""The ``anyinit`` command line: ``info``, ``list``, ``sample``, ``diagnose`` and ``audit``."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .adapters.builtin import MODULES
from .initializers.base import Initializer
from .initializers.registry import aliases, get, initializer_classes, snake_case
from .laws.records import Distribution
from .plotting import to_numpy

__all__ = ["main"]


def _info(_: argparse.Namespace) -> int:
    from .adapters import backend_for_namespace, known_backends

    print(f"anyinit {__version__} (Python {sys.version.split()[0]})")
    print(
        f"registered adapters: {', '.join(known_backends())} (others: generic Array API fallback)"
    )
    print("installed backends:")
    for module_name in MODULES.values():
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
            from .target import _for_module

            namespace, backend = _for_module(module)
            devices = ", ".join(backend.describe_devices()) or "default"
            adapter = type(backend_for_namespace(namespace)).__name__
            adapter = "generic" if adapter == "Backend" else adapter
        except Exception as error:
            print(f"  {module_name:<17} {version}  (unusable: {error})")
            continue
        print(f"  {module_name:<17} {version:<12} adapter {adapter:<15} devices: {devices}")
    from .adapters.numpy.kernel import THREADS, kernel_name

    print(f"portable stream on the host: {kernel_name()}, {THREADS} thread(s)")
    return 0


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else ""


def _list(_: argparse.Namespace) -> int:
    classes = initializer_classes()
    names: dict[type, list[str]] = {cls: [] for cls in classes}
    for alias, cls in aliases().items():
        if alias[0].islower():
            names[cls].append(alias)
    width = max(len(cls.__name__) for cls in classes)
    for cls in classes:
        spellings = ", ".join([snake_case(cls.__name__), *names[cls]])
        print(f"{cls.__name__:<{width}}  {_summary(cls)}")
        print(f"{'':<{width}}  names: {spellings}")
    return 0


def _law(init: Any, shape: tuple[int, ...], kind: str) -> Distribution | None:
    from .initializers.random import RandomInitializer

    if not isinstance(init, RandomInitializer):
        return None
    try:
        return init.law(shape, kind)
    except NotImplementedError:
        return None


def _plot_path(given: str, name: str) -> Path | None:
    """Where --plot writes: a folder gets ``<name>.png`` in it, a name without a suffix gets
    ``.png`` (as matplotlib would add it, but said); None for an empty name."""
    if not given.strip():
        return None
    path = Path(given)
    if path.is_dir():
        return path / f"{name}.png"
    return path if path.suffix else path.with_suffix(".png")


def _plot(path: Path, values: Any, law: Distribution | None, title: str) -> int:
    from .plotting import histogram_figure

    if law is None:
        print(f"anyinit sample: --plot needs a random initializer; {title} is not", file=sys.stderr)
        return 2
    try:
        figure = histogram_figure({"sample": values}, law, title=title)
    except ImportError as error:
        print(
            f"anyinit sample: --plot needs matplotlib ({error}); pip install 'anyinit-xp[plot]'",
            file=sys.stderr,
        )
        return 2
    try:
        figure.savefig(path, dpi=120)
    except (OSError, ValueError) as error:
        print(f"anyinit sample: cannot write --plot {str(path)!r}: {error}", file=sys.stderr)
        return 2
    print(f"figure written to {path}")
    return 0


def _parse_param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        msg = f"--param takes NAME=VALUE (e.g. --param sparsity=0.9); received {text!r}"
        raise ValueError(msg)
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a bare word such as mode=fan_out


def _sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .initializers.random import VarianceScaling

    name = MODULES.get(args.backend, args.backend)
    if not name or not all(part.isidentifier() for part in name.split(".")):
        print(
            f"anyinit sample: --backend {args.backend!r} is not a module name "
            f"({', '.join(MODULES)}, or any Array API namespace module)",
            file=sys.stderr,
        )
        return 2
    try:
        xp = importlib.import_module(name)
    except ImportError as error:
        print(
            f"anyinit sample: backend {args.backend!r} is not installed ({error})", file=sys.stderr
        )
        return 2
    try:
        params = dict(_parse_param(text) for text in args.param)
        if args.seed is not None:
            params["seed"] = args.seed
        init = get({"class_name": args.name, "config": params})
    except (TypeError, ValueError) as error:
        hint = " (see `anyinit list`)" if "identifier" in str(error) else ""
        print(f"anyinit sample: {error}{hint}", file=sys.stderr)
        return 2
    if not isinstance(init, Initializer):  # pragma: no cover - get() of a dict is one
        return 2
    plot = None if args.plot is None else _plot_path(args.plot, snake_case(type(init).__name__))
    if args.plot is not None and plot is None:
        print("anyinit sample: --plot needs a file or folder name, e.g. --plot figure.png",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.device is not None:
        from .target import resolve_target

        try:
            holds_data = resolve_target(xp=xp, device=args.device).materializes
        except (TypeError, ValueError, RuntimeError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"anyinit sample: {first}", file=sys.stderr)
            return 2
        if not holds_data:
            print(
                f"anyinit sample: --device {args.device} holds no data (shapes only): there are "
                "no values to sample; pick a device that stores them",
                file=sys.stderr,
            )
            return 2
    try:
        shape = tuple(args.shape)
        values = init(shape, args.dtype, xp=xp, device=args.device)
        host = to_numpy(values)
    except (TypeError, ValueError, RuntimeError, NotImplementedError) as error:
        # RuntimeError / NotImplementedError: a device the library knows but cannot
        # use here (torch's xla), or one that holds no data to show (meta).
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"anyinit sample: {first}", file=sys.stderr)
        return 2
    print(f"{type(init).__name__} on {args.backend}, shape {shape}, dtype {args.dtype}")
    if isinstance(init, VarianceScaling):
        fan_in, fan_out = init.fans(shape)
        note = f"mode {init.mode}, scale {init.scale:g}"
        if 0 in (fan_in, fan_out):
            note += "; a zero fan counts as 1 in the scale, as in Keras"
        print(f"fans: fan_in={fan_in}, fan_out={fan_out}  ({note})")
    kind = "complex floating" if np.iscomplexobj(host) else "real floating"
    law = _law(init, shape, kind)
    mean = std = low = high = math.nan
    if law is not None:
        print(f"distribution: {law.describe()}")
        mean, std, (low, high) = law.mean, law.std, law.bounds
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
        shown = f"{got:>14.6g}" if data.size else f"{'—':>14}"
        print(f"{label:<17}{want:>14.6g}{shown}  {note}".rstrip())
    if not data.size:
        print("(the shape has no elements: nothing was measured)")
    if plot is not None:
        title = f"{type(init).__name__} {shape} {args.dtype} on {args.backend}"
        return _plot(plot, values, law, title)
    return 0


#: The seed's experiment's four initializers, as ``--init`` spells them.
SEED_INITS = ("random_normal:stddev=1.0", "random_normal:stddev=0.01", "glorot_uniform",
              "he_normal")  # fmt: skip


def _init_spec(text: str) -> Initializer:
    """``name`` or ``name:arg=value,arg=value`` (``random_normal:stddev=0.01``)."""
    name, _, arguments = text.partition(":")
    params = dict(_parse_param(item) for item in arguments.split(",") if item.strip())
    init = get({"class_name": name.strip(), "config": params})
    if not isinstance(init, Initializer):  # pragma: no cover - get() of a dict is one
        msg = f"--init {text!r} is not an initializer"
        raise TypeError(msg)
    return init


def _diagnose(args: argparse.Namespace) -> int:
    from .diagnostics import mlp_experiment

    specs = args.init or list(SEED_INITS)
    try:
        inits = [_init_spec(text) for text in specs]
    except (TypeError, ValueError) as error:
        print(f"anyinit diagnose: --init: {error} (see `anyinit list`)", file=sys.stderr)
        return 2
    folder = None
    if args.plot is not None:
        target = Path(args.plot)
        if len(inits) > 1 and not target.is_dir():
            print(f"anyinit diagnose: --plot {args.plot!r}: with {len(inits)} initializers give "
                  "an existing folder (one figure each)", file=sys.stderr)  # fmt: skip
            return 2
        folder = target if target.is_dir() else None
    name = MODULES.get(args.backend, args.backend)
    try:
        importlib.import_module(name)
    except ImportError as error:
        print(f"anyinit diagnose: backend {args.backend!r} is not installed ({error})",
              file=sys.stderr)  # fmt: skip
        return 2
    for index, (text, init) in enumerate(zip(specs, inits, strict=True)):
        try:
            report = mlp_experiment(init, depth=args.depth, width=args.width, batch=args.batch,
                                    activation=args.activation, seed=args.seed,
                                    backend=args.backend, device=args.device)  # fmt: skip
        except (TypeError, ValueError, RuntimeError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"anyinit diagnose: {first}", file=sys.stderr)
            return 2
        report.title = f"{report.title}: --init {text}"
        print(report)
        print()
        if args.plot is None:
            continue
        label = text.replace(":", "_").replace("=", "").replace(",", "_")
        path = folder / f"diagnose_{index}_{label}.png" if folder else Path(args.plot)
        if not path.suffix:
            path = path.with_suffix(".png")
        try:
            report.plot(path)
        except ImportError as error:
            print(f"anyinit diagnose: --plot needs matplotlib ({error}); "
                  "pip install 'anyinit-xp[plot]'", file=sys.stderr)  # fmt: skip
            return 2
        except (OSError, ValueError) as error:
            print(f"anyinit diagnose: cannot write --plot {str(path)!r}: {error}", file=sys.stderr)
            return 2
        print(f"figure written to {path}")
    return 0


def nested(flat: Any) -> dict[str, Any]:
    """A flat ``{"a.b.weight": array}`` state dict as the nested pytree its names spell."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = str(path).split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                msg = f"the state dict has both {part!r} and names below it ({path!r})"
                raise ValueError(msg)
        node[leaf] = value
    return tree


def _load_into(factory: str, state: Any) -> Any:
    """The model ``MODULE:CALLABLE`` builds, with `state` loaded into it."""
    module_name, _, attribute = factory.partition(":")
    if not attribute:
        msg = f"--model takes MODULE:CALLABLE (e.g. mypkg.models:build); received {factory!r}"
        raise ValueError(msg)
    model = getattr(importlib.import_module(module_name), attribute)()
    model.load_state_dict(state, strict=True)
    return model


def _audit(args: argparse.Namespace) -> int:
    from .models.audit import audit
    from .models.presets import PRESETS
    from .models.recipes import RECIPES

    path = Path(args.file)
    if not path.is_file():
        print(f"anyinit audit: no file {args.file!r}", file=sys.stderr)
        return 2
    if args.recipe not in RECIPES and args.recipe not in PRESETS:
        print(f"anyinit audit: --recipe must be a recipe {tuple(RECIPES)} or a preset "
              f"{tuple(PRESETS)}; received {args.recipe!r}", file=sys.stderr)  # fmt: skip
        return 2
    try:
        params = dict(_parse_param(text) for text in args.param)
        if args.recipe in RECIPES:
            rules: Any = RECIPES[args.recipe](**params)
        elif params:
            raise ValueError(f"the preset {args.recipe!r} takes no --param")  # noqa: EM102
        else:
            rules = args.recipe
    except (TypeError, ValueError) as error:
        print(f"anyinit audit: --param: {error}", file=sys.stderr)
        return 2
    try:
        if path.suffix in (".keras", ".h5"):
            keras = importlib.import_module("keras")
            model = keras.models.load_model(path, compile=False)
        else:
            from .models.walkers.torch import read_state_dict

            state = read_state_dict(path)
            model = nested(state) if args.model is None else _load_into(args.model, state)
    except ImportError as error:
        print(f"anyinit audit: cannot read {str(path)!r}: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError, AttributeError, TypeError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"anyinit audit: cannot read {str(path)!r}: {first}", file=sys.stderr)
        return 2
    try:
        report = audit(model, rules)
    except (TypeError, ValueError) as error:
        print(f"anyinit audit: {error}", file=sys.stderr)
        return 2
    print(report)
    if args.plot:
        try:
            print(f"figure written to {report.plot(args.plot)}")
        except ImportError as error:
            print(f"anyinit audit: --plot needs matplotlib ({error}); "
                  "pip install 'anyinit-xp[plot]'", file=sys.stderr)  # fmt: skip
            return 2
    return 0 if report.ok else 1


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
        "--backend",
        default="numpy",
        help=f"one of {', '.join(MODULES)} (default numpy), or any Array API namespace module",
    )
    sample.add_argument(
        "--seed", type=int, default=None, help="integer seed (default: fresh entropy)"
    )
    sample.add_argument("--dtype", default="float32", help="dtype name (default float32)")
    sample.add_argument(
        "--device", default=None, help="device of the backend (default: its default)"
    )
    sample.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="constructor argument, repeatable: --param sparsity=0.9 --param mode=fan_out",
    )
    sample.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="also write a histogram with the exact density overlaid (needs matplotlib)",
    )
    sample.set_defaults(run=_sample)
    diagnose = commands.add_parser(
        "diagnose",
        help="the activations of a deep MLP under each initializer (the seed's experiment)",
    )
    diagnose.add_argument("--depth", type=int, default=5, help="layers (default 5)")
    diagnose.add_argument("--width", type=int, default=100, help="units per layer (default 100)")
    diagnose.add_argument("--batch", type=int, default=1000, help="input rows (default 1000)")
    diagnose.add_argument("--activation", default="sigmoid",
                          choices=("sigmoid", "tanh", "relu", "linear"))  # fmt: skip
    diagnose.add_argument(
        "--init",
        action="append",
        metavar="NAME[:ARG=VALUE,...]",
        help="repeatable, e.g. --init glorot_uniform --init random_normal:stddev=0.01 "
        f"(default: {' '.join(SEED_INITS)})",
    )
    diagnose.add_argument("--backend", default="numpy", help="array library (default numpy)")
    diagnose.add_argument("--device", default=None, help="device of the backend")
    diagnose.add_argument("--seed", type=int, default=0, help="integer seed (default 0)")
    diagnose.add_argument(
        "--plot", metavar="PATH", default=None, help="write the figures (a folder, or one file)"
    )
    diagnose.set_defaults(run=_diagnose)
    audit = commands.add_parser(
        "audit",
        help="test a saved model's weights against a recipe's laws (exit 1 where any fails)",
    )
    audit.add_argument(
        "file", help="a torch state dict (.pt, .pth, .bin, .safetensors) or a Keras model file"
    )
    audit.add_argument("--recipe", required=True, help="a recipe (gpt2, megatron, …) or a preset")
    audit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a recipe argument, repeatable: --param n_layer=12 --param initializer_range=0.02",
    )
    audit.add_argument(
        "--model",
        metavar="MODULE:CALLABLE",
        default=None,
        help="build the torch model to load the state dict into (its layer classes then say "
        "each parameter's kind; without it the names are read by torch's conventions)",
    )
    audit.add_argument("--plot", metavar="FILE.png", default=None,
                       help="also write measured against expected std by depth")  # fmt: skip
    audit.set_defaults(run=_audit)
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
        0 on success, 2 on a usage error; ``audit``: 1 where a parameter fails its law.

    Examples
    --------
    >>> from anyinit.cli import main
    >>> main(["sample", "he_uniform", "--shape", "4", "3", "--seed", "0"])  # doctest: +ELLIPSIS
    HeUniform on numpy, shape (4, 3), dtype float32
    ...
    0
    """
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # `anyinit list | head`: the reader left; stop writing, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
