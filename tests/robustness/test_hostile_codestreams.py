"""Hostile codestreams: size decoys, expansion bombs, cut-short data (issue 16, findings 5-8).

Each codestream is built in memory by an encoder (imagecodecs, pylibjpeg,
the test suite's own JPEG lossless encoder) or by hand from the standard's
layout, then mutated. Each must be refused with a dicomnp error before the
decoder allocates more than the frame, or decode exactly.
"""

from __future__ import annotations

import io
import struct
import sys
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np
import pytest

import dicomnp
from dicomnp.decode import decode_pixels
from support.build import to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value
from support.jpeg_lossless import encode_lossless

RLE = "1.2.840.10008.1.2.5"


def file_of(
    frame: bytes, syntax: str, *, rows: int, columns: int, bits: int = 8, samples: int = 1
) -> bytes:
    """A one-frame encapsulated file holding ``frame``."""
    value, _, _ = encapsulated_value([frame])
    ds = encapsulated_dataset(
        value,
        syntax=syntax,
        rows=rows,
        columns=columns,
        bits_allocated=8 if bits <= 8 else 16,
        bits_stored=bits,
        samples=samples,
        frames=1,
    )
    return to_bytes(ds)


def rle_frame(segments: Sequence[bytes]) -> bytes:
    """An RLE frame: the 64-byte header of segment offsets, then the segments."""
    offsets, position = [], 64
    for segment in segments:
        offsets.append(position)
        position += len(segment)
    header = struct.pack("<16L", len(segments), *offsets, *[0] * (15 - len(segments)))
    return header + b"".join(segments)


def replicate_runs(count: int, value: int = 7) -> bytes:
    """``count`` PackBits replicate runs of 128 bytes each (2 coded bytes a run)."""
    return bytes([0x81, value]) * count


def rle_bomb() -> bytes:
    """Finding 7: an 8 MB segment of replicate runs (512 MB decoded) for an 8x8 frame."""
    return file_of(rle_frame([replicate_runs(4_000_000)]), RLE, rows=8, columns=8)


def test_rle_segment_far_longer_than_its_plane_is_refused_before_decoding() -> None:
    with pytest.raises(dicomnp.CorruptPixelDataError, match="decodes past the frame") as caught:
        decode_pixels(rle_bomb())
    assert caught.value.frame == 0


