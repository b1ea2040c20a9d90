"""The layer rule of the package, read from the source of every module with ``ast``.

virtbook has four layers (``virtbook/figures/__init__.py`` describes them): **cores** (the models),
**figures** (matplotlib drawings of what the cores compute), **widgets** (ipywidgets over a core and
a figure) and **labs** (libvirt scaffolding), plus the book tooling of ``virtbook.booktools``. The
dependencies point one way, notebooks -> widgets -> figures -> cores, so that a model runs and is
tested without a display, a widget library or a hypervisor:

* a core imports neither matplotlib, ipywidgets nor IPython, neither figures nor widgets nor labs,
  and libvirt-python only inside the few functions that talk to libvirt's test driver (it is an
  optional dependency: importing a core never needs it);
* a figure imports neither ipywidgets, widgets, labs nor libvirt;
* a lab imports no widget;
* no import cycle between modules, neither at module level (an import error waiting for the wrong
  import order) nor through imports inside functions (two modules that cannot be understood, or
  moved, one without the other).

Every import statement counts, at module level or inside a function; a module-level import is
one that runs when the module is imported (including those under ``if`` or ``try``).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "virtbook"

#: Book tooling (reads the book's files; draws one figure of the instructor guide).
TOOLING = {"virtbook.booktools"}

#: Functions of cores that may import libvirt-python, where it is called: each reads from or
#: drives libvirt's in-memory test driver for a chapter (2 and 11), and says what it shows
#: without libvirt-python.
LIBVIRT_IN_CORES = {
    ("virtbook.vmconfig", "read_test_driver_domain"),
    ("virtbook.iac", "LibvirtProvider.__init__"),
    ("virtbook.iac", "LibvirtProvider.open"),
    ("virtbook.iac", "libvirt_available"),
}

#: Import cycles allowed for now, as sets of modules: virtbook.labs.vms and virtbook.labs.guest
#: import each other inside functions (another branch is changing both while this is written).
KNOWN_CYCLES = [{"virtbook.labs.guest", "virtbook.labs.vms"}]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer of a virtbook module: core, figures, widgets, labs or tooling."""
    if module == "virtbook.figures" or module.startswith("virtbook.figures."):
        return "figures"
    for name in ("widgets", "labs"):
        if module == f"virtbook.{name}" or module.startswith(f"virtbook.{name}."):
            return name
    if module in TOOLING or module.startswith("virtbook.booktools."):
        return "tooling"
    return "core"


class Import:
    """One imported module name, where it is imported, and whether that runs at import time."""

    def __init__(self, target: str, line: int, function: str | None) -> None:
        self.target, self.line, self.function = target, line, function

    @property
    def module_level(self) -> bool:
        return self.function is None


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> list[Import]:
    """Every module name ``module`` imports, with the function (if any) that imports it.

    ``from P import X`` imports P.X where X is a module of the package, otherwise P. A module's
    own ancestor packages are left out: Python imports them before the module runs, so importing
    from one of them is no cycle.
    """
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, scope: list[str], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, scope + [child.name], True)
                continue
            if isinstance(child, ast.ClassDef):
                visit(child, scope + [child.name], in_function)
                continue
            function = ".".join(scope) if in_function else None
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", child)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append(Import(sub if sub in MODULES else base, child.lineno, function))
            visit(child, scope, in_function)

    ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    if path.name == "__init__.py":
        ancestors.discard(module)

    visit(tree, [], False)
    return [imp for imp in found if imp.target not in ancestors]


IMPORTS = {m: imports(m) for m in MODULES}


def _root_is(target: str, names: tuple[str, ...]) -> bool:
    return any(target == n or target.startswith(n + ".") for n in names)


def _where(module: str, imp: Import) -> str:
    inside = f" in {imp.function}()" if imp.function else ""
    return f"{MODULES[module].relative_to(PACKAGE.parent)}:{imp.line}{inside} imports {imp.target}"


def test_every_module_is_read():
    assert {"virtbook.cpu.engine", "virtbook.figures.style", "virtbook.widgets.cpu",
            "virtbook.labs.errors", "virtbook.kubernetes"} <= set(MODULES)
    assert {layer(m) for m in MODULES} == {"core", "figures", "widgets", "labs", "tooling"}


