"""Choosing the frame decoder for a source, and resolving frame selections."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, Protocol, Union

from numpy.typing import NDArray

from .._source import OpenSource, PixelElement
from .._syntaxes import Codec, TransferSyntax
from ..errors import (
    CorruptEncapsulationError,
    CorruptPixelDataError,
    FrameIndexError,
    NoPixelDataError,
    TruncatedPixelDataError,
    UnsupportedTransferSyntaxError,
)
from .encapsulated import EncapsulatedFrames, adapter_for
from .native import NativeFrames, check_native_size
from .pixel_info import PixelInfo

__all__ = [
    "FrameDecoder",
    "FrameSelection",
    "check_declared_size",
    "locate_frames",
    "open_frames",
    "select_frames",
]

_ITEM_HEADER = 8
"""Bytes of an item tag and length: the least an encapsulated frame can occupy."""

FrameSelection = Union[int, slice, Sequence[int], None]
"""Which frames to decode: one index, a slice, a sequence of indices, or all."""


class FrameDecoder(Protocol):
    """Decodes the frames of one pixel element, one at a time."""

    info: PixelInfo

    @property
    def frame_count(self) -> int:
        """How many frames can be decoded."""
        ...

    @property
    def photometric_interpretation(self) -> str:
        """The colour model of the decoded values.

        It differs from ``info.photometric_interpretation`` where decoding
        changes the colour model: native YBR_FULL_422 comes out upsampled as
        YBR_FULL; a JPEG 2000 codec that inverts a colour transform gives RGB.
        """
        ...

    def decode_into(self, index: int, out: NDArray[Any]) -> None:
        """Write the stored values of frame ``index`` into ``out``."""
        ...


def open_frames(source: OpenSource, info: PixelInfo | None = None) -> FrameDecoder:
    """Return the decoder for the pixel data of an opened source.

    Parameters
    ----------
    source : OpenSource
        The opened source.
    info : PixelInfo, optional
        Its Image Pixel attributes, when read already from ``source.dataset``
        and ``source.pixel`` (:meth:`PixelInfo.from_dataset`): not read again.

    Raises
    ------
    NoPixelDataError
        The transfer syntax references pixel data held elsewhere (JPIP).
    UnsupportedTransferSyntaxError
        No decoder exists for the transfer syntax.
    CorruptEncapsulationError
        Pixel data of an encapsulated syntax with a defined length.
    InvalidPixelMetadataError
        The Image Pixel attributes are missing or inconsistent.

    Notes
    -----
    Encapsulated decoders read nothing until a frame is asked for; errors in
    the items or codestreams are raised then, naming the frame.
    """
    syntax = source.syntax
    pixel = source.pixel
    if syntax.no_pixel_data:
        raise NoPixelDataError(
            f"{syntax.name} references pixel data held elsewhere",
            path=source.name,
            tag=pixel.tag,
        )
    if info is None:
        info = PixelInfo.from_dataset(source.dataset, pixel, source.name)
    if syntax.codec is Codec.NATIVE:
        if pixel.length is None:
            raise CorruptPixelDataError(
                f"{pixel.keyword} has an undefined length, but {syntax.name} is not encapsulated",
                path=source.name,
                tag=pixel.tag,
            )
        return NativeFrames(
            info, pixel, source.reader, little_endian=syntax.little_endian, name=source.name
        )
    if adapter_for(syntax) is None:
        raise UnsupportedTransferSyntaxError(
            f"decoding {syntax.name} ({syntax.uid}) is not supported",
            path=source.name,
            tag=pixel.tag,
        )
    if pixel.length is not None:
        raise CorruptEncapsulationError(
            f"{pixel.keyword} has a defined length, but {syntax.name} is encapsulated",
            path=source.name,
            tag=pixel.tag,
        )
    check_declared_size(info, pixel, syntax, source.name)
    return EncapsulatedFrames(
        info,
        pixel,
        source.reader,
        syntax=syntax,
        dataset=source.dataset,
        name=source.name,
    )


def check_declared_size(
    info: PixelInfo, pixel: PixelElement, syntax: TransferSyntax, name: str
) -> None:
    """Refuse a header that declares more frames than the pixel element can hold.

    Native data must hold every declared frame. Encapsulated data need at
    least an item header for the Basic Offset Table and one per frame, so a
    header that claims 100,000 frames in a few bytes is refused at once,
    before anything is read or allocated.

    Raises
    ------
    TruncatedPixelDataError
        The pixel element is too short for the declared frames.
    """
    if syntax.no_pixel_data:
        return
    if syntax.codec is Codec.NATIVE:
        if pixel.length is not None:
            check_native_size(info, pixel, name)
        return
    needed = _ITEM_HEADER * (info.number_of_frames + 1)
    if pixel.available < needed:
        raise TruncatedPixelDataError(
            f"{pixel.keyword} holds {pixel.available} bytes, too few for the items of "
            f"{info.number_of_frames} frame(s) (NumberOfFrames), which need at least {needed}",
            expected=needed,
            actual=pixel.available,
            path=name,
            tag=pixel.tag,
        )


def locate_frames(decoder: FrameDecoder, indices: Sequence[int]) -> None:
    """Check, before the output is allocated, that the frames ``indices`` can be found.

    Encapsulated data: every requested frame is located in the fragments
    (Number of Frames against the items and offset tables), and the first
    one's codestream header is checked against the data set where the codec
    allows it. Native data were checked when the decoder was made.

    Raises
    ------
    CorruptEncapsulationError, TruncatedPixelDataError, CorruptPixelDataError
        A frame cannot be found, or its codestream contradicts the data set.
    """
    if isinstance(decoder, EncapsulatedFrames):
        decoder.locate(indices)


def select_frames(frames: FrameSelection, count: int, name: str) -> tuple[int, ...]:
    """Resolve a frame selection against ``count`` frames, as NumPy indexing would.

    Negative indices count from the end. The result keeps the order given.

    Raises
    ------
    FrameIndexError
        An index is out of range.
    TypeError
        ``frames`` is not an int, a slice or a sequence of ints.
    """
    if frames is None:
        return tuple(range(count))
    if isinstance(frames, slice):
        return tuple(range(count)[frames])
    if isinstance(frames, Sequence) and not isinstance(frames, (str, bytes)):
        return tuple(_index(item, count, name) for item in frames)
    return (_index(frames, count, name),)


def _index(item: object, count: int, name: str) -> int:
    try:
        index = operator.index(item)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"frame indices must be integers, not {type(item).__name__}") from None
    if not -count <= index < count:
        raise FrameIndexError(
            f"frame index {index} is out of range for {count} frame(s)", path=name, frame=index
        )
    return index % count
