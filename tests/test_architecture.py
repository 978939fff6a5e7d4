"""The package's import graph: layers, no cycles, no upward imports.

Read from the source (``ast``), so that it covers imports inside functions as
well. The layers, lowest first (see docs/user_guide/architecture.rst): a
module may import from its own layer's sub-package and from lower layers,
never from a higher one, and never from the package above it (``from ..
import x`` or ``import sklearn_semg`` inside the package would import its
``__init__``, and with it everything).
"""

import ast
import collections
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_semg"

#: Sub-packages and top-level modules by layer, lowest first.
LAYERS = [
    {"_version", "utils"},
    {"hht", "preprocessing", "datasets", "_svm"},
    {"features"},
    {"nn"},
    {"pipelines", "persistence", "plotting", "evaluation"},
    {"cli"},
]
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(path):
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _import_source(node, package):
    """The absolute module name a ``from ... import`` in ``package`` reads."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports():
    """``{module: {(imported module, line)}}`` of every module of the package."""
    graph = collections.defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        package = _package_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                prefix = _import_source(node, package)
                targets = [prefix]
                # "from . import x": x may be a module
                targets += [f"{prefix}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target == "sklearn_semg" or target.startswith("sklearn_semg."):
                    graph[name].add((target, node.lineno))
    return graph


def _modules():
    return {_module_name(p) for p in PACKAGE.rglob("*.py")}


def _resolve(target, modules):
    """The module ``target`` names, or its longest existing prefix."""
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def _top(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_sub_package_has_a_layer():
    tops = {_top(m) for m in _modules()} - {None}
    assert tops <= set(LAYER), f"give a layer to {sorted(tops - set(LAYER))}"


def test_no_module_imports_a_higher_layer_or_the_package_above_it():
    modules = _modules()
    bad = []
    for name, targets in _imports().items():
        if name == "sklearn_semg":  # the public face imports down, lazily
            continue
        for target, line in targets:
            target = _resolve(target, modules)
            if target == "sklearn_semg" or name.startswith(target + "."):
                bad.append(f"{name}:{line} imports the package above it, {target}")
            elif LAYER[_top(target)] > LAYER[_top(name)]:
                bad.append(f"{name}:{line} imports {target}, a higher layer")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles():
    modules = _modules()
    graph = {
        name: {_resolve(t, modules) for t, _ in targets} - {name}
        for name, targets in _imports().items()
    }
    # packages import their modules (``__init__``): a module importing its own
    # package's __init__ is reported by the test above, not as a cycle here
    state, path, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(cycles)


#: Modules whose underscore names are meant for the whole package: the shim
#: that re-exports scikit-learn's own private helpers under their names.
SHARED_PRIVATE = {"sklearn_semg.utils._sklearn"}


def _private_names_from_elsewhere(path):
    """``(line, module, name)`` of every ``from X import _name`` in the file
    at ``path`` where X lies in another sub-package (or top-level module)."""
    name, package = _module_name(path), _package_of(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _import_source(node, package)
        if not source.startswith("sklearn_semg.") or source in SHARED_PRIVATE:
            continue
        if _top(source) == _top(name):
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append((node.lineno, source, alias.name))
    return found


def test_no_module_imports_private_names_of_another_sub_package():
    """Shared helpers live in ``_base`` (or other internal) modules under
    public names; a sub-package never reaches for another one's underscore
    names, which that sub-package may change at will."""
    bad = [
        f"{_module_name(path)}:{line} imports {source}.{alias}"
        for path in PACKAGE.rglob("*.py")
        for line, source, alias in _private_names_from_elsewhere(path)
    ]
    assert not bad, "\n".join(sorted(bad))
