"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.processes import leaves_no_processes


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Fail the test if it leaves a child process of the test process behind."""
    with leaves_no_processes():
        yield
