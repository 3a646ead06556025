"""Codec adapters: one small module per codec package, each calling it directly.

Every adapter module offers ``decode_into(data, out, info, context)``,
``colour_model(head, info)`` and ``starts_frame`` (see
:class:`~dicomnp.decode.codecs.base.CodecAdapter`). Codec packages are
imported the first time a frame is decoded, never on ``import dicomnp``.
"""

from . import deflate, jpeg, jpeg2000, rle, uncompressed
from .base import CodecAdapter, FrameContext

__all__ = [
    "CodecAdapter",
    "FrameContext",
    "deflate",
    "jpeg",
    "jpeg2000",
    "rle",
    "uncompressed",
]
