"""Decoding failures name the file and frame; only the requested frames are decoded.

Every failure is a dicomnp error: a missing codec package, a corrupt or
truncated codestream, a frame that does not fit the data set, a deflate
stream that would inflate past its frame. Decoding a subset of frames calls
the codec, and reads the file, for those frames only.
"""

from __future__ import annotations

import sys
import zlib
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array

import dicomnp
from dicomnp.decode import PixelInfo, decode_pixels
from dicomnp.decode.codecs import FrameContext, jpeg2000, rle
from support.build import to_bytes
from support.counting import CountingReader
from support.encaps_build import encapsulated_dataset, encapsulated_value
from support.jpeg_lossless import encode_lossless

RLE = "1.2.840.10008.1.2.5"
DEFLATE = "1.2.840.10008.1.2.8.1"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
ROWS, COLUMNS = 33, 40
FRAME = np.random.default_rng(6).integers(0, 4096, size=(ROWS, COLUMNS, 1)).astype("<u2")


def rle_frame(frame: NDArray[Any]) -> bytes:
    from rle.utils import encode_pixel_data

    return bytes(
        encode_pixel_data(
            frame.tobytes(),
            byteorder="<",
            rows=ROWS,
            columns=COLUMNS,
            samples_per_pixel=1,
            bits_allocated=16,
        )
    )


def j2k_frame(frame: NDArray[Any]) -> bytes:
    return bytes(encode_array(frame[..., 0], bits_stored=12))


def jpeg_frame(frame: NDArray[Any]) -> bytes:
    return encode_lossless(frame, 12)


ENCODED = {
    RLE: rle_frame(FRAME),
    J2K_LOSSLESS: j2k_frame(FRAME),
    JPEG_LOSSLESS: jpeg_frame(FRAME),
}
MODULES = {RLE: "rle.rle", J2K_LOSSLESS: "openjpeg.utils", JPEG_LOSSLESS: "libjpeg.utils"}
PACKAGES = {
    RLE: "pylibjpeg-rle",
    J2K_LOSSLESS: "pylibjpeg-openjpeg",
    JPEG_LOSSLESS: "pylibjpeg-libjpeg",
}


def file_of(frames: list[bytes], syntax: str, *, rows: int = ROWS, columns: int = COLUMNS) -> bytes:
    value, _, _ = encapsulated_value(frames)
    ds = encapsulated_dataset(
        value,
        syntax=syntax,
        rows=rows,
        columns=columns,
        bits_allocated=16,
        bits_stored=12,
        frames=len(frames),
    )
    return to_bytes(ds)


@pytest.mark.parametrize("syntax", list(ENCODED))
def test_missing_codec_package_says_what_to_install(
    syntax: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, MODULES[syntax], None)  # makes importing it fail
    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    with pytest.raises(dicomnp.MissingCodecError) as caught:
        decode_pixels(file_of([ENCODED[syntax]], syntax))
    assert isinstance(caught.value, ImportError)
    assert f"pip install {PACKAGES[syntax]}" in str(caught.value)
    assert caught.value.frame == 0
    assert caught.value.path == "<bytes>"


