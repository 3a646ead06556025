"""A file's header is read from its first bytes held in memory when it ends inside them.

A common header (Part 10, little endian, not deflated) is walked in memory
from the first 64 KiB, or from the first 1 MiB when it runs past them. Any
other is read by pydicom from the first 64 KiB held in memory, or from the
file again when it ends near or beyond them. The result must not depend on
where these boundaries fall.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian

import dicomnp
from dicomnp import _source
from dicomnp._attributes import HeadAttributes, as_dataset
from support.build import image_dataset, to_bytes

HEAD = _source._HEAD_BYTES
LARGE = _source._LARGE_HEAD_BYTES


def file_with_header_of(
    tmp_path: Path, private_bytes: int, syntax: str = ExplicitVRLittleEndian
) -> tuple[Path, NDArray[np.uint16]]:
    """A 16x16 image with a private OB element of ``private_bytes`` before its pixels."""
    values = np.arange(256, dtype=np.uint16).reshape(16, 16)
    stored = values.byteswap() if syntax == ExplicitVRBigEndian else values
    dataset = image_dataset(stored.tobytes(), rows=16, columns=16, bits_allocated=16, syntax=syntax)
    # a fixed UID: generated ones vary in length, and so would the header
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = UID("1.2.3.4")
    dataset.add_new(0x00091010, "LO", "DICOMNP TEST")
    dataset.add_new(0x00091100, "OB", b"\x5a" * private_bytes)
    path = tmp_path / f"header_{private_bytes}.dcm"
    path.write_bytes(to_bytes(dataset))
    return path, values


def _pixel_tag_at(tmp_path: Path, syntax: str) -> int:
    probe, _ = file_with_header_of(tmp_path, 0, syntax)
    with _source.open_source(probe) as opened:
        return opened.pixel.value_offset - 12  # where the explicit VR OW element starts


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records each time pydicom is asked to read a header."""
    seen: list[object] = []
    real = _source._read_header

    def counted(fp: object, name: str) -> object:
        seen.append(fp)
        return real(fp, name)  # type: ignore[arg-type]

    monkeypatch.setattr(_source, "_read_header", counted)
    return seen


@pytest.mark.parametrize("offset", [-40, -14, -12, -10, -4, 0, 4, 12, 5000, 200_000])
def test_headers_read_by_pydicom_ending_near_the_first_read_decode_the_same(
    tmp_path: Path, offset: int, parses: list[object]
) -> None:
    # big endian: a header the walker leaves to pydicom
    size = HEAD + offset - _pixel_tag_at(tmp_path, ExplicitVRBigEndian)
    path, values = file_with_header_of(tmp_path, size, ExplicitVRBigEndian)
    parses.clear()  # only the parses of the file under test count
    with _source.open_source(path) as opened:
        assert opened.pixel.value_offset - 12 == HEAD + offset
        assert bytes(as_dataset(opened.dataset)[0x00091100].value) == b"\x5a" * size
    # in memory alone when the pixel element's 12-byte header fits in the first read
    assert len(parses) == (1 if offset <= -12 else 2)
    np.testing.assert_array_equal(dicomnp.to_array(path)[..., 0], values)
    np.testing.assert_array_equal(dicomnp.to_array(path.read_bytes())[..., 0], values)


@pytest.mark.parametrize(
    "end", [HEAD - 40, HEAD - 12, HEAD - 10, HEAD, HEAD + 5000, LARGE - 12, LARGE - 4, LARGE + 8]
)
def test_headers_walked_in_memory_ending_near_either_read_decode_the_same(
    tmp_path: Path, end: int, parses: list[object]
) -> None:
    size = end - _pixel_tag_at(tmp_path, ExplicitVRLittleEndian)
    path, values = file_with_header_of(tmp_path, size)
    parses.clear()  # only the parses of the file under test count
    with _source.open_source(path) as opened:
        assert opened.pixel.value_offset - 12 == end
        walked = isinstance(opened.dataset, HeadAttributes)
        assert opened.dataset.get("Rows") == 16
    # walked when the pixel element's 12-byte header fits in the second read; else
    # pydicom reads the header in memory, finds it does not fit, and reads the file
    assert walked == (end <= LARGE - 12)
    assert len(parses) == (0 if walked else 2)
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
