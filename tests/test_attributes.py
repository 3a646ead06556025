"""Headers walked in memory: every value equals pydicom's, and odd headers go to pydicom."""

from __future__ import annotations

import io
import logging
import math
import pickle
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

import dicomnp
from dicomnp import _source
from dicomnp._attributes import HeadAttributes, as_dataset, items, optional, required
from dicomnp._head import HeadTooShort, locate_elements
from dicomnp._syntaxes import lookup
from dicomnp.errors import InvalidLutError
from support.build import image_dataset, swap_words, to_bytes
from support.corpus import file_params, manifest, path_of

HEAD = _source._HEAD_BYTES


def _same(ours: Any, theirs: Any) -> bool:
    """Equal values, the walker's plain types standing for pydicom's."""
    if isinstance(theirs, (MultiValue, list)) and not isinstance(theirs, Sequence):
        return (
            isinstance(ours, (MultiValue, list))
            and len(ours) == len(theirs)
            and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return bool(ours == theirs) and (
        not isinstance(theirs, (int, float, str)) or isinstance(ours, type(theirs).__mro__[-2])
    )


def assert_values_equal_pydicoms(data: bytes) -> HeadAttributes | None:
    """Compare every top-level and meta value of the walked header with pydicom's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the values it reads leniently
        attributes = _source._read_header_buffered(io.BytesIO(data), "<test>")
        if not isinstance(attributes, HeadAttributes):
            return None
        _compare(attributes, pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True))
    return attributes


def _compare(attributes: HeadAttributes, reference: Dataset) -> None:
    for ours, theirs in ((attributes, reference), (attributes.file_meta, reference.file_meta)):
        located = set(ours._table)
        assert located == set(theirs.keys())
        for tag in located:
            try:
                expected = theirs[tag].value
            except Exception:  # pydicom refuses the value: so must the walked header
                with pytest.raises(Exception):  # noqa: B017, PT011
                    ours.value(tag)
                continue
            assert _same(ours.value(tag), expected), f"{tag:08X}"


def _why_not_walked(data: bytes) -> str | None:
    """Why a header is left to pydicom, or None if no reason is seen."""
    if data[128:132] != b"DICM":
        return "not a Part 10 file"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    syntax = lookup(str(dataset.file_meta.get("TransferSyntaxUID", "")))
    if syntax is None or not syntax.little_endian or syntax.deflated_dataset:
        return "a transfer syntax not walked"
    (meta_length,) = struct.unpack_from("<I", data, 140)  # File Meta Information Group Length
    explicit = data[144 + meta_length + 4 : 144 + meta_length + 6].isupper()
    if explicit == syntax.implicit_vr:
        return "encoded otherwise than its transfer syntax says"
    return None


@pytest.mark.parametrize("entry", file_params(lambda entry: True))
def test_every_value_of_a_corpus_header_walked_in_memory_equals_pydicoms(
    entry: dict[str, Any],
) -> None:
    data = path_of(entry).read_bytes()
    if assert_values_equal_pydicoms(data) is None:
        assert _why_not_walked(data) is not None


def test_most_corpus_headers_are_walked_in_memory() -> None:
    if manifest() is None:
        pytest.skip("corpus absent")
    params = file_params(lambda entry: True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        walked = [
            isinstance(
                _source._read_header_buffered(
                    io.BytesIO(path_of(param.values[0]).read_bytes()), "-"
                ),
                HeadAttributes,
            )
            for param in params
        ]
    assert sum(walked) >= 0.8 * len(walked), f"{sum(walked)} of {len(walked)}"


def _ct() -> Dataset:
    values = np.arange(64, dtype=np.uint16).reshape(8, 8)
    ds = image_dataset(values.tobytes(), rows=8, columns=8, bits_allocated=16)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY ", "AXIAL"]
    ds.ImagePositionPatient = ["-12.5", "1e2", " 3 "]
    ds.PixelSpacing = [0.5, 0.5]
    ds.InstanceNumber = "  7"
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1500"]
    ds.RescaleType = "HU"
    ds.SeriesDescription = "Thorax "
    ds.LargestImagePixelValue = 4000
    ds.add_new(0x00181060, "DS", "12.5")  # Trigger Time
    ds.add_new(0x00209241, "FL", [0.25, 1.5])  # Nominal Cardiac Trigger Time Prior To R-Peak
    ds.add_new(0x00180088, "DS", "")  # Spacing Between Slices: empty
    ds.add_new(0x00280106, "SS", -3)  # Smallest Image Pixel Value
    nested = Dataset()
    nested.ReferencedSOPInstanceUID = "1.2.3"
    inner = Dataset()
    inner.CodeValue = "X"
    nested.add_new(0x00081199, "SQ", Sequence([inner]))  # Referenced SOP Sequence
    ds.ReferencedImageSequence = Sequence([nested, Dataset()])
    ds.PatientName = "Müller^Anna"
    ds.StudyDescription = "Kopf Ü"
    return ds


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", ImplicitVRLittleEndian])
def test_a_header_with_nested_sequences_is_walked_and_reads_as_pydicom_reads_it(
    syntax: str,
) -> None:
    ds = _ct()
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    data = to_bytes(ds)
    walked = assert_values_equal_pydicoms(data)
    assert walked is not None
    assert walked.get("ImagePositionPatient") == [-12.5, 100.0, 3.0]
    assert walked.get("InstanceNumber") == 7
    assert walked.get("ImageType") == ["ORIGINAL", "PRIMARY ", "AXIAL"]
    assert walked.get("SeriesDescription") == "Thorax"
    assert walked.get("WindowCenter") == [40.0, -600.0]
    assert walked.get("Rows") == 8
    assert "Rows" in walked
    assert 0x00280010 in walked
    assert walked.get("SliceLocation", "absent") == "absent"
    assert "SliceLocation" not in walked
    assert walked.get(0x00280010).value == 8  # by tag: pydicom's element
    assert str(walked.get("PatientName")) == "Müller^Anna"  # decoded by pydicom
    assert walked.get("ReferencedImageSequence")[0].ReferencedSOPInstanceUID == "1.2.3"
    np.testing.assert_array_equal(
        dicomnp.to_array(data)[..., 0], np.arange(64, dtype=np.uint16).reshape(8, 8)
    )


def _built(walked: HeadAttributes) -> bool:
    """Whether pydicom has read the header into a Dataset."""
    return walked._dataset is not None


def test_a_header_walked_in_memory_is_built_by_pydicom_only_when_needed() -> None:
    walked = _source._read_header_buffered(io.BytesIO(to_bytes(_ct())), "<test>")
    assert isinstance(walked, HeadAttributes)
    walked.get("Rows"), walked.get("ImageType"), walked.get("SliceLocation")
    assert walked.file_meta.get("TransferSyntaxUID") == "1.2.840.10008.1.2.1"
    assert not _built(walked)
    assert as_dataset(walked).Rows == 8  # built now, from the header's bytes alone
    assert _built(walked)
    again = pickle.loads(pickle.dumps(walked))  # e.g. sent to another process
    assert again.get("ImageType") == ["ORIGINAL", "PRIMARY ", "AXIAL"]
    assert as_dataset(again).PixelSpacing == [0.5, 0.5]


def _with_element_replaced(data: bytes, tag: int, vr: bytes, value: bytes) -> bytes:
    """``data`` with the short explicit VR element ``tag`` re-encoded."""
    marker = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    start = data.index(marker, 132)
    (length,) = struct.unpack_from("<H", data, start + 6)
    return (
        data[:start] + marker + vr + struct.pack("<H", len(value)) + value
        + data[start + 8 + length :]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("vr", "value"),
    [
        (b"DS", b"abc "),  # not a number: pydicom refuses it
        (b"DS", b"1.5\\ "),  # an empty second value
        (b"DS", b"1.5\0"),  # padded with NUL
        (b"IS", b"1.0 "),  # a whole number written as a decimal
        (b"IS", b"1_000 "),  # Python's int() reads this; pydicom's IS is checked here
        (b"US", b"\x01\x02\x03"),  # an odd length
        (b"DS", b"     "),  # spaces only
        (b"US", b""),  # empty
    ],
)
def test_odd_values_read_as_pydicom_reads_them(vr: bytes, value: bytes) -> None:
    data = _with_element_replaced(to_bytes(_ct()), 0x00181060, vr, value)
    assert assert_values_equal_pydicoms(data) is not None


def test_text_in_a_character_set_beyond_ascii_is_decoded_by_pydicom() -> None:
    ds = _ct()
    ds.SpecificCharacterSet = "ISO_IR 13"
    ds.SeriesDescription = "AB"
    ds.PatientName, ds.StudyDescription = "A^B", "C"
    walked = assert_values_equal_pydicoms(to_bytes(ds))
    assert walked is not None
    assert walked.get("SeriesDescription") == "AB"
    assert _built(walked)  # the text went to pydicom


def _preamble_removed(data: bytes) -> bytes:
    return data[132:]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", ExplicitVRBigEndian), "big"),
        (
            lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", DeflatedExplicitVRLittleEndian),
            "deflated",
        ),
        (lambda ds: ds.add_new(0x00091100, "OB", b"\0" * _source._LARGE_HEAD_BYTES), "long"),
    ],
)
def test_headers_the_walker_does_not_take_are_read_by_pydicom(change: Any, reason: str) -> None:
    ds = _ct()
    change(ds)
    if ds.file_meta.TransferSyntaxUID == ExplicitVRBigEndian:
        ds.PixelData = swap_words(ds.PixelData)
    data = to_bytes(ds)
    try:
        assert locate_elements(data[: _source._LARGE_HEAD_BYTES]) is None, reason
    except HeadTooShort:
        assert reason == "long"
    attributes = _source._read_header_buffered(io.BytesIO(data), "<test>")
    assert isinstance(attributes, Dataset)
    np.testing.assert_array_equal(
        dicomnp.to_array(data)[..., 0], np.arange(64, dtype=np.uint16).reshape(8, 8)
    )


def test_a_data_set_encoded_otherwise_than_its_syntax_says_is_read_by_pydicom() -> None:
    ds = _ct()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    implicit = to_bytes(ds)
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.1")
    explicit = to_bytes(ds)
    meta_end = explicit.index(b"\x08\x00\x05\x00")  # Specific Character Set: the first element
    mislabelled = implicit[:132] + explicit[132:meta_end] + implicit[implicit.index(
        b"\x08\x00\x05\x00"
    ):]  # fmt: skip
    assert locate_elements(mislabelled) is None
    assert locate_elements(_preamble_removed(explicit)) is None


def test_a_truncated_header_is_not_walked() -> None:
    data = to_bytes(_ct())
    pixel = data.index(b"\xe0\x7f\x10\x00")
    assert locate_elements(data[:131]) is None  # no preamble: not a Part 10 file
    for end in (140, 200, pixel - 3, pixel + 11):
        with pytest.raises(HeadTooShort):
            locate_elements(data[:end])
    assert locate_elements(data[: pixel + 12]) is not None


def test_an_unreadable_group_0028_value_in_a_walked_header_names_its_tag(tmp_path: Path) -> None:
    data = _with_element_replaced(to_bytes(_ct()), 0x00280107, b"US", b"\x01\x02\x03")
    path = tmp_path / "odd.dcm"
    path.write_bytes(data)
    with pytest.raises(dicomnp.InvalidPixelMetadataError) as raised:
        dicomnp.to_array(path)
    assert raised.value.tag == 0x00280107


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    """An explicit VR little endian element (16-bit length)."""
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + struct.pack("<H", len(value)) + value


def _inserted(data: bytes, elements: bytes) -> bytes:
    """``data`` with raw ``elements`` placed first in its data set, after the meta."""
    (meta_length,) = struct.unpack_from("<I", data, 140)
    return data[: 144 + meta_length] + elements + data[144 + meta_length :]


def _ct_bytes(syntax: str = "1.2.840.10008.1.2.1") -> bytes:
    ds = _ct()
    del ds.SpecificCharacterSet, ds.PatientName, ds.StudyDescription
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    return to_bytes(ds)


def test_a_character_set_written_as_lo_reads_as_pydicom_reads_it() -> None:
    data = _inserted(_ct_bytes(), _explicit(0x00080005, b"LO", b"ISO_IR 100"))
    data = _with_element_replaced(data, 0x0008103E, b"LO", b"My series ")
    walked = assert_values_equal_pydicoms(data)
    assert walked is not None
    assert walked.get("SeriesDescription") == "My series"
    dicomnp.to_array(data)


def test_uids_are_stripped_of_spaces_at_both_ends_as_pydicom_does() -> None:
    data = _with_element_replaced(_ct_bytes(), 0x00080018, b"UI", b" 1.2.3 \\ 4.5")
    walked = assert_values_equal_pydicoms(data)
    assert walked is not None
    assert walked.get("SOPInstanceUID") == ["1.2.3", "4.5"]


@pytest.mark.parametrize("digits", [12, 13, 17, 4400])
def test_long_integer_strings_read_as_pydicom_reads_them(digits: int) -> None:
    data = _with_element_replaced(_ct_bytes(), 0x00200013, b"IS", b"9" * digits)
    assert assert_values_equal_pydicoms(data) is not None
    frames = _inserted(_ct_bytes(), _explicit(0x00280008, b"IS", b"9" * digits))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(dicomnp.DicomNumpyError):
            dicomnp.to_array(frames)  # more frames than the pixel data hold, or unreadable


@pytest.mark.parametrize(
    "case",
    [
        "an element runs past its item",
        "an item delimiter inside an item of defined length",
        "a character set pydicom refuses",
    ],
)
def test_explicit_headers_pydicom_reads_otherwise_are_left_to_it(case: str) -> None:
    element = _explicit(0x00081150, b"UI", b"1.2.3\0")
    if case == "an element runs past its item":
        item = struct.pack("<HHI", 0xFFFE, 0xE000, len(element) - 2) + element
    elif case == "an item delimiter inside an item of defined length":
        delimiter = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
        item = struct.pack("<HHI", 0xFFFE, 0xE000, len(element) + 8) + delimiter + element
    else:
        item = struct.pack("<HHI", 0xFFFE, 0xE000, len(element)) + element
    sequence = (
        struct.pack("<HH", 0x0008, 0x1140) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF)
        + item + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    )  # fmt: skip
    charset = b"ISO_IR\0100" if case == "a character set pydicom refuses" else b"ISO_IR 100"
    data = _inserted(_ct_bytes(), _explicit(0x00080005, b"CS", charset) + sequence)
    assert locate_elements(data) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcomes: list[object] = []
        for source in (data, io.BytesIO(data)):
            try:
                outcomes.append(dicomnp.to_array(source).shape)
            except dicomnp.DicomNumpyError as exc:
                outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]  # bytes walked or not, file objects by pydicom alone


def _implicit(tag: int, value: bytes, *, length: int | None = None) -> bytes:
    size = len(value) if length is None else length
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, size) + value


@pytest.mark.parametrize("case", ["capitals in the first length", "undefined length, not SQ"])
def test_implicit_headers_pydicom_reads_otherwise_are_left_to_it(case: str) -> None:
    data = _ct_bytes(ImplicitVRLittleEndian)
    if case == "capitals in the first length":
        # pydicom reads on as explicit VR when a length's bytes look like a VR: "BB"
        data = _inserted(data, _implicit(0x00080001, b"\0" * 0x4242))
    else:
        item = _implicit(0xFFFEE000, _implicit(0x00100010, b"A^B "))
        value = item + _implicit(0xFFFEE0DD, b"")
        data = _inserted(data, _implicit(0x00420011, value, length=0xFFFFFFFF))
    assert locate_elements(data) is None


@pytest.mark.parametrize("entry", file_params(lambda entry: True))
def test_a_corpus_file_read_from_its_path_equals_it_read_by_pydicom(
    entry: dict[str, Any],
) -> None:
    # a path's header is walked in memory; a file object's is read by pydicom
    path = path_of(entry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcomes: list[Any] = []
        for source in (path, path.open("rb")):
            try:
                outcomes.append(dicomnp.read(source, allow_lossy=True, values="display"))
            except dicomnp.DicomNumpyError as exc:
                outcomes.append(type(exc))
            finally:
                if not isinstance(source, Path):
                    source.close()
    walked, by_pydicom = outcomes
    if isinstance(walked, type) or isinstance(by_pydicom, type):
        assert walked == by_pydicom
        return
    np.testing.assert_array_equal(walked.array, by_pydicom.array)
    assert walked.header == by_pydicom.header


# One attribute read under a named policy: required refuses, optional logs and ignores


class _Unreadable:
    """Attributes whose every value raises, as pydicom does for a malformed one."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, key: str | int, default: Any = None, /) -> Any:
        raise self.error

    def __contains__(self, key: str | int, /) -> bool:
        return True


def test_required_gives_the_value_converted_or_the_default_when_absent() -> None:
    dataset = _ct()
    assert required(dataset, "Rows", "a.dcm", int) == 8
    assert required(dataset, "RescaleType", "a.dcm") == "HU"
    assert required(dataset, "NumberOfFrames", "a.dcm", int, default=1) == 1
    dataset.StudyDescription = ""
    assert required(dataset, "StudyDescription", "a.dcm", default=None) is None


def test_required_refuses_an_absent_value_naming_the_file_and_the_tag() -> None:
    with pytest.raises(dicomnp.InvalidPixelMetadataError) as raised:
        required(_ct(), "NumberOfFrames", "a.dcm", int)
    assert (raised.value.path, raised.value.tag) == ("a.dcm", 0x00280008)
    assert str(raised.value) == "a.dcm: (0028,0008): NumberOfFrames is missing or empty"


def test_required_refuses_a_value_it_cannot_convert_naming_the_value() -> None:
    with pytest.raises(dicomnp.InvalidPixelMetadataError) as raised:
        required(_ct(), "RescaleType", "a.dcm", float, what="a number")
    assert str(raised.value) == "a.dcm: (0028,1054): RescaleType is not a number: 'HU'"
    assert isinstance(raised.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "error",
    [NotImplementedError("Unknown Value Representation 'ES'"), KeyError("VR"), struct.error("x")],
)
def test_required_refuses_a_value_pydicom_cannot_read(error: Exception) -> None:
    with pytest.raises(dicomnp.InvalidLutError) as raised:
        required(
            _Unreadable(error), "RedPaletteColorLookupTableData", "a.dcm", error=InvalidLutError
        )
    assert raised.value.tag == 0x00281201
    assert "RedPaletteColorLookupTableData cannot be read" in str(raised.value)
    assert raised.value.__cause__ is error


def test_optional_reads_an_unusable_value_as_absent_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="dicomnp._attributes"):
        assert optional(_ct(), "RescaleType", "a.dcm") == "HU"
        assert optional(_ct(), "EchoTime", "a.dcm", float) is None
        assert not caplog.records  # an absent value is not worth a word
        assert optional(_ct(), "RescaleType", "a.dcm", float) is None
        assert optional(_Unreadable(ValueError("bad DS")), "SliceThickness", "a.dcm") is None
    assert [record.getMessage() for record in caplog.records] == [
        "a.dcm: RescaleType 'HU' cannot be used (could not convert string to float: 'HU'); ignored",
        "a.dcm: SliceThickness cannot be read (bad DS); ignored",
    ]


