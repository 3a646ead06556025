"""A small JPEG lossless encoder (ITU-T T.81 process 14, first-order prediction).

No JPEG or JPEG-LS encoder ships with the declared dependencies, so the round
trip tests code their arrays with this one. It writes one interleaved scan
with predictor 1 and a fixed Huffman table that gives every difference
category a 5-bit code. It is slow and only for small test images.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_CODE_BITS = 5  # 17 categories (0-16), each coded as its own number in 5 bits


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


class _BitWriter:
    def __init__(self) -> None:
        self.data = bytearray()
        self._value = 0
        self._count = 0

    def write(self, value: int, bits: int) -> None:
        self._value = (self._value << bits) | (value & ((1 << bits) - 1))
        self._count += bits
        while self._count >= 8:
            self._count -= 8
            byte = (self._value >> self._count) & 0xFF
            self.data.append(byte)
            if byte == 0xFF:
                self.data.append(0)  # byte stuffing
        self._value &= (1 << self._count) - 1

    def flush(self) -> bytes:
        if self._count:
            self.write((1 << (8 - self._count)) - 1, 8 - self._count)  # pad with 1 bits
        return bytes(self.data)


def encode_lossless(samples: NDArray[Any], precision: int) -> bytes:
    """Return a JPEG lossless codestream of ``samples``.

    Parameters
    ----------
    samples : numpy.ndarray
        Shape (rows, columns, components); values are taken modulo
        ``2**precision``, so signed values are coded as their two's-complement
        bit patterns, as DICOM writers do.
    precision : int
        Bits per sample, 2 to 16.
    """
    rows, columns, components = samples.shape
    values = np.asarray(samples, dtype=np.int64) & ((1 << precision) - 1)
    frame = bytes([precision]) + rows.to_bytes(2, "big") + columns.to_bytes(2, "big")
    frame += bytes([components]) + b"".join(bytes([c + 1, 0x11, 0]) for c in range(components))
    counts = [0] * 16
    counts[_CODE_BITS - 1] = 17
    table = bytes([0x00, *counts, *range(17)])
    scan = bytes([components]) + b"".join(bytes([c + 1, 0x00]) for c in range(components))
    scan += bytes([1, 0, 0])  # predictor 1, point transform 0
    writer = _BitWriter()
    for r in range(rows):
        for c in range(columns):
            for k in range(components):
                if r == 0 and c == 0:
                    prediction = 1 << (precision - 1)
                elif c == 0:
                    prediction = int(values[r - 1, c, k])
                else:
                    prediction = int(values[r, c - 1, k])
                difference = (int(values[r, c, k]) - prediction) & 0xFFFF
                if difference > 32768:
                    difference -= 65536
                category = abs(difference).bit_length()
                writer.write(category, _CODE_BITS)
                if 0 < category < 16:
                    extra = difference if difference > 0 else difference + (1 << category) - 1
                    writer.write(extra, category)
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xC3, frame),
            _segment(0xC4, table),
            _segment(0xDA, scan),
            writer.flush(),
            b"\xff\xd9",
        ]
    )
