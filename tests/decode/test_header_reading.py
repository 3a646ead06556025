"""A file's header is read from its first 64 KiB held in memory when it ends inside them.

Headers that end near or beyond that boundary are read from the file again:
the result must not depend on where the boundary falls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.uid import UID

import dicomnp
from dicomnp import _source
from support.build import image_dataset, to_bytes

HEAD = _source._HEAD_BYTES


def file_with_header_of(tmp_path: Path, private_bytes: int) -> tuple[Path, NDArray[np.uint16]]:
    """A 16x16 image with a private OB element of ``private_bytes`` before its pixels."""
    values = np.arange(256, dtype=np.uint16).reshape(16, 16)
    dataset = image_dataset(values.tobytes(), rows=16, columns=16, bits_allocated=16)
    # a fixed UID: generated ones vary in length, and so would the header
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = UID("1.2.3.4")
    dataset.add_new(0x00091010, "LO", "DICOMNP TEST")
    dataset.add_new(0x00091100, "OB", b"\x5a" * private_bytes)
    path = tmp_path / f"header_{private_bytes}.dcm"
    path.write_bytes(to_bytes(dataset))
    return path, values


@pytest.mark.parametrize("offset", [-40, -14, -12, -10, -4, 0, 4, 12, 5000, 200_000])
def test_headers_ending_anywhere_near_the_first_read_decode_the_same(
    tmp_path: Path, offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe, _ = file_with_header_of(tmp_path, 0)
    with _source.open_source(probe) as opened:
        tag_at = opened.pixel.value_offset - 12  # where the explicit VR OW element starts
    # the private value grows the header so that the pixel element starts near HEAD
    size = HEAD + offset - tag_at
    path, values = file_with_header_of(tmp_path, size)
    parses: list[object] = []
    real = _source._read_header

    def counted(fp: object, name: str) -> object:
        parses.append(fp)
        return real(fp, name)  # type: ignore[arg-type]

    monkeypatch.setattr(_source, "_read_header", counted)
    with _source.open_source(path) as opened:
        assert opened.pixel.value_offset - 12 == HEAD + offset
        assert bytes(opened.dataset[0x00091100].value) == b"\x5a" * size
    # in memory alone when the pixel element's 12-byte header fits in the first read
    assert len(parses) == (1 if offset <= -12 else 2)
    np.testing.assert_array_equal(dicomnp.to_array(path)[..., 0], values)
    np.testing.assert_array_equal(dicomnp.to_array(path.read_bytes())[..., 0], values)


def test_a_file_shorter_than_the_first_read_is_parsed_from_memory_alone(tmp_path: Path) -> None:
    path, values = file_with_header_of(tmp_path, 10)
    assert path.stat().st_size < HEAD
    np.testing.assert_array_equal(dicomnp.to_array(path)[..., 0], values)
    truncated = tmp_path / "cut.dcm"
    truncated.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(dicomnp.DicomNumpyError, match=r"cut\.dcm"):
        dicomnp.to_array(truncated)
