"""Which transfer syntax a DICOMweb frame part holds, and what to ask for.

PS3.18 names a media type for each family of transfer syntaxes and lets a
part carry the exact one as a ``transfer-syntax`` parameter; when the
parameter is absent the media type's default applies (PS3.18 Table
8.7.3-5). Frames are asked for as stored (``transfer-syntax=*``) first, and as
Explicit VR Little Endian when the server cannot send them that way.
"""

from __future__ import annotations

from .multipart import content_type

__all__ = [
    "ACCEPT_NATIVE",
    "ACCEPT_STORED",
    "EXPLICIT_VR_LITTLE_ENDIAN",
    "syntax_of_part",
]

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"

ACCEPT_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
"""Frames as the server stores them, each part saying its syntax."""

ACCEPT_NATIVE = (
    'multipart/related; type="application/octet-stream"; '
    f"transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}"
)
"""Frames decompressed by the server, as Explicit VR Little Endian."""

_DEFAULT_SYNTAX = {
    "application/octet-stream": EXPLICIT_VR_LITTLE_ENDIAN,
    "image/jpeg": "1.2.840.10008.1.2.4.50",
    "image/jls": "1.2.840.10008.1.2.4.80",
    "image/jp2": "1.2.840.10008.1.2.4.90",
    "image/jpx": "1.2.840.10008.1.2.4.92",
    "image/jphc": "1.2.840.10008.1.2.4.201",
    "image/jxl": "1.2.840.10008.1.2.4.110",
    "image/dicom-rle": "1.2.840.10008.1.2.5",
}
"""The transfer syntax a part of each media type holds when it names none (PS3.18)."""


def syntax_of_part(part_type: str, response_type: str = "") -> str | None:
    """The transfer syntax UID a frame part holds, from its Content-Type.

    ``response_type`` is the whole response's Content-Type; its ``type``
    parameter stands for a part that has no Content-Type of its own.
    Returns None for a media type that holds no frame of a known syntax.

    Examples
    --------
    >>> syntax_of_part("image/jp2; transfer-syntax=1.2.840.10008.1.2.4.91")
    '1.2.840.10008.1.2.4.91'
    >>> syntax_of_part("image/dicom-rle")
    '1.2.840.10008.1.2.5'
    >>> syntax_of_part("", 'multipart/related; type="application/octet-stream"; boundary=x')
    '1.2.840.10008.1.2.1'
    """
    if not part_type and response_type:
        _, params = content_type(response_type)
        part_type = params.get("type", "")
    media, params = content_type(part_type or "application/octet-stream")
    uid = params.get("transfer-syntax")
    if uid and uid != "*":
        return uid
    return _DEFAULT_SYNTAX.get(media)
