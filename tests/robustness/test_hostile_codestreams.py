"""Hostile codestreams: size decoys, expansion bombs, cut-short data (issue 16, findings 5-8).

Each codestream is built in memory by an encoder (imagecodecs, pylibjpeg,
the test suite's own JPEG lossless encoder) or by hand from the standard's
layout, then mutated. Each must be refused with a dicomnp error before the
decoder allocates more than the frame, or decode exactly.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Sequence

import numpy as np
import pytest

import dicomnp
from dicomnp.decode import decode_pixels
from support.build import to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value

RLE = "1.2.840.10008.1.2.5"


def file_of(
    frame: bytes, syntax: str, *, rows: int, columns: int, bits: int = 8, samples: int = 1
) -> bytes:
    """A one-frame encapsulated file holding ``frame``."""
    value, _, _ = encapsulated_value([frame])
    ds = encapsulated_dataset(
        value,
        syntax=syntax,
        rows=rows,
        columns=columns,
        bits_allocated=8 if bits <= 8 else 16,
        bits_stored=bits,
        samples=samples,
        frames=1,
    )
    return to_bytes(ds)


def rle_frame(segments: Sequence[bytes]) -> bytes:
    """An RLE frame: the 64-byte header of segment offsets, then the segments."""
    offsets, position = [], 64
    for segment in segments:
        offsets.append(position)
        position += len(segment)
    header = struct.pack("<16L", len(segments), *offsets, *[0] * (15 - len(segments)))
    return header + b"".join(segments)


def replicate_runs(count: int, value: int = 7) -> bytes:
    """``count`` PackBits replicate runs of 128 bytes each (2 coded bytes a run)."""
    return bytes([0x81, value]) * count


def rle_bomb() -> bytes:
    """Finding 7: an 8 MB segment of replicate runs (512 MB decoded) for an 8x8 frame."""
    return file_of(rle_frame([replicate_runs(4_000_000)]), RLE, rows=8, columns=8)


def test_rle_segment_far_longer_than_its_plane_is_refused_before_decoding() -> None:
    with pytest.raises(dicomnp.CorruptPixelDataError, match="decodes past the frame") as caught:
        decode_pixels(rle_bomb())
    assert caught.value.frame == 0


@pytest.mark.parametrize("hidden", [None, "imagecodecs"])
def test_rle_segment_decoding_past_its_plane_is_refused(
    hidden: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hidden is not None:
        monkeypatch.setitem(sys.modules, hidden, None)
    # 4 coded bytes, 256 decoded: the 8x8 plane needs 64.
    with pytest.raises(dicomnp.CorruptPixelDataError, match="past the 64 of a 8x8 plane"):
        decode_pixels(file_of(rle_frame([replicate_runs(2)]), RLE, rows=8, columns=8))


def test_rle_segment_filling_its_plane_exactly_decodes() -> None:
    data = file_of(rle_frame([replicate_runs(1, value=9)]), RLE, rows=8, columns=16)
    assert np.array_equal(decode_pixels(data).array, np.full((1, 8, 16, 1), 9, np.uint8))
