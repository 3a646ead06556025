"""Codec quirks corrected to stored values, and the colour model each decoder reports.

RULES.md section 3.3: JPEG 2000 signedness and precision that disagree with
the data set, JPEG lossless samples that carry no sign, and codestream colour
evidence that contradicts Photometric Interpretation.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array

import dicomnp
from dicomnp.decode import PixelInfo, decode_pixels
from dicomnp.decode.codecs import jpeg, jpeg2000
from dicomnp.decode.codecs.j2k_markers import parse_j2k_header
from dicomnp.decode.codecs.jpeg_markers import parse_jpeg_header
from support.build import to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value
from support.jpeg_lossless import encode_lossless

J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
ROWS, COLUMNS = 33, 40


def decode_one(
    frame: bytes,
    syntax: str,
    *,
    bits_allocated: int,
    bits_stored: int,
    signed: bool,
    samples: int = 1,
    photometric: str | None = None,
) -> dicomnp.StoredPixels:
    value, _, _ = encapsulated_value([frame])
    ds = encapsulated_dataset(
        value,
        syntax=syntax,
        rows=ROWS,
        columns=COLUMNS,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=int(signed),
        samples=samples,
        photometric=photometric,
    )
    return decode_pixels(to_bytes(ds))


def grey(low: int, high: int, dtype: str, seed: int = 0) -> NDArray[Any]:
    values = np.random.default_rng(seed).integers(low, high, size=(ROWS, COLUMNS))
    values[0, 0], values[-1, -1] = low, high - 1
    return values.astype(dtype)


def test_j2k_unsigned_codestream_with_signed_data_set() -> None:
    """J2K_pixelrep_mismatch.dcm in miniature: 13-bit patterns coded unsigned."""
    values = grey(-4096, 4096, "<i2")
    frame = bytes(encode_array((values & 0x1FFF).astype("<u2"), bits_stored=13))
    assert parse_j2k_header(frame) is not None
    stored = decode_one(frame, J2K_LOSSLESS, bits_allocated=16, bits_stored=13, signed=True)
    np.testing.assert_array_equal(stored.array[0, ..., 0], values)


def test_j2k_signed_codestream_with_unsigned_data_set() -> None:
    values = grey(-2048, 2048, "<i2")
    frame = bytes(encode_array(values, bits_stored=12))
    header = parse_j2k_header(frame)
    assert header is not None
    assert header.signed
    stored = decode_one(frame, J2K_LOSSLESS, bits_allocated=16, bits_stored=12, signed=False)
    np.testing.assert_array_equal(stored.array[0, ..., 0], values.view("<u2") & 0x0FFF)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_j2k_precision_above_bits_stored_is_masked(signed: bool) -> None:
    rng = np.random.default_rng(3)
    garbage = rng.integers(0, 16, size=(ROWS, COLUMNS)) << 12
    values = grey(-2048, 2048, "<i2") if signed else grey(0, 4096, "<u2")
    coded = (values.astype(np.int64) & 0x0FFF) | garbage
    frame = bytes(encode_array(coded.astype("<u2"), bits_stored=16))
    stored = decode_one(frame, J2K_LOSSLESS, bits_allocated=16, bits_stored=12, signed=signed)
    np.testing.assert_array_equal(stored.array[0, ..., 0], values)


def test_j2k_precision_below_bits_allocated_widens() -> None:
    values = grey(0, 256, "u1")
    frame = bytes(encode_array(values, bits_stored=8))
    stored = decode_one(frame, J2K_LOSSLESS, bits_allocated=16, bits_stored=8, signed=False)
    assert stored.array.dtype == np.uint16
    np.testing.assert_array_equal(stored.array[0, ..., 0], values)


def test_j2k_precision_above_bits_allocated_is_an_error() -> None:
    frame = bytes(encode_array(grey(0, 4096, "<u2"), bits_stored=12))
    with pytest.raises(dicomnp.CorruptPixelDataError, match="12-bit samples") as caught:
        decode_one(frame, J2K_LOSSLESS, bits_allocated=8, bits_stored=8, signed=False)
    assert caught.value.frame == 0


def test_jpeg_lossless_whole_container_coded_is_sign_extended_from_bits_stored() -> None:
    """Precision 16 over Bits Stored 12: upper bits are garbage, or a proper sign extension."""
    values = grey(-2048, 2048, "<i2")
    garbage = np.random.default_rng(4).integers(0, 16, size=(ROWS, COLUMNS)) << 12
    for coded in (values.astype(np.int64), (values.astype(np.int64) & 0x0FFF) | garbage):
        frame = encode_lossless(coded[..., None], 16)
        stored = decode_one(frame, JPEG_LOSSLESS, bits_allocated=16, bits_stored=12, signed=True)
        np.testing.assert_array_equal(stored.array[0, ..., 0], values)


def test_jpeg_lossless_precision_below_bits_allocated_widens() -> None:
    values = grey(0, 256, "u1")
    frame = encode_lossless(values[..., None], 8)
    stored = decode_one(frame, JPEG_LOSSLESS, bits_allocated=16, bits_stored=8, signed=False)
    assert stored.array.dtype == np.uint16
    np.testing.assert_array_equal(stored.array[0, ..., 0], values)


# Colour models


def info(photometric: str, samples: int = 3) -> PixelInfo:
    return PixelInfo(
        rows=ROWS,
        columns=COLUMNS,
        samples_per_pixel=samples,
        bits_allocated=8,
        bits_stored=8,
        high_bit=7,
        pixel_representation=0,
        photometric_interpretation=photometric,
        planar_configuration=0,
        number_of_frames=1,
        float_data=False,
    )


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg_head(*segments: bytes, ids: bytes = b"\x01\x02\x03") -> bytes:
    components = b"".join(bytes([i, 0x11, 0]) for i in ids)
    frame = segment(0xC0, b"\x08\x00\x21\x00\x28" + bytes([len(ids)]) + components)
    return b"\xff\xd8" + b"".join(segments) + frame + segment(0xDA, b"\x00")


JFIF = segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")
ADOBE_RGB = segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00")
ADOBE_YCC = segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")


@pytest.mark.parametrize(
    ("stored", "head", "expected", "contradiction"),
    [
        ("YBR_FULL_422", jpeg_head(JFIF), "YBR_FULL", False),
        ("YBR_FULL_422", jpeg_head(), "YBR_FULL", False),
        ("YBR_FULL", jpeg_head(ADOBE_YCC), "YBR_FULL", False),
        ("RGB", jpeg_head(ADOBE_RGB), "RGB", False),
        ("RGB", jpeg_head(), "RGB", False),
        ("RGB", jpeg_head(JFIF), "YBR_FULL", True),
        ("RGB", jpeg_head(ADOBE_YCC, JFIF), "YBR_FULL", True),
        ("YBR_FULL", jpeg_head(ADOBE_RGB), "RGB", True),
        ("YBR_FULL", jpeg_head(ADOBE_RGB, JFIF), "RGB", True),
        ("YBR_FULL_422", jpeg_head(ids=b"RGB"), "RGB", True),
        ("YBR_FULL", jpeg_head(ids=b"rgb"), "RGB", True),
    ],
)
def test_jpeg_colour_model_follows_the_codestream(
    stored: str,
    head: bytes,
    expected: str,
    contradiction: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        assert jpeg.colour_model(lambda: head, info(stored)) == expected
    assert ("the codestream is followed" in caplog.text) is contradiction


def never_read() -> bytes:
    raise AssertionError("the codestream was read for a one-sample image")


@pytest.mark.parametrize("adapter", [jpeg, jpeg2000])
def test_one_sample_colour_model_needs_no_codestream(adapter: Any) -> None:
    assert adapter.colour_model(never_read, info("MONOCHROME1", samples=1)) == "MONOCHROME1"


@pytest.mark.parametrize(
    ("stored", "transform", "expected", "warned"),
    [
        ("YBR_RCT", True, "RGB", False),
        ("YBR_ICT", True, "RGB", False),
        ("RGB", True, "RGB", False),
        ("YBR_FULL", True, "RGB", False),
        ("RGB", False, "RGB", False),
        ("YBR_FULL", False, "YBR_FULL", False),
        ("YBR_RCT", False, "RGB", True),
    ],
)
def test_j2k_colour_model_follows_the_component_transform(
    stored: str, transform: bool, expected: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    rgb = np.random.default_rng(5).integers(0, 256, size=(ROWS, COLUMNS, 3)).astype("u1")
    frame = bytes(encode_array(rgb, bits_stored=8, photometric_interpretation=1, use_mct=transform))
    header = parse_j2k_header(frame)
    assert header is not None
    assert header.transform is transform
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        assert jpeg2000.colour_model(lambda: frame, info(stored)) == expected
    assert ("no component transform" in caplog.text) is warned
    stored_pixels = decode_one(
        frame,
        J2K_LOSSLESS,
        bits_allocated=8,
        bits_stored=8,
        signed=False,
        samples=3,
        photometric=stored,
    )
    assert stored_pixels.description.photometric_interpretation == expected
    np.testing.assert_array_equal(stored_pixels.array[0], rgb)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xc0\x00", jpeg_head()[:-6], b"\x00" * 9],
)
def test_jpeg_header_reading_stops_quietly_on_short_data(data: bytes) -> None:
    header = parse_jpeg_header(data)
    assert header.colour_space() is None


@pytest.mark.parametrize(
    "data", [b"", b"\xff\x4f\xff\x51", b"\xff\x4f\xff\x51\x00\x29" + b"\x00" * 10, b"junk"]
)
def test_j2k_header_reading_returns_none_without_siz(data: bytes) -> None:
    assert parse_j2k_header(data) is None


def test_jpeg_ls_colour_transform_is_refused() -> None:
    coded = encode_lossless(grey(0, 256, "u1")[..., None], 8)
    frame = coded[:2] + segment(0xE8, b"mrfx\x01") + coded[2:]
    assert parse_jpeg_header(frame).ls_colour_transform
    with pytest.raises(dicomnp.UnsupportedPixelDataError, match="mrfx") as caught:
        decode_one(frame, JPEG_LOSSLESS, bits_allocated=8, bits_stored=8, signed=False)
    assert caught.value.frame == 0


@pytest.mark.parametrize("photometric", ["YBR_RCT", "YBR_ICT"])
def test_j2k_colour_models_outside_jpeg_2000_are_invalid(photometric: str) -> None:
    frame = encode_lossless(np.zeros((ROWS, COLUMNS, 3), dtype="u1"), 8)
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="only used with JPEG 2000"):
        decode_one(
            frame,
            JPEG_LOSSLESS,
            bits_allocated=8,
            bits_stored=8,
            signed=False,
            samples=3,
            photometric=photometric,
        )