@pytest.mark.parametrize("syntax", list(ENCODED))
@pytest.mark.parametrize("hidden", ["imagecodecs", "pylibjpeg"])
def test_either_codec_package_alone_decodes(
    syntax: str, hidden: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded = file_of([ENCODED[syntax]], syntax)
    expected = decode_pixels(encoded).array
    monkeypatch.setitem(sys.modules, hidden if hidden == "imagecodecs" else MODULES[syntax], None)
    assert np.array_equal(decode_pixels(encoded).array, expected)
    assert np.array_equal(expected[0], FRAME)


@pytest.mark.parametrize("syntax", list(ENCODED))
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_cut_short_codestream_is_corrupt_pixel_data(syntax: str, cut: float) -> None:
    encoded = ENCODED[syntax]
    short = encoded[: int(len(encoded) * cut) & ~1]
    with pytest.raises(dicomnp.CorruptPixelDataError) as caught:
        decode_pixels(file_of([ENCODED[syntax], short], syntax), frames=1)
    assert caught.value.frame == 1
    assert "frame 1" in str(caught.value)


@pytest.mark.parametrize("syntax", list(ENCODED))
def test_codestream_of_another_size_is_an_error(syntax: str) -> None:
    with pytest.raises(dicomnp.CorruptPixelDataError) as caught:
        decode_pixels(file_of([ENCODED[syntax]], syntax, columns=COLUMNS + 2))
    assert caught.value.frame == 0


def test_codec_exceptions_are_chained() -> None:
    header = np.array([2, 64, 132] + [0] * 13, dtype="<u4").tobytes()
    encoded = header + b"\x00\x01" * 68  # two segments of 34 bytes, not 1320
    with pytest.raises(dicomnp.CorruptPixelDataError, match="RLE decoding failed") as caught:
        decode_pixels(file_of([encoded], RLE))
    assert isinstance(caught.value.__cause__, ValueError)


def test_cut_short_j2k_without_end_marker() -> None:
    encoded = ENCODED[J2K_LOSSLESS]
    with pytest.raises(dicomnp.CorruptPixelDataError, match="cut short"):
        decode_pixels(file_of([encoded[: len(encoded) - 40]], J2K_LOSSLESS))


def test_rle_segment_count_must_match_the_samples() -> None:
    encoded = bytearray(ENCODED[RLE])
    encoded[0] = 3  # three segments declared for one 16-bit sample
    with pytest.raises(dicomnp.CorruptPixelDataError, match="3 segments"):
        decode_pixels(file_of([bytes(encoded)], RLE))


def test_rle_frame_shorter_than_its_header() -> None:
    with pytest.raises(dicomnp.CorruptPixelDataError, match="less than its header"):
        decode_pixels(file_of([b"\x02\x00\x00\x00"], RLE))


def deflated(data: bytes, wbits: int = -15) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return deflater.compress(data) + deflater.flush()


def deflate_file(frame: bytes) -> dicomnp.StoredPixels:
    value, _, _ = encapsulated_value([frame])
    ds = encapsulated_dataset(
        value, syntax=DEFLATE, rows=ROWS, columns=COLUMNS, bits_allocated=16, bits_stored=12
    )
    return decode_pixels(ds)


def test_deflate_with_a_zlib_header_is_accepted() -> None:
    stored = deflate_file(deflated(FRAME.tobytes(), wbits=15))
    np.testing.assert_array_equal(stored.array[0], FRAME)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (deflated(b"\0" * (100 * FRAME.nbytes)), "inflates to more than"),
        (deflated(FRAME.tobytes())[:200], "cut short"),
        (b"\xff" * 64, "cannot be inflated"),
        (deflated(FRAME.tobytes()[:-10]), "holds 2630 bytes"),
    ],
    ids=["bomb", "cut-short", "not-deflate", "short-frame"],
)
def test_bad_deflated_frame_is_corrupt_pixel_data(frame: bytes, message: str) -> None:
    with pytest.raises(dicomnp.CorruptPixelDataError, match=message) as caught:
        deflate_file(frame)
    assert caught.value.frame == 0