@pytest.mark.parametrize("hidden", [None, "imagecodecs"])
def test_rle_segment_decoding_past_its_plane_is_refused(
    hidden: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hidden is not None:
        monkeypatch.setitem(sys.modules, hidden, None)
    # 4 coded bytes, 256 decoded: the 8x8 plane needs 64.
    with pytest.raises(dicomnp.CorruptPixelDataError, match="past the 64 of a 8x8 plane"):
        decode_pixels(file_of(rle_frame([replicate_runs(2)]), RLE, rows=8, columns=8))


def test_rle_segment_filling_its_plane_exactly_decodes() -> None:
    data = file_of(rle_frame([replicate_runs(1, value=9)]), RLE, rows=8, columns=16)
    assert np.array_equal(decode_pixels(data).array, np.full((1, 8, 16, 1), 9, np.uint8))


def peak_bytes_of(call: Callable[[], object]) -> int:
    """The peak of Python-visible allocations (NumPy arrays included) while ``call`` runs."""
    tracemalloc.start()
    try:
        call()
    except dicomnp.DicomNumpyError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"


def _segments_until_scan(codestream: bytes) -> bytes:
    """The marker segments after SOI up to and including the first scan header."""
    position = 2
    while codestream[position + 1] != 0xDA:
        position += 2 + int.from_bytes(codestream[position + 2 : position + 4], "big")
    return codestream[
        2 : position + 2 + int.from_bytes(codestream[position + 2 : position + 4], "big")
    ]


def jpeg_size_decoy(rows: int, columns: int) -> bytes:
    """Finding 5: an 8x8 baseline JPEG hiding a frame header of ``rows`` x ``columns``.

    After SOI comes ``FF 00`` and two bytes a parser could take for a segment
    length spanning the hidden header; libjpeg skips ``FF 00`` as no marker
    and finds the hidden frame header and scan first.
    """
    import imagecodecs

    small = bytes(imagecodecs.jpeg8_encode(np.full((8, 8), 100, np.uint8), level=90))
    hidden = bytearray(_segments_until_scan(small))
    sof = hidden.index(b"\xff\xc0")
    hidden[sof + 5 : sof + 9] = struct.pack(">HH", rows, columns)
    skipped = b"\xff\x00" + (len(hidden) + 2).to_bytes(2, "big")
    return small[:2] + skipped + bytes(hidden) + small[2:]


def _box(kind: bytes, content: bytes) -> bytes:
    return struct.pack(">L", 8 + len(content)) + kind + content


def _j2k_codestream(rows: int, columns: int) -> bytes:
    import imagecodecs

    encoded = bytes(
        imagecodecs.jpeg2k_encode(np.zeros((rows, columns), np.uint8), level=0, codecformat="J2K")
    )
    assert encoded.startswith(b"\xff\x4f\xff\x51")
    return encoded


def j2k_size_decoy(rows: int, columns: int) -> bytes:
    """Finding 6: a JP2 file whose ``xml `` box holds a 32x32 decoy codestream.

    The codestream decoded, in the ``jp2c`` box, declares ``rows`` x ``columns``
    (its SIZ segment patched, image and tile size).
    """
    real = bytearray(_j2k_codestream(32, 32))
    real[8:16] = struct.pack(">LL", columns, rows)  # Xsiz, Ysiz
    real[24:32] = struct.pack(">LL", columns, rows)  # XTsiz, YTsiz
    header = _box(b"ihdr", struct.pack(">LLHBBBB", rows, columns, 1, 7, 7, 0, 0))
    colour = _box(b"colr", b"\x01\x00\x00" + (17).to_bytes(4, "big"))
    return (
        b"\x00\x00\x00\x0cjP  \r\n\x87\n"
        + _box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ")
        + _box(b"jp2h", header + colour)
        + _box(b"xml ", _j2k_codestream(32, 32))
        + _box(b"jp2c", bytes(real))
    )


def test_jpeg_frame_hidden_behind_a_stuffed_zero_is_the_one_checked() -> None:
    data = file_of(jpeg_size_decoy(4000, 4000), JPEG_BASELINE, rows=8, columns=8)
    assert peak_bytes_of(lambda: decode_pixels(data)) < 4_000_000  # 16 MB if decoded
    with pytest.raises(dicomnp.CorruptPixelDataError, match="4000x4000"):
        decode_pixels(data)


def test_j2k_codestream_in_an_xml_box_is_not_the_one_checked() -> None:
    data = file_of(j2k_size_decoy(4000, 4000), J2K_LOSSLESS, rows=32, columns=32)
    assert peak_bytes_of(lambda: decode_pixels(data)) < 4_000_000  # 16 MB if decoded
    with pytest.raises(dicomnp.CorruptPixelDataError, match="4000x4000"):
        decode_pixels(data)


def test_jp2_wrapped_codestream_still_decodes() -> None:
    import imagecodecs

    frame = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) % 4096
    jp2 = bytes(imagecodecs.jpeg2k_encode(frame, level=0, codecformat="JP2"))
    data = file_of(jp2, J2K_LOSSLESS, rows=32, columns=32, bits=12)
    assert np.array_equal(decode_pixels(data).array[0, ..., 0], frame)


JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
JPEG_LS = "1.2.840.10008.1.2.4.80"
TRUNCATED_FRAME = np.random.default_rng(16).integers(0, 4096, size=(64, 48)).astype(np.uint16)


def _encoded(kind: str) -> tuple[bytes, str, int]:
    """A codestream of TRUNCATED_FRAME (8 bits of it for baseline), its syntax and bits."""
    import imagecodecs

    if kind == "lossless, own encoder":
        return encode_lossless(TRUNCATED_FRAME[..., None], 12), JPEG_LOSSLESS, 12
    if kind == "lossless, libjpeg-turbo":
        coded = imagecodecs.jpeg8_encode(TRUNCATED_FRAME, lossless=True, bitspersample=12)
        return bytes(coded), JPEG_LOSSLESS, 12
    if kind == "baseline":
        coded = imagecodecs.jpeg8_encode((TRUNCATED_FRAME >> 4).astype(np.uint8), level=95)
        return bytes(coded), JPEG_BASELINE, 8
    return bytes(imagecodecs.jpegls_encode(TRUNCATED_FRAME)), JPEG_LS, 12


