"""A deflated data set is inflated only as far as it is read: no decompression bomb.

A Deflated Explicit VR file of a few hundred kilobytes inflates to hundreds
of megabytes of zeros. Its header is read, and its output size checked
against ``max_bytes``, before any pixel byte is inflated; its pixel data is
inflated only as far as the frames read need.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dicomnp
from dicomnp.cli import main
from support.hostile import deflated_bomb

ZEROS = 256 * 2**20
"""The bombs' Pixel Data: 256 MiB of zeros, about 256 KB deflated."""
PEAK = 32 * 2**20
"""Traced bytes a call may use: well under what the bombs inflate to."""


@pytest.fixture(scope="module")
def declares_the_whole() -> bytes:
    """Declares 16384 x 16384 8-bit pixels, and its Pixel Data holds them."""
    return deflated_bomb(16384, 16384, ZEROS)


@pytest.fixture(scope="module")
def declares_8x8() -> bytes:
    """Declares 8 x 8 pixels, and its Pixel Data holds 256 MiB."""
    return deflated_bomb(8, 8, ZEROS)


def _peak(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def _sources(data: bytes, tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "bomb.dcm"
    path.write_bytes(data)
    yield from (data, io.BytesIO(data), path)


def test_the_bombs_are_small_files_of_large_data_sets(declares_8x8: bytes) -> None:
    assert len(declares_8x8) < ZEROS // 500


def test_a_deflated_bomb_larger_than_max_bytes_is_refused_before_inflating(
    declares_the_whole: bytes, tmp_path: Path
) -> None:
    for source in _sources(declares_the_whole, tmp_path):

        def call(source: Any = source) -> None:
            with pytest.raises(dicomnp.OutputTooLargeError):
                dicomnp.read(source, max_bytes=2**20)

        assert _peak(call) < PEAK


def test_a_deflated_bomb_is_inflated_only_as_far_as_its_frames(
    declares_8x8: bytes, tmp_path: Path
) -> None:
    for source in _sources(declares_8x8, tmp_path):
        images: list[dicomnp.Image] = []

        def call(source: Any = source, images: list[dicomnp.Image] = images) -> None:
            images.append(dicomnp.read(source))

        assert _peak(call) < PEAK
        np.testing.assert_array_equal(images[0].array, np.zeros((8, 8, 1), np.uint8))


def test_info_on_a_folder_of_deflated_bombs_reads_headers_only(
    declares_the_whole: bytes,
    declares_8x8: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "a.dcm").write_bytes(declares_the_whole)
    (tmp_path / "b.dcm").write_bytes(declares_8x8)
    codes: list[int] = []
    assert _peak(lambda: codes.append(main(["info", str(tmp_path)]))) < PEAK
    assert codes == [0]
    out = capsys.readouterr().out
    assert "16384 x 16384" in out
    assert "8 x 8" in out