def test_deflate_bomb_is_bounded_by_the_frame_size() -> None:
    context = FrameContext(path="<test>", frame=0, tag=0x7FE00010, syntax="deflate")
    from dicomnp.decode.codecs.deflate import inflate

    bomb = deflated(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(dicomnp.CorruptPixelDataError, match="more than 1000 bytes"):
        inflate(bomb, 1000, context)


# Only the requested frames


def record_calls(monkeypatch: pytest.MonkeyPatch, adapter: Any) -> list[int]:
    calls: list[int] = []
    original = adapter.decode_into

    def counting(data: bytes, out: NDArray[Any], info: PixelInfo, context: FrameContext) -> None:
        calls.append(context.frame)
        original(data, out, info, context)

    monkeypatch.setattr(adapter, "decode_into", counting)
    return calls


@pytest.mark.parametrize(("syntax", "adapter"), [(RLE, rle), (J2K_LOSSLESS, jpeg2000)])
def test_a_subset_of_frames_calls_the_codec_for_those_only(
    syntax: str, adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    encode = rle_frame if syntax == RLE else j2k_frame
    frames = [FRAME + index for index in range(5)]
    data = file_of([encode(frame) for frame in frames], syntax)
    calls = record_calls(monkeypatch, adapter)
    stored = decode_pixels(data, frames=[3, 1])
    assert calls == [3, 1]
    np.testing.assert_array_equal(stored.array, np.stack([frames[3], frames[1]]))


@pytest.mark.parametrize("samples", [1, 3])
def test_a_subset_of_frames_reads_only_their_fragments(samples: int) -> None:
    rgb = np.random.default_rng(7).integers(0, 256, size=(5, ROWS, COLUMNS, samples))
    encoded = [
        bytes(
            encode_array(
                frame.astype("u1") if samples == 3 else frame[..., 0].astype("u1"),
                bits_stored=8,
                photometric_interpretation=1 if samples == 3 else 2,
            )
        )
        for frame in rgb
    ]
    value, _, _ = encapsulated_value(encoded)
    ds = encapsulated_dataset(
        value,
        syntax=J2K_LOSSLESS,
        rows=ROWS,
        columns=COLUMNS,
        bits_allocated=8,
        samples=samples,
        photometric="YBR_RCT" if samples == 3 else None,
        frames=5,
    )
    data = to_bytes(ds)
    stream = CountingReader(data)
    stored = decode_pixels(stream, frames=3)
    assert stored.description.photometric_interpretation == (
        "RGB" if samples == 3 else "MONOCHROME2"
    )
    np.testing.assert_array_equal(stored.array[0], rgb[3])
    for index, frame in enumerate(encoded):
        start = data.index(frame)
        read = stream.bytes_read_between(start, start + len(frame))
        assert read == (len(frame) if index == 3 else 0), index


# Nothing but dicomnp errors, whatever the bytes


@pytest.mark.parametrize("syntax", list(ENCODED))
def test_damaged_pixel_data_raise_only_dicomnp_errors(syntax: str) -> None:
    data = file_of([ENCODED[syntax]] * 2, syntax)
    start = data.index(ENCODED[syntax]) - 24
    rng = np.random.default_rng(8)
    errors: list[dicomnp.DicomNumpyError] = []
    for _ in range(40):
        damaged = bytearray(data)
        for position in rng.integers(start, len(data), size=3):
            damaged[position] = int(rng.integers(0, 256))
        try:
            decode_pixels(bytes(damaged))
        except dicomnp.DicomNumpyError as exc:  # any other type fails the test
            errors.append(exc)
    assert errors
    assert all(error.path == "<bytes>" for error in errors)


@pytest.mark.parametrize("hidden", [None, "imagecodecs", "libjpeg.utils"])
def test_sequential_jpeg_scan_without_all_coefficients_is_corrupt(
    hidden: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A baseline scan must code coefficients 0-63; libjpeg-turbo would decode Se=0 regardless."""
    imagecodecs = pytest.importorskip("imagecodecs")
    image = (FRAME[..., 0] >> 4).astype(np.uint8)
    good = bytes(imagecodecs.jpeg8_encode(image, level=95))
    scan = good.index(b"\xff\xda")
    se = scan + 2 + 2 + 1 + 2 * good[scan + 4] + 1  # marker, length, Ns, components, Ss
    assert good[se] == 63
    bad = good[:se] + b"\x00" + good[se + 1 :]

    def baseline(frame: bytes) -> bytes:
        value, _, _ = encapsulated_value([frame])
        dataset = encapsulated_dataset(
            value,
            syntax="1.2.840.10008.1.2.4.50",
            rows=ROWS,
            columns=COLUMNS,
            bits_allocated=8,
            bits_stored=8,
            frames=1,
        )
        return to_bytes(dataset)

    if hidden is not None:
        monkeypatch.setitem(sys.modules, hidden, None)
    decoded = decode_pixels(baseline(good)).array[0, ..., 0]  # with either package alone
    assert np.abs(decoded.astype(int) - image.astype(int)).max() <= 8  # lossy, quality 95
    with pytest.raises(dicomnp.CorruptPixelDataError, match="spectral selection 0-0") as caught:
        decode_pixels(baseline(bad))
    assert caught.value.frame == 0
