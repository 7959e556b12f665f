"""Sphinx directives that draw the documentation's figures with anyinit at build time.

``.. anyinit-gallery::`` samples every random initializer on every installed
CPU backend and writes a histogram with the exact density overlaid;
``.. anyinit-activations::`` runs ``examples/activations.py``. The PNGs go to
``docs/generated/`` (not committed) and are rebuilt on every build.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pathlib
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import anyinit

LOGGER = logging.getLogger(__name__)
ROOT = pathlib.Path(__file__).resolve().parents[2]

#: The backends the gallery draws on, where installed: module, label, device.
GALLERY_BACKENDS = (
    ("numpy", "numpy (PCG64)"),
    ("torch", "torch (CPU generator)"),
    ("jax.numpy", "jax (threefry)"),
)


@dataclass(frozen=True)
class Entry:
    """One gallery figure: a call of an initializer on a shape and dtype."""

    slug: str
    title: str
    code: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    note: str = ""

    def initializer(self) -> anyinit.RandomInitializer:
        # The code string is both shown on the page and run: one source for both.
        init = eval(self.code, {"anyinit": anyinit})
        assert isinstance(init, anyinit.RandomInitializer)
        return init


ENTRIES = (
    Entry("random_normal", "RandomNormal", "anyinit.RandomNormal()", (1024, 512)),
    Entry("random_uniform", "RandomUniform", "anyinit.RandomUniform()", (1024, 512)),
    Entry(
        "truncated_normal",
        "TruncatedNormal",
        "anyinit.TruncatedNormal()",
        (1024, 512),
        note="Keras/JAX meaning: bounds at mean ± 2·stddev, stddev before truncation.",
    ),
    Entry(
        "variance_scaling",
        "VarianceScaling (default: fan_in, truncated normal)",
        "anyinit.VarianceScaling()",
        (1024, 512),
        note="The standard deviation is corrected by 0.8796 so that the truncated "
        "law has variance scale / fan.",
    ),
    Entry(
        "variance_scaling_untruncated",
        "VarianceScaling, untruncated normal",
        'anyinit.VarianceScaling(2.0, "fan_out", "untruncated_normal")',
        (1024, 512),
    ),
    Entry(
        "variance_scaling_uniform",
        "VarianceScaling, uniform, fan_geo_avg",
        'anyinit.VarianceScaling(1.0, "fan_geo_avg", "uniform")',
        (1024, 512),
    ),
    Entry("glorot_normal", "GlorotNormal", "anyinit.GlorotNormal()", (1024, 512)),
    Entry("glorot_uniform", "GlorotUniform", "anyinit.GlorotUniform()", (1024, 512)),
    Entry(
        "he_normal",
        "HeNormal, on a 3×3 convolution kernel",
        "anyinit.HeNormal()",
        (3, 3, 256, 256),
        note="Fans of a ``(*kernel, in, out)`` kernel: fan_in = 3·3·256.",
    ),
    Entry("he_uniform", "HeUniform", "anyinit.HeUniform()", (1024, 512)),
    Entry("lecun_normal", "LecunNormal", "anyinit.LecunNormal()", (1024, 512)),
    Entry("lecun_uniform", "LecunUniform", "anyinit.LecunUniform()", (1024, 512)),
    Entry(
        "he_normal_complex",
        "HeNormal, complex64 (modulus)",
        "anyinit.HeNormal()",
        (1024, 512),
        dtype="complex64",
        note="Complex dtypes follow JAX: the modulus is truncated at 2·scale, the phase "
        "is uniform.",
    ),
    Entry(
        "orthogonal",
        "Orthogonal",
        "anyinit.Orthogonal()",
        (512, 256),
        note="Each entry of a Haar-random semi-orthogonal matrix is one coordinate of "
        "a uniform point on the unit sphere of R^512.",
    ),
    Entry(
        "delta_orthogonal",
        "DeltaOrthogonal",
        "anyinit.DeltaOrthogonal()",
        (3, 3, 128, 256),
        note="Zero except at the centre tap, which holds an orthogonal (in, out) matrix.",
    ),
    Entry(
        "sparse",
        "Sparse",
        "anyinit.Sparse(sparsity=0.9, stddev=0.01)",
        (1024, 512),
        note="ceil(0.9 · rows) exact zeros per column; the histogram shows the rest.",
    ),
)


def _installed_backends() -> list[tuple[Any, str]]:
    found = []
    for module_name, label in GALLERY_BACKENDS:
        try:
            found.append((importlib.import_module(module_name), label))
        except ImportError:
            LOGGER.info("anyinit gallery: %s is not installed, skipped", module_name)
    return found


def _check_coverage() -> None:
    """Every public random initializer has a gallery entry (a new one must add its figure)."""
    shown = {type(entry.initializer()) for entry in ENTRIES}
    public = {
        obj
        for name in anyinit.__all__
        if inspect.isclass(obj := getattr(anyinit, name))
        and issubclass(obj, anyinit.RandomInitializer)
        and obj is not anyinit.RandomInitializer
    }
    missing = sorted(cls.__name__ for cls in public - shown)
    if missing:
        msg = f"the gallery has no figure for {', '.join(missing)}: add an Entry"
        raise RuntimeError(msg)


class GalleryDirective(SphinxDirective):
    """``.. anyinit-gallery::``: a histogram per random initializer, drawn now."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from anyinit.plotting import histogram_figure

        _check_coverage()
        out = pathlib.Path(self.env.srcdir) / "generated" / "gallery"
        out.mkdir(parents=True, exist_ok=True)
        backends = _installed_backends()
        lines: list[str] = []
        started = time.perf_counter()
        for entry in ENTRIES:
            init = entry.initializer()
            samples = {label: init(entry.shape, entry.dtype, xp=xp) for xp, label in backends}
            kind = "complex floating" if entry.dtype.startswith("complex") else "real floating"
            law = init.law(entry.shape, kind)
            title = f"{entry.code}({entry.shape}, {entry.dtype!r})"
            figure = histogram_figure(samples, law, title=title)
            figure.savefig(out / f"{entry.slug}.png", dpi=100)
            lines += [
                entry.title,
                "-" * len(entry.title),
                "",
                f"``{title}`` draws ``{law.describe()}``.",
                "",
            ]
            if entry.note:
                lines += [entry.note, ""]
            lines += [
                f".. figure:: /generated/gallery/{entry.slug}.png",
                f"   :alt: histogram of {entry.title} on {len(backends)} backends "
                "with the exact density",
                "   :width: 100%",
                "",
            ]
        LOGGER.info(
            "anyinit gallery: %d figures on %d backends in %.1f s",
            len(ENTRIES),
            len(backends),
            time.perf_counter() - started,
        )
        return _parse(self, lines)


