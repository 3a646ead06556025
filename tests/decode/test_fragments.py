"""Locating frames in encapsulated pixel data built in memory (RULES.md section 2).

Each case from RULES.md section 8 (36 to 46) builds the items by hand, so the
test states exactly which bytes each frame must get.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import dicomnp
from dicomnp._source import BufferReader, PixelElement
from dicomnp.decode import decode_pixels
from dicomnp.decode.codecs import jpeg, jpeg2000, rle
from dicomnp.decode.fragments import FrameTable, StartTest
from support.build import to_bytes
from support.encaps_build import (
    DELIMITER,
    encapsulated_dataset,
    encapsulated_value,
    item,
    items,
)

PIXEL_DATA = 0x7FE00010
UNCOMPRESSED = "1.2.840.10008.1.2.1.98"
JPEG_START = b"\xff\xd8\xff\xc3"
J2K_START = b"\xff\x4f\xff\x51"
NAME = "<test>"


def table_for(
    value: bytes,
    frames: int,
    starts: StartTest | None = None,
    extended: tuple[list[int], list[int]] | None = None,
) -> FrameTable:
    pixel = PixelElement(PIXEL_DATA, "OB", 0, None, len(value))
    tables = None
    if extended is not None:
        tables = (
            np.array(extended[0], dtype=np.uint64),
            np.array(extended[1], dtype=np.uint64),
        )
    return FrameTable(
        BufferReader(value),
        pixel,
        frames,
        starts_frame=starts,
        extended_offsets=tables,
        name=NAME,
    )


def offsets(*values: int) -> bytes:
    return np.array(values, dtype="<u4").tobytes()


def frames_of(table: FrameTable, count: int) -> list[bytes]:
    return [bytes(table.read(index)) for index in range(count)]


def test_empty_table_one_frame_joins_every_fragment() -> None:
    table = table_for(items(b"", [b"ab", b"cd", b"ef"]), 1)
    assert frames_of(table, 1) == [b"abcdef"]


def test_empty_table_one_fragment_per_frame() -> None:
    table = table_for(items(b"", [b"ab", b"cd", b"ef"]), 3)
    assert frames_of(table, 3) == [b"ab", b"cd", b"ef"]


def test_basic_offset_table_splits_fragments_into_frames() -> None:
    fragments = [b"a1", b"a2", b"a3", b"b1b1", b"b2"]
    second = 3 * (8 + 2)
    table = table_for(items(offsets(0, second), fragments), 2)
    assert frames_of(table, 2) == [b"a1a2a3", b"b1b1b2"]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (offsets(0), "1 entries for 2"),
        (offsets(10, 0), "not increasing"),
        (offsets(0, 0), "not increasing"),
        (offsets(0, 12), "between fragments"),
    ],
    ids=["one-entry", "decreasing", "repeated", "between-fragments"],
)
def test_invalid_basic_offset_table_is_ignored_for_markers(
    bad: bytes, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    fragments = [JPEG_START + b"1", b"22", JPEG_START + b"3", b"44"]
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(items(bad, fragments), 2, jpeg.starts_frame)
        found = frames_of(table, 2)
    assert found == [JPEG_START + b"122", JPEG_START + b"344"]
    assert problem in caplog.text
    assert "ignored" in caplog.text


def test_extended_offset_table_is_followed() -> None:
    # Frame 0 is the second fragment: only the table can say so.
    value = items(b"", [b"second", b"first!"])
    table = table_for(value, 2, extended=([8 + 6, 0], [6, 6]))
    assert frames_of(table, 2) == [b"first!", b"second"]


def test_extended_offset_table_of_the_wrong_size_is_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = items(b"", [b"first!", b"second"])
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(value, 2, extended=([0, 14], [6]))
        found = frames_of(table, 2)
    assert found == [b"first!", b"second"]
    assert "Extended Offset Table" in caplog.text


def test_extended_offset_table_pointing_astray_is_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = items(b"", [b"first!", b"second"])
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(value, 2, extended=([0, 10], [6, 6]))
        found = frames_of(table, 2)
    assert found == [b"first!", b"second"]
    assert "does not point at a fragment" in caplog.text


def test_jpeg_frames_found_from_start_markers() -> None:
    fragments = [JPEG_START + b"a", b"bb", JPEG_START + b"c", b"dd"]
    table = table_for(items(b"", fragments), 2, jpeg.starts_frame)
    assert frames_of(table, 2) == [JPEG_START + b"abb", JPEG_START + b"cdd"]


def test_jpeg_2000_frames_found_from_start_markers() -> None:
    fragments = [J2K_START + b"a", b"bb", J2K_START + b"c"]
    table = table_for(items(b"", fragments), 2, jpeg2000.starts_frame)
    assert frames_of(table, 2) == [J2K_START + b"abb", J2K_START + b"c"]


def test_more_frames_than_declared_keeps_the_declared(caplog: pytest.LogCaptureFixture) -> None:
    fragments = [J2K_START + b"a", J2K_START + b"b", J2K_START + b"c", b"dd"]
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(items(b"", fragments), 2, jpeg2000.starts_frame)
        found = frames_of(table, 2)
    assert found == [J2K_START + b"a", J2K_START + b"b"]
    assert "3 frames found" in caplog.text


def test_fewer_fragments_than_frames_is_an_error() -> None:
    table = table_for(items(b"", [JPEG_START + b"a", JPEG_START + b"b"]), 3, jpeg.starts_frame)
    assert frames_of(table, 2) == [JPEG_START + b"a", JPEG_START + b"b"]
    with pytest.raises(dicomnp.CorruptEncapsulationError, match="only 2 frame") as caught:
        table.read(2)
    assert caught.value.frame == 2
    assert caught.value.path == NAME
    assert caught.value.tag == PIXEL_DATA


def test_fragments_that_do_not_start_a_frame_are_an_error() -> None:
    table = table_for(items(b"", [b"xx", JPEG_START, b"yy"]), 2, jpeg.starts_frame)
    with pytest.raises(dicomnp.CorruptEncapsulationError, match="first fragment") as caught:
        table.read(1)
    assert caught.value.frame == 1


def test_extra_fragments_without_markers_keep_the_declared(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(items(b"", [b"aa", b"bb", b"cc"]), 2)
        found = frames_of(table, 2)
    assert found == [b"aa", b"bb"]
    assert "3 frames found" in caplog.text


def test_missing_sequence_delimiter_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dicomnp"):
        table = table_for(items(b"", [b"ab", b"cd"], delimiter=False), 2)
        found = frames_of(table, 2)
    assert found == [b"ab", b"cd"]
    assert "no Sequence Delimitation Item" in caplog.text


def test_embedded_delimiter_bytes_do_not_end_the_items() -> None:
    fragment = J2K_START + DELIMITER + b"rest"
    table = table_for(items(b"", [fragment, J2K_START + b"2"]), 2, jpeg2000.starts_frame)
    assert frames_of(table, 2) == [fragment, J2K_START + b"2"]


def test_items_after_the_delimiter_are_not_read() -> None:
    value = items(b"", [b"ab"]) + item(b"not pixel data", tag=0xFFFCFFFC)
    assert frames_of(table_for(value, 1), 1) == [b"ab"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (item(b"") + item(b"ab", tag=0x7FE00010) + DELIMITER, r"found tag \(7FE0,0010\)"),
        (item(b"", tag=0x00000000), "Basic Offset Table"),
        (item(b"") + item(b"", length=0xFFFFFFFF), "undefined length"),
    ],
    ids=["unexpected-tag", "no-offset-table-item", "undefined-length"],
)
def test_malformed_items_are_an_error(value: bytes, message: str) -> None:
    with pytest.raises(dicomnp.CorruptEncapsulationError, match=message) as caught:
        table_for(value, 1).read(0)
    assert caught.value.frame == 0
    assert caught.value.path == NAME


def test_cut_short_fragment_is_truncation_of_that_frame() -> None:
    value = items(b"", [b"abcd", b"efgh"])[:-12]  # the last fragment loses 4 bytes
    table = table_for(value, 2)
    assert bytes(table.read(0)) == b"abcd"
    with pytest.raises(dicomnp.TruncatedPixelDataError, match="holds 0 of its 4") as caught:
        table.read(1)
    assert caught.value.frame == 1


def test_data_ending_before_a_frame_is_truncation() -> None:
    value = items(b"", [b"abcd"], delimiter=False)
    with pytest.raises(dicomnp.TruncatedPixelDataError, match="end after 1 of 2") as caught:
        table_for(value, 2).read(1)
    assert caught.value.frame == 1


def test_no_offset_table_item_at_all_is_truncation() -> None:
    with pytest.raises(dicomnp.TruncatedPixelDataError, match="before the Basic Offset Table"):
        table_for(b"\xfe\xff", 1).read(0)


@pytest.mark.parametrize(
    ("test", "head", "expected"),
    [
        (jpeg.starts_frame, b"\xff\xd8\xff\xdb", True),
        (jpeg.starts_frame, b"\xff\xd8\x00", False),
        (jpeg2000.starts_frame, J2K_START, True),
        (jpeg2000.starts_frame, b"\x00\x00\x00\x0cjP  \r\n\x87\n", True),
        (jpeg2000.starts_frame, b"\xff\x4f\xff\x52", False),
        (rle.starts_frame, b"\x03\x00\x00\x00\x40\x00\x00\x00", True),
        (rle.starts_frame, b"\x10\x00\x00\x00\x40\x00\x00\x00", False),
        (rle.starts_frame, b"\x01\x00\x00\x00\x44\x00\x00\x00", False),
    ],
)
def test_frame_start_markers(test: StartTest, head: bytes, expected: bool) -> None:
    assert test(head) is expected


# End to end: a file with Encapsulated Uncompressed frames, one or several fragments each.

ROWS, COLUMNS = 4, 6


def _frames(count: int) -> list[bytes]:
    values = np.arange(count * ROWS * COLUMNS, dtype="<u2").reshape(count, ROWS, COLUMNS)
    return [frame.tobytes() for frame in values]


@pytest.mark.parametrize(
    ("table", "per_frame"),
    [("basic", 1), ("basic", 3), ("empty", 1), ("extended", 1)],
)
def test_encapsulated_uncompressed_file(table: str, per_frame: int) -> None:
    frames = _frames(3)
    value, eot, lengths = encapsulated_value(
        frames,
        table=table,  # type: ignore[arg-type]
        fragments_per_frame=per_frame,
    )
    ds = encapsulated_dataset(
        value,
        syntax=UNCOMPRESSED,
        rows=ROWS,
        columns=COLUMNS,
        bits_allocated=16,
        frames=3,
        extended=None if eot is None or lengths is None else (eot, lengths),
    )
    stored = decode_pixels(to_bytes(ds), frames=[2, 0])
    expected = np.frombuffer(b"".join(frames), dtype="<u2").reshape(3, ROWS, COLUMNS, 1)
    np.testing.assert_array_equal(stored.array, expected[[2, 0]])


def test_uncompressed_fragment_of_the_wrong_size_is_an_error() -> None:
    value = items(b"", [b"\0" * (ROWS * COLUMNS * 2 + 2)])
    ds = encapsulated_dataset(
        value, syntax=UNCOMPRESSED, rows=ROWS, columns=COLUMNS, bits_allocated=16
    )
    with pytest.raises(dicomnp.CorruptPixelDataError, match="holds 50 bytes") as caught:
        decode_pixels(to_bytes(ds))
    assert caught.value.frame == 0
