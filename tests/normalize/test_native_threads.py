"""Large native multi-frame files are read on threads: exactly what one thread reads."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

import dicomnp
import dicomnp._execute
import dicomnp._instance
from dicomnp import _execute as parallel
from dicomnp._execute import run_on_threads
from dicomnp.decode.limits import allocate
from support.build import image_dataset, to_bytes

RNG = np.random.default_rng(5)


@pytest.fixture
def ways(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each call that spread frames on threads."""
    used: list[str] = []
    real = run_on_threads

    def on_threads(*args: Any, **kwargs: Any) -> None:
        used.append("threads")
        real(*args, **kwargs)

    monkeypatch.setattr(dicomnp._execute, "run_on_threads", on_threads)
    return used


def native_file(tmp_path: Path, values: NDArray[np.int16], syntax: str) -> Path:
    stored = values.byteswap() if syntax == ExplicitVRBigEndian else values
    ds = image_dataset(
        stored.tobytes(),
        rows=values.shape[1],
        columns=values.shape[2],
        bits_allocated=16,
        bits_stored=12,
        pixel_representation=1,
        photometric="MONOCHROME1",
        frames=len(values),
        syntax=syntax,
    )
    ds.PixelPaddingValue = -2048
    path = tmp_path / "native.dcm"
    path.write_bytes(to_bytes(ds))
    return path


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian])
@pytest.mark.parametrize("padding", ["keep", "mask"])
def test_native_frames_on_threads_equal_one_threads(
    tmp_path: Path, syntax: str, padding: str, ways: list[str]
) -> None:
    values = RNG.integers(-2048, 2048, size=(9, 20, 24), dtype=np.int16)
    path = native_file(tmp_path, values, syntax)
    one = dicomnp.read(path, workers=1, padding=padding)  # type: ignore[arg-type]
    assert ways == []
    two = dicomnp.read(path, workers=2, padding=padding)  # type: ignore[arg-type]
    assert ways == ["threads"]
    np.testing.assert_array_equal(one.array, two.array)
    assert one.header == two.header
    if padding == "mask":
        assert one.mask is not None
        assert two.mask is not None
        np.testing.assert_array_equal(one.mask, two.mask)
    subset = dicomnp.to_array(path, frames=[7, 2, 5], workers=2)
    np.testing.assert_array_equal(subset, one.array[[7, 2, 5]])


def test_by_default_threads_read_native_frames_from_16_mib(
    tmp_path: Path, ways: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cores = os.cpu_count() or 1
    assert parallel.native_threads(None, 16 * 2**20) == cores
    assert parallel.native_threads(None, 16 * 2**20 - 1) == 1
    assert parallel.native_threads(3, 10) == 3
    with pytest.raises(ValueError, match="at least 1"):
        parallel.native_threads(0, 10)
    values = RNG.integers(-2048, 2048, size=(4, 16, 16), dtype=np.int16)
    path = native_file(tmp_path, values, ExplicitVRLittleEndian)
    expected = dicomnp.to_array(path)
    assert ways == []  # 2 KiB: one thread
    monkeypatch.setattr(parallel, "_THREADED_NATIVE_BYTES", values.nbytes)
    np.testing.assert_array_equal(dicomnp.to_array(path), expected)
    assert ways == (["threads"] if cores > 1 else [])
    # from memory there is no file to open again: one thread
    np.testing.assert_array_equal(dicomnp.to_array(path.read_bytes(), workers=2), expected)
    assert len(ways) == (1 if cores > 1 else 0)


def _frames_of(value: int, rows: int, frames: int = 6) -> bytes:
    pixels = np.full((frames, rows, 24), value, dtype="<u2")
    ds = image_dataset(pixels.tobytes(), rows=rows, columns=24, bits_allocated=16, frames=frames)
    return to_bytes(ds)


@pytest.mark.parametrize("rows", [20, 10])
def test_threads_read_the_file_opened_even_if_its_path_is_given_another(
    tmp_path: Path, rows: int, ways: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "saved.dcm"
    path.write_bytes(_frames_of(1, 20))
    newer = tmp_path / "newer.dcm"
    newer.write_bytes(_frames_of(2, rows))

    def saved_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if newer.exists():  # after the header is read, before any pixel is
            os.replace(newer, path)
        return allocate(*args, **kwargs)

    def helper_first(items: Any, here: Any, helper: Any, threads: int) -> None:
        def slowly(item: Any) -> None:
            time.sleep(0.01)  # leaves the frames to the other thread
            here(item)

        ways.append("threads")
        run_on_threads(items, slowly, helper, threads)

    monkeypatch.setattr(dicomnp._instance, "allocate", saved_meanwhile)
    monkeypatch.setattr(dicomnp._execute, "run_on_threads", helper_first)
    image = dicomnp.read(path, workers=2)
    assert not newer.exists()
    assert ways == ["threads"]
    np.testing.assert_array_equal(image.array, np.ones((6, 20, 24, 1), dtype=np.uint16))


@pytest.mark.parametrize("workers", [0, -1, 2.5, "2", True])
def test_workers_must_be_a_count(tmp_path: Path, workers: Any) -> None:
    path = tmp_path / "native.dcm"
    path.write_bytes(_frames_of(1, 20))
    for source in (path, path.read_bytes()):
        with pytest.raises(dicomnp.InvalidOptionError, match="workers"):
            dicomnp.read(source, workers=workers)
        with pytest.raises(dicomnp.InvalidOptionError, match="workers"):
            dicomnp.to_array(source, workers=workers)
    with pytest.raises(dicomnp.InvalidOptionError, match="workers"):
        dicomnp.combine_series([path], workers=workers)
