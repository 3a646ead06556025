"""Locating the elements of a file's header in its first bytes, without pydicom.

:func:`locate_elements` walks the File Meta Information and the top-level
elements of a data set held in memory, up to the pixel element, and records
where each element's value lies. It reads no value and converts nothing
(:mod:`dicomnp._attributes` does that on demand). It only accepts the common
case: a Part 10 file (preamble and ``DICM``) whose data set is little endian,
explicit or implicit VR, not deflated. For anything else it returns None, and
the caller reads the header with pydicom, which knows every odd case. A
header that runs past the bytes given raises :class:`HeadTooShort`, so that
the caller can read more of the file and walk again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Literal

from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR
from pydicom.values import convert_string

from ._syntaxes import TransferSyntax, lookup

__all__ = [
    "LONG_VRS",
    "SHORT_VRS",
    "ElementTable",
    "HeadTooShort",
    "Layout",
    "Located",
    "explicit_layout",
    "locate_elements",
]

LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
"""Explicit VRs whose element header has two reserved bytes and a 32-bit length (PS3.5 7.1.2)."""
SHORT_VRS = frozenset(
    {
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO",
        b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
    }
)  # fmt: skip
"""Explicit VRs whose element header has a 16-bit length."""

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UI", "UT"})
"""VRs pydicom converts to plain text, whatever its options."""
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD
_MAX_DEPTH = 16
"""Deepest nesting of sequences walked; deeper headers are left to pydicom."""
_IN_SEQUENCE = -1
"""A level of :func:`_walk_sequence` between the items of a sequence."""
_PIXEL_HEADER = 12
"""Bytes of the pixel element's own header that must lie inside the bytes given."""

_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<L")
_EXPLICIT_HEADER = struct.Struct("<HH2sH")
_VRS = {code: (code.decode("ascii"), code in LONG_VRS) for code in SHORT_VRS | LONG_VRS}
_ITEM_HEADER = struct.Struct("<HHL")

Layout = Literal["long", "short", "implicit", "unknown"]
"""How an element header in an explicit VR data set is read (see :func:`explicit_layout`)."""


def explicit_layout(code: bytes) -> Layout:
    """How pydicom reads an element header whose VR bytes are ``code``, in explicit VR.

    The one rule for every element header read in an explicit VR data set,
    pydicom's (``data_element_generator``, with its default settings): a
    known VR with a 32-bit length is ``"long"`` (tag, VR, two reserved
    bytes, length: 12 bytes); any other known VR is ``"short"`` (a 16-bit
    length: 8 bytes); bytes outside ``b"AA"`` to ``b"ZZ"`` (compared as
    byte strings) are the start of a 32-bit length, the element being
    written in implicit VR (``"implicit"``: 8 bytes); anything else is an
    ``"unknown"`` VR, whose value pydicom refuses to convert.

    Examples
    --------
    >>> [explicit_layout(code) for code in (b"OW", b"US", b"\\x00\\x00", b"O\\xac")]
    ['long', 'short', 'implicit', 'unknown']
    """
    if code in LONG_VRS:
        return "long"
    if code in SHORT_VRS:
        return "short"
    if not b"AA" <= code <= b"ZZ":
        return "implicit"
    return "unknown"


ElementTable = dict[int, tuple[str | None, int, int]]
"""Tag to (VR, or None when implicit; offset of the value; length, or -1 when undefined)."""


@dataclass(frozen=True)
class Located:
    """Where the elements of a header lie in the bytes walked.

    Attributes
    ----------
    meta : ElementTable
        The File Meta Information elements (group 0002).
    elements : ElementTable
        The top-level elements of the data set, up to the pixel element.
    syntax : TransferSyntax
        The transfer syntax the File Meta Information names.
    end : int
        Offset of the pixel element: the header is ``head[:end]``.
    sequence_ends : dict
        Where the value of each top-level sequence of undefined length ends.
    """

    meta: ElementTable
    elements: ElementTable
    syntax: TransferSyntax
    end: int
    sequence_ends: dict[int, int] = field(default_factory=dict)


class _Unusual(Exception):
    """The header is not one this walker accepts: pydicom reads it instead."""


class HeadTooShort(Exception):
    """The header runs past the bytes given: more of the file is needed to walk it."""


def locate_elements(head: bytes) -> Located | None:
    """Locate the elements of the header at the start of ``head``.

    Returns None when the header is not the common case described in the
    module docstring.

    Raises
    ------
    HeadTooShort
        The header, with the pixel element's own header, does not end inside
        ``head`` (as far as it was walked).
    """
    if len(head) < 132 or head[128:132] != b"DICM":
        return None
    try:
        meta, position = _walk_meta(head, 132)
        syntax = _syntax(head, meta)
        ends: dict[int, int] = {}
        elements, end = _walk_top(head, position, syntax.implicit_vr, ends)
        _check_charset(head, elements)
    except _Unusual:
        return None
    except struct.error:
        raise HeadTooShort from None
    return Located(meta=meta, elements=elements, syntax=syntax, end=end, sequence_ends=ends)


