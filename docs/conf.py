"""Sphinx configuration for the dicomnp documentation.

Builds offline (no intersphinx): ``sphinx-build -W -b html docs docs/_build/html``.
The transfer syntax table is generated from ``dicomnp._syntaxes`` at build
time, so the conformance page cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import dicomnp  # noqa: E402
from dicomnp._syntaxes import _TABLE, Codec, Lossiness  # noqa: E402

project = "dicomnp"
author = "The dicomnp developers"
copyright = "The dicomnp developers"  # noqa: A001
release = version = dicomnp.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc"]
exclude_patterns = ["_build", "_generated/*.inc"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_theme = "alabaster"
html_title = f"dicomnp {release}"
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc sections give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
suppress_warnings: list[str] = []

_STATUS = {
    Codec.NATIVE: "decoded",
    Codec.ENCAPSULATED_NATIVE: "decoded",
    Codec.DEFLATE: "decoded (zlib)",
    Codec.RLE: "decoded (pylibjpeg-rle)",
    Codec.JPEG: "decoded (pylibjpeg-libjpeg)",
    Codec.JPEG_LS: "decoded (pylibjpeg-libjpeg)",
    Codec.JPEG_2000: "decoded (pylibjpeg-openjpeg)",
    Codec.NONE: "refused: UnsupportedTransferSyntaxError",
}
_LOSSY = {
    Lossiness.LOSSLESS: "lossless",
    Lossiness.LOSSY: "lossy: refused unless ``allow_lossy``",
    Lossiness.EITHER: "lossy unless Lossy Image Compression is 00",
}


def _syntax_table() -> str:
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 40 15 15",
        "",
        "   * - UID",
        "     - name",
        "     - status",
        "     - lossy (rule R6)",
    ]
    for syntax in _TABLE:
        status = _STATUS[syntax.codec]
        if syntax.no_pixel_data:
            status = "refused: pixel data referenced, not held"
        lines += [
            f"   * - ``{syntax.uid}``",
            f"     - {syntax.name}",
            f"     - {status}",
            f"     - {_LOSSY[syntax.lossiness]}",
        ]
    return "\n".join(lines) + "\n"


(HERE / "_generated").mkdir(exist_ok=True)
_target = HERE / "_generated" / "syntaxes.inc"
_text = _syntax_table()
if not _target.exists() or _target.read_text() != _text:
    _target.write_text(_text)
