"""Native (uncompressed) pixel data: frames read straight into their destination.

Covers Implicit and Explicit VR Little Endian, Deflated Explicit VR Little
Endian (inflated by pydicom beforehand) and Explicit VR Big Endian, as PS3.5
section 8.1 lays them out: Bits Allocated 1, 8, 16, 32 and 64, High Bit and
Bits Stored below Bits Allocated, planar configuration 1, the native
YBR_FULL_422 layout and 1-bit frames that start inside a byte. Bit-packed
(1-bit) data are bytes in either byte order, so big endian reads them as
little endian does (and as pydicom does: never swapped, whatever the VR).

Each frame's bytes are read once, into the output array itself whenever the
layout allows, then byte-swapped, masked and sign-extended in place.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._source import ByteReader, PixelElement
from ..errors import TruncatedPixelDataError
from .pixel_info import PixelInfo

__all__ = ["NativeFrames", "check_native_size", "native_length"]

_HALF_SUBSAMPLED = frozenset({"YBR_FULL_422", "YBR_PARTIAL_422"})


def native_length(info: PixelInfo, frames: int | None = None) -> int:
    """Bytes that ``frames`` native frames occupy, before any trailing pad byte."""
    count = info.number_of_frames if frames is None else frames
    if info.bits_allocated == 1:
        return math.ceil(count * info.frame_pixels / 8)
    return count * _frame_bytes(info)


def check_native_size(info: PixelInfo, pixel: PixelElement, name: str) -> None:
    """Raise unless the pixel element holds the bytes of every declared frame.

    Raises
    ------
    TruncatedPixelDataError
        The value holds fewer bytes than the declared frames need.
    """
    expected = native_length(info)
    if pixel.available < expected:
        raise TruncatedPixelDataError(
            f"{pixel.keyword} holds {pixel.available} bytes but "
            f"{info.number_of_frames} frame(s) of {info.rows}x{info.columns}x"
            f"{info.samples_per_pixel} at {info.bits_allocated} bits need {expected}",
            expected=expected,
            actual=pixel.available,
            path=name,
            tag=pixel.tag,
        )


def _frame_bytes(info: PixelInfo) -> int:
    samples = 2 if info.photometric_interpretation in _HALF_SUBSAMPLED else info.samples_per_pixel
    return info.rows * info.columns * samples * (info.bits_allocated // 8)


class NativeFrames:
    """Decodes frames of native pixel data held by a :class:`ByteReader`.

    Parameters
    ----------
    info : PixelInfo
        The validated Image Pixel attributes.
    pixel : PixelElement
        Where the pixel element's value lies in ``reader``.
    reader : ByteReader
        Random access to the source bytes.
    little_endian : bool
        False for Explicit VR Big Endian.
    name : str
        The source's name, for messages.

    Raises
    ------
    TruncatedPixelDataError
        The value holds fewer bytes than the declared frames need.
    """

    def __init__(
        self,
        info: PixelInfo,
        pixel: PixelElement,
        reader: ByteReader,
        *,
        little_endian: bool,
        name: str,
    ) -> None:
        self.info = info
        self._pixel = pixel
        self._reader = reader
        self._little_endian = little_endian
        self._name = name
        self._subsampled = info.photometric_interpretation in _HALF_SUBSAMPLED
        # Big endian OW with 8-bit cells: bytes are swapped within each 16-bit word.
        self._swapped_words = not little_endian and info.bits_allocated == 8 and pixel.vr == "OW"
        self._frame_bytes = _frame_bytes(info)
        # Read once here, not per frame: a series makes a decoder per file.
        self._shifts = (0, 0) if info.float_data else _bit_shifts(info)
        check_native_size(info, pixel, name)

    @property
    def photometric_interpretation(self) -> str:
        """The colour model of decoded frames: YBR_FULL_422 is upsampled to YBR_FULL."""
        stored = self.info.photometric_interpretation
        return "YBR_FULL" if stored == "YBR_FULL_422" else stored

    @property
    def frame_count(self) -> int:
        """The number of frames that can be decoded (the declared number)."""
        return self.info.number_of_frames

    def decode_into(self, index: int, out: NDArray[Any]) -> None:
        """Decode frame ``index`` (0-based) into ``out``.

        ``out`` is C-contiguous, shaped ``(rows, columns, samples)`` with the
        dtype :attr:`PixelInfo.dtype`; it receives the stored values,
        colour-by-pixel, sign-extended when Pixel Representation is 1.
        """
        info = self.info
        if info.bits_allocated == 1:
            self._decode_bits(index, out)
            return
        frame_bytes = self._frame_bytes
        start = self._pixel.value_offset + index * frame_bytes
        if self._subsampled:
            half = np.empty((info.rows, info.columns // 2, 4), dtype=out.dtype)
            self._read(start, frame_bytes, half, index)
            _upsample_422(half, out)
        elif info.planar_configuration == 1 and info.samples_per_pixel > 1:
            planes = np.empty((info.samples_per_pixel, info.rows, info.columns), dtype=out.dtype)
            self._read(start, frame_bytes, planes, index)
            out[...] = planes.transpose(1, 2, 0)
        else:
            self._read(start, frame_bytes, out, index)

    def _read(self, start: int, size: int, dest: NDArray[Any], index: int) -> None:
        """Read ``size`` bytes at ``start`` into ``dest`` and fix them in place."""
        if self._swapped_words:
            self._read_swapped_words(start, size, dest)
        else:
            count = self._reader.readinto(start, dest.data.cast("B"))
            self._check_count(count, size, index)
        if dest.dtype.itemsize > 1 and not self._little_endian:
            dest.byteswap(inplace=True)
        if self._shifts != (0, 0):
            _extract_bits(dest, *self._shifts)

    def _read_swapped_words(self, start: int, size: int, dest: NDArray[Any]) -> None:
        relative = start - self._pixel.value_offset
        first = relative & ~1
        last = relative + size + ((relative + size) & 1)
        words = np.empty(last - first, dtype=np.uint8)
        count = self._reader.readinto(self._pixel.value_offset + first, words.data)
        self._check_count(count, last - first, None)
        swapped = words.reshape(-1, 2)[:, ::-1].reshape(-1)
        offset = relative - first
        dest.reshape(-1)[...] = swapped[offset : offset + size]

    def _decode_bits(self, index: int, out: NDArray[Any]) -> None:
        bits = self.info.frame_pixels
        first_bit = index * bits
        first_byte = first_bit // 8
        end_byte = math.ceil((first_bit + bits) / 8)
        packed = np.empty(end_byte - first_byte, dtype=np.uint8)
        count = self._reader.readinto(self._pixel.value_offset + first_byte, packed.data)
        self._check_count(count, len(packed), index)
        unpacked = np.unpackbits(packed, bitorder="little")
        skip = first_bit - first_byte * 8
        out.reshape(-1)[...] = unpacked[skip : skip + bits]

    def _check_count(self, count: int, size: int, index: int | None) -> None:
        if count < size:
            raise TruncatedPixelDataError(
                f"the file ends {size - count} bytes before the end of the frame",
                expected=size,
                actual=count,
                path=self._name,
                frame=index,
                tag=self._pixel.tag,
            )


def _bit_shifts(info: PixelInfo) -> tuple[int, int]:
    """The left and right shifts that keep bits HighBit-BitsStored+1 .. HighBit of a cell."""
    return info.bits_allocated - 1 - info.high_bit, info.bits_allocated - info.bits_stored


def _extract_bits(values: NDArray[Any], up: int, down: int) -> None:
    """Keep the bits of each cell that :func:`_bit_shifts` says, sign-extended if signed.

    Shifting left drops the bits above High Bit; shifting right drops those
    below the sample, arithmetically for signed dtypes (RULES.md section 1.1).
    """
    if up:
        np.left_shift(values, up, out=values)
    if down:
        np.right_shift(values, down, out=values)


def _upsample_422(half: NDArray[Any], out: NDArray[Any]) -> None:
    """Expand native ``Y1 Y2 Cb Cr`` pixel pairs to three samples per pixel.

    Both pixels of a pair take the pair's Cb and Cr (PS3.3 C.7.6.3.1.2).
    """
    out[:, 0::2, 0] = half[:, :, 0]
    out[:, 1::2, 0] = half[:, :, 1]
    out[:, 0::2, 1] = half[:, :, 2]
    out[:, 1::2, 1] = half[:, :, 2]
    out[:, 0::2, 2] = half[:, :, 3]
    out[:, 1::2, 2] = half[:, :, 3]