def _check_charset(head: bytes, elements: ElementTable) -> None:
    """Leave to pydicom a Specific Character Set it would refuse while reading the header."""
    found = elements.get(0x00080005)
    if found is None:
        return
    vr, start, length = found
    if vr is not None and vr not in _TEXT_VRS:
        raise _Unusual  # pydicom converts it by its VR, perhaps to no text at all
    try:  # pydicom converts it as it reads, and stops if it cannot
        convert_encodings(convert_string(head[start : start + length], True))
    except Exception:
        raise _Unusual from None


def _walk_meta(head: bytes, position: int) -> tuple[ElementTable, int]:
    meta: ElementTable = {}
    size = len(head)
    while position + 8 <= size and _U16.unpack_from(head, position)[0] == 0x0002:
        tag, vr, start, length = _element(head, position, False)
        if length < 0:
            raise _Unusual
        meta[tag] = (vr, start, length)
        position = start + length
    if position + 8 > size:
        raise HeadTooShort
    return meta, position


def _syntax(head: bytes, meta: ElementTable) -> TransferSyntax:
    found = meta.get(0x00020010)
    if found is None:
        raise _Unusual
    _, start, length = found
    uid = head[start : start + length].decode("latin-1").rstrip("\0 ")
    syntax = lookup(uid)
    if syntax is None or not syntax.little_endian or syntax.deflated_dataset:
        raise _Unusual
    return syntax


def _walk_top(
    head: bytes, position: int, implicit: bool, ends: dict[int, int]
) -> tuple[ElementTable, int]:
    """The top-level elements from ``position`` to the pixel element, and its offset.

    ``ends`` receives where each sequence of undefined length ends.
    """
    if position + 8 > len(head):
        raise HeadTooShort
    # pydicom follows the encoding it finds when it differs from the one named: it
    # reads the data set as explicit VR when two capital letters stand where a VR would.
    looks_explicit = all(0x41 <= byte <= 0x5A for byte in head[position + 4 : position + 6])
    if looks_explicit == implicit:
        raise _Unusual
    if implicit:
        return _walk_top_implicit(head, position, ends)
    return _walk_top_explicit(head, position, ends)


# The two loops below are the walk of every file a folder scan reads: each element is
# read in place (the rules of _element), a sequence of undefined length by _walk_sequence.


def _walk_top_explicit(
    head: bytes, position: int, ends: dict[int, int]
) -> tuple[ElementTable, int]:
    elements: ElementTable = {}
    size = len(head)
    unpack, unpack_long, vrs = _EXPLICIT_HEADER.unpack_from, _U32.unpack_from, _VRS
    while True:
        if position + _PIXEL_HEADER > size:
            raise HeadTooShort
        group, number, code, length = unpack(head, position)
        tag = group << 16 | number
        if tag in _PIXEL_TAGS:
            return elements, position
        if group == 0x0002 or group == 0xFFFE or tag in elements:
            raise _Unusual
        known = vrs.get(code)
        if known is None:
            raise _Unusual  # an element in implicit VR, or an unknown VR: pydicom decides
        vr, long = known
        if not long:
            elements[tag] = (vr, position + 8, length)
            position += 8 + length
            continue
        (length,) = unpack_long(head, position + 8)
        position += 12
        if length != _UNDEFINED:
            elements[tag] = (vr, position, length)
            position += length
        elif vr == "SQ":
            elements[tag] = (vr, position, -1)
            position = ends[tag] = _walk_sequence(head, position, False, 1)
        else:
            raise _Unusual  # e.g. UN of undefined length, encoded implicitly inside


def _walk_top_implicit(
    head: bytes, position: int, ends: dict[int, int]
) -> tuple[ElementTable, int]:
    elements: ElementTable = {}
    size = len(head)
    unpack = _ITEM_HEADER.unpack_from
    while True:
        if position + _PIXEL_HEADER > size:
            raise HeadTooShort
        group, number, length = unpack(head, position)
        tag = group << 16 | number
        if tag in _PIXEL_TAGS:
            return elements, position
        if group == 0x0002 or group == 0xFFFE or tag in elements:
            raise _Unusual
        position += 8
        if length != _UNDEFINED:
            elements[tag] = (None, position, length)
            position += length
        elif _implicit_sequence(head, tag, position):
            elements[tag] = (None, position, -1)
            position = ends[tag] = _walk_sequence(head, position, True, 1)
        else:
            raise _Unusual  # pydicom searches such a value for a delimiter


