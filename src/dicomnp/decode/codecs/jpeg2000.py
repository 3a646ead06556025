"""JPEG 2000 and High-Throughput JPEG 2000 with openjpeg, from imagecodecs or pylibjpeg-openjpeg.

Covers JPEG 2000 lossless (.4.90) and lossy (.4.91), HTJ2K lossless
(.4.201), lossless RPCL (.4.202) and lossy (.4.203).

Codec facts handled here (RULES.md 3.2 to 3.4):

* openjpeg inverts a multiple component transform itself, so YBR_RCT and
  YBR_ICT data (and any codestream whose COD segment flags the transform)
  decode to ``"RGB"``. A YBR_RCT or YBR_ICT label without the transform is
  taken as RGB too, with a logged warning.
* Samples come in a container sized by the codestream precision (1, 2 or 4
  bytes), signed as the SIZ segment says. Where signedness or precision
  disagree with Pixel Representation and Bits Stored, the samples are
  reinterpreted and kept to Bits Stored.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..pixel_info import PixelInfo
from . import gil_free
from .base import FrameContext, check_end_marker, codec_failures, store_samples
from .j2k_markers import parse_j2k_header, starts_j2k

__all__ = ["check_header", "colour_model", "decode_into", "starts_frame"]

logger = logging.getLogger(__name__)

PACKAGE = "pylibjpeg-openjpeg"
_TRANSFORMED = frozenset({"YBR_RCT", "YBR_ICT"})

starts_frame = starts_j2k
"""Whether a fragment starting with the given bytes starts a JPEG 2000 codestream."""


def colour_model(read_head: Callable[[], bytes], info: PixelInfo) -> str:
    """The colour model of decoded frames, from the declared one and the codestream.

    ``read_head`` gives the start of a frame's codestream, with its main
    header. It is read only for three samples.
    """
    stored = info.photometric_interpretation
    if info.samples_per_pixel != 3:
        return stored
    header = parse_j2k_header(read_head())
    if header is not None and header.transform:
        return "RGB"
    if stored in _TRANSFORMED:
        logger.warning(
            "Photometric Interpretation is %s but the JPEG 2000 codestream applies no "
            "component transform; the samples are taken as RGB",
            stored,
        )
        return "RGB"
    return stored


def check_header(head: bytes, info: PixelInfo, context: FrameContext) -> None:
    """Raise when the SIZ segment found in ``head`` contradicts the data set's size.

    Nothing is raised when ``head`` holds no SIZ segment: decoding reports that.
    """
    header = parse_j2k_header(head)
    if header is not None:
        found = (header.rows, header.columns, header.components)
        context.check_shape(found, info, "J2K codestream")


def _codec_shape(info: PixelInfo) -> tuple[int, ...]:
    """The shape imagecodecs gives a decoded frame: no sample axis for one sample."""
    rows, columns, samples = info.frame_shape
    return (rows, columns) if samples == 1 else (rows, columns, samples)


def _codec_dtype(precision: int, signed: bool) -> str:
    """The dtype imagecodecs decodes ``precision``-bit JPEG 2000 samples into."""
    size = 1 if precision <= 8 else 2 if precision <= 16 else 4
    return f"{'i' if signed else 'u'}{size}"


def decode_into(
    data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
) -> None:
    """Decode one JPEG 2000 frame into ``out`` (rows, columns, samples).

    Raises
    ------
    MissingCodecError
        Neither imagecodecs nor pylibjpeg-openjpeg is installed.
    CorruptPixelDataError
        The codestream cannot be decoded, or its size, components or
        precision do not fit the data set.
    """
    source = bytes(data)
    header = parse_j2k_header(source)
    if header is None:
        raise context.corrupt("the fragment holds no JPEG 2000 codestream (no SOC and SIZ)")
    # Checked before decoding: openjpeg allocates what the codestream declares.
    context.check_shape((header.rows, header.columns, header.components), info, "J2K codestream")
    if not 1 <= header.precision <= max(8, info.bits_allocated):
        raise context.corrupt(
            f"the JPEG 2000 codestream has {header.precision}-bit samples, which do not fit "
            f"Bits Allocated {info.bits_allocated}"
        )
    check_end_marker(source, context, "JPEG 2000 codestream")
    failure: Exception | None = None
    # openjpeg writes into a buffer of the declared size, and refuses a
    # codestream of another size before decoding it.
    buffer = np.empty(_codec_shape(info), dtype=_codec_dtype(header.precision, header.signed))
    try:
        fast = gil_free.decode_j2k(source, out=buffer)
    except Exception as exc:  # the codec's own error types; pylibjpeg-openjpeg tries next
        failure, fast = exc, None
    if fast is not None and fast.size == math.prod(info.frame_shape):
        store_samples(fast.reshape(info.frame_shape), out, info, header.precision)
        return
    try:
        from openjpeg.utils import decode_pixel_data, get_parameters
    except ImportError as exc:
        what = "the JPEG 2000 codestream cannot be decoded"
        raise context.without_fallback(PACKAGE, failure, what) from failure or exc
    with codec_failures(context, "the JPEG 2000 codestream cannot be decoded"):
        # openjpeg's own reading of the header, checked before it allocates.
        parameters = get_parameters(source)
    rows, columns = int(parameters["rows"]), int(parameters["columns"])
    context.check_shape(
        (rows, columns, int(parameters["samples_per_pixel"])), info, "J2K codestream"
    )
    with codec_failures(context, "the JPEG 2000 codestream cannot be decoded"):
        decoded = decode_pixel_data(source, version=2)
    itemsize = math.ceil(header.precision / 8)
    itemsize = 4 if itemsize == 3 else itemsize
    expected = header.rows * header.columns * header.components * itemsize
    if len(decoded) != expected:
        raise context.corrupt(
            f"the JPEG 2000 codestream decodes to {len(decoded)} bytes, not {expected}"
        )
    kind = "i" if header.signed else "u"
    array = np.frombuffer(decoded, dtype=f"<{kind}{itemsize}").reshape(info.frame_shape)
    store_samples(array, out, info, header.precision)
