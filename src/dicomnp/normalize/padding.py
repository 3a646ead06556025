"""Pixel padding: which stored values mark padding (R9, RULES.md 5.1).

Pixel Padding Value (0028,0120) alone marks one value; with Pixel Padding
Range Limit (0028,0121) it marks the inclusive range between the two. Both
are stored values, before any transform, with the signedness of Pixel
Representation: a file may hold them as US when the data are signed (an
Implicit VR file leaves the choice to the reader), so 16-bit words are
re-read as two's complement when Pixel Representation is 1. Float and
Double Float Pixel Data use their own padding attributes. Padding applies
to one-sample images only (greyscale and palette indices).
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes, optional

__all__ = ["PaddingSpec", "read_padding"]

logger = logging.getLogger(__name__)

_INTEGER_KEYWORDS = ("PixelPaddingValue", "PixelPaddingRangeLimit")
_FLOAT_KEYWORDS = ("FloatPixelPaddingValue", "FloatPixelPaddingRangeLimit")
_DOUBLE_KEYWORDS = ("DoubleFloatPixelPaddingValue", "DoubleFloatPixelPaddingRangeLimit")


@dataclass(frozen=True)
class PaddingSpec:
    """The stored values that mark padding.

    Attributes
    ----------
    value : int or float
        Pixel Padding Value, as a stored value with the right signedness.
    range_limit : int, float or None
        Pixel Padding Range Limit, when given.
    outside_bits_stored : bool
        True when the values lie outside what Bits Stored can hold, so no
        stored value can match them.
    """

    value: int | float
    range_limit: int | float | None = None
    outside_bits_stored: bool = False

    @property
    def bounds(self) -> tuple[int | float, int | float]:
        """The inclusive range of padding values, low first."""
        if self.range_limit is None:
            return (self.value, self.value)
        low, high = sorted((self.value, self.range_limit))
        return (low, high)

    def mask(self, stored: NDArray[Any]) -> NDArray[np.bool_]:
        """True where ``stored`` holds padding.

        Examples
        --------
        >>> import numpy as np
        >>> PaddingSpec(-2000).mask(np.array([-2000, 0, 5])).tolist()
        [True, False, False]
        >>> PaddingSpec(10, 0).mask(np.array([0, 10, 11])).tolist()
        [True, True, False]
        """
        low, high = self.bounds
        if low == high:
            result: NDArray[np.bool_] = stored == low
            return result
        return (stored >= low) & (stored <= high)


def _word(value: Any, *, signed: bool, little_endian: bool) -> int | None:
    """A 16-bit padding attribute as an int with the signedness of the pixel data."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) < 2:
            return None
        value = struct.unpack("<H" if little_endian else ">H", bytes(value[:2]))[0]
    elif isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if signed and 0x8000 <= number <= 0xFFFF:
        return number - 0x10000
    if not signed and -0x8000 <= number < 0:
        logger.info("Pixel Padding Value %d is negative for unsigned data; read as US", number)
        return number + 0x10000
    return number


def _float(value: Any) -> float | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_padding(
    dataset: Attributes,
    *,
    samples_per_pixel: int,
    float_data: int,
    bits_stored: int,
    signed: bool,
    little_endian: bool,
    name: str,
) -> PaddingSpec | None:
    """Read the padding attributes that apply to the pixel data, or None.

    Parameters
    ----------
    dataset : pydicom.Dataset or Attributes
        The data set.
    samples_per_pixel : int
        Padding is ignored (and logged) for three-sample images.
    float_data : int
        0 for integer pixel data, 32 or 64 for Float / Double Float Pixel Data.
    bits_stored : int
        Bits Stored, to tell whether the values can occur at all.
    signed : bool
        Pixel Representation is 1.
    little_endian : bool
        Byte order of values pydicom left as bytes.
    name : str
        The source, for messages.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> dataset.PixelPaddingValue = 63536   # -2000 written as US
    >>> read_padding(dataset, samples_per_pixel=1, float_data=0, bits_stored=16,
    ...              signed=True, little_endian=True, name="x")
    PaddingSpec(value=-2000, range_limit=None, outside_bits_stored=False)
    """
    keywords = {0: _INTEGER_KEYWORDS, 32: _FLOAT_KEYWORDS, 64: _DOUBLE_KEYWORDS}[float_data]
    raw_value = optional(dataset, keywords[0], name)
    if raw_value is None or raw_value == b"":
        return None
    if samples_per_pixel != 1:
        logger.info("%s: pixel padding is ignored for a three-sample image", name)
        return None
    raw_limit = optional(dataset, keywords[1], name)
    if float_data:
        value = _float(raw_value)
        limit = _float(raw_limit) if raw_limit not in (None, b"") else None
        if value is None:
            logger.info("%s: the float pixel padding value is unusable; ignored", name)
            return None
        return PaddingSpec(value, limit)
    number = _word(raw_value, signed=signed, little_endian=little_endian)
    if number is None:
        logger.info("%s: Pixel Padding Value %r is unusable; ignored", name, raw_value)
        return None
    range_limit = None
    if raw_limit not in (None, b""):
        range_limit = _word(raw_limit, signed=signed, little_endian=little_endian)
    low_bound = -(1 << (bits_stored - 1)) if signed else 0
    high_bound = (1 << (bits_stored - 1)) - 1 if signed else (1 << bits_stored) - 1
    ends = [number] if range_limit is None else [number, range_limit]
    outside = any(not low_bound <= end <= high_bound for end in ends)
    if outside:
        logger.info(
            "%s: pixel padding %s lies outside the %d-bit stored range; no pixel can match it",
            name,
            ends,
            bits_stored,
        )
    return PaddingSpec(number, range_limit, outside_bits_stored=outside)