def test_only_what_pydicom_raises_for_a_malformed_value_is_caught() -> None:
    with pytest.raises(AssertionError):
        optional(_Unreadable(AssertionError()), "Modality", "a.dcm")
    with pytest.raises(MemoryError):
        required(_Unreadable(MemoryError()), "Modality", "a.dcm", default=None)


def test_items_are_those_of_a_sequence_and_none_otherwise() -> None:
    dataset = _ct()
    inner = Dataset()
    inner.PixelSpacing = [0.5, 0.5]
    group = Dataset()
    group.PixelMeasuresSequence = [inner]
    dataset.SharedFunctionalGroupsSequence = [group]
    assert items(dataset, "SharedFunctionalGroupsSequence", "a.dcm") == [group]
    assert items(dataset, "PerFrameFunctionalGroupsSequence", "a.dcm") == []
    assert items(dataset, "RescaleType", "a.dcm") == []  # not a sequence
    assert items(_Unreadable(OSError("cut short")), "VOILUTSequence", "a.dcm") == []


_CONVERTED_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "CS", "UI", "SH", "LO", "DS", "IS"}


def _with_large_private_values(implicit: bool) -> Dataset:
    ds = _ct()
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", bytes(range(256)) * 40)  # 10 KB blob
    ds.add_new(0x00291011, "LO", "after the blob")
    ds.add_new(0x20050010, "LO", "Philips MR Imaging DD 001")
    items = []
    for k in range(30):
        item = Dataset()
        item.add_new(0x00180081, "DS", f"{80 + k}")
        item.add_new(0x20051080, "LO", "ACQ" * 20)
        item.is_undefined_length_sequence_item = True
        items.append(item)
    ds.add_new(0x2005140F, "SQ", items)
    ds[0x2005140F].is_undefined_length = True
    ds.PresentationLUTShape = "IDENTITY"  # after the undefined-length sequence
    ds.SpacingBetweenSlices = None  # empty: converted here, as pydicom converts it
    for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue", "StudyDescription"):
        del ds[keyword]  # "US or SS" in implicit VR, text beyond ASCII: read by pydicom
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_a_header_letting_its_large_values_go_still_gives_every_value_as_pydicom(
    tmp_path: Path, implicit: bool
) -> None:
    path = tmp_path / "large.dcm"
    path.write_bytes(to_bytes(_with_large_private_values(implicit)))
    reference = pydicom.dcmread(path, stop_before_pixels=True)
    with _source.open_source(path) as opened:
        walked = opened.dataset
        assert isinstance(walked, HeadAttributes)
        assert walked.get("Rows") == 8  # converted before: stays converted
        before = walked.nbytes
        _source.release_large_values(opened)
    assert walked.nbytes < before - 10_000
    for copy in (walked, pickle.loads(pickle.dumps(walked))):
        copy._values.clear()  # every value converted again, from what was kept
        small = [tag for tag in reference.keys() if tag not in (0x00291010, 0x2005140F)]  # noqa: SIM118
        converted = [  # private tags of implicit VR have no VR to convert by
            tag
            for tag in small
            if reference[tag].VR in _CONVERTED_VRS and not (implicit and tag >> 16 & 1)
        ]
        assert 0x20500020 in converted
        assert 0x00180088 in converted
        for tag in converted:
            assert _same(copy.value(tag), reference[tag].value), f"{tag:08X}"
        assert not _built(copy)  # the small values needed nothing but what was kept
        assert copy.get("SOPInstanceUID") == reference.SOPInstanceUID
        assert 0x00291010 in copy
        assert 0x2005140F in copy
        assert copy.value(0x00291010) == reference[0x00291010].value  # read again from the file
        assert _built(copy)
        for tag in small:
            assert _same(copy.value(tag), reference[tag].value), f"{tag:08X}"
        assert len(copy.value(0x2005140F)) == 30
        assert copy.file_meta.get("TransferSyntaxUID") == reference.file_meta.TransferSyntaxUID
