"""Every public name has a numpydoc docstring with an example (run by --doctest-modules)."""

from __future__ import annotations

import inspect

import pytest

import dicomnp

PUBLIC = [name for name in dicomnp.__all__ if name != "__version__"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_has_a_docstring_with_an_example(name: str) -> None:
    documented = inspect.getdoc(getattr(dicomnp, name)) or ""
    assert documented.strip(), f"dicomnp.{name} has no docstring"
    assert "Examples\n--------\n" in documented, f"dicomnp.{name} has no Examples section"
    assert ">>> " in documented.split("Examples\n--------\n", 1)[1]


def test_the_command_has_a_docstring_with_an_example() -> None:
    from dicomnp.cli import main

    assert ">>> " in (inspect.getdoc(main) or "")
