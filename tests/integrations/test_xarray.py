"""The xarray backend: ``xr.open_dataset(folder, engine="dicomnp")`` equals ``combine_series``."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

import dicomnp
from dicomnp.examples import write_ct_series
from support.corpus import CORPUS, Entry, series_params

xr = pytest.importorskip("xarray", reason="xarray is not installed (extra 'xarray')")

from dicomnp.xarray import DicomnpBackendEntrypoint  # noqa: E402

HAS_DASK = importlib.util.find_spec("dask") is not None


def _folder(entry: Entry) -> Path:
    return CORPUS / str(entry["path"])


def _combinable(entry: Entry) -> bool:
    return (
        entry["kind"] == "slices"
        and bool(entry["dicom_numpy"]["ok"])
        and not entry.get("edge_case_flags")
    )


@pytest.mark.parametrize("entry", series_params(_combinable))
@pytest.mark.parametrize("lazy", [False, pytest.param(True, id="lazy")])
def test_open_dataset_equals_combine_series(entry: Entry, lazy: bool) -> None:
    if lazy and not HAS_DASK:
        pytest.skip("dask is not installed")
    folder = _folder(entry)
    volume = dicomnp.combine_series(folder)
    dataset = xr.open_dataset(folder, engine=DicomnpBackendEntrypoint, lazy=lazy)
    image = dataset["image"]
    assert image.dims == ("slice", "row", "column", "channel")
    assert image.dtype == volume.array.dtype
    np.testing.assert_array_equal(image.values, volume.array)
    assert dataset.attrs["series_instance_uid"] == volume.header.series_instance_uid
    np.testing.assert_array_equal(np.reshape(dataset.attrs["affine_lps"], (4, 4)), volume.affine)


@pytest.mark.parametrize("entry", series_params(_combinable))
def test_coordinates_are_the_files_positions(entry: Entry) -> None:
    """Slice coordinates and positions against pydicom's reading of the files, in sorted order."""
    folder = _folder(entry)
    dataset = xr.open_dataset(folder, engine=DicomnpBackendEntrypoint)
    files = [pydicom.dcmread(CORPUS / name) for name in entry["sorted_files"]]
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in files])
    np.testing.assert_allclose(dataset["position"].values, positions, atol=1e-3)
    # The slice axis is the step between positions, within microradians of the
    # normal the manifest projects on: a few micrometres apart at 150 mm.
    np.testing.assert_allclose(
        dataset["slice"].values, entry["slice_positions_along_normal"], atol=0.01
    )
    assert dataset["slice"].attrs["units"] == "mm"
    first = files[0]
    row_cosine = np.array([float(v) for v in first.ImageOrientationPatient[:3]])
    column_cosine = np.array([float(v) for v in first.ImageOrientationPatient[3:]])
    spacing = [float(v) for v in first.PixelSpacing]
    # Along a row the column index runs in the row cosine's direction, and the reverse.
    np.testing.assert_allclose(dataset["column"].attrs["direction_lps"], row_cosine, atol=1e-4)
    np.testing.assert_allclose(dataset["row"].attrs["direction_lps"], column_cosine, atol=1e-4)
    columns = positions[0] @ row_cosine + spacing[1] * np.arange(int(first.Columns))
    rows = positions[0] @ column_cosine + spacing[0] * np.arange(int(first.Rows))
    np.testing.assert_allclose(dataset["column"].values, columns, atol=1e-3)
    np.testing.assert_allclose(dataset["row"].values, rows, atol=1e-3)


def test_axial_coordinates_are_x_y_z(tmp_path: Path) -> None:
    paths = write_ct_series(tmp_path, slices=4, rows=8, columns=6, spacing=2.5)
    first = pydicom.dcmread(paths[0])
    x0, y0, z0 = (float(v) for v in first.ImagePositionPatient)
    dy, dx = (float(v) for v in first.PixelSpacing)
    dataset = xr.open_dataset(tmp_path, engine=DicomnpBackendEntrypoint)
    np.testing.assert_allclose(dataset["slice"].values, z0 + 2.5 * np.arange(4))
    np.testing.assert_allclose(dataset["row"].values, y0 + dy * np.arange(8))
    np.testing.assert_allclose(dataset["column"].values, x0 + dx * np.arange(6))
    assert dataset["channel"].values.tolist() == ["grey"]
    selected = dataset["image"].sel(slice=z0 + 2.5, method="nearest")
    np.testing.assert_array_equal(selected.values, dicomnp.to_array(paths[1]))


