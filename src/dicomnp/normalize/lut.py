"""Lookup tables: descriptors, table data (plain or segmented) and their application.

Palette Color LUTs (PS3.3 C.7.6.3.1.5-6, C.7.9), the Modality LUT
(C.11.1) and VOI LUTs (C.11.2) share one form: a descriptor
``[entries, first mapped value, bits per entry]`` and the table. Stored
values below the first mapped value use the first entry, values past the
end use the last one.

Writers get these wrong in known ways, handled here:

* 0 entries means 65536;
* the first mapped value is US or SS according to Pixel Representation, and
  Implicit VR files leave it to the reader;
* the real entry size is taken from the data length when the descriptor
  disagrees (8-bit entries declared as 16, or the reverse).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidLutError

__all__ = ["Lut", "expand_segmented", "read_descriptor", "read_table"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lut:
    """One lookup table, ready to apply.

    Attributes
    ----------
    table : numpy.ndarray
        The entries, 1-D, uint8 or uint16.
    first_mapped : int
        The stored value that maps to ``table[0]``.
    bits : int
        Bits per entry: the output range is ``0 .. 2**bits - 1``.
    segmented : bool
        True when the table came from segmented data.
    """

    table: NDArray[Any]
    first_mapped: int
    bits: int
    segmented: bool = False

    @property
    def entries(self) -> int:
        """The number of entries."""
        return int(self.table.shape[0])

    def indices(self, values: NDArray[Any]) -> NDArray[np.intp]:
        """Table indices for ``values``: clipped to the table, floored when not integers."""
        if values.dtype.kind == "f":
            shifted = np.floor(values - self.first_mapped)
            np.clip(shifted, 0, self.entries - 1, out=shifted)
            floored: NDArray[np.intp] = shifted.astype(np.intp)
            return floored
        index = values.astype(np.intp) - self.first_mapped
        np.clip(index, 0, self.entries - 1, out=index)
        return index

    def apply(self, values: NDArray[Any]) -> NDArray[Any]:
        """Look every value up; the result has the table's dtype and ``values``' shape.

        Examples
        --------
        >>> import numpy as np
        >>> lut = Lut(np.array([10, 20, 30], dtype=np.uint8), first_mapped=5, bits=8)
        >>> lut.apply(np.array([0, 5, 6, 7, 99])).tolist()
        [10, 10, 20, 30, 30]
        """
        result: NDArray[Any] = self.table[self.indices(values)]
        return result

    def describe(self) -> dict[str, Any]:
        """The descriptor as a JSON-serialisable mapping."""
        return {
            "entries": self.entries,
            "first_mapped": self.first_mapped,
            "bits": self.bits,
            "segmented": self.segmented,
        }


def _word(value: Any) -> int:
    number = int(value)
    return number & 0xFFFF


def read_descriptor(
    value: Any, *, signed: bool, little_endian: bool, what: str, name: str, tag: int
) -> tuple[int, int, int]:
    """Read a LUT descriptor as ``(entries, first_mapped, bits)``.

    Parameters
    ----------
    value : sequence of int or bytes
        The descriptor as pydicom gives it: three numbers (US or SS), or the
        raw 6 bytes when the VR could not be resolved.
    signed : bool
        Pixel Representation is 1: the first mapped value is two's complement.
    little_endian : bool
        Byte order of raw bytes.
    what, name, tag
        For messages: the table, the source and the descriptor's tag.

    Raises
    ------
    InvalidLutError
        The descriptor is not three numbers, or its bits are not 1 to 16.

    Examples
    --------
    >>> read_descriptor([0, 65535, 16], signed=True, little_endian=True,
    ...                 what="LUT", name="x", tag=0x00283002)
    (65536, -1, 16)
    """
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 6:
            raise InvalidLutError(
                f"the {what} descriptor holds {len(value)} bytes, not 6", path=name, tag=tag
            )
        order = "<" if little_endian else ">"
        words: Sequence[Any] = np.frombuffer(bytes(value), dtype=f"{order}u2").tolist()
    else:
        try:
            words = list(value)
        except TypeError:
            words = []
    if len(words) != 3:
        raise InvalidLutError(
            f"the {what} descriptor must hold 3 values, not {value!r}", path=name, tag=tag
        )
    try:
        entries, first, bits = (_word(item) for item in words)
    except (TypeError, ValueError):
        raise InvalidLutError(
            f"the {what} descriptor must hold integers, not {value!r}", path=name, tag=tag
        ) from None
    if signed and first >= 0x8000:
        first -= 0x10000
    if not 1 <= bits <= 16:
        raise InvalidLutError(
            f"the {what} descriptor gives {bits} bits per entry; 1 to 16 are allowed",
            path=name,
            tag=tag,
        )
    return (entries or 65536, first, bits)


def read_table(
    value: Any, entries: int, bits: int, *, little_endian: bool, what: str, name: str, tag: int
) -> tuple[NDArray[Any], int]:
    """Read plain LUT data; return the table and the bits per entry it really holds.

    The entry size is decided by the data length: ``entries`` bytes (possibly
    plus one pad byte) mean 8-bit entries whatever the descriptor says,
    ``2 * entries`` bytes mean 16-bit words. When the descriptor says 8 bits
    and the words hold larger values, 16 is returned.

    Raises
    ------
    InvalidLutError
        The data hold fewer entries than the descriptor declares.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) >= 2 * entries:
            order = "<" if little_endian else ">"
            table: NDArray[Any] = np.frombuffer(data, dtype=f"{order}u2", count=entries)
        elif len(data) >= entries:
            table = np.frombuffer(data, dtype=np.uint8, count=entries)
            if bits != 8:
                logger.info("%s data hold one byte per entry; read as 8-bit entries", what)
            bits = 8
        else:
            raise InvalidLutError(
                f"the {what} data hold {len(data)} bytes, too few for {entries} entries",
                path=name,
                tag=tag,
            )
    else:
        items = [value] if isinstance(value, int) else list(value)
        if len(items) < entries:
            raise InvalidLutError(
                f"the {what} data hold {len(items)} entries, the descriptor says {entries}",
                path=name,
                tag=tag,
            )
        table = np.asarray(items[:entries], dtype=np.int64) & 0xFFFF
    return _narrow(table, bits, what)


