"""The decode layer: pixel bytes of any transfer syntax to stored values, frame by frame."""

from .frames import FrameDecoder, FrameSelection, open_frames, select_frames
from .pixel_info import PixelInfo
from .stored import PixelDescription, StoredPixels, decode_pixels

__all__ = [
    "FrameDecoder",
    "FrameSelection",
    "PixelDescription",
    "PixelInfo",
    "StoredPixels",
    "decode_pixels",
    "open_frames",
    "select_frames",
]
