"""Lazy dask arrays of files and series compute to what the eager calls give."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from dask.base import compute
from distributed import Client
from pydicom.uid import RLELossless

import dicomnp
from dicomnp.dask_io import combine_series_dask, read_dask
from dicomnp.examples import ct_slice, write_ct_series
from support.build import image_dataset
from support.series_build import enhanced_image

SLICES = 100


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("series")
    write_ct_series(folder, SLICES, 64, 64, spacing=1.5)
    return folder


def _multiframe(path: Path, frames: int = 7, *, rle: bool = False) -> Path:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 4096, (frames, 12, 10), dtype=np.uint16)
    values[:, 0, 0] = 4095
    ds = image_dataset(
        values.astype("<u2").tobytes(), rows=12, columns=10, bits_allocated=16, bits_stored=12,
        frames=frames,
    )  # fmt: skip
    ds.PixelPaddingValue = 4095
    ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-10"
    if rle:
        ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_series_on_two_workers_computes_to_combine_series(client: Client, series: Path) -> None:
    lazy = combine_series_dask(series)
    assert lazy.array.shape == (SLICES, 64, 64, 1)
    assert lazy.array.chunks[0] == (1,) * SLICES  # one slice per task
    eager = dicomnp.combine_series(series)
    np.testing.assert_array_equal(lazy.affine, eager.affine)
    assert lazy.spacing == eager.spacing == (1.5, 0.5, 0.5)
    assert lazy.header == eager.header
    computed = client.compute(lazy.array).result()
    assert computed.dtype == eager.array.dtype
    np.testing.assert_array_equal(computed, eager.array)
    slices = [dicomnp.to_array(path) for path in lazy.header.files]
    np.testing.assert_array_equal(computed, np.stack(slices))


def test_series_tasks_carry_paths_and_options_never_pixels(series: Path) -> None:
    lazy = combine_series_dask(series, slices_per_chunk=8)
    assert lazy.array.chunks[0] == (8,) * 12 + (4,)
    assert lazy.array.chunks[1:] == ((64,), (64,), (1,))
    graph = dict(lazy.array.__dask_graph__())
    assert len(graph) == 2 * len(lazy.chunks) == 26  # render, then take the array
    for chunk in lazy.chunks:
        assert len(pickle.dumps(chunk)) < 8 * 1000
        for task in chunk:
            assert task.path is not None
            assert Path(task.path).is_absolute()
            assert len(task.frames) == 1  # one single-frame file per slice
            assert not any(isinstance(value, np.ndarray) for value in vars(task).values())
    assert len(pickle.dumps(graph)) < 26 * 1000


def test_series_options_render_as_to_array(series: Path) -> None:
    lazy = combine_series_dask(series, values="display", window=(40, 400), slices_per_chunk=30)
    files = lazy.header.files
    computed = lazy.array.compute(scheduler="synchronous")
    expected = [dicomnp.to_array(path, values="display", window=(40, 400)) for path in files]
    np.testing.assert_array_equal(computed, np.stack(expected))


def test_enhanced_multiframe_series_follows_its_frames(tmp_path: Path) -> None:
    path = tmp_path / "enhanced.dcm"
    positions = [(0.0, 0.0, 3.0 * k) for k in (2, 0, 3, 1)]
    enhanced_image(positions, slopes=[1, 2, 1, 1]).save_as(path, enforce_file_format=True)
    lazy = combine_series_dask(path, values="modality", slices_per_chunk=3)
    assert lazy.header.frames == (1, 3, 0, 2)
    computed = lazy.array.compute(scheduler="synchronous")
    expected = dicomnp.to_array(path, values="modality", frames=[1, 3, 0, 2])
    assert computed.dtype == expected.dtype
    np.testing.assert_array_equal(computed, expected)
    eager = dicomnp.combine_series(path, values="modality")
    assert lazy.header == eager.header
    np.testing.assert_array_equal(computed, eager.array)


@pytest.mark.parametrize("rle", [False, True], ids=["native", "rle"])
@pytest.mark.parametrize(
    ("frames", "per_chunk"),
    [(None, 1), (None, 3), (slice(1, None, 2), 2), ([6, 0, 3], 2), (4, 1), (-1, 5)],
    ids=["all-1", "all-3", "slice", "list", "int", "negative"],
)
def test_file_chunks_compute_to_to_array(
    tmp_path: Path, rle: bool, frames: int | slice | list[int] | None, per_chunk: int
) -> None:
    path = _multiframe(tmp_path / "mf.dcm", rle=rle)
    for options in ({}, {"values": "modality", "padding": "fill"}):
        lazy = read_dask(path, frames=frames, frames_per_chunk=per_chunk, **options)  # type: ignore[arg-type]
        eager = dicomnp.read(path, frames=frames, **options)  # type: ignore[arg-type]
        assert lazy.header == eager.header
        assert lazy.array.shape == eager.array.shape
        np.testing.assert_array_equal(lazy.array.compute(scheduler="synchronous"), eager.array)


def test_masks_come_from_the_same_tasks(tmp_path: Path, client: Client) -> None:
    path = _multiframe(tmp_path / "mf.dcm")
    lazy = read_dask(path, frames_per_chunk=2, padding="mask", values="modality")
    assert lazy.mask is not None
    array, mask = compute(lazy.array, lazy.mask, scheduler=client.get)
    expected, expected_mask = dicomnp.to_array(path, padding="mask", values="modality")
    np.testing.assert_array_equal(array, expected)
    np.testing.assert_array_equal(mask, expected_mask)
    assert mask[:, 0, 0].all()


def test_refusals_happen_before_any_task(tmp_path: Path) -> None:
    path = tmp_path / "lossy.dcm"
    ds = ct_slice()
    ds.LossyImageCompression = "01"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(dicomnp.LossyDataError):
        read_dask(path)
    with pytest.raises(dicomnp.LossyDataError):
        combine_series_dask([path])
    assert read_dask(path, allow_lossy=True).header["lossy"] is True
    with pytest.raises(dicomnp.InvalidOptionError, match="must be a path"):
        read_dask(ct_slice())
    with pytest.raises(dicomnp.InvalidOptionError, match="must be a path"):
        combine_series_dask([ct_slice()])
    with pytest.raises(dicomnp.InvalidOptionError, match="frames_per_chunk"):
        read_dask(path, frames_per_chunk=0, allow_lossy=True)
    with pytest.raises(dicomnp.InvalidOptionError, match="padding"):
        combine_series_dask([path], padding="blur")  # type: ignore[arg-type]
