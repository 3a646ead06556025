"""Reading the header of a JPEG or JPEG-LS codestream (ITU-T T.81, T.87).

Markers are found as libjpeg finds them: bytes between marker segments that
are not a marker (anything but ``FF`` followed by a marker code, so also a
stuffed ``FF 00``) are skipped one by one, never read as a segment with a
length. The frame header checked is then the one the decoder decodes, not a
decoy that the decoder skips.

Only the marker segments up to the first scan header are read: the frame header
(SOF, or SOF55 for JPEG-LS) for size, precision and component identifiers,
APP0 for a JFIF header and APP14 for Adobe's colour transform flag. They tell
which colour model a three-component codestream holds (ITU-T T.872,
RULES.md section 3.3 item 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["JpegHeader", "parse_jpeg_header", "starts_jpeg"]

SOI = b"\xff\xd8"
_SOS = 0xDA
_EOI = 0xD9
_DRI = 0xDD
_APP0 = 0xE0
_APP8 = 0xE8
_APP14 = 0xEE
# SOF0-3, 5-7, 9-11, 13-15 (T.81) and SOF55 (JPEG-LS, T.87).
_SOF = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF})
_SOF55 = 0xF7
# Markers without a length: TEM, RST0-7, SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_RGB_IDS = ((82, 71, 66), (114, 103, 98))


@dataclass(frozen=True)
class JpegHeader:
    """What the markers before the first scan say.

    Attributes
    ----------
    sof : int or None
        The second byte of the frame header marker (0xC0 baseline, 0xC3
        lossless, 0xF7 JPEG-LS, ...), None if none was found.
    precision, rows, columns : int
        From the frame header; 0 when absent.
    component_ids : tuple of int
        The component identifiers, in frame header order.
    jfif : bool
        An APP0 segment starts with ``JFIF``.
    adobe_transform : int or None
        The transform flag of an APP14 ``Adobe`` segment: 0 none (RGB),
        1 YCbCr, 2 YCCK.
    ls_colour_transform : bool
        An APP8 ``mrfx`` segment: a JPEG-LS colour transform (HP), which
        PS3.5 8.2.3 does not allow and libjpeg would not undo.
    scan : tuple of int or None
        The first scan header's start and end of spectral selection and its
        successive approximation byte (Ss, Se, Ah/Al), None if not reached.
    frame_headers : int
        The frame headers found before the first scan: more than one is an
        error for every decoder.
    sampling : tuple of (int, int)
        Each component's horizontal and vertical sampling factors.
    restart_interval : int
        MCUs between restart markers (DRI before the first scan), 0 for none.
    scan_components : int
        The number of components of the first scan.
    scan_data : int
        Where the first scan's entropy-coded data start; 0 if not reached.
    """

    sof: int | None = None
    precision: int = 0
    rows: int = 0
    columns: int = 0
    component_ids: tuple[int, ...] = ()
    jfif: bool = False
    adobe_transform: int | None = None
    ls_colour_transform: bool = False
    scan: tuple[int, int, int] | None = None
    frame_headers: int = 0
    sampling: tuple[tuple[int, int], ...] = ()
    restart_interval: int = 0
    scan_components: int = 0
    scan_data: int = 0

    def colour_space(self) -> str | None:
        """``"RGB"`` or ``"YBR_FULL"`` when the codestream says which, else None.

        Evidence in order of strength: the APP14 transform flag, a JFIF
        header (always YCbCr), then component identifiers spelling RGB.
        """
        if len(self.component_ids) != 3:
            return None
        if self.adobe_transform == 0:
            return "RGB"
        if self.adobe_transform == 1:
            return "YBR_FULL"
        if self.jfif:
            return "YBR_FULL"
        if self.component_ids in _RGB_IDS:
            return "RGB"
        return None


def starts_jpeg(head: bytes) -> bool:
    """Whether ``head`` starts a JPEG or JPEG-LS codestream: SOI then a marker."""
    return len(head) >= 3 and head[:2] == SOI and head[2] == 0xFF


def parse_jpeg_header(data: bytes) -> JpegHeader:
    """Read the marker segments of ``data`` up to the first scan.

    Reading stops quietly where the data end or stop making sense; what was
    found so far is returned. Of several frame headers, the first is kept
    and the others counted.
    """
    header = JpegHeader()
    if not starts_jpeg(data):
        return header
    position = 2
    end = len(data)
    while True:
        found = _next_marker(data, position)
        if found is None:
            break
        marker, position = found
        if marker in _STANDALONE:
            continue
        if marker == _EOI or position + 2 > end:
            break
        length = int.from_bytes(data[position : position + 2], "big")
        segment = data[position + 2 : position + length]
        if marker == _SOS:
            tail = 1 + 2 * segment[0] if segment else len(segment)
            if len(segment) >= tail + 3:
                header = replace(header, scan=(segment[tail], segment[tail + 1], segment[tail + 2]))
            header = replace(
                header,
                scan_components=segment[0] if segment else 0,
                scan_data=position + length,
            )
            break
        if (marker in _SOF or marker == _SOF55) and len(segment) >= 6:
            count = segment[5]
            if header.sof is None:
                header = replace(
                    header,
                    sof=marker,
                    precision=segment[0],
                    rows=int.from_bytes(segment[1:3], "big"),
                    columns=int.from_bytes(segment[3:5], "big"),
                    component_ids=tuple(segment[6 : 6 + 3 * count : 3]),
                    sampling=tuple(
                        (factors >> 4, factors & 0x0F) for factors in segment[7 : 7 + 3 * count : 3]
                    ),
                )
            header = replace(header, frame_headers=header.frame_headers + 1)
        elif marker == _DRI and len(segment) >= 2:
            header = replace(header, restart_interval=int.from_bytes(segment[:2], "big"))
        elif marker == _APP0 and segment.startswith(b"JFIF\0"):
            header = replace(header, jfif=True)
        elif marker == _APP14 and segment.startswith(b"Adobe") and len(segment) >= 12:
            header = replace(header, adobe_transform=segment[11])
        elif marker == _APP8 and segment.startswith(b"mrfx"):
            header = replace(header, ls_colour_transform=True)
        if length < 2:
            break
        position += length
    return header


def _next_marker(data: bytes, position: int) -> tuple[int, int] | None:
    """The next marker code at or after ``position`` and where its segment starts.

    As libjpeg's ``next_marker``: bytes other than ``FF`` are skipped, so
    are fill bytes (``FF FF``), and a stuffed ``FF 00`` is no marker.
    """
    end = len(data)
    while position < end:
        position = data.find(b"\xff", position)
        if position < 0:
            return None
        while position < end and data[position] == 0xFF:
            position += 1
        if position >= end:
            return None
        marker = data[position]
        position += 1
        if marker != 0x00:
            return marker, position
    return None
