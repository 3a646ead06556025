"""Building encapsulated data sets in memory: fragments, offset tables, malformed items."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended

from support.build import image_dataset

OffsetTable = Literal["basic", "empty", "extended"]


def item(value: bytes, tag: int = 0xFFFEE000, length: int | None = None) -> bytes:
    """One item: tag, 32-bit length (the value's unless given), value."""
    size = len(value) if length is None else length
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, size) + value


DELIMITER = item(b"", tag=0xFFFEE0DD)


def items(table: bytes, fragments: Sequence[bytes], *, delimiter: bool = True) -> bytes:
    """An encapsulated value: the Basic Offset Table item, fragment items, a delimiter."""
    body = item(table) + b"".join(item(fragment) for fragment in fragments)
    return body + (DELIMITER if delimiter else b"")


def encapsulated_value(
    frames: Sequence[bytes], *, table: OffsetTable = "basic", fragments_per_frame: int = 1
) -> tuple[bytes, bytes | None, bytes | None]:
    """Encapsulate ``frames`` with pydicom: the value, and the extended tables if asked."""
    if table == "extended":
        value, offsets, lengths = encapsulate_extended(list(frames))
        return value, offsets, lengths
    value = encapsulate(
        list(frames), fragments_per_frame=fragments_per_frame, has_bot=table == "basic"
    )
    return value, None, None


def encapsulated_dataset(
    value: bytes,
    *,
    syntax: str,
    rows: int,
    columns: int,
    bits_allocated: int,
    bits_stored: int | None = None,
    pixel_representation: int = 0,
    samples: int = 1,
    photometric: str | None = None,
    frames: int | None = None,
    extended: tuple[bytes, bytes] | None = None,
) -> Dataset:
    """A data set whose Pixel Data holds the encapsulated ``value`` verbatim."""
    ds = image_dataset(
        value,
        rows=rows,
        columns=columns,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=pixel_representation,
        samples=samples,
        photometric=photometric,
        frames=frames,
        syntax=syntax,
        vr="OB",
    )
    if extended is not None:
        ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = extended
    ds["PixelData"].is_undefined_length = True
    return ds
