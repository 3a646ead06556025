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

__all__ = ["SENTINEL", "least_bytes", "with_sentinel"]

_LOSSLESS_HUFFMAN = frozenset({0xC3, 0xC7})
_DCT_HUFFMAN = frozenset({0xC0, 0xC1, 0xC2, 0xC5, 0xC6})
SENTINEL = b"\x80" * 8
"""Inserted before the end marker: a 1 bit where a decoder that runs out reads 0 bits."""
_EOI = b"\xff\xd9"


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
