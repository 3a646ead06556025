"""Decoding a subset of frames reads only those frames' bytes."""

from __future__ import annotations

import numpy as np

from dicomnp.decode import decode_pixels
from support.build import image_dataset, to_bytes
from support.counting import CountingReader


def test_one_frame_of_200_reads_only_that_frames_pixel_bytes() -> None:
    rows = columns = 64
    frame_bytes = rows * columns * 2
    values = np.arange(200 * rows * columns, dtype=np.uint32).reshape(200, rows, columns)
    values = values.astype(np.uint16)
    data = to_bytes(
        image_dataset(values.tobytes(), rows=rows, columns=columns, bits_allocated=16, frames=200)
    )
    pixel_start = len(data) - values.nbytes
    assert data[pixel_start - 12 : pixel_start - 8] == b"\xe0\x7f\x10\x00"

    stream = CountingReader(data)
    stored = decode_pixels(stream, frames=137)

    np.testing.assert_array_equal(stored.array[0, ..., 0], values[137])
    assert stream.bytes_read_between(pixel_start, len(data)) == frame_bytes
    frame_start = pixel_start + 137 * frame_bytes
    assert stream.bytes_read_between(frame_start, frame_start + frame_bytes) == frame_bytes
    # the header may be read more than once, but never the other frames
    header_reads = sum(count for _, count in stream.reads) - frame_bytes
    assert header_reads <= 2 * pixel_start
