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
from dicomnp.errors import CorruptPixelDataError
from support.build import image_dataset, to_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_PIXEL_HEADER = b"\xe0\x7f\x10\x00"


def _ct_without_intercept() -> bytes:
    pixels = np.arange(4, dtype=np.int16) * 1000
    ds = image_dataset(
        pixels.tobytes(), rows=2, columns=2, bits_allocated=16, pixel_representation=1
    )
    ds.Modality = "CT"
    ds.RescaleSlope = "1"
    return to_bytes(ds)


def _element(group: int, number: int, vr: bytes, value: bytes, *, long: bool = False) -> bytes:
    if long:
        return struct.pack("<HH2sHL", group, number, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, number, vr, len(value)) + value


def delimiter_spelling_a_long_vr() -> bytes:
    """An explicit VR file whose Item Delimitation Item's length field reads ``OB\\0\\0``.

    pydicom reads that delimiter as a 12-byte element; read as 8 bytes, the
    rest of the header parts by 4 bytes: an element pydicom skips inside a
    private value becomes Rescale Intercept 0, hiding pydicom's -1024.
    """
    data = _ct_without_intercept()
    at = data.rindex(_PIXEL_HEADER)
    sequence = struct.pack("<HH2sHL", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF)
    sequence += struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    sequence += struct.pack("<HH2sH", 0xFFFE, 0xE00D, b"OB", 0)  # pydicom: 4 more bytes
    sequence += b"\xfe\xff\xdd\xe0" * 2  # a sequence delimiter 8 or 12 bytes on
    # From here the 8-byte reading is 4 bytes ahead of pydicom's.
    hidden = _element(0x0028, 0x1052, b"DS", b"-1024 ")  # pydicom's Rescale Intercept
    decoy = _element(0x0028, 0x1052, b"DS", b"0")  # the other reading's
    # 8-byte reading: (0029,1010) OB of length 0x424F ("OB\0\0") over pydicom's elements.
    # pydicom: the same bytes from 4 on are (424F,0000) OB of length 0.
    shared = struct.pack("<HH2sHL", 0x0029, 0x1010, b"OB", 0, 0x424F) + b"\0" * 4
    cover = 0x424F - 4 - len(hidden) - 12 + len(decoy)  # pydicom's value over the decoy
    tail = hidden + struct.pack("<HH2sHL", 0x0029, 0x1020, b"OB", 0, cover)
    tail += b"\0" * (0x424F - 4 - len(tail)) + decoy
    return data[:at] + sequence + b"\0" * 4 + shared[4:] + tail + data[at:]


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
    at = data.rindex(_PIXEL_HEADER + b"OW")
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
