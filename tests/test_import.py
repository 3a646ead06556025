"""Importing dicomnp loads no codec package and not pydicom; the public API is complete."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dicomnp

HEAVY = (
    "pydicom",
    "numpy",
    "pylibjpeg",
    "libjpeg",
    "openjpeg",
    "rle",
    "jpeg_ls",
    "gdcm",
    "imagecodecs",
)


def test_import_loads_no_codec_and_no_pydicom() -> None:
    probe = "import sys, dicomnp; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "dicomnp" in loaded
    assert [name for name in HEAVY if name in loaded] == []


def test_every_public_name_resolves() -> None:
    for name in dicomnp.__all__:
        assert getattr(dicomnp, name) is not None, name
    assert set(dicomnp.__all__) <= set(dir(dicomnp))


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = dicomnp.no_such_name
