"""Arrays encoded in memory with the codec packages decode back exactly.

Encoders: pydicom's RLE encoder, pylibjpeg-openjpeg's JPEG 2000 encoder
(also used for the HTJ2K syntaxes: openjpeg 2.6 writes no HTJ2K codestream,
but a Part 1 codestream is valid under them), zlib, and the small JPEG
lossless encoder in ``support.jpeg_lossless`` (no JPEG or JPEG-LS encoder
ships with the declared dependencies, so JPEG-LS is tested on the corpus
only).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array
from pydicom.dataset import Dataset
from pydicom.pixels.encoders.base import RLELosslessEncoder
from pydicom.uid import UID
from rle.utils import encode_pixel_data

from dicomnp.decode import decode_pixels
from support.build import to_bytes
from support.encaps_build import OffsetTable, encapsulated_dataset, encapsulated_value
from support.jpeg_lossless import encode_lossless

RLE = "1.2.840.10008.1.2.5"
DEFLATE = "1.2.840.10008.1.2.8.1"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
J2K = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
STAND_IN = "1.2.840.10008.1.2.4.50"
ROWS, COLUMNS = 33, 40

Frames = NDArray[Any]
"""Shape (frames, rows, columns, samples), dtype as decoded."""


def sample_frames(
    frames: int, bits_allocated: int, bits_stored: int, signed: bool, samples: int, seed: int = 0
) -> Frames:
    """Random stored values covering the whole Bits Stored range, both extremes included."""
    rng = np.random.default_rng(seed)
    low, high = (
        (-(1 << (bits_stored - 1)), 1 << (bits_stored - 1)) if signed else (0, 1 << bits_stored)
    )
    dtype = np.dtype(f"{'i' if signed else 'u'}{max(1, bits_allocated // 8)}")
    values = rng.integers(low, high, size=(frames, ROWS, COLUMNS, samples), endpoint=False)
    values[0, 0, 0, 0], values[-1, -1, -1, -1] = low, high - 1
    return values.astype(dtype)


def rle_frame(frame: NDArray[Any], bits_allocated: int, bits_stored: int, signed: bool) -> bytes:
    samples = frame.shape[-1]
    if bits_allocated == 32:  # pydicom's encoder refuses 32-bit grey: call pylibjpeg-rle's
        return bytes(
            encode_pixel_data(
                frame.astype(frame.dtype.newbyteorder("<")).tobytes(),
                byteorder="<",
                rows=ROWS,
                columns=COLUMNS,
                samples_per_pixel=samples,
                bits_allocated=bits_allocated,
            )
        )
    encoded: bytes = RLELosslessEncoder.encode(
        frame if samples > 1 else frame[..., 0],
        encoding_plugin="pydicom",
        rows=ROWS,
        columns=COLUMNS,
        samples_per_pixel=samples,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=int(signed),
        photometric_interpretation="RGB" if samples > 1 else "MONOCHROME2",
        number_of_frames=1,
        planar_configuration=0,
    )
    return encoded


def j2k_frame(frame: NDArray[Any], bits_allocated: int, bits_stored: int, signed: bool) -> bytes:
    samples = frame.shape[-1]
    return bytes(
        encode_array(
            frame if samples > 1 else frame[..., 0],
            bits_stored=bits_stored,
            photometric_interpretation=1 if samples > 1 else 2,
            use_mct=samples > 1,
        )
    )


def jpeg_frame(frame: NDArray[Any], bits_allocated: int, bits_stored: int, signed: bool) -> bytes:
    return encode_lossless(frame, bits_stored)


def deflate_frame(
    frame: NDArray[Any], bits_allocated: int, bits_stored: int, signed: bool
) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    native = frame.astype(frame.dtype.newbyteorder("<")).tobytes()
    return deflater.compress(native) + deflater.flush()


Encoder = Callable[[NDArray[Any], int, int, bool], bytes]
CODECS: dict[str, tuple[str, Encoder]] = {
    "rle": (RLE, rle_frame),
    "deflate": (DEFLATE, deflate_frame),
    "jpeg-lossless": (JPEG_LOSSLESS, jpeg_frame),
    "jpeg-lossless-sv1": (JPEG_LOSSLESS_SV1, jpeg_frame),
    "j2k-lossless": (J2K_LOSSLESS, j2k_frame),
    "htj2k-lossless": (HTJ2K_LOSSLESS, j2k_frame),
    "htj2k-rpcl": (HTJ2K_RPCL, j2k_frame),
}
LAYOUTS = [(8, 8, 1), (16, 12, 1), (16, 16, 1), (8, 8, 3), (16, 16, 3)]
"""(Bits Allocated, Bits Stored, Samples per Pixel) of each round trip."""


def photometric(syntax: str, samples: int) -> str:
    if samples == 1:
        return "MONOCHROME2"
    return "YBR_RCT" if syntax in (J2K_LOSSLESS, HTJ2K_LOSSLESS, HTJ2K_RPCL) else "RGB"


def encoded_file(
    codec: str,
    values: Frames,
    bits_allocated: int,
    bits_stored: int,
    *,
    table: OffsetTable = "basic",
    fragments_per_frame: int = 1,
) -> bytes:
    syntax, encode = CODECS[codec]
    signed = values.dtype.kind == "i"
    frames = [encode(frame, bits_allocated, bits_stored, signed) for frame in values]
    value, offsets, lengths = encapsulated_value(
        frames, table=table, fragments_per_frame=fragments_per_frame
    )
    samples = values.shape[-1]
    ds = encapsulated_dataset(
        value,
        syntax=syntax,
        rows=ROWS,
        columns=COLUMNS,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=int(signed),
        samples=samples,
        photometric=photometric(syntax, samples),
        frames=len(frames),
        extended=None if offsets is None or lengths is None else (offsets, lengths),
    )
    return file_bytes(ds)


def file_bytes(ds: Dataset) -> bytes:
    """Write ``ds``, also under a transfer syntax pydicom cannot write (deflated frames).

    pydicom refuses to write a syntax it does not know, so such data sets are
    written as JPEG Baseline, whose UID has the same padded length, and the
    UID is replaced in the file meta.
    """
    syntax = str(ds.file_meta.TransferSyntaxUID)
    if syntax != DEFLATE:
        return to_bytes(ds)
    ds.file_meta.TransferSyntaxUID = UID(STAND_IN)
    data = to_bytes(ds)
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    stand_in = STAND_IN.encode()
    assert data.count(stand_in) == 1
    assert len(stand_in) == len(DEFLATE) + 1
    return data.replace(stand_in, DEFLATE.encode() + b"\0")


def _round_trip_cases() -> list[Any]:
    cases = []
    for codec in CODECS:
        for bits_allocated, bits_stored, samples in LAYOUTS:
            for signed in (False, True):
                if samples == 3 and signed and codec == "rle":
                    continue  # pydicom's RLE encoder refuses signed colour, as PS3.5 8.2 does
                kind = "signed" if signed else "unsigned"
                cases.append(
                    pytest.param(
                        codec,
                        bits_allocated,
                        bits_stored,
                        signed,
                        samples,
                        id=f"{codec}-{bits_stored}in{bits_allocated}-{kind}-{samples}s",
                    )
                )
    return cases


@pytest.mark.parametrize(
    ("codec", "bits_allocated", "bits_stored", "signed", "samples"), _round_trip_cases()
)
def test_round_trip(
    codec: str, bits_allocated: int, bits_stored: int, signed: bool, samples: int
) -> None:
    values = sample_frames(2, bits_allocated, bits_stored, signed, samples)
    data = encoded_file(codec, values, bits_allocated, bits_stored)
    stored = decode_pixels(data)
    assert stored.array.dtype == values.dtype
    np.testing.assert_array_equal(stored.array, values)


@pytest.mark.parametrize("codec", ["rle", "j2k-lossless", "deflate"])
@pytest.mark.parametrize("bits_stored", [24, 32])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_round_trip_32_bit(codec: str, bits_stored: int, signed: bool) -> None:
    if codec == "j2k-lossless" and bits_stored > 24:
        pytest.skip("openjpeg encodes at most 24 bits per sample")
    values = sample_frames(2, 32, bits_stored, signed, 1)
    np.testing.assert_array_equal(
        decode_pixels(encoded_file(codec, values, 32, bits_stored)).array, values
    )


@pytest.mark.parametrize("codec", ["rle", "jpeg-lossless", "j2k-lossless", "deflate"])
@pytest.mark.parametrize(
    ("table", "per_frame"),
    [("basic", 1), ("basic", 2), ("empty", 1), ("empty", 2), ("extended", 1)],
)
def test_round_trip_across_offset_tables_and_fragments(
    codec: str, table: OffsetTable, per_frame: int
) -> None:
    if codec == "deflate" and table == "empty" and per_frame > 1:
        pytest.skip("deflated frames have no start marker to find them by")
    values = sample_frames(3, 16, 12, True, 1, seed=1)
    data = encoded_file(codec, values, 16, 12, table=table, fragments_per_frame=per_frame)
    np.testing.assert_array_equal(decode_pixels(data).array, values)
    np.testing.assert_array_equal(decode_pixels(data, frames=[2, 0]).array, values[[2, 0]])


def test_single_frame_without_number_of_frames() -> None:
    values = sample_frames(1, 8, 8, False, 3)
    data = encoded_file("j2k-lossless", values, 8, 8, table="empty", fragments_per_frame=3)
    np.testing.assert_array_equal(decode_pixels(data).array, values)


@pytest.mark.parametrize("syntax", [J2K, HTJ2K])
def test_lossy_jpeg_2000_decodes_close(syntax: str) -> None:
    values = sample_frames(1, 16, 12, False, 1)
    smooth = np.sort(values.reshape(-1)).reshape(values.shape)
    frame = encode_array(smooth[0, ..., 0], bits_stored=12, compression_ratios=[4])
    value, _, _ = encapsulated_value([bytes(frame)])
    ds = encapsulated_dataset(
        value, syntax=syntax, rows=ROWS, columns=COLUMNS, bits_allocated=16, bits_stored=12
    )
    decoded = decode_pixels(to_bytes(ds)).array
    assert decoded.dtype == np.uint16
    assert np.abs(decoded.astype(np.int32) - smooth).max() < 64


def test_single_bit_frames_deflated() -> None:
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2, size=(3, ROWS, COLUMNS, 1), dtype=np.uint8)
    frames = []
    for frame in bits:
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = np.packbits(frame.reshape(-1), bitorder="little").tobytes()
        frames.append(deflater.compress(packed) + deflater.flush())
    value, _, _ = encapsulated_value(frames)
    ds = encapsulated_dataset(
        value, syntax=DEFLATE, rows=ROWS, columns=COLUMNS, bits_allocated=1, frames=3
    )
    np.testing.assert_array_equal(decode_pixels(file_bytes(ds)).array, bits)
