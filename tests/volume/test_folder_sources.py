"""Folder URLs and one-shot iterables as series sources: what is read, skipped or refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

import dicomnp
from dicomnp.examples import ct_series

BASIC_TEXT_SR = UID("1.2.840.10008.5.1.4.1.1.88.11")


def _encoded(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _report() -> bytes:
    """A structured report: DICOM, without pixel data, and not an image."""
    sr = Dataset()
    sr.file_meta = FileMetaDataset()
    sr.file_meta.MediaStorageSOPClassUID = sr.SOPClassUID = BASIC_TEXT_SR
    sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID = generate_uid()
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.Modality = "SR"
    sr.SeriesInstanceUID = generate_uid()
    return _encoded(sr)


def test_a_report_in_a_folder_url_is_skipped_not_unreadable() -> None:
    fsspec = pytest.importorskip("fsspec", reason="folder URLs need fsspec (extra 'cloud')")
    memory = fsspec.filesystem("memory")
    root = f"/folder-sources-{generate_uid()}"
    for k, ds in enumerate(ct_series(4, 8, 8)):
        memory.pipe(f"{root}/s{k}.dcm", _encoded(ds))
    memory.pipe(f"{root}/report.dcm", _report())
    catalog = dicomnp.find_series(f"memory://{root}")
    assert catalog.unreadable == ()
    assert any(name.endswith("report.dcm") for name, _ in catalog.skipped)
    assert dicomnp.combine_series(f"memory://{root}").array.shape == (4, 8, 8, 1)


@pytest.mark.parametrize("workers", [1, 2, None])
def test_a_generator_of_sources_is_read_once(tmp_path: Path, workers: int | None) -> None:
    paths = []
    for k, ds in enumerate(ct_series(4, 8, 8)):
        path = tmp_path / f"s{k}.dcm"
        path.write_bytes(_encoded(ds))
        paths.append(path)

    def one_shot() -> Iterator[Path]:
        yield from paths

    volume = dicomnp.combine_series(one_shot(), workers=workers)
    assert volume.array.shape == (4, 8, 8, 1)
