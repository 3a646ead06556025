"""Broken and hostile files give a dicomnp error at once: no other type, no hang, no blow-up.

The fuzz runs here use fixed seeds: a quick one (300 cases) in the default
test line, and the short run (3,000 cases; ``DICOMNP_FUZZ_CASES`` sets how
many) marked ``slow``, which CI runs with ``pytest -m slow``. The long run
(``PYTHONPATH=tests python -m support.fuzz --cases 20000 --seed 1``) watches
each case from another process.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.uid import UID

import dicomnp
from support import fuzz
from support.build import image_dataset, to_bytes
from support.encaps_build import DELIMITER, encapsulated_dataset, item, items
from support.series_build import geometry_series

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHORT_CASES = int(os.environ.get("DICOMNP_FUZZ_CASES", "3000"))
"""The cases of the run marked ``slow``: outside the default test line, run by CI."""
QUICK_CASES = 300
"""The cases of the run in the default test line."""
RLE = "1.2.840.10008.1.2.5"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
ENCAPSULATED_NATIVE = "1.2.840.10008.1.2.1.98"


def _assert_only_named_errors(outcomes: list[fuzz.Outcome]) -> None:
    failures = [f"{o.case}: {o.result}: {o.detail[-600:]}" for o in outcomes if o.failed]
    assert not failures, "\n".join(failures[:10])
    results = {o.result for o in outcomes}
    assert results == {"ok", "error"}  # the mutations both break files and leave some readable


def test_quick_fuzz_run_gives_only_named_dicomnp_errors_in_time_and_memory() -> None:
    _assert_only_named_errors(list(fuzz.run_cases(QUICK_CASES, seed=11)))


@pytest.mark.slow
def test_short_fuzz_run_gives_only_named_dicomnp_errors_in_time_and_memory() -> None:
    _assert_only_named_errors(list(fuzz.run_cases(SHORT_CASES, seed=7)))


# Structured cases: group 0028 values that contradict each other

SYNTAXES = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    RLE,
    J2K_LOSSLESS,
    "1.2.840.10008.1.2.4.70",
    ENCAPSULATED_NATIVE,
]
PHOTOMETRIC = [
    "MONOCHROME1",
    "MONOCHROME2",
    "PALETTE COLOR",
    "RGB",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_ICT",
    "YBR_RCT",
    "ARGB",
    "CMYK",
    "HSV",
    "monochrome2",
    "XYZ",
    "",
]


@st.composite
def headers(draw: st.DrawFn) -> tuple[bytes, str]:
    syntax = draw(st.sampled_from(SYNTAXES))
    rows = draw(st.sampled_from([0, 1, 2, 3, 8, 255, 4096, 65535]))
    columns = draw(st.sampled_from([0, 1, 2, 5, 8, 4096, 65535]))
    allocated = draw(st.sampled_from([0, 1, 7, 8, 12, 16, 32, 64, 65535]))
    stored = draw(st.sampled_from([0, 1, 8, 12, 16, 17, 33, 65535]))
    high = draw(st.sampled_from([0, 7, 11, 15, 16, 65535]))
    representation = draw(st.sampled_from([0, 1, 2]))
    samples = draw(st.sampled_from([0, 1, 2, 3, 4]))
    photometric = draw(st.sampled_from(PHOTOMETRIC))
    planar = draw(st.sampled_from([None, 0, 1, 2]))
    frames = draw(st.sampled_from([None, "0", "1", "2", "-1", "100000", "2147483647", " 3 "]))
    body = draw(st.binary(max_size=512))
    if syntax in (RLE, J2K_LOSSLESS, "1.2.840.10008.1.2.4.70", ENCAPSULATED_NATIVE):
        count = draw(st.integers(0, 3))
        body = items(b"", [body[i::3] for i in range(count)], delimiter=draw(st.booleans()))
    ds = image_dataset(
        body,
        rows=rows,
        columns=columns,
        bits_allocated=allocated,
        bits_stored=stored,
        high_bit=high,
        pixel_representation=representation,
        samples=samples,
        photometric=photometric or " ",
        planar=planar,
        frames=frames,
        syntax=syntax,
        vr="OB",
    )
    if syntax not in SYNTAXES[:3]:
        ds["PixelData"].is_undefined_length = True
    entry = draw(st.sampled_from(["decode_pixels", "to_array", "iter_frames", "read"]))
    return to_bytes(ds), entry


@settings(
    max_examples=int(os.environ.get("DICOMNP_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(headers(), st.sampled_from(["stored", "modality", "display"]))
def test_contradictory_headers_give_only_named_dicomnp_errors(
    case: tuple[bytes, str], values: str
) -> None:
    data, entry = case
    outcome = fuzz.run_case([data], entry, {"values": values}, entry)
    assert not outcome.failed, f"{outcome.result}: {outcome.detail}"


# Issue 7, point 3: a header claiming 100,000 frames of 4096x4096 in 1 KB


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", RLE, J2K_LOSSLESS])
@pytest.mark.parametrize(
    "call",
    [
        dicomnp.decode_pixels,
        dicomnp.to_array,
        dicomnp.read,
        lambda source: list(dicomnp.iter_frames(source)),
        lambda source: dicomnp.combine_series([source]),
    ],
    ids=["decode_pixels", "to_array", "read", "iter_frames", "combine_series"],
)
def test_a_kilobyte_claiming_100000_large_frames_is_refused_at_once(
    syntax: str, call: Any, tmp_path: Path
) -> None:
    body = b"\x01" * 1024
    if syntax != "1.2.840.10008.1.2.1":
        body = items(b"", [body[:1000]])
    ds = image_dataset(
        body, rows=4096, columns=4096, bits_allocated=16, frames=100000, syntax=syntax, vr="OB"
    )
    if syntax != "1.2.840.10008.1.2.1":
        ds["PixelData"].is_undefined_length = True
    path = tmp_path / "liar.dcm"
    path.write_bytes(to_bytes(ds))
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(dicomnp.TruncatedPixelDataError) as raised:
            call(str(path))
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5  # milliseconds in practice; generous for a loaded machine
    assert peak < 4 * 2**20
    assert raised.value.path == str(path)
    assert raised.value.tag in (0x00280008, 0x7FE00010)


# max_bytes


def _ct(rows: int = 64, columns: int = 64, frames: int = 4) -> bytes:
    data = np.arange(rows * columns * frames, dtype="<u2").tobytes()
    return to_bytes(
        image_dataset(data, rows=rows, columns=columns, bits_allocated=16, frames=frames)
    )


@pytest.mark.parametrize(
    "call",
    [
        dicomnp.decode_pixels,
        dicomnp.to_array,
        dicomnp.read,
        lambda source, **kw: next(iter(dicomnp.iter_frames(source, **kw))),
    ],
    ids=["decode_pixels", "to_array", "read", "iter_frames"],
)
def test_max_bytes_refuses_a_larger_output_before_allocating(call: Any) -> None:
    data = _ct()
    with pytest.raises(dicomnp.OutputTooLargeError) as raised:
        call(data, max_bytes=1000)
    assert raised.value.limit == 1000
    assert raised.value.size is not None
    assert raised.value.size > 1000
    assert raised.value.path == "<bytes>"
    assert "max_bytes=1000" in str(raised.value)
    assert call(data, max_bytes=None) is not None
    assert call(data, max_bytes=4 * 64 * 64 * 2 + 4 * 64 * 64) is not None


def test_max_bytes_counts_the_mask() -> None:
    data = _ct(frames=1)
    dicomnp.to_array(data, max_bytes=64 * 64 * 2)
    with pytest.raises(dicomnp.OutputTooLargeError):
        dicomnp.to_array(data, padding="mask", max_bytes=64 * 64 * 2)


def test_max_bytes_limits_a_series() -> None:
    slices = [to_bytes(ds) for ds in geometry_series(4, 6, 5)]
    assert dicomnp.combine_series(slices, max_bytes=4 * 6 * 5 * 2).array.shape == (4, 6, 5, 1)
    with pytest.raises(dicomnp.OutputTooLargeError, match="and 3 other"):
        dicomnp.combine_series(slices, max_bytes=100)


@pytest.mark.parametrize("value", [-1, 1.5, "big", True])
def test_max_bytes_must_be_a_count_of_bytes(value: Any) -> None:
    with pytest.raises(dicomnp.InvalidOptionError) as raised:
        dicomnp.decode_pixels(_ct(), max_bytes=value)
    assert raised.value.option == "max_bytes"


def test_a_failed_allocation_is_a_dicomnp_error() -> None:
    from dicomnp.decode.limits import allocate

    with pytest.raises(dicomnp.OutputTooLargeError, match="cannot allocate"):
        allocate((2**62, 2**10), np.uint16, "huge.dcm")


# Bugs the fuzzer found, one test each


def test_a_sequence_delimiter_instead_of_the_offset_table_is_corrupt_encapsulation() -> None:
    ds = encapsulated_dataset(
        items(b"", [b"\0" * 16]), syntax=RLE, rows=2, columns=2, bits_allocated=8
    )
    data = to_bytes(ds)
    table = data.index(item(b"") + item(b"\0" * 16))
    damaged = data[:table] + DELIMITER + data[table + 8 :]
    with pytest.raises(dicomnp.CorruptEncapsulationError, match="Basic Offset Table"):
        dicomnp.decode_pixels(damaged)


def test_a_huge_length_in_a_file_allocates_no_more_than_the_file(tmp_path: Path) -> None:
    data = to_bytes(image_dataset(b"\0" * 16, rows=4, columns=2, bits_allocated=16))
    path = tmp_path / "long.dcm"
    # A long-VR element whose 32-bit length claims 2 GB, in a file of a few hundred bytes.
    long_element = b"\x20\x00\x00\x40UN\x00\x00" + (0x7FFFFFF0).to_bytes(4, "little")
    pixel = data.index(b"\xe0\x7f\x10\x00")
    path.write_bytes(bytes(data[:pixel]) + long_element + bytes(data[pixel:]))
    tracemalloc.start()
    try:
        with pytest.raises(dicomnp.DicomNumpyError):
            dicomnp.read(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def _rle_frame(rows: int, columns: int) -> bytes:
    return fuzz._rle(np.zeros((rows, columns), dtype=np.uint8))


def test_rle_rows_and_columns_the_frame_cannot_fill_are_refused_before_allocating() -> None:
    value = items(b"", [_rle_frame(8, 8)])
    ds = encapsulated_dataset(value, syntax=RLE, rows=32768, columns=32768, bits_allocated=8)
    tracemalloc.start()
    try:
        with pytest.raises(dicomnp.CorruptPixelDataError, match="decode to at most") as raised:
            dicomnp.to_array(to_bytes(ds))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert raised.value.frame == 0


def test_a_deflated_frame_too_short_to_fill_the_frame_is_refused_before_allocating() -> None:
    import zlib

    frame = zlib.compress(bytes(64))[2:-4]
    ds = encapsulated_dataset(
        items(b"", [frame]), syntax=fuzz.ENCAPSULATED_NATIVE, rows=8, columns=8, bits_allocated=8
    )
    data = to_bytes(ds).replace(fuzz.ENCAPSULATED_NATIVE.encode(), fuzz.DEFLATE.encode() + b"\0")
    dicomnp.decode_pixels(data)  # honest: decodes
    big = encapsulated_dataset(
        items(b"", [frame]),
        syntax=fuzz.ENCAPSULATED_NATIVE,
        rows=8192,
        columns=8192,
        bits_allocated=8,
    )
    lying = to_bytes(big).replace(fuzz.ENCAPSULATED_NATIVE.encode(), fuzz.DEFLATE.encode() + b"\0")
    with pytest.raises(dicomnp.CorruptPixelDataError, match="inflate to at most"):
        dicomnp.decode_pixels(lying)


def test_a_series_whose_headers_claim_more_than_its_compressed_files_hold_is_refused() -> None:
    frame = _rle_frame(8, 8)
    slices = []
    for ds in geometry_series(3, 6, 5):
        ds.Rows = ds.Columns = 16384
        ds.file_meta.TransferSyntaxUID = UID(RLE)
        ds.PixelData = items(b"", [frame])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        slices.append(to_bytes(ds))
    tracemalloc.start()
    try:
        with pytest.raises(dicomnp.CorruptPixelDataError, match="decode to at most"):
            dicomnp.combine_series(slices)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


# Inputs are never written


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_call_changes_its_input_files(tmp_path: Path) -> None:
    paths = []
    for index, ds in enumerate(geometry_series(3, 6, 5)):
        path = tmp_path / f"slice{index}.dcm"
        path.write_bytes(to_bytes(ds))
        paths.append(path)
    calls: list[Callable[[], object]] = [
        lambda: dicomnp.decode_pixels(str(paths[0])),
        lambda: dicomnp.to_array(str(paths[0]), values="display", padding="mask"),
        lambda: dicomnp.read(paths[0]),
        lambda: list(dicomnp.iter_frames(str(paths[0]))),
        lambda: dicomnp.combine_series([str(path) for path in paths]),
        lambda: dicomnp.combine_series(str(tmp_path)),
        lambda: dicomnp.find_series(tmp_path).summary(),
    ]
    for call in calls:
        before = {path: (_digest(path), path.stat().st_mtime_ns) for path in paths}
        call()
        assert before == {path: (_digest(path), path.stat().st_mtime_ns) for path in paths}


def test_no_call_changes_a_buffer_or_file_object_given_to_it() -> None:
    data = bytearray(_ct())
    before = bytes(data)
    dicomnp.decode_pixels(data)
    dicomnp.to_array(memoryview(data))
    stream = io.BytesIO(before)
    dicomnp.to_array(stream)
    assert bytes(data) == before
    assert stream.getvalue() == before


# Thread safety


def test_to_array_and_combine_series_run_from_many_threads_at_once() -> None:
    images = [_ct(16 + k, 8, 2) for k in range(4)]
    series = [to_bytes(ds) for ds in geometry_series(5, 6, 5)]
    expected_images = [dicomnp.to_array(image, values="display") for image in images]
    expected_volume = dicomnp.combine_series(series).array
    barrier = threading.Barrier(8)

    def work(index: int) -> bool:
        barrier.wait()
        for round_ in range(10):
            k = (index + round_) % len(images)
            if not np.array_equal(
                dicomnp.to_array(images[k], values="display"), expected_images[k]
            ):
                return False
            if not np.array_equal(dicomnp.combine_series(series[::-1]).array, expected_volume):
                return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))


def test_an_unreadable_window_attribute_is_invalid_metadata_naming_its_tag(tmp_path: Path) -> None:
    ds = image_dataset(b"\0" * 16, rows=4, columns=2, bits_allocated=16)
    ds.WindowCenter, ds.WindowWidth = 40, 400
    data = to_bytes(ds)
    center = data.index(b"\x28\x00\x50\x10DS")
    damaged = data[: center + 4] + b"ES" + data[center + 6 :]  # a VR pydicom does not know
    path = tmp_path / "window.dcm"
    path.write_bytes(damaged)
    for source in (damaged, str(path)):
        with pytest.raises(dicomnp.InvalidPixelMetadataError) as raised:
            dicomnp.to_array(source, values="display")
        assert raised.value.tag == 0x00281050
    with pytest.raises(dicomnp.InvalidPixelMetadataError):
        dicomnp.combine_series([str(path)])
