"""Reading the main header of a JPEG 2000 codestream (ISO/IEC 15444-1 Annex A).

The SIZ segment gives the image size, the number of components and, per
component, the precision and signedness; the COD segment says whether a
multiple component transform (RCT or ICT) was applied. Only the main header
is read, walking the marker segments by their lengths. A JP2 file wrapper,
not allowed in DICOM but seen, is looked through to its codestream: the
first Contiguous Codestream box (``jp2c``), found by walking the boxes by
their lengths (ISO/IEC 15444-1 Annex I), as openjpeg finds it. A codestream
anywhere else (in an ``xml `` box, say) is not the one decoded and is not read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["J2kHeader", "codestream_start", "parse_j2k_header", "starts_j2k"]

SOC_SIZ = b"\xff\x4f\xff\x51"
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_SIZ = 0x51
_COD = 0x52
_SOT = 0x90
_SOD = 0x93
_EOC = 0xD9
_CODESTREAM_BOX = b"jp2c"


@dataclass(frozen=True)
class J2kHeader:
    """What the main header of a JPEG 2000 codestream says.

    Attributes
    ----------
    rows, columns, components : int
        Image size and component count from SIZ.
    precision : int
        Bits per sample of the first component.
    signed : bool
        Whether the first component's samples are signed.
    transform : bool
        Whether COD declares a multiple component transform.
    """

    rows: int
    columns: int
    components: int
    precision: int
    signed: bool
    transform: bool


def starts_j2k(head: bytes) -> bool:
    """Whether ``head`` starts a JPEG 2000 codestream (SOC then SIZ) or a JP2 file."""
    return head.startswith((SOC_SIZ, JP2_SIGNATURE))


def codestream_start(data: bytes) -> int | None:
    """Where the codestream a decoder decodes starts in ``data``, or None if there is none.

    At 0 for a bare codestream; in a JP2 file, the content of the first
    ``jp2c`` box.
    """
    if data.startswith(SOC_SIZ):
        return 0
    if not data.startswith(JP2_SIGNATURE):
        return None
    position = 0
    end = len(data)
    while position + 8 <= end:
        size = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        header = 8
        if size == 1:  # the length follows as 64 bits
            if position + 16 > end:
                return None
            size = int.from_bytes(data[position + 8 : position + 16], "big")
            header = 16
        elif size == 0:  # the box runs to the end of the data
            size = end - position
        if kind == _CODESTREAM_BOX:
            start = position + header
            return start if data.startswith(SOC_SIZ, start) else None
        if size < header:
            return None
        position += size
    return None


def parse_j2k_header(data: bytes) -> J2kHeader | None:
    """Read SIZ and COD from the main header of ``data``; None without a SIZ segment."""
    start = codestream_start(data)
    if start is None:
        return None
    size: J2kHeader | None = None
    transform = False
    position = start + 2
    end = len(data)
    while position + 4 <= end and data[position] == 0xFF:
        marker = data[position + 1]
        if marker in (_SOT, _SOD, _EOC):
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if marker == _SIZ and len(segment) >= 37:
            x_size, y_size, x_origin, y_origin = (
                int.from_bytes(segment[offset : offset + 4], "big") for offset in (2, 6, 10, 14)
            )
            depth = segment[36]
            size = J2kHeader(
                rows=y_size - y_origin,
                columns=x_size - x_origin,
                components=int.from_bytes(segment[34:36], "big"),
                precision=(depth & 0x7F) + 1,
                signed=bool(depth & 0x80),
                transform=False,
            )
        elif marker == _COD and len(segment) >= 5:
            transform = segment[4] != 0
        if length < 2:
            break
        position += 2 + length
    if size is None:
        return None
    return replace(size, transform=transform)
