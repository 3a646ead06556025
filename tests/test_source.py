"""A file object given to dicomnp is left where it was found."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.uid import generate_uid

import dicomnp
from dicomnp._source import open_source
from dicomnp.volume.reading import read_headers
from support.build import image_dataset, to_bytes

PREFIX = b"not DICOM: " * 3


def _image() -> tuple[bytes, NDArray[np.uint16]]:
    values = np.arange(64, dtype=np.uint16).reshape(8, 8)
    data = to_bytes(image_dataset(values.tobytes(), rows=8, columns=8, bits_allocated=16))
    return data, values


def test_open_source_leaves_a_file_object_at_the_position_it_found() -> None:
    data, _ = _image()
    stream = io.BytesIO(PREFIX + data)
    stream.seek(len(PREFIX))  # the data set starts here
    with open_source(stream) as opened:
        assert opened.pixel.value_offset > len(PREFIX)
        opened.reader.read(opened.pixel.value_offset, 4)  # reads move the position
    assert stream.tell() == len(PREFIX)


def test_open_source_leaves_the_position_also_when_it_fails() -> None:
    stream = io.BytesIO(b"\0" * 200)
    stream.seek(17)
    with pytest.raises(dicomnp.NotDicomError), open_source(stream):
        pass
    assert stream.tell() == 17


def test_reading_leaves_a_real_file_where_it_was_found(tmp_path: Path) -> None:
    data, values = _image()
    path = tmp_path / "image.dcm"
    path.write_bytes(PREFIX + data)
    with path.open("rb") as handle:
        handle.seek(len(PREFIX))
        image = dicomnp.read(handle)
        assert handle.tell() == len(PREFIX)
        np.testing.assert_array_equal(image.array[..., 0], values)
        np.testing.assert_array_equal(dicomnp.to_array(handle)[..., 0], values)
        assert handle.tell() == len(PREFIX)
        assert len(list(dicomnp.iter_frames(handle))) == 1
        assert handle.tell() == len(PREFIX)
        (header,) = read_headers(handle)
        assert (header.rows, handle.tell()) == (8, len(PREFIX))


def test_a_file_object_is_read_again_from_where_it_was_left() -> None:
    data, values = _image()
    stream = io.BytesIO(data)
    first = dicomnp.to_array(stream)
    second = dicomnp.to_array(stream)  # nothing to seek back first
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first[..., 0], values)
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("sop_class", "modality", "name"),
    [
        ("1.2.840.10008.5.1.4.1.1.481.5", "RTPLAN", "RT Plan Storage"),
        ("1.2.840.10008.5.1.4.1.1.481.3", "RTSTRUCT", "RT Structure Set Storage"),
    ],
)
def test_a_data_set_without_preamble_or_pixels_is_dicom_without_pixels(
    tmp_path: Path, sop_class: str, modality: str, name: str
) -> None:
    dataset = pydicom.Dataset()
    dataset.SOPClassUID = sop_class
    dataset.SOPInstanceUID = generate_uid()
    dataset.Modality = modality
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, dataset, implicit_vr=True, little_endian=True)
    data = buffer.getvalue()
    assert not data.startswith(bytes(128) + b"DICM")  # no preamble, no file meta
    path = tmp_path / "object.dcm"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(dicomnp.NoPixelDataError, match=rf"no pixel data element \({name}\)"):
            dicomnp.read(source)


def test_bytes_that_are_no_data_set_are_still_not_dicom() -> None:
    with pytest.raises(dicomnp.NotDicomError, match="not a DICOM file"):
        dicomnp.read(b"plain text, no tags at all " * 20)
