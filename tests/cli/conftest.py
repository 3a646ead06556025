"""Folders of DICOM files for the command-line tests, and a way to run the command."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from dicomnp.cli import main
from support.build import to_bytes
from support.series_build import geometry_series


def write(folder: Path, datasets: list[Dataset], prefix: str = "IM") -> list[Path]:
    """Write ``datasets`` into ``folder`` as ``{prefix}NNN.dcm``, in reverse order of slices."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, ds in reversed(list(enumerate(datasets))):
        path = folder / f"{prefix}{number:03d}.dcm"
        path.write_bytes(to_bytes(ds))
        paths.append(path)
    return paths


def localizer_of(slice_: Dataset) -> Dataset:
    """A coronal localizer in the series of ``slice_``."""
    localizer = copy.deepcopy(slice_)
    localizer.SOPInstanceUID = localizer.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    localizer.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    localizer.ImageOrientationPatient = ["1", "0", "0", "0", "0", "-1"]
    return localizer


@pytest.fixture
def two_series_and_a_localizer(tmp_path: Path) -> Path:
    """An axial series of 5 slices with a localizer among its files, and a second series of 4."""
    folder = tmp_path / "study"
    axial = geometry_series(5, rows=8, columns=6)
    for ds in axial:
        ds.SeriesDescription = "AX HEAD"
    write(folder / "a", [*axial, localizer_of(axial[0])], "A")
    other = geometry_series(4, rows=6, columns=6, spacing=3.0)
    write(folder / "b", other, "B")
    (folder / "README.txt").write_text("not DICOM")
    return folder


@pytest.fixture
def write_datasets() -> Callable[..., list[Path]]:
    """:func:`write`, for tests that build their own series."""
    return write


@dataclass
class Run:
    """What one run of the command gave."""

    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``dicomnp`` in this process with the given arguments."""

    def go(*args: str | Path) -> Run:
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exc:  # argparse: --help, --version and usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return go
