"""Deflated Image Frame Compression (1.2.840.10008.1.2.8.1) with zlib.

Each frame is deflated on its own (raw DEFLATE, RFC 1951, no zlib header)
and, once inflated, laid out as native pixel data. Inflation is bounded by
the size one frame needs, so a small fragment cannot make dicomnp allocate
more than the frame it should hold; a stream with a zlib or gzip header is
accepted too (RULES.md section 2.6).
"""

from __future__ import annotations

import zlib
from typing import Any

from numpy.typing import NDArray

from ..pixel_info import PixelInfo
from .base import FrameContext
from .uncompressed import colour_model, decode_native_frame, frame_length

__all__ = ["check_header", "colour_model", "decode_into", "inflate", "starts_frame"]

starts_frame = None
"""Deflated frames have no start marker."""

_MOST_PER_BYTE = 1032
"""DEFLATE expands a byte into at most 1032 (RFC 1951: 258 bytes per 2-bit code, roughly)."""


def check_header(data: bytes, info: PixelInfo, context: FrameContext) -> None:
    """Raise when ``data`` is too short to inflate to the frame the data set declares."""
    expected = frame_length(info)
    most = _MOST_PER_BYTE * len(data) + 64
    if expected > most:
        raise context.corrupt(
            f"the deflated frame holds {len(data)} bytes, which inflate to at most {most}, "
            f"but one frame of {info.rows}x{info.columns}x{info.samples_per_pixel} at "
            f"{info.bits_allocated} bits is {expected}"
        )


_RAW = -15
_ANY_HEADER = 47  # 32 + 15: detect a zlib or gzip header


def inflate(data: bytes | bytearray, limit: int, context: FrameContext) -> bytes:
    """Inflate ``data`` into at most ``limit`` bytes.

    Raises
    ------
    CorruptPixelDataError
        The stream is not DEFLATE data, is cut short, or inflates to more
        than ``limit`` bytes.
    """
    failure: zlib.error | None = None
    for wbits in (_RAW, _ANY_HEADER):
        inflater = zlib.decompressobj(wbits)
        try:
            inflated = inflater.decompress(bytes(data), limit)
            if inflater.eof:
                return inflated
            more = inflater.unconsumed_tail or inflater.decompress(b"", 1)
        except zlib.error as exc:
            failure = exc
            continue
        if more:
            raise context.corrupt(f"the deflated frame inflates to more than {limit} bytes")
        raise context.corrupt("the deflated frame is cut short: its stream does not end")
    raise context.corrupt(f"the frame cannot be inflated: {failure}") from failure


def decode_into(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
) -> None:
    """Inflate one frame and decode it into ``out`` (rows, columns, samples).

    Raises
    ------
    CorruptPixelDataError
        The frame cannot be inflated, or does not inflate to one frame.
    """
    expected = frame_length(info)
    inflated = inflate(data, expected + 1, context)
    decode_native_frame(inflated, out, info, context, "inflated frame")