def _violations(rule) -> list[str]:
    return [_where(m, imp) for m in MODULES for imp in IMPORTS[m] if rule(m, imp)]


def _imports_layer(target: str, *layers: str) -> bool:
    return target.startswith("virtbook") and target in MODULES and layer(target) in layers


def test_cores_import_no_ui_no_figures_and_libvirt_only_where_they_talk_to_libvirt():
    def bad(module: str, imp: Import) -> bool:
        if layer(module) != "core":
            return False
        if _root_is(imp.target, ("matplotlib", "ipywidgets", "IPython", "myst_nb")):
            return True
        if _imports_layer(imp.target, "figures", "widgets", "labs", "tooling"):
            return True
        if _root_is(imp.target, ("libvirt",)):
            return (module, imp.function) not in LIBVIRT_IN_CORES
        return False

    assert _violations(bad) == []


def test_figures_import_no_widgets_no_labs_and_no_libvirt():
    def bad(module: str, imp: Import) -> bool:
        return layer(module) == "figures" and (
            _root_is(imp.target, ("ipywidgets", "libvirt"))
            or _imports_layer(imp.target, "widgets", "labs", "tooling"))

    assert _violations(bad) == []


def test_labs_import_no_widgets():
    def bad(module: str, imp: Import) -> bool:
        return layer(module) == "labs" and (
            _root_is(imp.target, ("ipywidgets",)) or _imports_layer(imp.target, "widgets"))

    assert _violations(bad) == []


def _cycles(module_level_only: bool) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for m in MODULES:
        for imp in IMPORTS[m]:
            if imp.target in MODULES and imp.target != m and (imp.module_level
                                                                or not module_level_only):
                graph[m].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(MODULES):
        if v not in index:
            strongconnect(v)
    return components


def test_no_module_level_import_cycle():
    assert _cycles(module_level_only=True) == []


def test_no_import_cycle_through_imports_inside_functions_but_the_known_one():
    cycles = _cycles(module_level_only=False)
    unknown = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert unknown == []


@pytest.mark.parametrize("cycle", KNOWN_CYCLES, ids=lambda c: " <-> ".join(sorted(c)))
def test_each_known_cycle_still_exists(cycle):
    """An exception that no longer applies is removed from the list, not kept."""
    assert cycle in _cycles(module_level_only=False)


def test_the_rules_catch_what_they_are_for():
    """The checks fail where they should: a core importing matplotlib or a figure, a lab
    importing a widget, two modules importing each other at module level or in a function."""
    fake = {
        "virtbook.cpu.engine": [Import("matplotlib.pyplot", 1, None),
                                Import("virtbook.figures.cpu", 2, "simulate")],
        "virtbook.labs.vms": [Import("virtbook.widgets.cpu", 3, "create")],
        "virtbook.hierarchy": [Import("virtbook.iomodel", 4, None)],
        "virtbook.iomodel": [Import("virtbook.hierarchy", 5, None)],
        "virtbook.lockin": [Import("virtbook.readinglist", 6, "f")],
        "virtbook.readinglist": [Import("virtbook.lockin", 7, "g")],
    }
    globals_ = globals()
    saved = globals_["IMPORTS"]
    globals_["IMPORTS"] = {**IMPORTS, **fake}
    try:
        with pytest.raises(AssertionError):
            test_cores_import_no_ui_no_figures_and_libvirt_only_where_they_talk_to_libvirt()
        with pytest.raises(AssertionError):
            test_labs_import_no_widgets()
        assert {"virtbook.hierarchy", "virtbook.iomodel"} in _cycles(module_level_only=True)
        assert {"virtbook.lockin", "virtbook.readinglist"} in _cycles(module_level_only=False)
        assert {"virtbook.lockin", "virtbook.readinglist"} not in _cycles(module_level_only=True)
    finally:
        globals_["IMPORTS"] = saved


def test_nothing_prints_from_a_core():
    """A core returns what it computes (CONTRIBUTING.md: the cores "print nothing"); a command-line
    entry point (``__main__``) is the one place a core package prints."""
    printing = []
    for module, path in MODULES.items():
        if layer(module) != "core" or module.endswith(".__main__"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        printing += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}" for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                     and node.func.id == "print"]
    assert printing == []
