"""Encapsulated pixel data: frames located in their fragments, then decoded by a codec.

:class:`EncapsulatedFrames` is the :class:`~dicomnp.decode.frames.FrameDecoder`
for every encapsulated transfer syntax with a decoder. It finds each frame's
fragments with a :class:`~dicomnp.decode.fragments.FrameTable`, reads only
those, and hands the codestream to the adapter of the syntax's codec.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes
from .._source import ByteReader, PixelElement
from .._syntaxes import Codec, TransferSyntax
from ..errors import (
    DicomNumpyError,
    InvalidPixelMetadataError,
    UnsupportedTransferSyntaxError,
)
from .codecs import deflate, jpeg, jpeg2000, rle, uncompressed
from .codecs.base import CodecAdapter, FrameContext
from .fragments import FrameTable
from .pixel_info import PixelInfo

__all__ = ["EncapsulatedFrames", "adapter_for"]

logger = logging.getLogger(__name__)

EXTENDED_OFFSET_TABLE = 0x7FE00001
EXTENDED_OFFSET_TABLE_LENGTHS = 0x7FE00002
PHOTOMETRIC_INTERPRETATION = 0x00280004
_J2K_ONLY = frozenset({"YBR_ICT", "YBR_RCT"})
_HEAD = 65536
"""Bytes of a frame read to learn its colour model: enough for any JPEG header."""

_ADAPTERS: dict[Codec, CodecAdapter] = {
    Codec.RLE: rle,
    Codec.JPEG: jpeg,
    Codec.JPEG_LS: jpeg,
    Codec.JPEG_2000: jpeg2000,
    Codec.DEFLATE: deflate,
    Codec.ENCAPSULATED_NATIVE: uncompressed,
}


def adapter_for(syntax: TransferSyntax) -> CodecAdapter | None:
    """The codec adapter module for ``syntax``, or None if there is none."""
    return _ADAPTERS.get(syntax.codec)


class EncapsulatedFrames:
    """Decodes frames of encapsulated pixel data held by a :class:`ByteReader`.

    Parameters
    ----------
    info : PixelInfo
        The validated Image Pixel attributes.
    pixel : PixelElement
        The pixel element; ``value_offset`` is where its first item tag lies.
    reader : ByteReader
        Random access to the source bytes.
    syntax : TransferSyntax
        The encapsulated transfer syntax.
    dataset : pydicom.Dataset or Attributes
        The data set, for the Extended Offset Table.
    name : str
        The source's name, for messages.

    Raises
    ------
    UnsupportedTransferSyntaxError
        dicomnp has no decoder for ``syntax``.
    InvalidPixelMetadataError
        YBR_ICT or YBR_RCT with a syntax other than JPEG 2000 (RULES.md 3.3 item 11).

    Notes
    -----
    Nothing is read until a frame or the colour model is asked for. The
    fragment table is then built once and kept; decoding a frame reads only
    that frame's fragments.
    """

    def __init__(
        self,
        info: PixelInfo,
        pixel: PixelElement,
        reader: ByteReader,
        *,
        syntax: TransferSyntax,
        dataset: Attributes,
        name: str,
    ) -> None:
        adapter = adapter_for(syntax)
        if adapter is None:
            raise UnsupportedTransferSyntaxError(
                f"decoding {syntax.name} ({syntax.uid}) is not supported", path=name, tag=pixel.tag
            )
        if info.photometric_interpretation in _J2K_ONLY and syntax.codec is not Codec.JPEG_2000:
            raise InvalidPixelMetadataError(
                f"{info.photometric_interpretation} is only used with JPEG 2000, not {syntax.name}",
                path=name,
                tag=PHOTOMETRIC_INTERPRETATION,
            )
        self.info = info
        self._adapter = adapter
        self._syntax = syntax
        self._pixel = pixel
        self._name = name
        self._table = FrameTable(
            reader,
            pixel,
            info.number_of_frames,
            starts_frame=adapter.starts_frame,
            extended_offsets=_extended_offsets(dataset, name),
            name=name,
        )
        self._colour: str | None = None
        self._pending: tuple[int, bytes | bytearray] | None = None

    @property
    def frame_count(self) -> int:
        """The number of frames that can be decoded (the declared number)."""
        return self.info.number_of_frames

    @property
    def photometric_interpretation(self) -> str:
        """The colour model of decoded frames.

        Where the codec decides it (JPEG colour evidence in APP14, JFIF or
        component identifiers; JPEG 2000 component transforms) it is read
        from the first frame decoded, or from the start of frame 0 when no
        frame has been decoded yet.
        """
        if self._colour is None:
            self._colour = self._adapter.colour_model(self._first_head, self.info)
        return self._colour

    def _first_head(self) -> bytes:
        try:
            return self._table.head(0, _HEAD)
        except DicomNumpyError:
            return b""  # decoding reports the problem; the declared model stands

    def locate(self, indices: Sequence[int]) -> None:
        """Find every frame of ``indices`` and check the first one's codestream header.

        Called before the output is allocated, so that Number of Frames,
        Rows and Columns that the fragments contradict are refused without
        allocating what the header claims. Only item headers and the start
        of one codestream are read.

        Raises
        ------
        CorruptEncapsulationError, TruncatedPixelDataError
            A frame cannot be found in the items.
        CorruptPixelDataError
            The first frame's codestream declares another size than the data set.
        """
        for index in indices:
            self._table.fragments(index)
        check = self._adapter.check_header
        if check is None or not indices:
            return
        index = indices[0]
        context = FrameContext(
            path=self._name, frame=index, tag=self._pixel.tag, syntax=self._syntax.name
        )
        data = self._table.read(index)
        check(bytes(data), self.info, context)
        self._pending = (index, data)  # decoded next: not read twice

    def decode_into(self, index: int, out: NDArray[Any]) -> None:
        """Decode frame ``index`` (0-based) into ``out``.

        ``out`` is C-contiguous, shaped ``(rows, columns, samples)`` with the
        dtype :attr:`PixelInfo.dtype`; it receives the stored values,
        colour-by-pixel, sign-extended when Pixel Representation is 1.

        Raises
        ------
        CorruptEncapsulationError
            The items or offset tables are malformed so the frame cannot be found.
        TruncatedPixelDataError
            The data end before the frame does.
        CorruptPixelDataError
            The codec cannot decode the frame, or it does not match the data set.
        MissingCodecError
            The codec package is not installed.
        """
        if out.shape != self.info.frame_shape or out.dtype != self.info.dtype:
            raise ValueError(
                f"out must have shape {self.info.frame_shape} and dtype {self.info.dtype}, "
                f"not {out.shape} and {out.dtype}"
            )
        pending, self._pending = self._pending, None
        data = (
            pending[1] if pending is not None and pending[0] == index else self._table.read(index)
        )
        context = FrameContext(
            path=self._name, frame=index, tag=self._pixel.tag, syntax=self._syntax.name
        )
        self._adapter.decode_into(data, out, self.info, context)
        if self._colour is None:  # learn it from this frame rather than read frame 0 again
            self._colour = self._adapter.colour_model(lambda: bytes(data[:_HEAD]), self.info)


def _extended_offsets(
    dataset: Attributes, name: str
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]] | None:
    """The Extended Offset Table and its lengths as uint64 arrays, if both are usable."""
    offsets = _uint64s(dataset, EXTENDED_OFFSET_TABLE)
    lengths = _uint64s(dataset, EXTENDED_OFFSET_TABLE_LENGTHS)
    if offsets is None and lengths is None:
        return None
    if offsets is None or lengths is None:
        logger.warning(
            "%s: only one of Extended Offset Table and its Lengths is present; neither is used",
            name,
        )
        return None
    return offsets, lengths


def _uint64s(dataset: Attributes, tag: int) -> NDArray[np.uint64] | None:
    element = dataset.get(tag)
    value = getattr(element, "value", None)
    if not isinstance(value, (bytes, bytearray)) or not value or len(value) % 8:
        return None
    return np.frombuffer(value, dtype="<u8").astype(np.uint64)