class RecipeDepthDirective(SphinxDirective):
    """``.. anyinit-recipe-depth::``: run ``examples/recipe_depth.py`` and show its figure."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        example = _example("recipe_depth")
        result = example.run()
        out = pathlib.Path(self.env.srcdir) / "generated" / "recipes"
        out.mkdir(parents=True, exist_ok=True)
        example.figure(result).savefig(out / "depth.png", dpi=90)
        lines = [
            "Each projection's standard deviation per block, 12 blocks of width 256 "
            "(``python examples/recipe_depth.py``):",
            "",
            ".. figure:: /generated/recipes/depth.png",
            "   :alt: per-block standard deviation under gpt2, llama and llama depth_init",
            "   :width: 100%",
            "",
        ]
        return _parse(self, lines)


class ActivationsDirective(SphinxDirective):
    """``.. anyinit-activations::``: run ``examples/activations.py`` and show its figures."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"backend": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        backend = self.options.get("backend", "numpy")
        example = _example("activations")
        result = example.run(backend)
        out = pathlib.Path(self.env.srcdir) / "generated" / "activations"
        out.mkdir(parents=True, exist_ok=True)
        lines = [
            "Standard deviation of each layer's activations "
            f"(``python examples/activations.py --backend {backend}``):",
            "",
            ".. code-block:: text",
            "",
            *("   " + line for line in example.summary(result).splitlines()),
            "",
        ]
        for activation, by_init in result.items():
            path = out / f"{activation}_{backend}.png"
            example.figure(activation, by_init, backend).savefig(path, dpi=90)
            lines += [
                f".. figure:: /generated/activations/{path.name}",
                f"   :alt: {activation} activations per layer for four initializations",
                "   :width: 100%",
                "",
                f"   {activation}: one row per initialization, one column per layer.",
                "",
            ]
        return _parse(self, lines)


class DiagnoseDirective(SphinxDirective):
    """``.. anyinit-diagnose::``: run ``examples/diagnose_models.py``, show its tables and
    figures, and check each figure (one panel per layer and the std by depth, drawn)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        import numpy as np
        from matplotlib.image import imread

        example = _example("diagnose_models")
        out = pathlib.Path(self.env.srcdir) / "generated" / "diagnose"
        out.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        for index, (title, report) in enumerate(example.run().items()):
            path = out / f"report_{index}.png"
            figure = report.plot(path)
            pixels = imread(path)
            if len(figure.axes) != len(report) + 1 or float(np.std(pixels[..., :3])) < 0.05:
                msg = f"the figure of {title!r} is not one drawn panel per layer plus the depth"
                raise RuntimeError(msg)
            lines += [
                f"**{title}**",
                "",
                ".. code-block:: text",
                "",
                *("   " + line for line in str(report).splitlines()[1:]),
                "",
                f".. figure:: /generated/diagnose/{path.name}",
                f"   :alt: {title}: the output histogram of each layer, and the std by depth",
                "   :width: 100%",
                "",
            ]
        return _parse(self, lines)


def _example(name: str) -> Any:
    """``examples/<name>.py``, loaded as a module (the examples are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


def _parse(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    container = nodes.section()
    container.document = directive.state.document
    nested_parse_with_titles(directive.state, StringList(lines, source="anyinit_docs"), container)
    return list(container.children)


def check_every_public_name_is_documented(app: Sphinx, env: Any) -> None:
    """Warn (an error under ``-W``) for a public name without its reference entry."""
    documented = set(env.get_domain("py").objects)
    for name in anyinit.__all__:
        if name != "__version__" and f"anyinit.{name}" not in documented:
            LOGGER.warning("anyinit.%s is public but has no entry in the API reference", name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("anyinit-gallery", GalleryDirective)
    app.add_directive("anyinit-activations", ActivationsDirective)
    app.add_directive("anyinit-recipe-depth", RecipeDepthDirective)
    app.add_directive("anyinit-diagnose", DiagnoseDirective)
    app.connect("env-check-consistency", check_every_public_name_is_documented)
    return {"version": anyinit.__version__, "parallel_read_safe": True}
