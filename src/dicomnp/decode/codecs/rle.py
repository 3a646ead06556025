"""RLE Lossless (1.2.840.10008.1.2.5) with imagecodecs or pylibjpeg-rle.

PS3.5 Annex G: each frame is one fragment, a 64-byte header of segment
offsets then one PackBits segment per byte plane, most significant byte
first, sample after sample. Both decoders return the planes joined, one
sample plane after another, in little-endian order; here they are
interleaved into colour-by-pixel. imagecodecs decodes first when installed
(without the GIL); a frame it refuses, or whose length comes out wrong,
goes to pylibjpeg-rle, whose errors name the segment at fault.

Bits Allocated 1 is coded two ways in the wild: one byte per pixel (what
pylibjpeg-rle 2.2 expects) or the packed bits of the native layout (what
some writers of segmentations produce). The decoded segment length tells
which; both are accepted.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..pixel_info import PixelInfo
from . import gil_free
from .base import FrameContext, codec_failures, store_cells

__all__ = ["check_header", "colour_model", "decode_into", "starts_frame"]

PACKAGE = "pylibjpeg-rle"
_HEADER = struct.Struct("<16L")


def starts_frame(head: bytes) -> bool:
    """Whether a fragment starting with ``head`` starts an RLE frame (a segment header)."""
    if len(head) < 8:
        return False
    segments, first = struct.unpack_from("<2L", head)
    return bool(1 <= segments <= 15 and first == 64)


_MOST_PER_BYTE = 64
"""PackBits expands two bytes into at most 128: a segment decodes to at most 64 times its size."""


def check_header(data: bytes, info: PixelInfo, context: FrameContext) -> None:
    """Raise when ``data`` is too short to decode to the frame the data set declares.

    RLE frames do not state their size, but PackBits cannot expand a segment
    more than 64 times, so Rows and Columns that the data could never fill
    are refused before the output is allocated.
    """
    if len(data) < 64:
        raise context.corrupt(f"the RLE frame holds {len(data)} bytes, less than its header")
    cells = info.rows * info.columns * info.samples_per_pixel * max(1, info.bits_allocated // 8)
    if info.bits_allocated == 1:
        cells = -(-info.rows * info.columns // 8)
    most = _MOST_PER_BYTE * (len(data) - 64)
    if cells > most:
        raise context.corrupt(
            f"the RLE frame holds {len(data)} bytes, which decode to at most {most}, "
            f"but {info.rows}x{info.columns}x{info.samples_per_pixel} at "
            f"{info.bits_allocated} bits need {cells}"
        )


def colour_model(read_head: Callable[[], bytes], info: PixelInfo) -> str:
    """The colour model of decoded frames: as stored, at full resolution."""
    stored = info.photometric_interpretation
    return "YBR_FULL" if stored == "YBR_FULL_422" else stored


def decode_into(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
) -> None:
    """Decode one RLE frame into ``out`` (rows, columns, samples), colour-by-pixel.

    Every segment must decode to one byte plane of the frame, no more: a
    segment that runs on past its plane is refused, and decoding never
    produces more than the frame holds (imagecodecs decodes into a buffer of
    the frame's size; segments far longer than any coding of a plane are
    refused before pylibjpeg-rle decodes them).

    Raises
    ------
    MissingCodecError
        Neither imagecodecs nor pylibjpeg-rle is installed.
    CorruptPixelDataError
        The header or a segment does not match the declared frame.
    """
    if len(data) < 64:
        raise context.corrupt(f"the RLE frame holds {len(data)} bytes, less than its header")
    header = _HEADER.unpack_from(data)
    cell_bytes = max(1, info.bits_allocated // 8)
    expected = info.samples_per_pixel * cell_bytes
    if header[0] != expected:
        raise context.corrupt(
            f"the RLE header lists {header[0]} segments, but {info.samples_per_pixel} "
            f"sample(s) of {info.bits_allocated} bits need {expected}"
        )
    _check_offsets(header, len(data), context)
    source = bytes(data)
    pixels = info.rows * info.columns
    bounds = _segment_bounds(header, len(source))
    _check_segment_sizes(bounds, pixels, context)
    failure: Exception | None = None
    if info.bits_allocated != 1:
        buffer = bytearray(pixels * expected)
        try:
            decoded = gil_free.decode_rle(source, cell_bytes=cell_bytes, out=buffer)
        except Exception as exc:  # the codec's own error types; pylibjpeg-rle says which segment
            failure, decoded = exc, None
        if decoded is not None and len(decoded) == pixels * expected:
            _store_planes(decoded, out, info, cell_bytes)
            return
    try:
        from rle.rle import decode_frame, decode_segment
    except ImportError as exc:
        raise context.without_fallback(PACKAGE, failure, "RLE decoding failed") from (
            failure or exc
        )
    segments: list[bytes] = []
    for number, (start, end) in enumerate(bounds, 1):
        with codec_failures(context, "RLE decoding failed"):
            segment = bytes(decode_segment(source[start:end]))
        if len(segment) > pixels + pixels % 2:
            raise context.corrupt(
                f"RLE segment {number} decodes to {len(segment)} bytes, past the "
                f"{pixels} of a {info.rows}x{info.columns} plane"
            )
        segments.append(segment)
    if info.bits_allocated == 1:
        out.reshape(-1)[...] = _single_bits(segments[0], pixels, context)
        return
    if any(len(segment) < pixels for segment in segments):
        with codec_failures(context, "RLE decoding failed"):  # its message names the segment
            decode_frame(source, pixels, info.bits_allocated, "<")
        raise context.corrupt(
            f"an RLE segment decodes to fewer than the {pixels} bytes of a "
            f"{info.rows}x{info.columns} plane"
        )
    cells = np.empty((info.samples_per_pixel, pixels, cell_bytes), dtype=np.uint8)
    for index, segment in enumerate(segments):
        sample, byte = divmod(index, cell_bytes)  # most significant byte first
        cells[sample, :, cell_bytes - 1 - byte] = np.frombuffer(segment, np.uint8, pixels)
    _store_planes(cells.tobytes(), out, info, cell_bytes)


def _store_planes(
    decoded: bytes | bytearray, out: NDArray[Any], info: PixelInfo, cell_bytes: int
) -> None:
    """Interleave the little-endian sample planes ``decoded`` into ``out``."""
    planes = np.frombuffer(decoded, dtype=f"<u{cell_bytes}").reshape(
        info.samples_per_pixel, info.rows, info.columns
    )
    store_cells(planes.transpose(1, 2, 0), out, info)


def _segment_bounds(header: tuple[int, ...], size: int) -> list[tuple[int, int]]:
    """Where each segment starts and ends in a frame of ``size`` bytes."""
    offsets = [*header[1 : 1 + header[0]], size]
    return list(itertools.pairwise(offsets))


_MOST_CODED_PER_BYTE = 2
"""The longest PackBits coding of a plane: every byte a literal run of one (2 bytes per byte)."""


def _check_segment_sizes(bounds: list[tuple[int, int]], pixels: int, context: FrameContext) -> None:
    """Refuse a segment longer than any PackBits coding of one plane of ``pixels`` bytes.

    Such a segment decodes past its plane (up to 64 times its size) or holds
    data that belong to no pixel; refusing it first keeps decoding within a
    small multiple of the frame's size.
    """
    most = _MOST_CODED_PER_BYTE * pixels + 2
    for number, (start, end) in enumerate(bounds, 1):
        if end - start > most:
            raise context.corrupt(
                f"RLE segment {number} holds {end - start} bytes, more than the {most} "
                f"that any coding of a plane of {pixels} pixels needs: it decodes past the frame"
            )


def _check_offsets(header: tuple[int, ...], size: int, context: FrameContext) -> None:
    """Raise unless the segment offsets start at 64, increase and lie inside the frame."""
    offsets = header[1 : 1 + header[0]]
    increasing = all(a < b for a, b in itertools.pairwise(offsets))
    if offsets[0] != 64 or not increasing or offsets[-1] >= size:
        raise context.corrupt(
            f"the RLE header's segment offsets {list(offsets)} do not fit a frame of {size} bytes"
        )


def _single_bits(segment: bytes, pixels: int, context: FrameContext) -> NDArray[Any]:
    """The 0/1 pixels of a Bits Allocated 1 segment, coded per pixel or packed."""
    if len(segment) >= pixels:
        return np.frombuffer(segment, dtype=np.uint8, count=pixels) & 1
    packed = -(-pixels // 8)
    if len(segment) >= packed:
        array = np.frombuffer(segment, dtype=np.uint8, count=packed)
        return np.unpackbits(array, bitorder="little", count=pixels)
    raise context.corrupt(
        f"the RLE segment decodes to {len(segment)} bytes, fewer than the {packed} "
        f"needed for {pixels} single-bit pixels"
    )