def _narrow(table: NDArray[Any], bits: int, what: str) -> tuple[NDArray[Any], int]:
    """Store ``table`` as uint8 (up to 8 bits) or uint16, widening ``bits`` if values need it."""
    peak = int(table.max()) if table.size else 0
    if peak >= 1 << bits:
        wider = 8 if peak < 256 else 16
        logger.info("%s entries reach %d, beyond %d bits; read as %d bits", what, peak, bits, wider)
        bits = wider
    dtype = np.uint8 if bits <= 8 else np.uint16
    return np.ascontiguousarray(table, dtype=dtype), bits


def expand_segmented(
    value: Any, entries: int, bits: int, *, little_endian: bool, what: str, name: str, tag: int
) -> tuple[NDArray[Any], int]:
    """Expand segmented LUT data (PS3.3 C.7.9.2) to a plain table.

    Segments are ``opcode, length, ...``: 0 discrete (``length`` entries
    follow), 1 linear (ramp of ``length`` entries from the previous entry to
    the one value that follows, rounded), 2 indirect (copy ``length``
    segments starting at the 32-bit offset that follows, low word first). The
    offset counts entries from the start of the data, as pydicom and GDCM
    read it. Words are 8 bits wide when the descriptor says 8, else 16.

    Raises
    ------
    InvalidLutError
        Unknown opcode, a first segment that is not discrete, an offset
        outside the data, or fewer entries than the descriptor declares.

    Examples
    --------
    >>> data = [0, 2, 0, 10, 1, 3, 40]   # discrete 0, 10; then linear to 40
    >>> expand_segmented(data, 5, 16, little_endian=True, what="LUT", name="x", tag=0)[0].tolist()
    [0, 10, 20, 30, 40]
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        order = "<" if little_endian else ">"
        words = np.frombuffer(bytes(value), dtype=np.uint8 if bits <= 8 else f"{order}u2")
    else:
        words = np.asarray(list(value), dtype=np.int64) & 0xFFFF
    data = [int(word) for word in words]
    table: list[int] = []
    reader = _Segments(
        data, bytewise=bits <= 8, little_endian=little_endian, where=(what, name, tag)
    )
    reader.expand(0, None, table, depth=0)
    if len(table) < entries:
        raise InvalidLutError(
            f"the segmented {what} data expand to {len(table)} entries, "
            f"the descriptor says {entries}",
            path=name,
            tag=tag,
        )
    if len(table) > entries:
        logger.info("segmented %s data expand to %d entries; %d used", what, len(table), entries)
    return _narrow(np.asarray(table[:entries], dtype=np.int64), bits, what)


class _Segments:
    """Walks segmented LUT data; ``where`` is (what, name, tag) for messages."""

    def __init__(
        self, data: list[int], *, bytewise: bool, little_endian: bool, where: tuple[str, str, int]
    ) -> None:
        self.data = data
        self.bytewise = bytewise
        self.little_endian = little_endian
        self.what, self.name, self.tag = where

    def fail(self, message: str) -> InvalidLutError:
        return InvalidLutError(
            f"the segmented {self.what} data {message}", path=self.name, tag=self.tag
        )

    def target(self, offset: int) -> tuple[int, int]:
        """The 32-bit offset of an indirect segment at ``offset``, and the next position."""
        data = self.data
        if not self.bytewise:
            return data[offset] | data[offset + 1] << 16, offset + 2
        b = data[offset : offset + 4]
        if self.little_endian:
            return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24, offset + 4
        return (b[0] << 8 | b[1]) | (b[2] << 8 | b[3]) << 16, offset + 4

    def expand(self, offset: int, segments: int | None, table: list[int], *, depth: int) -> None:
        """Append the entries of the segments starting at ``offset`` to ``table``."""
        if depth > 8:
            raise self.fail("nest indirect segments too deep")
        data = self.data
        done = 0
        while offset + 1 < len(data) and (segments is None or done < segments):
            opcode, length = data[offset], data[offset + 1]
            offset += 2
            if opcode == 0:
                table.extend(data[offset : offset + length])
                offset += length
            elif opcode in (1, 2) and not table:
                kind = "linear" if opcode == 1 else "indirect"
                raise self.fail(f"cannot start with a {kind} segment")
            elif opcode == 1:
                if offset >= len(data):
                    break
                start, end = table[-1], data[offset]
                offset += 1
                steps = np.arange(1, length + 1, dtype=np.float64)
                ramp = np.rint(start + (end - start) * steps / length).astype(np.int64)
                table.extend(ramp.tolist())
            elif opcode == 2:
                if offset + (4 if self.bytewise else 2) > len(data):
                    break
                target, offset = self.target(offset)
                if target >= len(data):
                    raise self.fail("hold an indirect segment that points past their end")
                self.expand(target, length, table, depth=depth + 1)
            else:
                raise self.fail(f"hold the unknown opcode {opcode}")
            done += 1
