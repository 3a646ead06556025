"""The import structure of dicomnp: no cycle, no upward reference from decode/, no private import.

The source is read with :mod:`ast` (see :mod:`support.architecture_check`, also
runnable as a script); nothing of dicomnp is imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.architecture_check import (
    DICOMNP_UPPER,
    Module,
    import_cycles,
    import_graph,
    load_package,
    main,
    private_imports,
    upward_references,
)

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dicomnp"


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return load_package(PACKAGE)


def _report(findings: list[str]) -> str:
    return "\n".join([f"{len(findings)} finding(s):", *findings])


def test_no_import_cycle(modules: dict[str, Module]) -> None:
    cycles = import_cycles(modules)
    assert cycles == [], _report(cycles)


def test_decode_names_no_upper_layer(modules: dict[str, Module]) -> None:
    upper = [f"dicomnp.{name}" for name in DICOMNP_UPPER]
    found = upward_references(modules, "dicomnp.decode", upper)
    assert found == [], _report(found)


def test_no_private_name_is_imported_from_another_module(modules: dict[str, Module]) -> None:
    found = private_imports(modules)
    assert found == [], _report(found)


# The checks themselves, on small packages written for the purpose.


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_package(root)


def test_the_package_under_test_is_found(modules: dict[str, Module]) -> None:
    assert {"dicomnp", "dicomnp.decode", "dicomnp.decode.frames", "dicomnp.cli"} <= set(modules)


def test_relative_imports_resolve_and_submodules_count(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {
            "__init__.py": "from . import a\n",
            "a.py": "from .sub import b\nfrom .sub.b import thing\n",
            "sub/__init__.py": "from .. import a as _a\nfrom ..a import x\n",
            "sub/b.py": "import pkg.a\n",
        },
    )
    graph = import_graph(found)
    assert set(graph["pkg"]) == {"pkg.a"}
    assert set(graph["pkg.a"]) == {"pkg.sub.b"}
    assert set(graph["pkg.sub"]) == {"pkg.a"}
    assert set(graph["pkg.sub.b"]) == {"pkg.a"}


def test_cycles_hidden_in_functions_and_type_checking_are_found(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {
            "__init__.py": "from .a import f\n",
            "a.py": "def f():\n    from . import b\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n",
            "c.py": "from . import f\n",
        },
    )
    assert import_cycles(found) == [
        "cycle: pkg.a -> pkg.b -> pkg.a "
        f"({tmp_path.as_posix()}/pkg/a.py:2 imports pkg.b, "
        f"{tmp_path.as_posix()}/pkg/b.py:3 imports pkg.a)"
    ]


def test_a_submodule_importing_its_package_that_imports_it_is_a_cycle(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {"__init__.py": "from ._impl import run\nHELP = 1\n", "_impl.py": "from . import HELP\n"},
    )
    (cycle,) = import_cycles(found)
    assert cycle.startswith("cycle: pkg -> pkg._impl -> pkg (")


def test_every_cycle_of_a_component_is_reported(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b, c\n",
            "b.py": "from . import a\n",
            "c.py": "from . import a\n",
        },
    )
    heads = [line.split(" (")[0] for line in import_cycles(found)]
    assert heads == ["cycle: pkg.a -> pkg.b -> pkg.a", "cycle: pkg.a -> pkg.c -> pkg.a"]


def test_upward_references_in_imports_and_strings(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {
            "__init__.py": "",
            "top.py": "",
            "low/__init__.py": '"""Not :mod:`pkg.top` in a docstring."""\n',
            "low/a.py": (
                "import importlib\n"
                "def f():\n"
                "    from ..top import x\n"
                "    importlib.import_module('pkg.top')\n"
                "    importlib.import_module('..top', __package__)\n"
                "    return 'pkg.topping'\n"
            ),
        },
    )
    assert upward_references(found, "pkg.low", ["pkg.top"]) == [
        f"{tmp_path.as_posix()}/pkg/low/a.py:3: pkg.low.a imports pkg.top",
        f"{tmp_path.as_posix()}/pkg/low/a.py:4: pkg.low.a names pkg.top in a string",
        f"{tmp_path.as_posix()}/pkg/low/a.py:5: pkg.low.a imports pkg.top by name",
    ]


def test_private_names_but_not_private_modules(tmp_path: Path) -> None:
    found = _package(
        tmp_path,
        {
            "__init__.py": "from . import _impl\nfrom ._impl import run, __doc__\n",
            "_impl.py": "def run(): ...\ndef _helper(): ...\n",
            "user.py": "from ._impl import _helper\nfrom os import _exit\n",
        },
    )
    assert private_imports(found) == [
        f"{tmp_path.as_posix()}/pkg/user.py:1: pkg.user imports _helper from pkg._impl"
    ]


def test_script_prints_findings_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _package(tmp_path, {"__init__.py": "from .a import _x\n", "a.py": "_x = 1\n"})
    assert main([str(tmp_path / "pkg")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "cycles: 0, upward references from decode: 0, private imports: 1"
    assert len(lines) == 2
    assert main([str(tmp_path)]) == 2
