"""The Image Pixel attributes of a data set, read once and validated.

:class:`PixelInfo` holds what the decode layer needs from group 0028 (PS3.3
C.7.6.3): frame size, sample layout, bit depths and signedness. Reading it
checks the attributes against each other (RULES.md section 1.9), so the
decoders can trust every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._attributes import Attributes, required
from .._source import DOUBLE_FLOAT_PIXEL_DATA, FLOAT_PIXEL_DATA, PixelElement
from ..errors import (
    InvalidPixelMetadataError,
    TruncatedPixelDataError,
    UnsupportedPixelDataError,
)

__all__ = ["PixelInfo"]

_TAGS = {
    "SamplesPerPixel": 0x00280002,
    "PhotometricInterpretation": 0x00280004,
    "PlanarConfiguration": 0x00280006,
    "NumberOfFrames": 0x00280008,
    "Rows": 0x00280010,
    "Columns": 0x00280011,
    "BitsAllocated": 0x00280100,
    "BitsStored": 0x00280101,
    "HighBit": 0x00280102,
    "PixelRepresentation": 0x00280103,
}
_MONOCHROME = frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR"})
_COLOUR = frozenset(
    {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT"}
)
_RETIRED_FOUR_SAMPLE = frozenset({"ARGB", "CMYK", "HSV"})


def _whole(value: Any) -> int:
    """``value`` as an int: a ValueError unless it is a whole number (or a string of one)."""
    number = int(value)
    if number != value and not isinstance(value, str):
        raise ValueError(f"{value!r} is not a whole number")
    return number


def _integer(dataset: Attributes, keyword: str, name: str, default: int | None = None) -> int:
    """``keyword`` as an int; ``default`` when absent; refused when absent without one."""
    if default is None:
        return required(dataset, keyword, name, _whole, what="an integer")
    return required(dataset, keyword, name, _whole, default=default, what="an integer")


@dataclass(frozen=True)
class PixelInfo:
    """Validated Image Pixel attributes of one data set.

    Attributes
    ----------
    rows, columns : int
        Frame size in pixels.
    samples_per_pixel : int
        1 or 3.
    bits_allocated, bits_stored, high_bit : int
        As in the data set; for float pixel data ``bits_stored`` equals
        ``bits_allocated`` and ``high_bit`` is one less.
    pixel_representation : int
        0 unsigned, 1 two's complement.
    photometric_interpretation : str
        As stored, upper case.
    planar_configuration : int
        0 colour-by-pixel, 1 colour-by-plane; 0 when absent or for one sample.
    number_of_frames : int
        Declared frames; 1 when Number of Frames is absent.
    float_data : bool
        True for Float and Double Float Pixel Data.
    """

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int
    number_of_frames: int
    float_data: bool

    @classmethod
    def from_dataset(cls, dataset: Attributes, pixel: PixelElement, name: str) -> PixelInfo:
        """Read and validate the Image Pixel attributes of ``dataset``.

        Raises
        ------
        InvalidPixelMetadataError
            An attribute is missing, malformed or inconsistent with another.
        UnsupportedPixelDataError
            Valid but not decoded by dicomnp (four-sample retired models).
        """
        rows = _integer(dataset, "Rows", name)
        columns = _integer(dataset, "Columns", name)
        for keyword, value in (("Rows", rows), ("Columns", columns)):
            if not 0 < value < 65536:
                raise InvalidPixelMetadataError(
                    f"{keyword} must be 1 to 65535, not {value}", path=name, tag=_TAGS[keyword]
                )
        frames = _integer(dataset, "NumberOfFrames", name, default=1)
        if frames < 1:
            raise InvalidPixelMetadataError(
                f"NumberOfFrames must be at least 1, not {frames}",
                path=name,
                tag=_TAGS["NumberOfFrames"],
            )
        float_data = pixel.tag in (FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA)
        if float_data:
            allocated = 32 if pixel.tag == FLOAT_PIXEL_DATA else 64
            declared = _integer(dataset, "BitsAllocated", name, default=allocated)
            if declared != allocated:
                raise InvalidPixelMetadataError(
                    f"BitsAllocated is {declared}, but {pixel.keyword} needs {allocated}",
                    path=name,
                    tag=_TAGS["BitsAllocated"],
                )
            stored, high, representation = allocated, allocated - 1, 0
        else:
            allocated = _integer(dataset, "BitsAllocated", name)
            stored = _integer(dataset, "BitsStored", name, default=allocated)
            high = _integer(dataset, "HighBit", name, default=stored - 1)
            representation = _integer(dataset, "PixelRepresentation", name, default=0)
            cls._check_bits(allocated, stored, high, representation, name)
        samples = _integer(dataset, "SamplesPerPixel", name, default=1)
        photometric = required(dataset, "PhotometricInterpretation", name, str).strip().upper()
        cls._check_samples(samples, photometric, allocated, name)
        planar = 0
        if samples > 1:
            planar = _integer(dataset, "PlanarConfiguration", name, default=0)
            if planar not in (0, 1):
                raise InvalidPixelMetadataError(
                    f"PlanarConfiguration must be 0 or 1, not {planar}",
                    path=name,
                    tag=_TAGS["PlanarConfiguration"],
                )
        if photometric in ("YBR_FULL_422", "YBR_PARTIAL_422") and columns % 2:
            raise InvalidPixelMetadataError(
                f"{photometric} needs an even number of Columns, not {columns}",
                path=name,
                tag=_TAGS["Columns"],
            )
        info = cls(
            rows=rows,
            columns=columns,
            samples_per_pixel=samples,
            bits_allocated=allocated,
            bits_stored=stored,
            high_bit=high,
            pixel_representation=representation,
            photometric_interpretation=photometric,
            planar_configuration=planar,
            number_of_frames=frames,
            float_data=float_data,
        )
        info._check_frame_count(pixel, name)
        return info

    def _check_frame_count(self, pixel: PixelElement, name: str) -> None:
        """Refuse a Number of Frames that no layout of the pixel element's bytes can hold.

        Whatever the transfer syntax, a frame takes at least its native size
        or, encapsulated, an 8-byte item header. A header claiming 100,000
        frames in a few bytes is refused here, before anything iterates over
        the frames or allocates for them; the decoders check the exact size.
        """
        frames = self.number_of_frames
        pixels = self.rows * self.columns * frames  # one sample each: a bound for any layout
        native = -(-pixels * self.bits_allocated // 8)
        needed = min(native, 8 * (frames + 1))
        if pixel.available < needed:
            raise TruncatedPixelDataError(
                f"{pixel.keyword} holds {pixel.available} bytes, too few for "
                f"NumberOfFrames {frames} of {self.rows}x{self.columns} pixels, "
                f"which need at least {needed}",
                expected=needed,
                actual=pixel.available,
                path=name,
                tag=_TAGS["NumberOfFrames"],
            )

    @staticmethod
    def _check_bits(allocated: int, stored: int, high: int, representation: int, name: str) -> None:
        if allocated not in (1, 8, 16, 32, 64):
            raise UnsupportedPixelDataError(
                f"BitsAllocated {allocated} is not 1, 8, 16, 32 or 64",
                path=name,
                tag=_TAGS["BitsAllocated"],
            )
        if not 1 <= stored <= allocated:
            raise InvalidPixelMetadataError(
                f"BitsStored {stored} must be from 1 to BitsAllocated ({allocated})",
                path=name,
                tag=_TAGS["BitsStored"],
            )
        if not stored - 1 <= high <= allocated - 1:
            raise InvalidPixelMetadataError(
                f"HighBit {high} must be from BitsStored - 1 ({stored - 1}) "
                f"to BitsAllocated - 1 ({allocated - 1})",
                path=name,
                tag=_TAGS["HighBit"],
            )
        if representation not in (0, 1):
            raise InvalidPixelMetadataError(
                f"PixelRepresentation must be 0 or 1, not {representation}",
                path=name,
                tag=_TAGS["PixelRepresentation"],
            )
        if allocated == 1 and representation:
            raise InvalidPixelMetadataError(
                "single-bit pixel data cannot be signed",
                path=name,
                tag=_TAGS["PixelRepresentation"],
            )

    @staticmethod
    def _check_samples(samples: int, photometric: str, allocated: int, name: str) -> None:
        tag = _TAGS["PhotometricInterpretation"]
        if photometric in _RETIRED_FOUR_SAMPLE or samples == 4:
            raise UnsupportedPixelDataError(
                f"the retired photometric interpretation {photometric} "
                f"with {samples} samples per pixel is not supported",
                path=name,
                tag=tag,
            )
        if samples not in (1, 3):
            raise InvalidPixelMetadataError(
                f"SamplesPerPixel must be 1 or 3, not {samples}",
                path=name,
                tag=_TAGS["SamplesPerPixel"],
            )
        if photometric in _MONOCHROME:
            wanted = 1
        elif photometric in _COLOUR:
            wanted = 3
        else:
            raise InvalidPixelMetadataError(
                f"unknown PhotometricInterpretation {photometric!r}", path=name, tag=tag
            )
        if samples != wanted:
            raise InvalidPixelMetadataError(
                f"{photometric} needs SamplesPerPixel {wanted}, not {samples}", path=name, tag=tag
            )
        if allocated == 1 and samples != 1:
            raise UnsupportedPixelDataError(
                "single-bit pixel data with three samples per pixel is not supported",
                path=name,
                tag=_TAGS["BitsAllocated"],
            )

    @property
    def dtype(self) -> np.dtype[Any]:
        """The natural NumPy dtype of the stored values (native byte order)."""
        if self.float_data:
            return np.dtype(np.float32 if self.bits_allocated == 32 else np.float64)
        if self.bits_allocated == 1:
            return np.dtype(np.uint8)
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"{kind}{self.bits_allocated // 8}")

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(rows, columns, samples_per_pixel)`` of one decoded frame."""
        return (self.rows, self.columns, self.samples_per_pixel)

    @property
    def frame_pixels(self) -> int:
        """Samples in one frame: rows x columns x samples per pixel."""
        return self.rows * self.columns * self.samples_per_pixel
