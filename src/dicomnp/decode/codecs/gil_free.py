"""The decoders of the imagecodecs package, tried first when it is installed.

imagecodecs wraps libjpeg-turbo (JPEG baseline, extended and lossless),
CharLS (JPEG-LS), openjpeg (JPEG 2000 and HTJ2K) and its own DICOM RLE
decoder. They release the GIL while decoding, so frames decode on every
core from threads of one process, and libjpeg-turbo and CharLS are several
times faster than the pylibjpeg codecs. The pylibjpeg codecs stay the
fallback: they decode when imagecodecs is not installed, and they get a
second try at any codestream imagecodecs refuses, so that an error comes
from the same decoder as without imagecodecs.

Each function returns None when imagecodecs is not installed and lets the
codec's own exception through when it fails; the adapters decide what
follows. Nothing here checks sizes: the adapters compare what comes back
with the frame the data set declares.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from ..._syntaxes import Codec, TransferSyntax

__all__ = ["decode_j2k", "decode_jpeg", "decode_jpeg_ls", "decode_rle", "releases_gil"]

_CODECS = frozenset({Codec.JPEG, Codec.JPEG_LS, Codec.JPEG_2000, Codec.RLE})


def _imagecodecs() -> Any:
    """The imagecodecs module, or None when it cannot be imported."""
    try:
        import imagecodecs
    except ImportError:
        return None
    return imagecodecs


def releases_gil(syntax: TransferSyntax) -> bool:
    """Whether frames of ``syntax`` decode without holding the GIL.

    True for JPEG, JPEG-LS, JPEG 2000 and RLE when imagecodecs is installed:
    such frames are decoded on threads rather than in other processes.
    """
    return syntax.codec in _CODECS and _imagecodecs() is not None


def decode_jpeg(data: bytes, *, samples: int, out: NDArray[Any]) -> NDArray[Any] | None:
    """One JPEG frame (any process of ITU-T T.81) with libjpeg-turbo, without colour conversion.

    Three-component frames come back as coded (YCbCr stays YCbCr, RGB stays
    RGB), with subsampled chroma brought to full resolution. Decoded into
    ``out``: a frame header of another size raises before any line is decoded.
    """
    module = _imagecodecs()
    if module is None:
        return None
    # Three samples: the same space in and out, so libjpeg-turbo converts nothing.
    spaces = {"colorspace": "YCbCr", "outcolorspace": "YCbCr"} if samples == 3 else {}
    decoded: NDArray[Any] = module.jpeg8_decode(data, out=out, **spaces)
    return decoded


def decode_jpeg_ls(data: bytes, *, out: NDArray[Any]) -> NDArray[Any] | None:
    """One JPEG-LS frame (ITU-T T.87) with CharLS, colour-by-pixel, decoded into ``out``."""
    module = _imagecodecs()
    if module is None:
        return None
    decoded: NDArray[Any] = module.jpegls_decode(data, out=out)
    return decoded


def decode_j2k(data: bytes, *, out: NDArray[Any]) -> NDArray[Any] | None:
    """One JPEG 2000 or HTJ2K codestream with openjpeg, component transform undone.

    Decoded into ``out``: a codestream of another size raises before decoding.
    """
    module = _imagecodecs()
    if module is None:
        return None
    decoded: NDArray[Any] = module.jpeg2k_decode(data, out=out)
    return decoded


def decode_rle(data: bytes, *, cell_bytes: int, out: bytearray) -> bytes | bytearray | None:
    """One DICOM RLE frame: the byte planes joined into little-endian cells, sample after sample.

    Decoded into ``out``, the size of the frame: a segment that decodes past
    it raises rather than growing the output. The decoded part of ``out`` is
    returned.
    """
    module = _imagecodecs()
    if module is None:
        return None
    decoded: bytes | bytearray = module.dicomrle_decode(data, f"<u{cell_bytes}", out=out)
    return decoded
