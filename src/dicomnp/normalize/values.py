"""Stored ranges, the unsigned offset (R2) and the Modality LUT (R8, RULES.md 5.2, 5.5).

Signed stored values are shifted by ``2**(BitsStored - 1)``: exact,
order-preserving, independent of the data. The Modality LUT is either
Rescale Slope/Intercept (top level, or the Pixel Value Transformation
functional group of enhanced objects, shared or per frame) or the Modality
LUT Sequence; the sequence wins when a writer gives both.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes, items, required
from ..errors import InvalidLutError
from .lut import Lut, read_descriptor, read_table

__all__ = [
    "Rescale",
    "apply_rescale",
    "integer_dtype",
    "lut_from_item",
    "modality_dtype",
    "read_modality_lut",
    "read_rescales",
    "stored_range",
    "unsigned_dtype",
    "unsigned_offset",
]

logger = logging.getLogger(__name__)

_PIXEL_VALUE_TRANSFORMATION = "PixelValueTransformationSequence"


def stored_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    """The smallest and largest stored value ``bits_stored`` bits can hold.

    Examples
    --------
    >>> stored_range(12, True), stored_range(8, False)
    ((-2048, 2047), (0, 255))
    """
    if signed:
        return (-(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1)
    return (0, (1 << bits_stored) - 1)


def unsigned_offset(bits_stored: int, signed: bool) -> int:
    """The offset R2 adds to signed stored values: ``2**(BitsStored - 1)``, else 0.

    Examples
    --------
    >>> unsigned_offset(16, True), unsigned_offset(12, False)
    (32768, 0)
    """
    return 1 << (bits_stored - 1) if signed else 0


def unsigned_dtype(bits: int) -> np.dtype[Any]:
    """uint8 up to 8 bits, uint16 up to 16, uint32 up to 32, else uint64.

    Examples
    --------
    >>> unsigned_dtype(1), unsigned_dtype(12), unsigned_dtype(24)
    (dtype('uint8'), dtype('uint16'), dtype('uint32'))
    """
    for size in (8, 16, 32):
        if bits <= size:
            return np.dtype(f"uint{size}")
    return np.dtype(np.uint64)


def integer_dtype(low: int, high: int) -> np.dtype[Any] | None:
    """The smallest integer dtype holding ``low .. high`` (unsigned when ``low >= 0``).

    Examples
    --------
    >>> integer_dtype(-1024, 3071), integer_dtype(0, 300)
    (dtype('int16'), dtype('uint16'))
    """
    kinds = ("uint", "int") if low >= 0 else ("int",)
    for size in (8, 16, 32, 64):
        for kind in kinds:
            info = np.iinfo(np.dtype(f"{kind}{size}"))
            if info.min <= low and high <= info.max:
                return np.dtype(f"{kind}{size}")
    return None


@dataclass(frozen=True)
class Rescale:
    """Rescale Slope and Intercept of one frame: ``m = slope * v + intercept``.

    Attributes
    ----------
    slope, intercept : float
        As stored (DS parsed to float); 1 and 0 when absent.
    rescale_type : str or None
        Rescale Type, e.g. ``"HU"``.
    present : bool
        False when the file gives no rescale (identity).
    """

    slope: float = 1.0
    intercept: float = 0.0
    rescale_type: str | None = None
    present: bool = False

    @property
    def integral(self) -> bool:
        """True when slope and intercept are whole numbers."""
        return self.slope.is_integer() and self.intercept.is_integer()

    def bounds(self, low: float, high: float) -> tuple[float, float]:
        """The modality range of stored values ``low .. high``."""
        ends = (self.slope * low + self.intercept, self.slope * high + self.intercept)
        return (min(ends), max(ends))


def _number(value: Any) -> float:
    """The (first) value as a finite float; a ValueError otherwise."""
    if isinstance(value, (list, tuple)) or (
        hasattr(value, "__len__") and not isinstance(value, str) and hasattr(value, "__getitem__")
    ):
        value = value[0]
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{number} is not finite")
    return number


def _rescale_in(item: Attributes, name: str) -> Rescale | None:
    """The rescale held directly by ``item``, or None."""
    slope = required(item, "RescaleSlope", name, _number, default=None, what="a finite number")
    intercept = required(
        item, "RescaleIntercept", name, _number, default=None, what="a finite number"
    )
    kind = required(item, "RescaleType", name, str, default=None)
    if slope is None and intercept is None:
        return None
    return Rescale(
        slope=1.0 if slope is None else slope,
        intercept=0.0 if intercept is None else intercept,
        rescale_type=kind,
        present=True,
    )


def _group_item(
    dataset: Attributes, sequence: str, index: int | None, name: str
) -> Attributes | None:
    """Item 0 of functional group ``sequence`` in the shared or per-frame groups."""
    if index is None:
        groups = items(dataset, "SharedFunctionalGroupsSequence", name)
        holder = groups[0] if groups else None
    else:
        groups = items(dataset, "PerFrameFunctionalGroupsSequence", name)
        holder = groups[index] if index < len(groups) else None
    inner = items(holder, sequence, name) if holder is not None else []
    return inner[0] if inner else None


def read_rescales(dataset: Attributes, frames: tuple[int, ...], name: str) -> list[Rescale]:
    """Rescale Slope/Intercept for each of ``frames`` (0-based), identity when absent.

    Top-level values apply to every frame; otherwise the Pixel Value
    Transformation functional group, per frame before shared.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> read_rescales(ct_slice(), (0,), "x")[0]
    Rescale(slope=1.0, intercept=-1024.0, rescale_type='HU', present=True)
    """
    top = _rescale_in(dataset, name)
    if top is not None:
        return [top] * len(frames)
    shared_item = _group_item(dataset, _PIXEL_VALUE_TRANSFORMATION, None, name)
    shared = _rescale_in(shared_item, name) if shared_item is not None else None
    result = []
    for index in frames:
        item = _group_item(dataset, _PIXEL_VALUE_TRANSFORMATION, index, name)
        own = _rescale_in(item, name) if item is not None else None
        result.append(own or shared or Rescale())
    return result


def read_modality_lut(
    dataset: Attributes, *, signed: bool, little_endian: bool, name: str
) -> Lut | None:
    """The first item of the Modality LUT Sequence as a :class:`Lut`, or None.

    Raises
    ------
    InvalidLutError
        The item's descriptor or data are missing or malformed.
    """
    sequence = required(dataset, "ModalityLUTSequence", name, default=None)
    if not sequence:
        return None
    return lut_from_item(
        sequence[0], signed=signed, little_endian=little_endian, what="Modality LUT", name=name
    )


def _empty(element: Any) -> bool:
    value = None if element is None else element.value
    return value is None or (hasattr(value, "__len__") and len(value) == 0)


def lut_from_item(
    item: Attributes, *, signed: bool, little_endian: bool, what: str, name: str
) -> Lut | None:
    """Read LUT Descriptor (0028,3002) and LUT Data (0028,3006) of a sequence item.

    An item whose descriptor and data are both empty counts as no LUT (None).

    Raises
    ------
    InvalidLutError
        Only one of the two is present, or either is malformed.
    """
    descriptor_element = item.get(0x00283002)
    data_element = item.get(0x00283006)
    if _empty(descriptor_element) and _empty(data_element):
        logger.info("%s: the %s item is empty; ignored", name, what)
        return None
    if (
        descriptor_element is None
        or data_element is None
        or _empty(descriptor_element)
        or _empty(data_element)
    ):
        raise InvalidLutError(
            f"the {what} item needs both LUT Descriptor and LUT Data", path=name, tag=0x00283002
        )
    entries, first, bits = read_descriptor(
        descriptor_element.value,
        signed=signed,
        little_endian=little_endian,
        what=what,
        name=name,
        tag=0x00283002,
    )
    table, bits = read_table(
        data_element.value,
        entries,
        bits,
        little_endian=little_endian,
        what=what,
        name=name,
        tag=0x00283006,
    )
    return Lut(table, first, bits)


def modality_dtype(
    rescales: list[Rescale], low: int, high: int, *, float_data: np.dtype[Any] | None
) -> np.dtype[Any]:
    """The dtype of modality values for stored values ``low .. high``.

    An exact integer dtype when every slope and intercept are whole numbers
    and the range fits; otherwise float32, or float64 when stored values need
    more than float32's 24-bit significand (or the data are double floats).

    Examples
    --------
    >>> modality_dtype([Rescale(1.0, -1024.0, None, True)], 0, 4095, float_data=None)
    dtype('int16')
    >>> modality_dtype([Rescale(0.0345, 0.0, None, True)], 0, 32767, float_data=None)
    dtype('float32')
    """
    if float_data is not None:
        return float_data
    if all(rescale.integral for rescale in rescales):
        ends = [end for rescale in rescales for end in rescale.bounds(low, high)]
        exact = integer_dtype(int(min(ends)), int(max(ends))) if ends else None
        if exact is not None:
            return exact
    if max(abs(low), abs(high)) > 1 << 24:
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def apply_rescale(values: NDArray[Any], rescale: Rescale, out: NDArray[Any]) -> None:
    """Write ``slope * values + intercept`` into ``out``, exact for integer outputs."""
    if out.dtype.kind in "iu":
        result = values.astype(np.int64)
        if rescale.slope != 1:
            result *= int(rescale.slope)
        if rescale.intercept:
            result += int(rescale.intercept)
        out[...] = result
        return
    scaled = values.astype(np.float64) * rescale.slope
    scaled += rescale.intercept
    out[...] = scaled
