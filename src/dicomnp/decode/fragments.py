"""Encapsulated Pixel Data: items, offset tables and where each frame lies.

PS3.5 A.4 encapsulates compressed frames as a sequence of items: the Basic
Offset Table item, then fragments, then a Sequence Delimitation Item. A frame
may span several fragments; a fragment never holds more than one frame.
:class:`FrameTable` finds the fragments of each frame (RULES.md section 2):

1. the Extended Offset Table and its lengths, when both are valid;
2. else the Basic Offset Table, when valid;
3. else one fragment per frame when the counts match, all fragments when there
   is one frame, otherwise frame starts found from codestream markers.

Only item headers (8 bytes each) and the first bytes of fragments are read to
build the table; the values are read when a frame is asked for.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._source import ByteReader, PixelElement
from ..errors import CorruptEncapsulationError, TruncatedPixelDataError

__all__ = [
    "Fragment",
    "FrameTable",
    "StartTest",
    "scan_items",
]

logger = logging.getLogger(__name__)

ITEM = 0xFFFEE000
SEQUENCE_DELIMITER = 0xFFFEE0DD
_HEADER = struct.Struct("<HHL")
_UNDEFINED = 0xFFFFFFFF
HEAD_SIZE = 16
"""How many leading bytes of each fragment a :data:`StartTest` is given."""

StartTest = Callable[[bytes], bool]
"""Says whether a fragment whose first bytes are given starts a frame."""


@dataclass(frozen=True)
class Fragment:
    """One fragment item: where its value lies in the reader."""

    item_offset: int
    """Offset of the item tag in the reader."""
    length: int
    """The value length the item header declares."""
    available: int
    """How many value bytes the reader holds (less than ``length`` if cut short)."""

    @property
    def value_offset(self) -> int:
        """Offset of the first value byte in the reader."""
        return self.item_offset + 8


@dataclass(frozen=True)
class Items:
    """The items of an encapsulated pixel element."""

    offset_table: Fragment
    """The Basic Offset Table item."""
    fragments: tuple[Fragment, ...]
    complete: bool
    """False when the value ends (end of file) before its last item is whole."""


def _read_header(reader: ByteReader, position: int) -> tuple[int, int] | None:
    head = reader.read(position, 8)
    if len(head) < 8:
        return None
    group, element, length = _HEADER.unpack(head)
    return group << 16 | element, length


def scan_items(
    reader: ByteReader, start: int, end: int, *, name: str, tag: int, frame: int | None = None
) -> Items:
    """Walk the items from ``start`` to ``end`` by their lengths.

    Only the 8-byte item headers are read. A Sequence Delimitation Item ends
    the walk; so does the end of the data, with a logged warning.

    Raises
    ------
    CorruptEncapsulationError
        An item has an unexpected tag or an undefined length.
    TruncatedPixelDataError
        There is not even a Basic Offset Table item.
    """
    found: list[Fragment] = []
    position = start
    complete = True
    while True:
        header = _read_header(reader, position) if position + 8 <= end else None
        if header is None:
            if not found:
                raise TruncatedPixelDataError(
                    "the encapsulated pixel data end before the Basic Offset Table item",
                    path=name,
                    frame=frame,
                    tag=tag,
                )
            logger.warning(
                "%s: the encapsulated pixel data have no Sequence Delimitation Item", name
            )
            complete = False
            break
        item_tag, length = header
        if item_tag == SEQUENCE_DELIMITER:
            if not found:
                raise CorruptEncapsulationError(
                    "the encapsulated pixel data end (Sequence Delimitation Item) "
                    "before the Basic Offset Table item",
                    path=name,
                    frame=frame,
                    tag=tag,
                )
            break
        if item_tag != ITEM:
            which = "Basic Offset Table" if not found else f"fragment {len(found)}"
            raise CorruptEncapsulationError(
                f"found tag ({item_tag >> 16:04X},{item_tag & 0xFFFF:04X}) instead of an "
                f"item tag (FFFE,E000) for the {which} item at offset {position - start}",
                path=name,
                frame=frame,
                tag=tag,
            )
        if length == _UNDEFINED:
            raise CorruptEncapsulationError(
                f"the item at offset {position - start} has an undefined length",
                path=name,
                frame=frame,
                tag=tag,
            )
        available = min(length, max(0, end - position - 8))
        found.append(Fragment(position, length, available))
        if available < length:
            complete = False
            break
        position += 8 + length
    return Items(offset_table=found[0], fragments=tuple(found[1:]), complete=complete)


class FrameTable:
    """The fragments of each frame of an encapsulated pixel element.

    Parameters
    ----------
    reader : ByteReader
        Random access to the source bytes.
    pixel : PixelElement
        The pixel element; ``value_offset`` is where its first item tag lies.
    frame_count : int
        Number of Frames as declared.
    starts_frame : StartTest or None
        Recognises the first fragment of a frame from its first bytes; None
        when the codec has no start marker.
    extended_offsets : tuple of two numpy arrays, optional
        Extended Offset Table and Extended Offset Table Lengths, as uint64.
    name : str
        The source's name, for messages.

    Notes
    -----
    The table is built the first time a frame is asked for, then kept.
    """

    def __init__(
        self,
        reader: ByteReader,
        pixel: PixelElement,
        frame_count: int,
        *,
        starts_frame: StartTest | None,
        extended_offsets: tuple[NDArray[np.uint64], NDArray[np.uint64]] | None = None,
        name: str,
    ) -> None:
        self._reader = reader
        self._pixel = pixel
        self._count = frame_count
        self._starts_frame = starts_frame
        self._extended = extended_offsets
        self._name = name
        self._frames: list[tuple[Fragment, ...]] | None = None
        self._complete = True

    def fragments(self, index: int) -> tuple[Fragment, ...]:
        """Return the fragments of frame ``index``.

        Raises
        ------
        CorruptEncapsulationError
            The items are malformed, or the frame cannot be found.
        TruncatedPixelDataError
            The data end before the frame.
        """
        if self._extended is not None:
            found = self._from_extended(index)
            if found is not None:
                return found
        frames = self._frames
        if frames is None:
            frames = self._frames = self._build(index)
        if index < len(frames):
            return frames[index]
        if not self._complete:
            raise TruncatedPixelDataError(
                f"the encapsulated pixel data end after {len(frames)} of {self._count} frame(s)",
                path=self._name,
                frame=index,
                tag=self._pixel.tag,
            )
        raise CorruptEncapsulationError(
            f"only {len(frames)} frame(s) found in the encapsulated pixel data, "
            f"but Number of Frames is {self._count}",
            path=self._name,
            frame=index,
            tag=self._pixel.tag,
        )

    def read(self, index: int) -> bytes | bytearray:
        """Return the codestream of frame ``index``: its fragments' values joined.

        Raises
        ------
        TruncatedPixelDataError
            A fragment of the frame is cut short.
        """
        fragments = self.fragments(index)
        for fragment in fragments:
            if fragment.available < fragment.length:
                raise TruncatedPixelDataError(
                    f"the fragment at offset {fragment.item_offset - self._pixel.value_offset} "
                    f"holds {fragment.available} of its {fragment.length} bytes",
                    expected=fragment.length,
                    actual=fragment.available,
                    path=self._name,
                    frame=index,
                    tag=self._pixel.tag,
                )
        data: bytes | bytearray
        if len(fragments) == 1:
            data = self._reader.read(fragments[0].value_offset, fragments[0].length)
            got = len(data)
        else:
            data = bytearray(sum(fragment.length for fragment in fragments))
            view = memoryview(data)
            got = position = 0
            for fragment in fragments:
                end = position + fragment.length
                got += self._reader.readinto(fragment.value_offset, view[position:end])
                position = end
        total = sum(fragment.length for fragment in fragments)
        if got < total:
            raise TruncatedPixelDataError(
                f"read {got} of the frame's {total} bytes",
                expected=total,
                actual=got,
                path=self._name,
                frame=index,
                tag=self._pixel.tag,
            )
        return data

    def head(self, index: int, size: int) -> bytes:
        """Return up to ``size`` first bytes of frame ``index``'s first fragment."""
        first = self.fragments(index)[0]
        return self._reader.read(first.value_offset, min(size, first.available))

    # Building the table

    def _from_extended(self, index: int) -> tuple[Fragment, ...] | None:
        """Frame ``index`` located by the Extended Offset Table, or None if unusable."""
        assert self._extended is not None
        offsets, lengths = self._extended
        if len(offsets) != len(lengths) or len(offsets) != self._count:
            logger.warning(
                "%s: the Extended Offset Table has %d entries and its lengths %d, for %d "
                "frame(s); both are ignored",
                self._name,
                len(offsets),
                len(lengths),
                self._count,
            )
            self._extended = None
            return None
        start = self._pixel.value_offset
        end = start + self._pixel.available
        table = _read_header(self._reader, start)
        if table is None or table[0] != ITEM:
            self._extended = None
            return None
        first = start + 8 + table[1]
        position = first + int(offsets[index])
        header = _read_header(self._reader, position) if position + 8 <= end else None
        length = int(lengths[index])
        if header is None or header[0] != ITEM or header[1] not in (length, length + 1):
            logger.warning(
                "%s: the Extended Offset Table entry for frame %d does not point at a "
                "fragment of its length; the table is ignored",
                self._name,
                index,
            )
            self._extended = None
            return None
        return (Fragment(position, length, min(length, max(0, end - position - 8))),)

    def _build(self, index: int) -> list[tuple[Fragment, ...]]:
        start = self._pixel.value_offset
        end = start + self._pixel.available
        items = scan_items(
            self._reader, start, end, name=self._name, tag=self._pixel.tag, frame=index
        )
        self._complete = items.complete
        fragments = items.fragments
        by_table = self._from_basic_table(items.offset_table, fragments)
        if by_table is not None:
            return by_table
        return self._from_layout(fragments, index)

    def _from_basic_table(
        self, table: Fragment, fragments: tuple[Fragment, ...]
    ) -> list[tuple[Fragment, ...]] | None:
        """Frames from a valid Basic Offset Table; None when it is empty or invalid."""
        if table.length == 0 or not fragments:
            return None
        count = self._count
        problem = None
        if table.length != 4 * count or table.available < table.length:
            problem = f"has {table.length // 4} entries for {count} frame(s)"
        else:
            raw = self._reader.read(table.value_offset, table.length)
            offsets = np.frombuffer(raw, dtype="<u4").astype(np.int64)
            origin = fragments[0].item_offset
            positions = {fragment.item_offset - origin: i for i, fragment in enumerate(fragments)}
            if offsets[0] != 0 or (count > 1 and not bool(np.all(np.diff(offsets) > 0))):
                problem = "is not increasing from 0"
            elif not all(int(offset) in positions for offset in offsets):
                problem = "points between fragments"
        if problem is not None:
            logger.warning("%s: the Basic Offset Table %s; it is ignored", self._name, problem)
            return None
        starts = [positions[int(offset)] for offset in offsets] + [len(fragments)]
        return [tuple(fragments[starts[i] : starts[i + 1]]) for i in range(count)]

    def _from_layout(
        self, fragments: tuple[Fragment, ...], index: int
    ) -> list[tuple[Fragment, ...]]:
        """Frames found without an offset table (RULES.md section 2.4)."""
        count = self._count
        if len(fragments) == count:
            return [(fragment,) for fragment in fragments]
        if count == 1:
            return [fragments] if fragments else []
        if self._starts_frame is None:
            return self._keep_declared([(fragment,) for fragment in fragments])
        starts = [
            i
            for i, fragment in enumerate(fragments)
            if self._starts_frame(
                self._reader.read(fragment.value_offset, min(HEAD_SIZE, fragment.available))
            )
        ]
        if not starts or starts[0] != 0:
            raise CorruptEncapsulationError(
                f"{len(fragments)} fragments hold {count} frames, but the first fragment "
                "does not start a codestream, so frames cannot be told apart",
                path=self._name,
                frame=index,
                tag=self._pixel.tag,
            )
        bounds = [*starts, len(fragments)]
        return self._keep_declared(
            [tuple(fragments[bounds[i] : bounds[i + 1]]) for i in range(len(starts))]
        )

    def _keep_declared(self, frames: Sequence[tuple[Fragment, ...]]) -> list[tuple[Fragment, ...]]:
        """Keep the declared number of frames, warning when there are more."""
        count = self._count
        if len(frames) > count:
            logger.warning(
                "%s: %d frames found in the encapsulated pixel data but Number of Frames "
                "is %d; only the first %d are decoded",
                self._name,
                len(frames),
                count,
                count,
            )
        return list(frames[:count])
