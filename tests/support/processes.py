"""Which processes this test process has started and not reaped."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def child_pids() -> set[int]:
    """PIDs whose parent is this process, zombies included (Linux ``/proc``).

    Elsewhere the set is empty, and checks built on it pass vacuously.
    """
    me = os.getpid()
    found: set[int] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the fields after the command name: state, parent pid, ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.add(int(entry.name))
    return found


@contextmanager
def leaves_no_processes() -> Iterator[None]:
    """Fail if the block leaves a child process of this one running or unreaped.

    Processes that existed before the block (e.g. a cluster another test
    started) are not counted.
    """
    before = child_pids()
    yield
    left = child_pids() - before
    assert not left, f"processes left behind: {sorted(left)}"


def count_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Let this process fork as if it ran one thread, and note each fork in the list returned.

    Other tests leave idle threads behind, which make dicomnp keep to one
    process; the children forked are noted so a test can tell it shared work.
    """
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    forks: list[int] = []
    fork = os.fork

    def counted() -> int:
        forks.append(1)
        return fork()

    monkeypatch.setattr(os, "fork", counted)
    return forks
