"""Crafted hostile inputs, built in memory, for the regression tests and the fuzz seeds."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from pydicom.uid import UID

from support.build import image_dataset, to_bytes

__all__ = ["DEFLATED_EXPLICIT", "PIXEL_HEADER", "deflated_bomb", "delimiter_spelling_a_long_vr"]

PIXEL_HEADER = b"\xe0\x7f\x10\x00"
"""The tag (7FE0,0010) as little endian bytes."""


def _ct_without_intercept() -> bytes:
    pixels = np.arange(4, dtype=np.int16) * 1000
    ds = image_dataset(
        pixels.tobytes(), rows=2, columns=2, bits_allocated=16, pixel_representation=1
    )
    ds.Modality = "CT"
    ds.RescaleSlope = "1"
    return to_bytes(ds)


def _element(group: int, number: int, vr: bytes, value: bytes, *, long: bool = False) -> bytes:
    if long:
        return struct.pack("<HH2sHL", group, number, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, number, vr, len(value)) + value


def delimiter_spelling_a_long_vr() -> bytes:
    """An explicit VR file whose Item Delimitation Item's length field reads ``OB\\0\\0``.

    pydicom reads that delimiter as a 12-byte element; read as 8 bytes, the
    rest of the header parts by 4 bytes: an element pydicom skips inside a
    private value becomes Rescale Intercept 0, hiding pydicom's -1024.
    """
    data = _ct_without_intercept()
    at = data.rindex(PIXEL_HEADER)
    sequence = struct.pack("<HH2sHL", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF)
    sequence += struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    sequence += struct.pack("<HH2sH", 0xFFFE, 0xE00D, b"OB", 0)  # pydicom: 4 more bytes
    sequence += b"\xfe\xff\xdd\xe0" * 2  # a sequence delimiter 8 or 12 bytes on
    # From here the 8-byte reading is 4 bytes ahead of pydicom's.
    hidden = _element(0x0028, 0x1052, b"DS", b"-1024 ")  # pydicom's Rescale Intercept
    decoy = _element(0x0028, 0x1052, b"DS", b"0")  # the other reading's
    # 8-byte reading: (0029,1010) OB of length 0x424F ("OB\0\0") over pydicom's elements.
    # pydicom: the same bytes from 4 on are (424F,0000) OB of length 0.
    shared = struct.pack("<HH2sHL", 0x0029, 0x1010, b"OB", 0, 0x424F) + b"\0" * 4
    cover = 0x424F - 4 - len(hidden) - 12 + len(decoy)  # pydicom's value over the decoy
    tail = hidden + struct.pack("<HH2sHL", 0x0029, 0x1020, b"OB", 0, cover)
    tail += b"\0" * (0x424F - 4 - len(tail)) + decoy
    return data[:at] + sequence + b"\0" * 4 + shared[4:] + tail + data[at:]


DEFLATED_EXPLICIT = UID("1.2.840.10008.1.2.1.99")


def deflated_bomb(rows: int, columns: int, zeros: int) -> bytes:
    """A Deflated Explicit VR file declaring ``rows`` x ``columns`` 8-bit pixels.

    Its Pixel Data holds ``zeros`` zero bytes, so the file is about a
    thousandth of the data set it inflates to.
    """
    ds = image_dataset(b"\0\0", rows=rows, columns=columns, bits_allocated=8)
    ds.file_meta.TransferSyntaxUID = DEFLATED_EXPLICIT
    data = to_bytes(ds)
    meta_end = 144 + struct.unpack_from("<L", data, 140)[0]  # after the group length
    inflated = zlib.decompress(data[meta_end:], -zlib.MAX_WBITS)
    header = inflated[: inflated.rindex(PIXEL_HEADER)]
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [deflater.compress(header + PIXEL_HEADER + b"OB\0\0" + struct.pack("<L", zeros))]
    block = bytes(1 << 20)
    for start in range(0, zeros, len(block)):
        parts.append(deflater.compress(block[: zeros - start]))
    parts.append(deflater.flush())
    return data[:meta_end] + b"".join(parts)