def _half_the_scan(codestream: bytes) -> bytes:
    """Finding 8: half the entropy-coded data of the last scan removed, and EOI appended."""
    scan = codestream.rfind(b"\xff\xda")
    start = scan + 2 + int.from_bytes(codestream[scan + 2 : scan + 4], "big")
    coded = codestream[start:-2]
    return codestream[:start] + coded[: len(coded) // 2] + b"\xff\xd9"


KINDS = ["lossless, own encoder", "lossless, libjpeg-turbo", "baseline", "JPEG-LS"]


@pytest.mark.parametrize("hidden", [None, "imagecodecs"])
@pytest.mark.parametrize("kind", KINDS)
def test_jpeg_with_half_its_coded_data_is_refused(
    kind: str, hidden: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    codestream, syntax, bits = _encoded(kind)
    whole = file_of(codestream, syntax, rows=64, columns=48, bits=bits)
    expected = decode_pixels(whole).array
    if hidden is not None:
        monkeypatch.setitem(sys.modules, hidden, None)
        alone = decode_pixels(whole).array.astype(int)
        # libjpeg and libjpeg-turbo invert the DCT each their own way.
        assert np.abs(alone - expected).max() <= (2 if kind == "baseline" else 0)
    if kind != "baseline":
        assert np.array_equal(expected[0, ..., 0], TRUNCATED_FRAME)
    cut = file_of(_half_the_scan(codestream), syntax, rows=64, columns=48, bits=bits)
    with pytest.raises(dicomnp.CorruptPixelDataError, match=r"cut short|cannot be decoded"):
        decode_pixels(cut)


@pytest.mark.parametrize("kind", KINDS[:3])
def test_a_small_jpeg_declaring_a_huge_frame_is_refused_before_allocating(kind: str) -> None:
    codestream, syntax, bits = _encoded(kind)
    patched = bytearray(codestream)
    marker = 0xC3 if syntax == JPEG_LOSSLESS else 0xC0
    sof = patched.index(bytes([0xFF, marker]))
    patched[sof + 5 : sof + 9] = struct.pack(">HH", 20000, 20000)
    data = file_of(bytes(patched), syntax, rows=20000, columns=20000, bits=bits)
    assert peak_bytes_of(lambda: decode_pixels(data)) < 4_000_000  # 400 MB or more if allocated
    with pytest.raises(dicomnp.CorruptPixelDataError, match="cut short"):
        decode_pixels(data)


@pytest.mark.parametrize("hidden", [None, "imagecodecs"])
@pytest.mark.parametrize("subsampling", [None, 2])
def test_jpeg_cut_at_a_restart_marker_is_refused(
    hidden: str | None, subsampling: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="Pillow writes restart intervals")
    frame = np.random.default_rng(3).integers(0, 256, size=(64, 48, 3 if subsampling else 1))
    coded = io.BytesIO()
    image = image_module.fromarray(frame.astype(np.uint8).squeeze())
    options = {"subsampling": subsampling} if subsampling else {}
    image.save(coded, format="JPEG", quality=95, restart_marker_blocks=4, **options)
    codestream = coded.getvalue()
    samples = 3 if subsampling else 1
    whole = file_of(codestream, JPEG_BASELINE, rows=64, columns=48, samples=samples)
    if hidden is not None:
        monkeypatch.setitem(sys.modules, hidden, None)
    decode_pixels(whole)
    restarts = [
        at
        for at in range(len(codestream) - 1)
        if codestream[at] == 0xFF and 0xD0 <= codestream[at + 1] <= 0xD7
    ]
    restart = restarts[len(restarts) // 2]  # the end of an interval, before the last ones
    cut = file_of(
        codestream[:restart] + b"\xff\xd9", JPEG_BASELINE, rows=64, columns=48, samples=samples
    )
    with pytest.raises(dicomnp.CorruptPixelDataError, match="restart markers"):
        decode_pixels(cut)


@pytest.mark.parametrize("kind", ["JPEG-LS", "lossless, libjpeg-turbo"])
def test_a_frame_header_without_rows_is_refused_before_any_decoder(kind: str) -> None:
    """A number of lines left to a DNL marker: libjpeg's header reading loops on some."""
    codestream, syntax, bits = _encoded(kind)
    marker = codestream.find(b"\xff\xf7" if kind == "JPEG-LS" else b"\xff\xc3")
    rows_at = marker + 5  # marker, length (2), precision (1), then the number of lines
    no_rows = codestream[:rows_at] + b"\x00\x00" + codestream[rows_at + 2 :]
    broken = file_of(no_rows, syntax, rows=64, columns=48, bits=bits)
    with pytest.raises(dicomnp.CorruptPixelDataError, match="no rows"):
        decode_pixels(broken)
