"""Every encapsulated file of the corpus against pydicom's reference decode.

The reference used pylibjpeg's codecs; dicomnp prefers imagecodecs' when
installed. Lossless codestreams must decode identically either way; lossy
DCT JPEG (baseline, extended) within 1 of the reference, since libjpeg-turbo
and libjpeg round their inverse DCTs differently. Without imagecodecs every
file must equal the reference exactly.

Files pydicom cannot decode are checked against the same image held in
another file (``IMPROVEMENTS``), or must raise a dicomnp error naming the
file and the frame (``BROKEN``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.pixels.utils import pixel_array

import dicomnp
from dicomnp.decode import decode_pixels
from support.corpus import (
    DCT_SYNTAXES,
    NATIVE_SYNTAXES,
    Entry,
    assert_close_to_oracle,
    assert_matches_oracle,
    file_params,
    manifest,
    path_of,
    reference,
)

# pydicom warns while reading this file's header (its VR is implicit though
# the transfer syntax says explicit); the warning is pydicom's, not dicomnp's.
pytestmark = pytest.mark.filterwarnings("ignore:Expected explicit VR:UserWarning")

# Files pydicom does not decode, and the file holding the same image natively
# or losslessly, whose reference decode they must equal.
IMPROVEMENTS = {
    "files/RLELossless/liver_rle.dcm": "files/ExplicitVRLittleEndian/liver.dcm",
    "files/DeflatedImageFrameCompression/liver_deflate.dcm": (
        "files/ExplicitVRLittleEndian/liver.dcm"
    ),
    # Only the Sequence Delimitation Item is missing: RULES.md 2.1 accepts it.
    "files/JPEG2000Lossless/emri_small_jpeg_2k_lossless_too_short.dcm": (
        "files/JPEG2000Lossless/emri_small_jpeg_2k_lossless.dcm"
    ),
}
# Corrupt codestreams: a dicomnp error naming the file and frame 0.
BROKEN = {
    "files/JPEGExtended12Bit/JPEG-lossy.dcm",
    "files/JPEG2000/JPEG2000-embedded-sequence-delimiter.dcm",
}
EXCESS_FRAMES = "files/RLELossless/derived_emri_small_RLE_excess_frames.dcm"
SMALL_FILE = 200_000


def _encapsulated(entry: Entry) -> bool:
    return entry["transfer_syntax_uid"] not in NATIVE_SYNTAXES


def _with_declared_frames(entry: Entry) -> bool:
    return _encapsulated(entry) and entry["path"] != EXCESS_FRAMES


def _entry(path: str) -> Entry:
    loaded = manifest()
    assert loaded is not None
    found: list[Entry] = [entry for entry in loaded["files"] if entry["path"] == path]
    assert len(found) == 1, path
    return found[0]


@pytest.mark.parametrize("entry", file_params(_with_declared_frames))
def test_encapsulated_file_matches_oracle(entry: Entry) -> None:
    path = entry["path"]
    if path in BROKEN:
        with pytest.raises(dicomnp.CorruptPixelDataError) as caught:
            decode_pixels(path_of(entry))
        assert caught.value.path == str(path_of(entry))
        assert caught.value.frame == 0
        assert "frame 0" in str(caught.value)
        return
    if path in IMPROVEMENTS:
        assert reference(entry) is None, "pydicom decodes this file now: compare with it"
        same = _entry(IMPROVEMENTS[path])
        ref: dict[str, Any] | None = reference(same)
        assert ref is not None
        assert_matches_oracle(decode_pixels(path_of(entry)).array, same, ref)
        return
    ref = reference(entry)
    assert ref is not None, "a new file without a reference decode: say what it should do"
    stored = decode_pixels(path_of(entry))
    assert stored.array.shape[0] == entry["number_of_frames"]
    if entry["transfer_syntax_uid"] in DCT_SYNTAXES:
        assert_close_to_oracle(stored.array, entry, ref)
    else:
        assert_matches_oracle(stored.array, entry, ref)


def _decoded_by_imagecodecs(entry: Entry) -> bool:
    return (
        _with_declared_frames(entry)
        and reference(entry) is not None
        and entry["path"] not in IMPROVEMENTS
        and not entry["transfer_syntax_uid"].startswith("1.2.840.10008.1.2.8")  # deflate
    )


@pytest.mark.parametrize("entry", file_params(_decoded_by_imagecodecs))
def test_encapsulated_file_equals_oracle_with_pylibjpeg_alone(
    entry: Entry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # makes importing it fail
    ref = reference(entry)
    assert ref is not None
    assert_matches_oracle(decode_pixels(path_of(entry)).array, entry, ref)


def test_excess_frames_are_not_decoded(caplog: pytest.LogCaptureFixture) -> None:
    """Ten RLE frames under Number of Frames 8: the declared eight are decoded."""
    entry = _entry(EXCESS_FRAMES)
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        stored = decode_pixels(path_of(entry))
    assert "10 frames found" in caplog.text
    with pytest.warns(UserWarning, match="10 frames have been found"):
        oracle = pixel_array(str(path_of(entry)), raw=True, decoding_plugin="pydicom")
    assert oracle.shape == (10, 64, 64)
    assert stored.array.shape == (8, 64, 64, 1)
    assert np.array_equal(stored.array[..., 0], oracle[:8])


def test_missing_sequence_delimiter_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    entry = _entry("files/JPEG2000Lossless/emri_small_jpeg_2k_lossless_too_short.dcm")
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        decode_pixels(path_of(entry), frames=0)
    assert "no Sequence Delimitation Item" in caplog.text


def _small_with_reference(entry: Entry) -> bool:
    return (
        _with_declared_frames(entry)
        and reference(entry) is not None
        and int(entry["size"]) < SMALL_FILE
    )


@pytest.mark.parametrize("entry", file_params(_small_with_reference))
def test_encapsulated_file_decodes_the_same_from_every_source_kind(entry: Entry) -> None:
    path = path_of(entry)
    expected = decode_pixels(path).array
    with path.open("rb") as handle:
        from_file = decode_pixels(handle).array
    from_bytes = decode_pixels(path.read_bytes()).array
    dataset = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in dataset.file_meta:  # some files have no file meta
        dataset.file_meta.TransferSyntaxUID = entry["transfer_syntax_uid"]
    from_dataset = decode_pixels(dataset).array
    for array in (from_file, from_bytes, from_dataset):
        assert array.dtype == expected.dtype
        assert np.array_equal(array, expected)


@pytest.mark.parametrize(
    ("path", "colour"),
    [
        ("files/JPEGBaseline8Bit/SC_rgb_dcmtk_+eb+cy+s2.dcm", "YBR_FULL"),  # YBR_FULL_422
        ("files/JPEGBaseline8Bit/SC_rgb_jpeg_dcmtk.dcm", "YBR_FULL"),
        ("files/JPEGBaseline8Bit/SC_jpeg_no_color_transform.dcm", "RGB"),
        ("files/JPEGLosslessSV1/SC_rgb_jpeg_gdcm.dcm", "RGB"),
        ("files/JPEG2000Lossless/GDCMJ2K_TextGBR.dcm", "RGB"),  # YBR_RCT
        ("files/JPEG2000/US1_J2KI.dcm", "RGB"),  # YBR_ICT
        ("files/JPEG2000/RG3_J2KI.dcm", "MONOCHROME1"),
        ("files/RLELossless/OBXXXX1A_rle.dcm", "PALETTE COLOR"),
    ],
)
def test_decoders_report_the_colour_model_they_return(path: str, colour: str) -> None:
    entry = _entry(path)
    stored = decode_pixels(path_of(entry), frames=0)
    assert stored.description.photometric_interpretation == colour
    assert (
        stored.description.stored_photometric_interpretation == entry["photometric_interpretation"]
    )
