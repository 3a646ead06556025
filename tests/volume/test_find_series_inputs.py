"""find_series on what a user points it at: a DICOMDIR, a folder holding one, one file, nothing."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from pydicom.fileset import FileSet

import dicomnp
import dicomnp.cli
from dicomnp.examples import ct_series, write_ct_series
from support.build import to_bytes
from support.processes import count_forks


def file_set(folder: Path, sizes: tuple[int, ...] = (3, 2)) -> list[str]:
    """Write one CT series per size as a file-set with its DICOMDIR; return the series UIDs."""
    indexed = FileSet()
    uids = []
    for size in sizes:
        series = ct_series(size, 8, 8)
        uids.append(str(series[0].SeriesInstanceUID))
        for dataset in series:
            # What the file-set's patient, study and series records need.
            dataset.PatientID = "P1"
            dataset.StudyDate, dataset.StudyTime, dataset.StudyID = "20260101", "120000", "1"
            dataset.SeriesNumber = len(uids)
            indexed.add(dataset)
    indexed.write(folder)
    indexed._stage["t"].cleanup()  # pydicom's staging folder, else removed with a warning
    return uids


def test_a_dicomdir_is_read_as_the_index_of_its_series(tmp_path: Path) -> None:
    uids = file_set(tmp_path)
    catalog = dicomnp.find_series(tmp_path / "DICOMDIR")
    assert sorted(series.series_instance_uid for series in catalog) == sorted(uids)
    sizes = sorted(len(series.stacks[0].files) for series in catalog)
    assert sizes == [2, 3]
    assert catalog.skipped == ()
    volume = dicomnp.combine_series(
        next(s for s in catalog if s.series_instance_uid == uids[0]).stacks[0]
    )
    assert volume.array.shape[0] == 3


def test_a_file_the_dicomdir_lists_but_the_folder_lacks_is_named(tmp_path: Path) -> None:
    file_set(tmp_path)
    listed = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    listed[0].unlink()
    for where in (tmp_path / "DICOMDIR", tmp_path):
        catalog = dicomnp.find_series(where)
        assert catalog.skipped == ((str(listed[0]), "listed in the DICOMDIR but absent"),)
        assert sum(len(stack.files) for s in catalog for stack in s.stacks) == 4


def test_a_dicomdir_read_as_an_image_says_what_it_is(tmp_path: Path) -> None:
    file_set(tmp_path)
    with pytest.raises(dicomnp.NoPixelDataError, match=r"it is a DICOMDIR.*find_series"):
        dicomnp.read(tmp_path / "DICOMDIR")


def test_the_command_reads_a_dicomdir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file_set(tmp_path)
    assert dicomnp.cli.main(["info", str(tmp_path / "DICOMDIR")]) == 0
    assert "2 series" in capsys.readouterr().out


def test_a_missing_folder_raises(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(FileNotFoundError, match=r"folder: no such folder or file") as caught:
        dicomnp.find_series(missing)
    assert isinstance(caught.value, dicomnp.SourceNotFoundError)
    assert caught.value.filename == os.fspath(missing)


def test_one_file_is_a_catalog_of_its_series(tmp_path: Path) -> None:
    path = tmp_path / "one.dcm"
    path.write_bytes(to_bytes(ct_series(1, 8, 8)[0]))
    catalog = dicomnp.find_series(path)
    assert len(catalog) == 1
    assert catalog[0].stacks[0].files == (str(path),)


def test_a_folder_given_to_to_array_points_to_combine_series(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=2, rows=4, columns=4)
    for call in (dicomnp.to_array, dicomnp.read):
        with pytest.raises(dicomnp.NotDicomError, match=r"is a folder.*combine_series\(folder\)"):
            call(tmp_path)


def test_no_images_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not DICOM")
    with pytest.raises(
        dicomnp.SeriesError, match=rf"no DICOM images found in {re.escape(str(tmp_path))} \(1 file"
    ):
        dicomnp.combine_series(tmp_path)
    with pytest.raises(dicomnp.SeriesError, match="no DICOM images found: no sources given"):
        dicomnp.combine_series([])


@pytest.mark.parametrize("slices", [2, 60])
def test_reprs_stay_short_however_many_files(tmp_path: Path, slices: int) -> None:
    write_ct_series(tmp_path, slices=slices, rows=4, columns=4)
    catalog = dicomnp.find_series(tmp_path)
    volume = dicomnp.combine_series(catalog[0].stacks[0], padding="mask")
    shown = {
        "catalog": repr(catalog),
        "series": repr(catalog[0]),
        "stack": repr(catalog[0].stacks[0]),
        "volume": repr(volume),
        "header": repr(volume.header),
    }
    for what, text in shown.items():
        assert len(text) < 2048, (what, len(text))
    assert f"{slices} image file(s)" in shown["catalog"]
    assert f"array=<({slices}, 4, 4, 1) uint16>" in shown["volume"]
    if slices == 60:
        assert "files=<60 items>" in shown["header"]


def test_a_damaged_dicomdir_in_a_folder_is_skipped_and_the_folder_read(tmp_path: Path) -> None:
    file_set(tmp_path, (4,))
    index = tmp_path / "DICOMDIR"
    index.write_bytes(index.read_bytes()[:400])
    catalog = dicomnp.find_series(tmp_path)
    assert catalog[0].stacks[0].describe().startswith("4 slice(s) of 8x8")
    assert [Path(name).name for name, _ in catalog.skipped] == ["DICOMDIR"]
    with pytest.raises(dicomnp.NotDicomError, match="DICOMDIR"):
        dicomnp.find_series(index)  # given itself, the index must be read


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_reading_in_forked_processes_finds_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ct_series(tmp_path / "a", 7, 8, 8)
    write_ct_series(tmp_path / "b", 5, 8, 8)
    (tmp_path / "a" / "notes.txt").write_text("not DICOM")
    cut = (tmp_path / "b").glob("*.dcm").__next__()
    cut.write_bytes(cut.read_bytes()[:200])  # a DICOM file cut inside its header
    serial = dicomnp.find_series(tmp_path, workers=1)
    forks = count_forks(monkeypatch)
    for workers in (2, 3):
        forked = dicomnp.find_series(tmp_path, workers=workers)
        assert forked.summary() == serial.summary()
        assert forked.skipped == serial.skipped
        assert forked.unreadable == serial.unreadable
        assert [s.stacks[0].files for s in forked] == [s.stacks[0].files for s in serial]
    assert len(forks) == 3  # one copy, then two
    assert len(serial.unreadable) == 1
    assert str(cut) in serial.unreadable[0][0]
    assert [len(s.stacks[0].files) for s in serial] == [7, 4]