def _element(head: bytes, position: int, implicit: bool) -> tuple[int, str | None, int, int]:
    """Tag, VR (None when implicit), value offset and length (-1 when undefined) of an element."""
    if implicit:
        group, number, length = _ITEM_HEADER.unpack_from(head, position)
        return group << 16 | number, None, position + 8, -1 if length == _UNDEFINED else length
    group, number, code, length = _EXPLICIT_HEADER.unpack_from(head, position)
    known = _VRS.get(code)
    if known is None:
        raise _Unusual  # an element in implicit VR, or an unknown VR: pydicom decides
    vr, long = known
    if not long:
        return group << 16 | number, vr, position + 8, length
    (length,) = _U32.unpack_from(head, position + 8)
    if length == _UNDEFINED:
        if vr != "SQ":
            raise _Unusual  # e.g. UN of undefined length, encoded implicitly inside
        length = -1
    return group << 16 | number, vr, position + 12, length


def _implicit_sequence(head: bytes, tag: int, start: int) -> bool:
    """Whether an implicit VR element of undefined length is a sequence, as pydicom decides."""
    try:
        return dictionary_VR(tag) == "SQ"
    except KeyError:  # not in the dictionary: a sequence if an item follows
        return head[start : start + 4] == b"\xfe\xff\x00\xe0"


def _walk_sequence(head: bytes, position: int, implicit: bool, depth: int) -> int:
    """The offset after a sequence of undefined length whose items start at ``position``.

    As pydicom reads it: each item is walked element by element (an item of
    defined length must end where its elements end), a value of defined
    length is skipped, and a sequence of undefined length nested in an item
    is walked in turn, to :data:`_MAX_DEPTH` levels. One loop over a stack of
    open levels, each element read in place: the private sequences of
    undefined length some scanners write hold hundreds of elements.
    """
    if depth > _MAX_DEPTH:
        raise _Unusual
    size = len(head)
    unpack_item, unpack_explicit, unpack_long = (
        _ITEM_HEADER.unpack_from,
        _EXPLICIT_HEADER.unpack_from,
        _U32.unpack_from,
    )
    vrs = _VRS
    # The open levels, innermost last: _IN_SEQUENCE between the items of a sequence,
    # else an item: where it ends when of defined length, None when a delimiter ends it.
    levels: list[int | None] = [_IN_SEQUENCE]
    sequences = 1  # open sequences: the depth of the innermost is depth + sequences - 1
    while True:
        end = levels[-1]
        if end == _IN_SEQUENCE:  # an item, or the end of the sequence
            if position + 8 > size:
                raise HeadTooShort
            group, number, length = unpack_item(head, position)
            tag = group << 16 | number
            position += 8
            if tag == _SEQUENCE_END:
                levels.pop()
                sequences -= 1
                if not levels:
                    return position
            elif tag == _ITEM:
                levels.append(None if length == _UNDEFINED else position + length)
            else:
                raise _Unusual
            continue
        while True:  # the elements of an item, to its end or to a sequence nested in it
            if end is not None and position >= end:
                if position > end:
                    raise _Unusual  # an element runs past the end of its item
                levels.pop()  # an item of defined length, walked to its end
                break
            # 8 bytes unpacked: past the end, struct.error, which the caller reads as too short
            if implicit:
                group, number, length = unpack_item(head, position)
            else:
                group, number, code, length = unpack_explicit(head, position)
            if group == 0xFFFE:
                if group << 16 | number == _ITEM_END and end is None:
                    # pydicom reads a delimiter's header as any element's: in explicit
                    # VR, a length field that spells a long VR makes it 12 bytes long.
                    long = not implicit and code in LONG_VRS
                    if long and position + 12 > size:
                        raise HeadTooShort
                    position += 12 if long else 8
                    levels.pop()
                    break
                raise _Unusual  # a delimiter where pydicom reads on to another end
            if implicit:
                position += 8
                if length != _UNDEFINED:
                    position += length
                    continue
                if not _implicit_sequence(head, group << 16 | number, position):
                    raise _Unusual  # pydicom searches such a value for a delimiter
            else:
                known = vrs.get(code)
                if known is None:
                    raise _Unusual  # an element in implicit VR, or an unknown VR: pydicom decides
                if not known[1]:
                    position += 8 + length
                    continue
                (length,) = unpack_long(head, position + 8)
                position += 12
                if length != _UNDEFINED:
                    position += length
                    continue
                if known[0] != "SQ":
                    raise _Unusual  # e.g. UN of undefined length, encoded implicitly inside
            if depth + sequences > _MAX_DEPTH:
                raise _Unusual
            levels.append(_IN_SEQUENCE)
            sequences += 1
            break
