"""What the ``dicomnp`` command's modules share: exit codes, errors, output helpers.

:mod:`dicomnp.cli` (the parser and ``main``) and :mod:`dicomnp.cli._commands`
(the commands) both import from here, so that neither imports the other's
helpers. Only the standard library is loaded at import time.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "EXIT_DATA",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_LOSSY",
    "EXIT_MISSING",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_USAGE",
    "UsageError",
    "emit",
    "existing_path",
    "exit_code_of",
    "message_of",
    "one_line",
    "print_json",
    "progress_bar",
    "report_error",
    "say",
    "shown",
]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_LOSSY = 3
EXIT_MISSING = 4
EXIT_OUTPUT = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command line that cannot be carried out as written (exit code 2)."""


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, cut to about ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def shown(text: str, encoding: str | None) -> str:
    """``text`` as a stream of ``encoding`` can write it, whatever the locale.

    A file name whose bytes are not text in the file system's encoding holds
    them as surrogate escapes (:func:`os.fsdecode`); they are shown as
    ``\\xNN``. A character the encoding cannot write is shown as an escape
    too, rather than failing.

    Examples
    --------
    >>> shown("sl\\udce9ce.dcm", "utf-8"), shown("slíce.dcm", "ascii")
    ('sl\\\\xe9ce.dcm', 'sl\\\\xedce.dcm')
    """
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    name = encoding or "utf-8"
    return text.encode(name, "backslashreplace").decode(name)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` on ``stream`` (standard output), shown as its encoding can write it."""
    target = stream or sys.stdout
    target.write(shown(text, getattr(target, "encoding", None)))


def report_error(message: str, stream: TextIO | None = None) -> None:
    """Write ``dicomnp: error: <message>`` as one line on ``stream`` (standard error)."""
    emit(f"dicomnp: error: {one_line(message, 2000)}\n", stream or sys.stderr)


def message_of(exc: BaseException) -> str:
    """The message of a known error, in the command's words (its flags, not keyword arguments)."""
    from ..errors import LossyDataError

    if isinstance(exc, OSError) and not isinstance(exc, ValueError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, LossyDataError):
        return str(exc).replace("pass allow_lossy=True", "pass --allow-lossy")
    return str(exc)


def say(text: str) -> None:
    """Write ``text`` on standard output now (as :func:`emit`); a reader that has gone away
    stops no work.

    When the reader of a pipe has closed it (``dicomnp convert ... | head -1``),
    the rest of the output goes to the null device and the command goes on.
    """
    try:
        emit(text)
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())  # also what is left in the buffer at exit
            os.close(null)
        except (OSError, ValueError):  # not a file descriptor (captured output): nothing to do
            pass


def exit_code_of(exc: BaseException) -> int:
    """The exit code of the command that failed with ``exc`` (see :mod:`dicomnp.cli`)."""
    from ..errors import LossyDataError, OutputError

    if isinstance(exc, LossyDataError):
        return EXIT_LOSSY
    if isinstance(exc, OutputError):
        return EXIT_MISSING if exc.missing_package else EXIT_OUTPUT
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, OSError):
        return EXIT_OUTPUT
    return EXIT_DATA


def progress_bar(quiet: bool, description: str, unit: str = "stack") -> Any:
    """A function wrapping an iterable in a tqdm bar on a terminal; None otherwise.

    Silent when ``quiet``, when standard error is not a terminal, or when tqdm
    (the ``progress`` extra) is not installed.
    """
    import importlib.util

    if quiet or not sys.stderr.isatty() or importlib.util.find_spec("tqdm") is None:
        return None
    from tqdm import tqdm

    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        bar: Iterable[Any] = tqdm(items, desc=description, unit=unit, leave=False, file=sys.stderr)
        return bar

    return wrap


def print_json(document: Any) -> None:
    """Print ``document`` as indented JSON on standard output."""
    say(json.dumps(document, indent=2, default=str) + "\n")


def existing_path(text: str) -> Path:
    """``text`` as a path that exists, else a UsageError."""
    path = Path(text)
    if not os.path.exists(path):
        raise UsageError(f"{text}: no such file or folder")
    return path
