"""Encapsulated Uncompressed Explicit VR Little Endian (1.2.840.10008.1.2.1.98).

Each fragment holds one frame laid out as native pixel data (PS3.5 A.4.11),
so it is decoded by the native decoder: bit extraction, sign extension,
planar configuration, 1-bit frames (padded to whole bytes per frame) and the
native YBR_FULL_422 layout all behave as in PS3.5 section 8.1. The Deflated
Image Frame Compression adapter inflates frames, then decodes them here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from numpy.typing import NDArray

from ..._source import BufferReader, PixelElement
from ..native import NativeFrames, native_length
from ..pixel_info import PixelInfo
from .base import FrameContext

__all__ = [
    "check_header",
    "colour_model",
    "decode_into",
    "decode_native_frame",
    "frame_length",
    "starts_frame",
]

starts_frame = None
"""Native frames have no start marker."""


def check_header(data: bytes, info: PixelInfo, context: FrameContext) -> None:
    """Raise unless ``data`` is one native frame long (plus at most a pad byte)."""
    _check_length(data, info, context, "fragment")


def frame_length(info: PixelInfo) -> int:
    """Bytes of one native frame, before any pad byte."""
    return native_length(dataclasses.replace(info, number_of_frames=1))


def colour_model(read_head: Callable[[], bytes], info: PixelInfo) -> str:
    """The colour model of decoded frames: native YBR_FULL_422 is upsampled to YBR_FULL."""
    stored = info.photometric_interpretation
    return "YBR_FULL" if stored == "YBR_FULL_422" else stored


def _check_length(
    data: bytes | bytearray, info: PixelInfo, context: FrameContext, what: str
) -> PixelInfo:
    """Raise unless ``data`` is one frame long; return the one-frame PixelInfo."""
    single = dataclasses.replace(info, number_of_frames=1)
    expected = native_length(single)
    if not expected <= len(data) <= expected + 1:
        raise context.corrupt(
            f"the {what} holds {len(data)} bytes, but one frame of {info.rows}x"
            f"{info.columns}x{info.samples_per_pixel} at {info.bits_allocated} bits "
            f"is {expected}"
        )
    return single


def decode_native_frame(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext, what: str
) -> None:
    """Decode ``data``, one native frame (plus at most a pad byte), into ``out``.

    Raises
    ------
    CorruptPixelDataError
        ``data`` is not one frame long.
    """
    single = _check_length(data, info, context, what)
    pixel = PixelElement(
        tag=context.tag, vr="OB", value_offset=0, length=len(data), available=len(data)
    )
    frames = NativeFrames(single, pixel, BufferReader(data), little_endian=True, name=context.path)
    frames.decode_into(0, out)


def decode_into(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
) -> None:
    """Decode one uncompressed frame into ``out`` (rows, columns, samples).

    Raises
    ------
    CorruptPixelDataError
        The fragment is not one frame long.
    """
    decode_native_frame(data, out, info, context, "fragment")
