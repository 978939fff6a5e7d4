"""Sphinx configuration of the sklearn-semg documentation.

Build from the repository root (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

or ``make -C docs html``. The examples of ``examples/`` are executed during the
build by Sphinx-Gallery; the environment variable ``SKLEARN_SEMG_DOCS_EXAMPLES``
chooses how:

``quick`` (default)
    Run every example with ``SKLEARN_SEMG_EXAMPLE_QUICK=1``: small data and few
    epochs, the whole gallery in about a minute or two.
``full``
    Run the examples at their full size (several minutes).
``none``
    Do not run them: the gallery shows the code without outputs or figures.

An example that needs the real recordings of ``../shared/data`` (or of
``SKLEARN_SEMG_SHARED_DATA``) is only executed when they are present.
"""

import doctest
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the source tree next to this file, installed or not.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "sphinxext"))

import sklearn_semg  # noqa: E402

# -- Project information -------------------------------------------------------

project = "sklearn-semg"
author = "sklearn-semg developers"
copyright = "sklearn-semg developers, BSD-3-Clause"
release = sklearn_semg.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "sphinxext",
]
root_doc = "index"
default_role = "literal"
# Every cross-reference must resolve (see ``nitpick_ignore_regex`` below).
nitpicky = True

# ``make doctest`` (``-b doctest``) runs the docstring examples as rendered,
# with the flags the test suite uses (pyproject.toml, minus pytest's NUMBER).
doctest_default_flags = (
    doctest.ELLIPSIS
    | doctest.NORMALIZE_WHITESPACE
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
)

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
autodoc_mock_imports = []
# numpydoc: autosummary pages list the members themselves.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Third-party objects cannot be linked without network access (intersphinx
# needs to download their inventories): references to them are plain text.
# Set SKLEARN_SEMG_DOCS_INTERSPHINX=1 on a machine with network access to link
# them instead.
_THIRD_PARTY = (
    "numpy",
    "np",
    "scipy",
    "sklearn",
    "torch",
    "skorch",
    "pandas",
    "joblib",
    "matplotlib",
    "PyEMD",
    "tqdm",
    "pathlib",
    "os",
    "python",
)
nitpick_ignore_regex = [
    ("py:.*", rf"({'|'.join(_THIRD_PARTY)})(\..*)?"),
]
# References inside docstrings inherited from third-party classes: the
# metadata-routing methods of scikit-learn (``set_fit_request``...) and
# ``torch.nn.Module.forward``.
nitpick_ignore = [
    ("std:term", "meta-estimator"),
    ("std:ref", "metadata_routing"),
    ("py:class", "Module"),
]
if os.environ.get("SKLEARN_SEMG_DOCS_INTERSPHINX", "0") not in ("", "0"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
    nitpick_ignore_regex = []


def _lookup(name):
    """The object a dotted name imports, or None."""
    import importlib

    module_name, _, attr = name.rpartition(".")
    while module_name:
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            attr = f"{head}.{attr}"
            continue
        for part in attr.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


def _documented_name(env, target):
    """The documented name of the sklearn_semg object ``target`` names, or None.

    Public classes and functions are documented once, under their shortest
    public name (``sklearn_semg.HHTCNNClassifier``); docstrings may also name
    them through the sub-package that re-exports them
    (``sklearn_semg.nn.HHTCNNClassifier``). Both import the same object, so the
    reference goes to its one page. Names that do not import, or import
    something that is not documented, stay unresolved (and warn).
    """
    objects = env.get_domain("py").objects
    if target in objects:
        return target
    obj = _lookup(target)
    if obj is None or isinstance(obj, (str, int, float, tuple)):
        return None
    for name, entry in objects.items():
        if (
            name.startswith("sklearn_semg.")
            and not entry.aliased
            and _lookup(name) is obj
        ):
            return name
    return None


def _resolve_reexports(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    candidates = [target]
    if node.get("py:module") and not target.startswith("sklearn_semg."):
        # a name relative to the module being documented, e.g. in the
        # docstring of sklearn_semg.nn: :class:`HHTCNNClassifier`
        candidates.insert(0, f"{node['py:module']}.{target}")
    for candidate in candidates:
        if not candidate.startswith("sklearn_semg."):
            continue
        name = _documented_name(env, candidate)
        if name is not None:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
            )
    return None


def _constant_docs(app, what, name, obj, options, lines):
    """Document a re-exported constant by its ``#:`` comment, not its type's.

    autodoc reads ``#:`` comments only in the module a name is documented
    under; the public constants are defined in private modules and
    re-exported, so autodoc would show the docstring of ``tuple`` or ``int``.
    """
    if what != "data" or not name.startswith("sklearn_semg."):
        return
    import importlib
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer

    attr = name.rpartition(".")[2]
    package = importlib.import_module("sklearn_semg")
    for info in pkgutil.walk_packages(package.__path__, "sklearn_semg."):
        module = importlib.import_module(info.name)
        if attr not in vars(module) or vars(module)[attr] is not obj:
            continue
        docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        if ("", attr) in docs:
            lines[:] = list(docs[("", attr)])
            return
    lines[:] = []  # no comment anywhere: better nothing than the type's doc


#: Modules with an ``__all__`` that are not library API.
NOT_API = set()  # modules of the package that are not API


def _check_api_coverage(app, env):
    """Warn about every public name (in an ``__all__``) missing from api.rst."""
    import importlib
    import pkgutil

    from sphinx.util import logging

    logger = logging.getLogger("sklearn_semg.api")
    package = importlib.import_module("sklearn_semg")
    modules = [package] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, "sklearn_semg.")
        if not any(part.startswith("_") for part in info.name.split("."))
        and info.name not in NOT_API
    ]
    documented = {
        name
        for name, entry in env.get_domain("py").objects.items()
        if entry.objtype != "module" and not entry.aliased
    }
    documented_objects = [_lookup(name) for name in documented]
    for module in modules:
        for attr in getattr(module, "__all__", []):
            if attr.startswith("__"):
                continue
            name = f"{module.__name__}.{attr}"
            obj = getattr(module, attr)
            if name in documented or any(obj is o for o in documented_objects):
                continue
            logger.warning(
                "%s is public (in the __all__ of %s) but not in docs/api.rst",
                name,
                module.__name__,
            )


