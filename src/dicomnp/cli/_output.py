"""The command's names for the writer, which lives in :mod:`dicomnp._writer`.

``dicomnp convert`` and :mod:`dicomnp.batch` share one writer (formats,
output names, atomic writes); this module keeps the names the command
imported from here.
"""

from __future__ import annotations

from .._writer import (
    FORMATS,
    Converted,
    OutputError,
    format_of,
    header_json,
    nibabel_available,
    strip_format,
    write,
)

__all__ = [
    "FORMATS",
    "Converted",
    "OutputError",
    "format_of",
    "header_json",
    "nibabel_available",
    "strip_format",
    "write",
]