def test_options_reach_combine_series(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=3, rows=8, columns=8)
    dataset = xr.open_dataset(
        tmp_path, engine=DicomnpBackendEntrypoint, values="modality", padding="mask"
    )
    volume = dicomnp.combine_series(tmp_path, values="modality", padding="mask")
    np.testing.assert_array_equal(dataset["image"].values, volume.array)
    assert volume.mask is not None
    np.testing.assert_array_equal(dataset["mask"].values, volume.mask)
    assert dataset.attrs["values"] == "modality"
    with pytest.raises(TypeError, match="colour"):
        xr.open_dataset(tmp_path, engine=DicomnpBackendEntrypoint, colour=True)


def test_drop_variables(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=2, rows=4, columns=4)
    dataset = xr.open_dataset(
        tmp_path, engine=DicomnpBackendEntrypoint, padding="mask", drop_variables="mask"
    )
    assert "mask" not in dataset
    assert "image" in dataset


@pytest.mark.skipif(not HAS_DASK, reason="dask is not installed: the Dataset is read eagerly")
def test_lazy_reads_only_the_slices_used(tmp_path: Path) -> None:
    paths = write_ct_series(tmp_path, slices=4, rows=8, columns=8)
    expected = dicomnp.combine_series(tmp_path).array
    dataset = xr.open_dataset(tmp_path, engine=DicomnpBackendEntrypoint)
    paths[3].unlink()  # a slice read now would fail: nothing was decoded at opening
    np.testing.assert_array_equal(dataset["image"].isel(slice=1).values, expected[1])
    with pytest.raises(dicomnp.DicomNumpyError, match=paths[3].name):
        dataset["image"].values  # noqa: B018


@pytest.mark.skipif(not HAS_DASK, reason="dask is not installed")
def test_chunks_give_a_dask_array_of_one_slice_per_chunk(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=3, rows=8, columns=8)
    dataset = xr.open_dataset(tmp_path, engine=DicomnpBackendEntrypoint, chunks={})
    image: Any = dataset["image"]
    assert image.chunks is not None
    assert image.chunks[0] == (1, 1, 1)
    np.testing.assert_array_equal(image.values, dicomnp.combine_series(tmp_path).array)


def test_a_folder_of_several_series_is_refused() -> None:
    folder = CORPUS / "series" / "mixed_two_series"
    if not folder.is_dir():
        pytest.skip(f"corpus series absent: {folder}")
    with pytest.raises(dicomnp.SeriesError):
        xr.open_dataset(folder, engine=DicomnpBackendEntrypoint)


def test_guess_can_open_claims_dicom_names_only(tmp_path: Path) -> None:
    backend = DicomnpBackendEntrypoint()
    assert backend.guess_can_open("a/b/image.dcm")
    assert backend.guess_can_open(Path("x.IMA"))
    assert not backend.guess_can_open("data.nc")
    assert not backend.guess_can_open(tmp_path)


def test_engine_name_from_the_entry_point(tmp_path: Path) -> None:
    if "dicomnp" not in xr.backends.list_engines():
        pytest.skip("dicomnp is not installed, so its entry point is not declared (pip install -e)")
    write_ct_series(tmp_path, slices=3, rows=8, columns=8)
    dataset = xr.open_dataset(tmp_path, engine="dicomnp")
    np.testing.assert_array_equal(dataset["image"].values, dicomnp.combine_series(tmp_path).array)


def test_a_copied_series_reads_the_same(tmp_path: Path) -> None:
    entries = [param.values[0] for param in series_params(_combinable)]
    if entries[0] is None:
        pytest.skip("corpus absent")
    copy = tmp_path / "copy"
    shutil.copytree(_folder(entries[0]), copy)
    left = xr.open_dataset(copy, engine=DicomnpBackendEntrypoint)
    right = xr.open_dataset(_folder(entries[0]), engine=DicomnpBackendEntrypoint)
    xr.testing.assert_identical(left.drop_attrs(), right.drop_attrs())
