"""Sphinx configuration for the anyinit documentation.

Sphinx rather than MkDocs: the docstrings are numpydoc, which Sphinx reads
natively (numpydoc, autosummary), and its doctest builder runs the same
examples the reference pages show. The gallery and the activation figures
are drawn by anyinit itself during the build (``_ext/anyinit_docs.py``).
"""

from __future__ import annotations

import doctest
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# The figures sample on every installed CPU backend; keep JAX in float32 and Keras off.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The Keras examples (anyinit.dialects.keras) run on Keras's torch backend.
os.environ.setdefault("KERAS_BACKEND", "torch")

import anyinit  # noqa: E402

project = "anyinit"
author = "the anyinit developers"
copyright = "2026, the anyinit developers"
release = anyinit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "anyinit_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/*.inc"]
templates_path = ["_templates"]
nitpicky = False

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

doctest_global_setup = "import numpy as np\nimport anyinit"
# docs/frameworks.rst runs where Keras, Flax and Equinox are installed (nox -s
# tests-frameworks runs it with pytest); the docs session skips those blocks.
FRAMEWORKS_CHECK = (
    "import importlib.util\n"
    "FRAMEWORKS = all(importlib.util.find_spec(m) for m in ('keras', 'flax', 'equinox', 'torch'))"
)
doctest_global_setup += "\n" + FRAMEWORKS_CHECK
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

intersphinx_mapping = {}  # the build machine has no network

html_theme = "furo"
html_title = f"anyinit {release}"
html_theme_options = {"navigation_with_keys": True}
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]