def _check_output(app, exception):
    """Fail the build when it wrote no site (a build that exits 0 without
    HTML went unnoticed once)."""
    if exception is not None or app.builder.format != "html":
        return
    pages = ["index.html", "api.html"]
    if _EXAMPLES_MODE != "none":
        pages.append("auto_examples/index.html")
    missing = [page for page in pages if not (Path(app.outdir) / page).is_file()]
    if missing:
        raise RuntimeError(
            f"The documentation build wrote no {', '.join(missing)} in "
            f"{app.outdir}; nothing usable was built."
        )


def setup(app):
    app.connect("build-finished", _check_output)
    app.connect("missing-reference", _resolve_reexports)
    app.connect("autodoc-process-docstring", _constant_docs)
    app.connect("env-check-consistency", _check_api_coverage)
    # before numpydoc (priority 500) reformats the docstring


# -- Sphinx-Gallery ----------------------------------------------------------

_EXAMPLES_MODE = os.environ.get("SKLEARN_SEMG_DOCS_EXAMPLES", "quick").lower()
if _EXAMPLES_MODE not in ("quick", "full", "none"):
    raise ValueError(
        "SKLEARN_SEMG_DOCS_EXAMPLES must be 'quick', 'full' or 'none'; got "
        f"{_EXAMPLES_MODE!r}."
    )
if _EXAMPLES_MODE == "quick":
    os.environ["SKLEARN_SEMG_EXAMPLE_QUICK"] = "1"
    # The quick examples train tiny networks: one torch thread is the fastest
    # and does not fight over the cores of a busy machine (torch reads this
    # when first imported, which ``import sklearn_semg`` does not do).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
elif _EXAMPLES_MODE == "full":
    os.environ.pop("SKLEARN_SEMG_EXAMPLE_QUICK", None)

_SHARED_DATA = Path(
    os.environ.get("SKLEARN_SEMG_SHARED_DATA", ROOT.parent / "shared" / "data")
)
# Examples that need a sub-folder of the shared data, run only when it exists.
_NEEDS_SHARED = {
    "plot_fatigue_biceps.py": "biceps_fatigue",
    "plot_fatigue_continuous.py": "biceps_fatigue",
    "plot_method1_real_data.py": "muscletracker",
}
_skipped = [
    name for name, sub in _NEEDS_SHARED.items() if not (_SHARED_DATA / sub).is_dir()
]
_sep = re.escape(os.sep)
if _EXAMPLES_MODE == "none":
    _filename_pattern = r"(?!)"  # matches nothing: no example is executed
elif _skipped:
    # the look-ahead stands where the file name starts, so it compares whole
    # names (after "plot_" it compared "fatigue_biceps.py" with
    # "plot_fatigue_biceps.py" and skipped nothing)
    _filename_pattern = (
        _sep + "(?!(" + "|".join(re.escape(n) for n in _skipped) + ")$)plot_"
    )
else:
    _filename_pattern = _sep + "plot_"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": _filename_pattern,
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sklearn_semg",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML output -------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:  # the docs extra is not installed: Sphinx's default theme
    html_theme = "alabaster"
    html_theme_options = {"description": "sEMG classification with scikit-learn"}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "github_url": "https://github.com/sklearn-semg/sklearn-semg",
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
html_title = f"sklearn-semg {release}"
html_static_path = []
html_show_sourcelink = False
