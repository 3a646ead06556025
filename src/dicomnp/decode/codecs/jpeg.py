"""JPEG and JPEG-LS with imagecodecs (libjpeg-turbo, CharLS) or pylibjpeg-libjpeg.

Covers JPEG Baseline (.4.50), Extended 8 and 12 bit (.4.51), Lossless
process 14 (.4.57) and its first-order prediction (.4.70), JPEG-LS lossless
(.4.80) and near-lossless (.4.81).

Codec facts handled here (RULES.md 3.2 to 3.4):

* libjpeg is called without a colour transform: YCbCr stays YCbCr, and
  chroma subsampled in the codestream (YBR_FULL_422) comes back at full
  resolution, colour-by-pixel. So YBR_FULL_422 decodes to ``"YBR_FULL"``.
* The codestream's own colour evidence (APP14, JFIF, component identifiers)
  wins over a Photometric Interpretation that contradicts it; the
  disagreement is logged.
* JPEG and JPEG-LS samples have no sign: signed images are coded as their
  two's-complement bit patterns, so samples are sign-extended from Bits
  Stored (or from the codestream precision when smaller). Samples come in
  ``ceil(precision / 8)`` bytes whatever Bits Allocated says.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import UnsupportedPixelDataError
from ..pixel_info import PixelInfo
from . import gil_free
from .base import FrameContext, check_end_marker, codec_failures, store_samples
from .jpeg_complete import least_bytes, missing_restarts, with_sentinel
from .jpeg_markers import JpegHeader, parse_jpeg_header, starts_jpeg

__all__ = ["check_header", "colour_model", "decode_into", "starts_frame"]

logger = logging.getLogger(__name__)

PACKAGE = "pylibjpeg-libjpeg"
_SOF55 = 0xF7
_SEQUENTIAL = frozenset({0xC0, 0xC1, 0xC5, 0xC9, 0xCD})
"""Frame header markers of the sequential DCT processes, whose scans code all 64 coefficients."""

starts_frame = starts_jpeg
"""Whether a fragment starting with the given bytes starts a JPEG codestream."""


def colour_model(read_head: Callable[[], bytes], info: PixelInfo) -> str:
    """The colour model of decoded frames, from the declared one and the codestream.

    ``read_head`` gives the start of a frame's codestream: the marker segments
    before the first scan are enough. It is read only for three samples.
    """
    stored = info.photometric_interpretation
    declared = "YBR_FULL" if stored == "YBR_FULL_422" else stored
    if info.samples_per_pixel != 3:
        return declared
    found = parse_jpeg_header(read_head()).colour_space()
    if found is None or found == declared:
        return declared
    logger.warning(
        "Photometric Interpretation is %s but the JPEG codestream holds %s; "
        "the codestream is followed",
        stored,
        found,
    )
    return found


def check_header(head: bytes, info: PixelInfo, context: FrameContext) -> None:
    """Raise when the frame header found in ``head`` contradicts the data set's size.

    Nothing is raised when ``head`` holds no frame header, or one whose
    number of lines is left to a DNL marker: decoding checks those.
    """
    header = parse_jpeg_header(head)
    if header.sof is None or header.rows == 0:
        return
    found = (header.rows, header.columns, len(header.component_ids))
    context.check_shape(found, info, "JPEG codestream")
    _check_length(header, len(head), context)


def _check_restarts(header: JpegHeader, source: bytes, context: FrameContext) -> None:
    """Raise when the scan lacks restart markers: its last intervals are missing."""
    missing = missing_restarts(header, source)
    if missing is not None:
        needed, held = missing
        raise context.corrupt(
            f"the JPEG codestream is cut short: its scan holds {held} restart markers "
            f"of the {needed} its {header.rows}x{header.columns} frame needs"
        )


def _check_length(header: JpegHeader, size: int, context: FrameContext) -> None:
    """Raise when ``size`` bytes cannot hold the entropy-coded data of the frame."""
    least = least_bytes(header)
    if size < least:
        raise context.corrupt(
            f"the JPEG codestream holds {size} bytes, but its {header.rows}x{header.columns} "
            f"frame needs at least {least} bytes of coded data: it is cut short"
        )


def decode_into(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
) -> None:
    """Decode one JPEG or JPEG-LS frame into ``out`` (rows, columns, samples).

    libjpeg-turbo or CharLS (imagecodecs) decode first when installed;
    libjpeg (pylibjpeg-libjpeg) decodes otherwise, and also gets a second try
    at a codestream they refuse.

    Raises
    ------
    MissingCodecError
        Neither imagecodecs nor pylibjpeg-libjpeg is installed.
    UnsupportedPixelDataError
        A JPEG-LS colour transform, which DICOM does not allow, is used.
    CorruptPixelDataError
        The codestream cannot be decoded, or its size, components or
        precision do not fit the data set.
    """
    source = bytes(data)
    check_end_marker(source, context, "JPEG codestream")
    header = parse_jpeg_header(source)
    _check_codestream(header, context)
    if header.sof is None:
        raise context.corrupt("the JPEG codestream holds no frame header before its first scan")
    if not (header.rows and header.columns):
        # Its size cannot be checked before decoding, and libjpeg loops on some of these.
        raise context.corrupt(
            f"the JPEG frame header declares {header.rows}x{header.columns} samples: no rows "
            "(a number of lines given later, by a DNL marker) or no columns"
        )
    failure: Exception | None = None
    context.check_shape(
        (header.rows, header.columns, len(header.component_ids)), info, "JPEG codestream"
    )
    _check_precision(header.precision, info, context)
    _check_length(header, len(source), context)
    _check_restarts(header, source, context)
    # The decoder writes into a buffer of the declared size, and refuses a
    # frame of another size before it decodes a line.
    buffer = np.empty(_codec_shape(info), dtype=_codec_dtype(header.precision))
    try:
        decoded = (
            gil_free.decode_jpeg_ls(source, out=buffer)
            if header.sof == _SOF55
            else gil_free.decode_jpeg(source, samples=info.samples_per_pixel, out=buffer)
        )
    except Exception as exc:  # the codec's own error types; libjpeg tries next
        failure, decoded = exc, None
    if decoded is not None and decoded.size == math.prod(info.frame_shape):
        if header.sof != _SOF55:  # CharLS refuses a cut-short codestream itself
            again = np.empty_like(buffer)
            decode_again = gil_free.decode_jpeg
            _check_whole(
                lambda padded: decode_again(padded, samples=info.samples_per_pixel, out=again),
                decoded,
                source,
                context,
            )
        store_samples(decoded.reshape(info.frame_shape), out, info, header.precision)
        return
    _decode_with_libjpeg(source, header, out, info, context, failure)


def _check_whole(
    decode: Callable[[bytes], Any], decoded: Any, source: bytes, context: FrameContext
) -> None:
    """Raise unless decoding ``source`` with a sentinel before its end gives ``decoded`` again.

    A decoder that runs out of entropy-coded data reads the sentinel instead
    of zero bits, and so decodes other samples (see :mod:`.jpeg_complete`).
    """
    padded = with_sentinel(source)
    if padded is None:
        return
    with codec_failures(context, "the JPEG codestream cannot be decoded"):
        again = decode(padded)
    if again is None or not np.array_equal(np.asarray(again), np.asarray(decoded)):
        raise context.corrupt(
            "the JPEG codestream is cut short: its entropy-coded data end before "
            "the last samples of the frame"
        )


def _codec_shape(info: PixelInfo) -> tuple[int, ...]:
    """The shape imagecodecs gives a decoded frame: no sample axis for one sample."""
    rows, columns, samples = info.frame_shape
    return (rows, columns) if samples == 1 else (rows, columns, samples)


def _codec_dtype(precision: int) -> str:
    """The dtype imagecodecs decodes ``precision``-bit JPEG samples into."""
    return "u1" if precision <= 8 else "u2"


def _check_codestream(header: JpegHeader, context: FrameContext) -> None:
    """Raise for what DICOM or ITU-T T.81 forbid, whichever decoder would accept it."""
    if header.frame_headers > 1:
        raise context.corrupt(
            f"the JPEG codestream holds {header.frame_headers} frame headers before its "
            "first scan, not one"
        )
    if header.ls_colour_transform:
        raise UnsupportedPixelDataError(
            "the JPEG-LS codestream uses a colour transform (APP8 mrfx), "
            "which PS3.5 8.2.3 does not allow",
            path=context.path,
            frame=context.frame,
            tag=context.tag,
        )
    scan = header.scan
    if header.sof in _SEQUENTIAL and scan is not None and scan != (0, 63, 0):
        start, end, approximation = scan
        raise context.corrupt(
            f"the JPEG codestream is sequential (SOF{header.sof - 0xC0}) but its first scan "
            f"has spectral selection {start}-{end} and approximation {approximation:#04x}, "
            "not 0-63 and 0 (ITU-T T.81 B.2.3)"
        )


def _check_precision(precision: int, info: PixelInfo, context: FrameContext) -> None:
    """Raise unless ``precision``-bit samples fit Bits Allocated."""
    if not 1 < precision <= min(16, max(8, info.bits_allocated)):
        raise context.corrupt(
            f"the JPEG codestream has {precision}-bit samples, which do not fit "
            f"Bits Allocated {info.bits_allocated}"
        )


def _decode_with_libjpeg(
    source: bytes,
    header: JpegHeader,
    out: NDArray[Any],
    info: PixelInfo,
    context: FrameContext,
    failure: Exception | None,
) -> None:
    """Decode with pylibjpeg-libjpeg; ``failure`` is what imagecodecs raised, if it did."""
    try:
        from libjpeg.utils import decode_pixel_data, get_parameters
    except ImportError as exc:
        what = "the JPEG codestream cannot be decoded"
        raise context.without_fallback(PACKAGE, failure, what) from failure or exc
    # libjpeg's own reading of the header, checked before decoding: libjpeg
    # allocates what it reads there, whatever another parser found.
    with codec_failures(context, "the JPEG codestream cannot be decoded"):
        parameters = get_parameters(source)
    rows = int(parameters["rows"])
    columns = int(parameters["columns"])
    samples = int(parameters["nr_components"])
    precision = int(parameters["precision"])
    context.check_shape((rows, columns, samples), info, "JPEG codestream")
    _check_precision(precision, info, context)
    _check_length(replace(header, rows=rows, columns=columns), len(source), context)
    with codec_failures(context, "the JPEG codestream cannot be decoded"):
        decoded = decode_pixel_data(source, version=2)
    _check_whole(
        lambda padded: np.frombuffer(decode_pixel_data(padded, version=2), np.uint8),
        np.frombuffer(decoded, np.uint8),
        source,
        context,
    )
    itemsize = math.ceil(precision / 8)
    if len(decoded) != rows * columns * samples * itemsize:
        raise context.corrupt(
            f"the JPEG codestream decodes to {len(decoded)} bytes, "
            f"not {rows * columns * samples * itemsize}"
        )
    array = np.frombuffer(decoded, dtype=f"<u{itemsize}").reshape(rows, columns, samples)
    store_samples(array, out, info, precision)
