"""Checks on the import structure of a package, read with :mod:`ast` only.

Three rules, each a function that returns its findings as lines of text:

- :func:`import_cycles`: no cycle in the graph of imports between the
  package's modules;
- :func:`upward_references`: no module of a lower layer names a module of a
  higher one, in an import or in a string (``importlib.import_module``);
- :func:`private_imports`: no ``from module import _name`` of a private name
  defined in another module of the package (a private *module* may be imported).

Every import statement counts, wherever it stands: at module level, inside a
function, under ``if TYPE_CHECKING:``. A relative import is resolved to an
absolute module name; ``from package import name`` imports the submodule
``package.name`` when that module exists, and otherwise the package itself.
Importing a package is an edge to its ``__init__`` and to nothing else (the
parent packages Python also runs first are left out: they are loaded before
any of their children and so close no cycle of their own).

The module needs nothing but the standard library and runs as a script::

    python tests/support/architecture_check.py src/dicomnp

which prints one line per finding, then a summary line, and exits with status
1 when there is a finding.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The layers of dicomnp that the decoding layer must not reach, relative to
#: the package: everything built on ``decode/``.
DICOMNP_UPPER = (
    "normalize",
    "volume",
    "_api",
    "dask_io",
    "batch",
    "cli",
    "_display",
    "dicomweb",
    "server",
    "demo",
    "__main__",
)


@dataclass(frozen=True)
class Module:
    """One parsed source file of the package.

    Attributes
    ----------
    name : str
        The absolute module name, ``dicomnp.cli`` for ``dicomnp/cli/__init__.py``.
    path : str
        The file: the package directory as given to :func:`load_package`,
        joined with the file's path inside it.
    is_package : bool
        Whether the file is a package's ``__init__.py``.
    tree : ast.Module
        The parsed source.
    """

    name: str
    path: str
    is_package: bool
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package that relative imports in this module start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    """One imported module, or one name imported from a module.

    Attributes
    ----------
    importer : Module
        The module that holds the import statement.
    target : str
        The absolute name of the imported module.
    name : str or None
        For ``from target import name`` where ``name`` is not a submodule,
        that name; otherwise None.
    line : int
        The line of the import statement.
    """

    importer: Module
    target: str
    name: str | None
    line: int

    @property
    def where(self) -> str:
        """``path:line`` of the statement."""
        return f"{self.importer.path}:{self.line}"


def load_package(root: Path) -> dict[str, Module]:
    """Parse every ``.py`` file under the package directory ``root``.

    Parameters
    ----------
    root : Path
        The package directory (``src/dicomnp``); its name is the package name.

    Returns
    -------
    dict of str to Module
        The modules by absolute name, sorted by name.
    """
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[name] = Module(name, path.as_posix(), is_package, tree)
    return dict(sorted(modules.items()))


def _absolute(module: Module, level: int, name: str | None) -> str:
    """The absolute module name of ``from <level dots><name> import ...``."""
    if level == 0:
        return name or ""
    parts = module.package.split(".")
    if level - 1 >= len(parts):
        raise ValueError(f"{module.path}: relative import beyond the top-level package")
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(module: Module, modules: Mapping[str, Module]) -> list[Import]:
    """Every import in ``module``, at any depth, in source order.

    Parameters
    ----------
    module : Module
        The importing module.
    modules : mapping of str to Module
        All modules of the package, to tell a submodule from a name.

    Returns
    -------
    list of Import
        One entry per imported module or name, external modules included.
    """
    found: list[Import] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append(Import(module, submodule, None, node.lineno))
                else:
                    name = None if alias.name == "*" else alias.name
                    found.append(Import(module, base, name, node.lineno))
    found.sort(key=lambda item: item.line)
    return found


def _internal(target: str, modules: Mapping[str, Module]) -> str | None:
    """The package module that importing ``target`` runs, if any."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def import_graph(modules: Mapping[str, Module]) -> dict[str, dict[str, list[Import]]]:
    """The imports between the package's modules.

    Parameters
    ----------
    modules : mapping of str to Module
        The package, as :func:`load_package` returns it.

    Returns
    -------
    dict of str to dict of str to list of Import
        For each module, the modules it imports and the statements that do,
        a module importing itself left out.
    """
    graph: dict[str, dict[str, list[Import]]] = {name: {} for name in modules}
    for name, module in modules.items():
        for item in imports_of(module, modules):
            target = _internal(item.target, modules)
            if target is not None and target != name:
                graph[name].setdefault(target, []).append(item)
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` (Tarjan, without recursion).

    Parameters
    ----------
    graph : mapping of str to iterable of str
        Each node's successors; every successor is a key.

    Returns
    -------
    list of list of str
        Each component's nodes sorted, the components sorted by first node.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph[successor])))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return sorted(components)


def _shortest_path(
    graph: Mapping[str, Iterable[str]], start: str, goal: str, within: set[str]
) -> list[str]:
    """The nodes of a shortest path from ``start`` to ``goal`` inside ``within``."""
    previous: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [goal]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for successor in sorted(graph[node]):
            if successor in within and successor not in seen:
                seen.add(successor)
                previous[successor] = node
                queue.append(successor)
    raise ValueError(f"no path from {start} to {goal}")


def _edges(cycle: Sequence[str]) -> list[tuple[str, str]]:
    """The edges of ``cycle``, the one back to its first node included."""
    return list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))


def cycles_in(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Import cycles that together use every edge that lies on a cycle.

    For each edge inside a strongly connected component not yet shown, the
    shortest cycle through it; so each cycle found is listed, without listing
    the (possibly many) combinations of them.

    Parameters
    ----------
    graph : mapping of str to iterable of str
        Each node's successors; every successor is a key.

    Returns
    -------
    list of list of str
        Each cycle as its nodes in import order, starting from its smallest
        node and without repeating it at the end.
    """
    cycles: list[list[str]] = []
    for component in strongly_connected(graph):
        members = set(component)
        if len(members) == 1:
            continue
        covered: set[tuple[str, str]] = set()
        for node in component:
            for successor in sorted(graph[node]):
                if successor not in members or (node, successor) in covered:
                    continue
                cycle = [node, *_shortest_path(graph, successor, node, members)[:-1]]
                covered.update(_edges(cycle))
                first = cycle.index(min(cycle))
                cycles.append(cycle[first:] + cycle[:first])
    return cycles


def import_cycles(modules: Mapping[str, Module]) -> list[str]:
    """One line per import cycle among the package's modules.

    Parameters
    ----------
    modules : mapping of str to Module
        The package, as :func:`load_package` returns it.

    Returns
    -------
    list of str
        ``cycle: a -> b -> a (a.py:3 imports b, b.py:9 imports a)`` for each
        cycle of :func:`cycles_in`.
    """
    graph = import_graph(modules)
    findings: list[str] = []
    for cycle in cycles_in(graph):
        where = ", ".join(f"{_lines(graph[a][b])} imports {b}" for a, b in _edges(cycle))
        findings.append(f"cycle: {' -> '.join([*cycle, cycle[0]])} ({where})")
    return findings


def _lines(statements: Sequence[Import]) -> str:
    """``path:line,line`` of import statements in one module."""
    lines = sorted({item.line for item in statements})
    return f"{statements[0].importer.path}:{','.join(map(str, lines))}"


def _strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of every string constant in ``tree`` but the docstrings."""
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if isinstance(node.value, str):
            yield node.lineno, node.value


def _within(name: str, packages: Sequence[str]) -> bool:
    """Whether module ``name`` is one of ``packages`` or inside one of them."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def upward_references(modules: Mapping[str, Module], lower: str, upper: Sequence[str]) -> list[str]:
    """One line per place where a module of layer ``lower`` names a higher layer.

    An import of a module in ``upper`` (or inside it) is a finding, and so is
    a string constant, other than a docstring, that names one, such as
    ``importlib.import_module("dicomnp.normalize.tasks")`` or a relative name
    passed to ``import_module``.

    Parameters
    ----------
    modules : mapping of str to Module
        The package, as :func:`load_package` returns it.
    lower : str
        The lower layer: a module or package name, ``dicomnp.decode``.
    upper : sequence of str
        The higher layers, absolute module or package names.

    Returns
    -------
    list of str
        ``path:line: <what> names <module>`` for each reference.
    """
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(name) for name in upper) + r")(?![\w])"
    )
    findings: list[str] = []
    for name, module in modules.items():
        if _within(name, [lower]):
            found = sorted(_references(module, modules, upper, pattern))
            findings.extend(f"{module.path}:{line}: {name} {what}" for line, what in found)
    return findings


def _references(
    module: Module, modules: Mapping[str, Module], upper: Sequence[str], pattern: re.Pattern[str]
) -> Iterator[tuple[int, str]]:
    """``(line, what)`` for each place in ``module`` that names a module in ``upper``."""
    for item in imports_of(module, modules):
        if _within(item.target, upper):
            yield item.line, f"imports {item.target}"
    for call in ast.walk(module.tree):
        if isinstance(call, ast.Call) and _is_import_module(call.func) and call.args:
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                level = len(first.value) - len(first.value.lstrip("."))
                target = _absolute(module, level, first.value[level:] or None) if level else ""
                if level and _within(target, upper):
                    yield call.lineno, f"imports {target} by name"
    for line, text in _strings(module.tree):
        for match in pattern.finditer(text):
            yield line, f"names {match.group(1)} in a string"


def _is_import_module(func: ast.expr) -> bool:
    """Whether a call's function is ``import_module`` or ``__import__``."""
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in {"import_module", "__import__"}


def is_private(name: str) -> bool:
    """Whether ``name`` is private: one leading underscore, not a dunder."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(modules: Mapping[str, Module]) -> list[str]:
    """One line per private name imported from another module of the package.

    ``from module import _name`` is a finding when ``_name`` is defined in
    ``module``; importing a private module (``from . import _source``,
    ``from ._source import open_source``) is not. Names imported from modules
    outside the package are not checked.

    Parameters
    ----------
    modules : mapping of str to Module
        The package, as :func:`load_package` returns it.

    Returns
    -------
    list of str
        ``path:line: <importer> imports _name from <module>`` for each one.
    """
    findings: list[str] = []
    for name, module in modules.items():
        for item in imports_of(module, modules):
            if item.name is not None and is_private(item.name) and item.target in modules:
                findings.append(f"{item.where}: {name} imports {item.name} from {item.target}")
    return findings


def check(root: Path) -> tuple[list[str], list[str], list[str]]:
    """Run the three checks on the package directory ``root``.

    Parameters
    ----------
    root : Path
        The package directory, such as ``src/dicomnp``.

    Returns
    -------
    tuple of three lists of str
        The import cycles, the upward references from ``<package>.decode``
        and the private imports.
    """
    modules = load_package(root)
    package = root.name
    upper = [f"{package}.{name}" for name in DICOMNP_UPPER]
    return (
        import_cycles(modules),
        upward_references(modules, f"{package}.decode", upper),
        private_imports(modules),
    )


def main(argv: Sequence[str]) -> int:
    """Print the findings for the package directory ``argv[0]``; 1 if any.

    Parameters
    ----------
    argv : sequence of str
        The command-line arguments after the program name.

    Returns
    -------
    int
        The exit status.
    """
    if len(argv) != 1 or not Path(argv[0], "__init__.py").is_file():
        print("usage: architecture_check.py PACKAGE_DIRECTORY", file=sys.stderr)
        return 2
    cycles, upward, private = check(Path(argv[0]))
    for line in [*cycles, *upward, *private]:
        print(line)
    print(
        f"cycles: {len(cycles)}, upward references from decode: {len(upward)}, "
        f"private imports: {len(private)}"
    )
    return 1 if cycles or upward or private else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
