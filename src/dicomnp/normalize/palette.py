"""PALETTE COLOR: stored indices through the Red, Green and Blue LUTs to RGB (R4).

Plain (0028,1201-1203) and segmented (0028,1221-1223) tables, 8- and 16-bit
entries, the first mapped value and 0 entries meaning 65536 are handled by
:mod:`.lut`. The output dtype follows the entry size, not Bits Stored.
Alpha tables are ignored: the output is RGB only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes, required
from ..errors import InvalidLutError
from .lut import Lut, expand_segmented, read_descriptor, read_table

__all__ = ["Palette", "read_palette"]

logger = logging.getLogger(__name__)

_COLOURS = ("Red", "Green", "Blue")
_DESCRIPTOR_TAGS = {"Red": 0x00281101, "Green": 0x00281102, "Blue": 0x00281103}
_DATA_TAGS = {"Red": 0x00281201, "Green": 0x00281202, "Blue": 0x00281203}
_SEGMENTED_TAGS = {"Red": 0x00281221, "Green": 0x00281222, "Blue": 0x00281223}


@dataclass(frozen=True)
class Palette:
    """The three colour LUTs of a PALETTE COLOR image, merged into one table.

    Attributes
    ----------
    table : numpy.ndarray
        Shape ``(entries, 3)``: the R, G, B output of each index; uint8 or uint16.
    first_mapped : int
        The stored value mapped by ``table[0]``.
    bits : int
        Bits per output sample, 8 or 16.
    segmented : bool
        True when the tables were segmented.
    """

    table: NDArray[Any]
    first_mapped: int
    bits: int
    segmented: bool

    @property
    def dtype(self) -> np.dtype[Any]:
        """The output dtype: uint8 for 8-bit entries, uint16 otherwise."""
        return self.table.dtype

    def apply(self, indices: NDArray[Any], out: NDArray[Any]) -> None:
        """Write the RGB of ``indices`` ``(rows, columns, 1)`` into ``out`` ``(rows, columns, 3)``.

        Examples
        --------
        >>> import numpy as np
        >>> palette = Palette(np.array([[0, 0, 0], [255, 128, 0]], np.uint8), 0, 8, False)
        >>> out = np.empty((1, 2, 3), np.uint8)
        >>> palette.apply(np.array([[[1], [0]]]), out)
        >>> out.tolist()
        [[[255, 128, 0], [0, 0, 0]]]
        """
        lut = Lut(self.table[:, 0], self.first_mapped, self.bits)
        out[...] = self.table[lut.indices(indices[..., 0])]

    def describe(self) -> dict[str, Any]:
        """The palette as a JSON-serialisable mapping."""
        return {
            "entries": int(self.table.shape[0]),
            "first_mapped": self.first_mapped,
            "bits": self.bits,
            "segmented": self.segmented,
        }


def read_palette(dataset: Attributes, *, signed: bool, little_endian: bool, name: str) -> Palette:
    """Read the Palette Color LUTs of ``dataset``.

    Parameters
    ----------
    dataset : pydicom.Dataset or Attributes
        A data set with Photometric Interpretation PALETTE COLOR.
    signed : bool
        Pixel Representation is 1 (the first mapped value is signed).
    little_endian : bool
        Byte order of the data set, for OW table data.
    name : str
        The source, for messages.

    Raises
    ------
    InvalidLutError
        A descriptor or table is missing or malformed, or the three tables
        disagree on their first mapped value or length.
    """
    luts = [_read_one(dataset, colour, signed, little_endian, name) for colour in _COLOURS]
    firsts = {lut.first_mapped for lut in luts}
    sizes = {lut.entries for lut in luts}
    if len(firsts) != 1 or len(sizes) != 1:
        raise InvalidLutError(
            "the Red, Green and Blue palette descriptors disagree "
            f"(first mapped {sorted(firsts)}, entries {sorted(sizes)})",
            path=name,
            tag=_DESCRIPTOR_TAGS["Red"],
        )
    if any(keyword in dataset for keyword in _ALPHA):
        logger.info("%s: the alpha palette is ignored; the output is RGB", name)
    bits = max(lut.bits for lut in luts)
    bits = 8 if bits <= 8 else 16
    dtype = np.uint8 if bits == 8 else np.uint16
    table = np.stack([lut.table.astype(dtype) for lut in luts], axis=1)
    return Palette(
        table=np.ascontiguousarray(table),
        first_mapped=luts[0].first_mapped,
        bits=bits,
        segmented=any(lut.segmented for lut in luts),
    )


_ALPHA = ("AlphaPaletteColorLookupTableData", "SegmentedAlphaPaletteColorLookupTableData")


def _read_one(
    dataset: Attributes, colour: str, signed: bool, little_endian: bool, name: str
) -> Lut:
    what = f"{colour.lower()} palette"
    descriptor_tag = _DESCRIPTOR_TAGS[colour]
    descriptor = _value(dataset, f"{colour}PaletteColorLookupTableDescriptor", name)
    if descriptor is None:
        raise InvalidLutError(
            f"PALETTE COLOR needs the {colour} Palette Color Lookup Table Descriptor",
            path=name,
            tag=descriptor_tag,
        )
    entries, first, bits = read_descriptor(
        descriptor,
        signed=signed,
        little_endian=little_endian,
        what=what,
        name=name,
        tag=descriptor_tag,
    )
    plain = _value(dataset, f"{colour}PaletteColorLookupTableData", name)
    if plain is not None:
        table, bits = read_table(
            plain,
            entries,
            bits,
            little_endian=little_endian,
            what=what,
            name=name,
            tag=_DATA_TAGS[colour],
        )
        return Lut(table, first, bits)
    segmented = _value(dataset, f"Segmented{colour}PaletteColorLookupTableData", name)
    if segmented is not None:
        table, bits = expand_segmented(
            segmented,
            entries,
            bits,
            little_endian=little_endian,
            what=what,
            name=name,
            tag=_SEGMENTED_TAGS[colour],
        )
        return Lut(table, first, bits, segmented=True)
    raise InvalidLutError(
        f"PALETTE COLOR needs {colour} Palette Color Lookup Table Data, plain or segmented",
        path=name,
        tag=_DATA_TAGS[colour],
    )


def _value(dataset: Attributes, keyword: str, name: str) -> Any:
    """The value of ``keyword``, or None when absent or empty; InvalidLutError when unreadable."""
    value = required(dataset, keyword, name, default=None, error=InvalidLutError)
    if isinstance(value, (bytes, list)) and len(value) == 0:
        return None
    return value
