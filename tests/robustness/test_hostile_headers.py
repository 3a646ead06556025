"""Crafted element headers are read exactly as pydicom reads them, or refused.

The header walker (``dicomnp._head``) and the pixel element's own header
(``dicomnp._source``) follow pydicom's rule for element headers: a file read
from its bytes gives the values pydicom's Dataset of the same bytes gives.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

import dicomnp
from dicomnp import _source
from dicomnp._attributes import HeadAttributes
from dicomnp.errors import CorruptPixelDataError, InvalidPixelMetadataError, NotDicomError
from support import differential
from support.build import image_dataset, to_bytes
from support.hostile import PIXEL_HEADER, delimiter_spelling_a_long_vr

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_a_delimiter_whose_length_spells_a_long_vr_is_read_as_pydicom_reads_it() -> None:
    data = delimiter_spelling_a_long_vr()
    reference = pydicom.dcmread(io.BytesIO(data))
    assert float(reference.RescaleIntercept) == -1024
    expected = dicomnp.read(reference, values="modality").array
    assert expected.reshape(-1).tolist() == [-1024, -24, 976, 1976]
    np.testing.assert_array_equal(dicomnp.read(data, values="modality").array, expected)
    header = _source._read_header_buffered(io.BytesIO(data), "<test>")
    if isinstance(header, HeadAttributes):  # walked in memory: the same elements as pydicom's
        stopped = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        assert set(header._table) == set(stopped.keys())


def _explicit_with_pixel_vr(vr: bytes) -> tuple[bytes, np.ndarray]:
    pixels = np.arange(64, dtype=np.uint16).reshape(8, 8)
    data = bytearray(
        to_bytes(image_dataset(pixels.tobytes(), rows=8, columns=8, bits_allocated=16))
    )
    at = data.rindex(PIXEL_HEADER + b"OW")
    data[at + 4 : at + 6] = vr
    return bytes(data), pixels


@pytest.mark.parametrize("vr", [b"O\xac", b"QQ", b"OX"])
def test_an_unknown_vr_on_pixel_data_is_refused_from_bytes_and_from_a_dataset(vr: bytes) -> None:
    data, _ = _explicit_with_pixel_vr(vr)
    with pytest.raises(CorruptPixelDataError, match=r"\(7FE0,0010\)"):
        dicomnp.read(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(io.BytesIO(data))
    with pytest.raises(CorruptPixelDataError, match=r"\(7FE0,0010\)"):
        dicomnp.read(dataset)


@pytest.mark.parametrize(
    ("rows", "columns", "spelled"), [(146, 146, b"DS"), (98, 202, b"TM"), (130, 166, b"LT")]
)
def test_implicit_vr_pixel_data_whose_length_spells_a_vr_is_read(
    rows: int, columns: int, spelled: bytes
) -> None:
    assert struct.pack("<L", rows * columns)[:2] == spelled
    pixels = (np.arange(rows * columns) % 251).astype(np.uint8).reshape(rows, columns)
    ds = image_dataset(
        pixels.tobytes(),
        rows=rows,
        columns=columns,
        bits_allocated=8,
        syntax=ImplicitVRLittleEndian,
    )
    data = to_bytes(ds)
    np.testing.assert_array_equal(pydicom.dcmread(io.BytesIO(data)).pixel_array, pixels)
    # walked in memory; read by pydicom from a file object; read by pydicom without preamble
    for source in (data, io.BytesIO(data), data[132:]):
        np.testing.assert_array_equal(dicomnp.read(source).array[..., 0], pixels)


def _after_pixel_data(element: bytes) -> bytes:
    data = to_bytes(image_dataset(bytes(range(16)), rows=4, columns=4, bits_allocated=8))
    return data + element


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (b"\xe0\x7f\x10\x00OB\0\0\x10\0\0\0" + bytes(16), "more than one pixel data element"),
        (b"\x28\x00\x52\x10DS\x06\x00-1024 ", r"\(0028,1052\) follows the pixel data"),
        (b"\xfc\xff\xfc\xffOB\0\0\x04\0\0\0" + bytes(4) + b"\x28\x00\x52\x10DS\x02\x000 ", "1052"),
    ],
)
def test_an_element_after_pixel_data_that_pydicom_would_read_over_the_header_is_refused(
    element: bytes, message: str
) -> None:
    data = _after_pixel_data(element)
    with pytest.raises(InvalidPixelMetadataError, match=message):
        dicomnp.read(data)
    with pytest.raises(InvalidPixelMetadataError, match=message):
        dicomnp.read(io.BytesIO(data))


def test_elements_after_pixel_data_that_belong_there_are_accepted() -> None:
    padding = b"\xfc\xff\xfc\xffOB\0\0\x08\0\0\0" + bytes(8)
    data = _after_pixel_data(padding)
    np.testing.assert_array_equal(dicomnp.read(data).array.reshape(-1), np.arange(16))


def test_an_empty_element_of_no_vr_first_in_a_header_read_by_pydicom_is_read() -> None:
    data = to_bytes(
        image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8, syntax=ImplicitVRLittleEndian)
    )
    start = 144 + struct.unpack_from("<L", data, 140)[0]  # after the File Meta Information
    crafted = data[:start] + b"\xfe\xff\xdd\xe0\0\0\0\0" + data[start:]  # a stray delimiter
    np.testing.assert_array_equal(dicomnp.read(crafted).array.reshape(-1), np.zeros(16))


def test_a_character_set_of_a_numeric_vr_is_refused_as_pydicom_refuses_it() -> None:
    ds = image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8)
    ds.SpecificCharacterSet = "ISO_IR 100"
    data = bytearray(to_bytes(ds))
    at = data.index(b"\x08\x00\x05\x00CS")
    data[at + 4 : at + 6] = b"SS"  # pydicom converts it to numbers, and cannot use them
    with pytest.raises(Exception):  # noqa: B017, PT011  # pydicom's own error
        pydicom.dcmread(io.BytesIO(bytes(data)))
    assert differential.check_walker(bytes(data)) != "walked"
    with pytest.raises(NotDicomError):
        dicomnp.read(bytes(data))


def test_no_pixel_data_with_a_sop_class_of_an_unknown_vr_is_a_dicomnp_error() -> None:
    """What the error says of a data set without pixels is read as safely as anything else."""
    ds = image_dataset(b"\x00" * 16, rows=4, columns=4, bits_allocated=8)
    del ds.PixelData
    data = to_bytes(ds)
    at = data.index(b"\x08\x00\x16\x00UI")  # (0008,0016) SOP Class UID, explicit VR
    data = data[: at + 4] + b"UK" + data[at + 6 :]
    with pytest.raises(dicomnp.DicomNumpyError):
        dicomnp.read(data)


def test_big_endian_pixel_data_whose_vr_bytes_are_no_vr_is_refused() -> None:
    """Read implicitly, as pydicom reads it, its samples could be OB or OW: not guessed."""
    from pydicom.uid import ExplicitVRBigEndian

    ds = image_dataset(bytes(range(27)), rows=3, columns=3, bits_allocated=8, samples=3,
                       photometric="RGB", syntax=ExplicitVRBigEndian)  # fmt: skip
    data = to_bytes(ds)
    at = data.rindex(b"\x7f\xe0\x00\x10OB")
    data = data[: at + 4] + b"@W" + data[at + 6 :]
    with pytest.raises(CorruptPixelDataError, match="not a VR"):
        dicomnp.read(data)
