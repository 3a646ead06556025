"""Siemens CSA headers: the private binary element lists in (0029,xx10) and (0029,xx20).

A CSA header is a list of named elements, each with a value representation
and a number of text items. Two layouts exist. The newer one ("CSA2") starts
with the bytes ``SV10`` and four unused bytes; the older one ("CSA1") starts
directly with the element count. Then, little-endian:

- ``uint32`` number of elements, ``uint32`` unused (77);
- per element: a 64-byte NUL-terminated name, ``int32`` value multiplicity,
  a 4-byte VR, ``int32`` Syngo data type, ``int32`` number of items,
  ``int32`` unused (77 or 205);
- per item: four ``int32``; the item's byte length is the second (CSA2) or
  the first minus the item count of element 1 (CSA1); then that many bytes
  of NUL-terminated text, padded to a multiple of 4.

Only the items up to the value multiplicity (all of them when it is 0) carry
values; the rest are empty.
The parser is written here (about sixty lines) rather than taken from
nibabel's ``nicom.csareader`` because nibabel is an optional extra of
dicomnp and mosaics are read without it.

Examples
--------
>>> from dicomnp.volume.csa import build_csa, parse_csa
>>> parse_csa(build_csa({"NumberOfImagesInMosaic": ("IS", ["4"])}))
{'NumberOfImagesInMosaic': ['4']}
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

from ..errors import InvalidPixelMetadataError

__all__ = ["build_csa", "csa_floats", "parse_csa"]

_MAX_COUNT = 1000
"""More elements or items than this means the bytes are not a CSA header."""


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def parse_csa(data: bytes, *, name: str = "", tag: int | None = None) -> dict[str, list[str]]:
    """The elements of a CSA header: name to its non-empty text items.

    Parameters
    ----------
    data : bytes
        The value of a CSA header element.
    name, tag : str, int, optional
        The file and the element, for the error message.

    Raises
    ------
    InvalidPixelMetadataError
        The bytes are not a CSA header, or an element runs past their end.
    """
    offset = 8 if data[:4] == b"SV10" else 0
    csa2 = offset == 8

    def fail(why: str) -> InvalidPixelMetadataError:
        return InvalidPixelMetadataError(
            f"the Siemens CSA header is malformed: {why}", path=name or None, tag=tag
        )

    def unpack(fmt: str) -> tuple[int | bytes, ...]:
        nonlocal offset
        size = struct.calcsize(fmt)
        if offset + size > len(data):
            raise fail(f"{len(data)} bytes end inside an element at byte {offset}")
        values = struct.unpack_from(fmt, data, offset)
        offset += size
        return values

    count = int(unpack("<2I")[0])
    if not 0 < count <= _MAX_COUNT:
        raise fail(f"{count} elements")
    elements: dict[str, list[str]] = {}
    first_items = 0
    for number in range(count):
        raw_name, multiplicity, _vr, _syngo, items, _unused = unpack("<64si4s3i")
        assert isinstance(raw_name, bytes)
        assert isinstance(items, int)
        assert isinstance(multiplicity, int)
        if number == 1:
            first_items = items
        if not 0 <= items <= _MAX_COUNT:
            raise fail(f"element {_text(raw_name)!r} has {items} items")
        values: list[str] = []
        for item in range(items):
            x0, x1, _x2, _x3 = (int(v) for v in unpack("<4i"))
            length = x1 if csa2 else x0 - first_items
            if length < 0 or offset + length > len(data):
                if csa2:
                    raise fail(f"an item of {_text(raw_name)!r} runs past the end")
                break  # CSA1 writers leave unused trailing items unset
            text = _text(data[offset : offset + length])
            offset += (length + 3) // 4 * 4
            if item < (multiplicity if multiplicity > 0 else items) and text:
                values.append(text)
        elements[_text(raw_name)] = values
    return elements


def csa_floats(elements: Mapping[str, Sequence[str]], key: str) -> tuple[float, ...] | None:
    """The items of ``key`` as floats; None when absent, empty or not numbers."""
    items = elements.get(key)
    if not items:
        return None
    try:
        return tuple(float(item) for item in items)
    except ValueError:
        return None


def build_csa(elements: Mapping[str, tuple[str, Sequence[str]]]) -> bytes:
    """A CSA2 header holding ``elements`` (name to VR and text items), for tests and examples."""
    out = bytearray(b"SV10\4\3\2\1")
    out += struct.pack("<2I", len(elements), 77)
    for key, (vr, items) in elements.items():
        out += struct.pack(
            "<64si4s3i", key.encode("latin-1"), len(items), vr.encode("latin-1"), 0, len(items), 77
        )
        for item in items:
            raw = item.encode("latin-1") + b"\0"
            out += struct.pack("<4i", len(raw), len(raw), 77, len(raw))
            out += raw + b"\0" * (-len(raw) % 4)
    return bytes(out)
