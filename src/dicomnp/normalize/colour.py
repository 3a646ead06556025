"""Colour models to interleaved RGB, converted exactly once (rule R4, docs/rendering.rst).

The decode layer reports the colour model of what it produced; this module
decides what is left to do from that report alone:

==========================================  =================================
decoded colour model                        conversion here
==========================================  =================================
RGB                                         none
YBR_FULL, YBR_FULL_422                      YBR_FULL to RGB (chroma already
                                            at full resolution)
YBR_PARTIAL_422, YBR_PARTIAL_420            studio-range YCbCr to RGB
YBR_ICT, YBR_RCT                            none: a codec that leaves these
                                            names has applied no component
                                            transform, so the samples are
                                            the RGB that was encoded
MONOCHROME1, MONOCHROME2, PALETTE COLOR     not colour (grey, or palette.py)
==========================================  =================================

Conversions compute in float64, round half up and clip to the range of
Bits Stored, so they work for any sample depth.
"""

from __future__ import annotations

import functools
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ColourConversion", "conversion_for", "ybr_to_rgb"]


class ColourConversion(str, Enum):
    """The colour step made on the decoded values, as the header records it."""

    NONE = "none"
    YBR_FULL = "ybr_full_to_rgb"
    YBR_PARTIAL = "ybr_partial_to_rgb"
    PALETTE = "palette_lut"
    CODEC = "codec_component_transform"
    """The codec inverted a JPEG 2000 component transform (YBR_ICT/YBR_RCT to RGB)."""


_FULL = frozenset({"YBR_FULL", "YBR_FULL_422"})
_PARTIAL = frozenset({"YBR_PARTIAL_422", "YBR_PARTIAL_420"})
_J2K = frozenset({"YBR_ICT", "YBR_RCT"})

# Inverse of the full-range BT.601 transform of PS3.3 C.7.6.3.1.2; rows give
# the weights of (Y, Cb - h, Cr - h) for R, G and B.
_FULL_TO_RGB = np.array(
    [
        [1.0, 0.0, 1.402],
        [1.0, -0.114 * 1.772 / 0.587, -0.299 * 1.402 / 0.587],
        [1.0, 1.772, 0.0],
    ]
)
# Studio range: Y in [16, 235], Cb and Cr in [16, 240] at 8 bits.
_PARTIAL_TO_RGB = np.array(
    [
        [255 / 219, 0.0, 255 / 224 * 1.402],
        [255 / 219, -255 / 224 * 0.114 * 1.772 / 0.587, -255 / 224 * 0.299 * 1.402 / 0.587],
        [255 / 219, 255 / 224 * 1.772, 0.0],
    ]
)


def conversion_for(stored: str, decoded: str) -> ColourConversion:
    """The colour step for a stored and a decoded colour model.

    Examples
    --------
    >>> conversion_for("YBR_FULL_422", "YBR_FULL").value
    'ybr_full_to_rgb'
    >>> conversion_for("YBR_RCT", "RGB").value
    'codec_component_transform'
    """
    if decoded == "PALETTE COLOR":
        return ColourConversion.PALETTE
    if decoded in _FULL:
        return ColourConversion.YBR_FULL
    if decoded in _PARTIAL:
        return ColourConversion.YBR_PARTIAL
    if decoded == "RGB" and stored in _J2K:
        return ColourConversion.CODEC
    return ColourConversion.NONE


def ybr_to_rgb(values: NDArray[Any], bits: int, *, partial: bool, out: NDArray[Any]) -> None:
    """Convert full-resolution YCbCr samples to RGB.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(..., 3)``, unsigned, Y Cb Cr on the last axis.
    bits : int
        Bits Stored of each sample: ``h = 2**(bits - 1)`` is the chroma
        midpoint and the output is clipped to ``0 .. 2**bits - 1``.
    partial : bool
        Studio-range input (YBR_PARTIAL_*), scaled from 8-bit levels.
    out : numpy.ndarray
        Receives RGB, same shape; may be ``values`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> ybr = np.array([[[76, 85, 255]]], dtype=np.uint8)
    >>> out = np.empty_like(ybr)
    >>> ybr_to_rgb(ybr, 8, partial=False, out=out)
    >>> out.tolist()
    [[[254, 0, 0]]]
    """
    if not partial and bits == 8 and values.dtype == np.uint8:
        _ybr_full_8_bit_to_rgb(values, out)
        return
    half = float(1 << (bits - 1))
    top = float((1 << bits) - 1)
    samples = values.astype(np.float64)
    if partial:
        scale = float(1 << (bits - 8)) if bits >= 8 else 1.0 / (1 << (8 - bits))
        samples[..., 0] -= 16.0 * scale
        matrix = _PARTIAL_TO_RGB
    else:
        matrix = _FULL_TO_RGB
    samples[..., 1:] -= half
    rgb = samples @ matrix.T
    rgb += 0.5
    np.floor(rgb, out=rgb)
    np.clip(rgb, 0.0, top, out=rgb)
    out[...] = rgb


@functools.cache
def _full_8_bit_tables() -> tuple[NDArray[np.int16], NDArray[np.int16], NDArray[np.int16]]:
    """Integer chroma terms of the YBR_FULL inverse for 8-bit samples, rounded half up.

    Y is an integer, so ``floor(Y + x + 0.5) == Y + floor(x + 0.5)``: adding
    these to Y gives exactly what the float formula gives. Returned read-only:
    R's term by Cr, B's by Cb, and G's by ``Cb * 256 + Cr``.
    """
    chroma = np.arange(256, dtype=np.float64) - 128.0
    red = np.floor(_FULL_TO_RGB[0, 2] * chroma + 0.5).astype(np.int16)
    blue = np.floor(_FULL_TO_RGB[2, 1] * chroma + 0.5).astype(np.int16)
    green_float = _FULL_TO_RGB[1, 1] * chroma[:, None] + _FULL_TO_RGB[1, 2] * chroma[None, :]
    green = np.floor(green_float + 0.5).astype(np.int16).reshape(-1)
    for table in (red, blue, green):
        table.flags.writeable = False
    return red, blue, green


def _ybr_full_8_bit_to_rgb(values: NDArray[Any], out: NDArray[Any]) -> None:
    """YBR_FULL to RGB for 8-bit samples through integer tables (no float pass)."""
    red, blue, green = _full_8_bit_tables()
    luma = values[..., 0].astype(np.int16)
    cb = values[..., 1]
    cr = values[..., 2]
    pair = cb.astype(np.uint16)
    pair <<= 8
    pair |= cr
    channels = (red[cr], green[pair], blue[cb])  # computed before out (may be values) changes
    for index, term in enumerate(channels):
        term += luma
        np.clip(term, 0, 255, out=term)
        out[..., index] = term
