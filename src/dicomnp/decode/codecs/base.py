"""What every codec adapter shares: the frame it decodes, and how values are stored.

An adapter turns one frame's codestream into stored values written into an
output array. :class:`FrameContext` names the file, frame and tag in the
errors it raises; :func:`store_samples` and :func:`store_cells` apply the
masking and sign extension of RULES.md sections 1.1 and 3.3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ...errors import CorruptPixelDataError, DicomNumpyError, MissingCodecError
from ..pixel_info import PixelInfo

__all__ = [
    "CodecAdapter",
    "FrameContext",
    "check_end_marker",
    "codec_failures",
    "store_cells",
    "store_samples",
]

_END_MARKER = b"\xff\xd9"  # JPEG EOI and JPEG 2000 EOC
_END_SLACK = 16
"""Trailing bytes allowed after the end marker: fragment padding (00, FF, 20 seen)."""


@dataclass(frozen=True)
class FrameContext:
    """The frame being decoded, for error messages.

    Attributes
    ----------
    path : str
        The source's name.
    frame : int
        The 0-based frame index.
    tag : int
        The pixel element's tag.
    syntax : str
        The transfer syntax's name.
    """

    path: str
    frame: int
    tag: int
    syntax: str

    def corrupt(self, message: str) -> CorruptPixelDataError:
        """Return the error for a frame that cannot be decoded as declared."""
        return CorruptPixelDataError(message, path=self.path, frame=self.frame, tag=self.tag)

    def missing(self, package: str) -> MissingCodecError:
        """Return the error for a codec package that is not installed."""
        return MissingCodecError(
            f"decoding {self.syntax} needs the {package} package: pip install {package}",
            path=self.path,
            frame=self.frame,
            tag=self.tag,
        )

    def without_fallback(
        self, package: str, failure: Exception | None, what: str
    ) -> DicomNumpyError:
        """Return the error for a fallback ``package`` that is not installed.

        ``failure`` is what imagecodecs raised on the frame, if it did: the
        frame is then corrupt (``what`` says how) for the one decoder there
        is. Without it, no decoder is installed at all.
        """
        if failure is not None:
            return self.corrupt(f"{what}: {failure}")
        return self.missing(package)

    def check_shape(self, found: tuple[int, int, int], info: PixelInfo, what: str) -> None:
        """Raise unless ``found`` (rows, columns, samples) matches the data set."""
        expected = info.frame_shape
        if found != expected:
            raise self.corrupt(
                f"the {what} holds {found[0]}x{found[1]} pixels of {found[2]} sample(s), "
                f"but the data set declares {expected[0]}x{expected[1]} of {expected[2]}"
            )


class codec_failures:  # a context manager, named as one is used
    """Turn any failure of a codec call into :class:`CorruptPixelDataError`.

    Codec packages raise ``RuntimeError`` or ``ValueError``, but pyo3-based
    ones (pylibjpeg-rle) can also raise ``PanicException``, which derives
    from ``BaseException``. Everything but interrupts and memory exhaustion
    is chained into the dicomnp error.
    """

    def __init__(self, context: FrameContext, what: str) -> None:
        self._context = context
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None or isinstance(
            error, (KeyboardInterrupt, SystemExit, MemoryError, DicomNumpyError)
        ):
            return
        raise self._context.corrupt(f"{self._what}: {error}") from error


def check_end_marker(data: bytes | bytearray, context: FrameContext, what: str) -> None:
    """Raise unless ``data`` ends with an EOI (JPEG) or EOC (JPEG 2000) marker.

    libjpeg decodes a cut-short codestream without complaint, filling the
    missing samples with zeros, and openjpeg may decode the layers it has; the
    end marker is what shows the codestream is whole. Padding may follow it.
    """
    if _END_MARKER not in bytes(data[-_END_SLACK:]):
        raise context.corrupt(
            f"the {what} is cut short: it does not end with an end-of-image marker (FFD9)"
        )


def store_samples(
    decoded: NDArray[Any], out: NDArray[Any], info: PixelInfo, precision: int
) -> None:
    """Write codec samples into ``out`` as stored values.

    ``decoded`` holds ``precision``-bit samples, signed or not as the
    codestream coded them, shaped like ``out``. They are kept to
    ``min(precision, BitsStored)`` bits: masked when Pixel Representation is
    0, sign-extended when it is 1. This corrects codecs that code signed
    samples as unsigned (JPEG lossless, JPEG-LS) and JPEG 2000 codestreams
    whose signedness or precision disagree with the data set (RULES.md 3.3
    items 4 to 6).
    """
    np.copyto(out, decoded, casting="unsafe")
    bits = min(precision, info.bits_stored)
    shift = out.dtype.itemsize * 8 - bits
    if shift > 0:
        # An arithmetic right shift sign-extends signed dtypes; a logical one masks.
        np.left_shift(out, shift, out=out)
        np.right_shift(out, shift, out=out)


def store_cells(decoded: NDArray[Any], out: NDArray[Any], info: PixelInfo) -> None:
    """Write whole pixel cells into ``out`` and extract the stored values.

    For codecs that code each Bits Allocated cell whole (RLE): bits above
    High Bit and below the sample are dropped, and the sample sign-extended
    when Pixel Representation is 1, as for native data.
    """
    np.copyto(out, decoded, casting="unsafe")
    width = out.dtype.itemsize * 8
    up = width - 1 - info.high_bit
    down = width - info.bits_stored
    if up:
        np.left_shift(out, up, out=out)
    if down:
        np.right_shift(out, down, out=out)


class CodecAdapter(Protocol):
    """What the encapsulated decoder needs from a codec adapter module."""

    @property
    def starts_frame(self) -> Callable[[bytes], bool] | None:
        """Recognises a fragment that starts a frame from its first bytes, if possible."""
        ...

    @property
    def check_header(self) -> Callable[[bytes, PixelInfo, FrameContext], None] | None:
        """Checks a frame's codestream against the data set before the output is allocated.

        Given the codestream of the first frame to decode, it raises when the
        codestream declares a size the data set contradicts, or is too short
        to decode to the declared size; None when there is nothing to check.
        """
        ...

    def colour_model(self, read_head: Callable[[], bytes], info: PixelInfo) -> str:
        """The colour model of decoded frames.

        ``read_head`` returns the first bytes of a frame's codestream; it is
        called only by adapters whose codestream can change the colour model.
        """
        ...

    def decode_into(
        self, data: bytes | bytearray, out: NDArray[Any], info: PixelInfo, context: FrameContext
    ) -> None:
        """Decode one frame's codestream into ``out``, shaped (rows, columns, samples)."""
        ...
