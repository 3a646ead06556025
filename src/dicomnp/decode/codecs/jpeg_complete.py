"""Whether a JPEG codestream holds all of its entropy-coded data (ITU-T T.81).

libjpeg and libjpeg-turbo decode a codestream whose entropy-coded data stop
early without an error: they take zero bits for what is missing and warn,
and the warning does not reach Python. A lossless frame cut in half then
decodes to an array of the right size with half its samples wrong. Two
checks catch it:

* Before anything is allocated, :func:`least_bytes`: a Huffman code is at
  least one bit, and every sample of a lossless frame (every 8x8 block of a
  DCT frame) needs one. A codestream shorter than that cannot hold the frame
  its header declares, however the frame was coded.
* Before decoding, :func:`missing_restarts`: a single-scan frame coded in
  restart intervals holds one restart marker between each two intervals; a
  codestream cut at the end of an interval lacks the markers of the rest
  (and the sentinel below cannot show it: decoders resynchronise at the end
  marker).
* After decoding, :func:`with_sentinel`: the codestream with a few bytes
  inserted before its end marker. A decoder that read all it needed from the
  codestream ignores them and decodes the same samples; one that ran out
  reads them instead of zero bits, and decodes other samples. Comparing the
  two decodes shows whether the entropy-coded data were whole.

JPEG-LS (CharLS refuses a cut-short codestream itself) and arithmetic coding
(whose codes can be shorter than a bit) are not bounded.
"""

from __future__ import annotations

from .jpeg_markers import JpegHeader

__all__ = ["SENTINEL", "least_bytes", "missing_restarts", "with_sentinel"]

_LOSSLESS_HUFFMAN = frozenset({0xC3, 0xC7})
_DCT_HUFFMAN = frozenset({0xC0, 0xC1, 0xC2, 0xC5, 0xC6})
SENTINEL = b"\x80" * 8
"""Inserted before the end marker: a 1 bit where a decoder that runs out reads 0 bits."""
_EOI = b"\xff\xd9"
_SEQUENTIAL = frozenset({0xC0, 0xC1, 0xC3, 0xC5, 0xC7})
_RESTARTS = tuple(bytes([0xFF, code]) for code in range(0xD0, 0xD8))


def missing_restarts(header: JpegHeader, data: bytes) -> tuple[int, int] | None:
    """The restart markers a single-scan codestream needs and holds, when it holds fewer.

    None when the codestream holds them all, or when the count is not known
    from its first scan (no restart interval, progressive or several scans).
    """
    interval = header.restart_interval
    count = len(header.component_ids)
    if not interval or header.sof not in _SEQUENTIAL or not header.scan_data:
        return None
    if header.scan_components != count or count != len(header.sampling) or not count:
        return None
    unit = 1 if header.sof in (0xC3, 0xC7) else 8
    if count == 1:
        across, down = unit, unit
    else:
        across = unit * max(horizontal for horizontal, _ in header.sampling)
        down = unit * max(vertical for _, vertical in header.sampling)
    units = -(-header.columns // across) * -(-header.rows // down)
    needed = -(-units // interval) - 1
    held = sum(data.count(marker, header.scan_data) for marker in _RESTARTS)
    return (needed, held) if held < needed else None


def least_bytes(header: JpegHeader) -> int:
    """The fewest bytes of entropy-coded data that can hold the frame ``header`` declares.

    One bit per sample of one component for Huffman-coded lossless frames,
    one bit per 8x8 block of one component for Huffman-coded DCT frames;
    0 when no bound is known (JPEG-LS, arithmetic coding, no frame header).
    """
    if header.sof in _LOSSLESS_HUFFMAN:
        return header.rows * header.columns // 8
    if header.sof in _DCT_HUFFMAN:
        return -(-header.rows // 8) * -(-header.columns // 8) // 8
    return 0


def with_sentinel(source: bytes) -> bytes | None:
    """``source`` with :data:`SENTINEL` inserted before its last end marker; None without one."""
    end = source.rfind(_EOI)
    if end < 0:
        return None
    return source[:end] + SENTINEL + source[end:]
