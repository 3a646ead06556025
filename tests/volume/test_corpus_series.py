"""The corpus series against dicom_numpy's and SimpleITK's results recorded in the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray

import dicomnp
from dicomnp import (
    InconsistentSeriesError,
    MissingSliceError,
    ShearedStackError,
    combine_series,
    combine_slices,
    find_series,
)
from support.corpus import CORPUS, Entry, digest, series_params


def folder_of(entry: Entry) -> Path:
    return CORPUS / str(entry["path"])


def datasets_of(entry: Entry) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(path) for path in sorted(folder_of(entry).iterdir())]


def accepted_by_dicom_numpy(entry: Entry) -> bool:
    return entry["kind"] == "slices" and bool(entry["dicom_numpy"]["ok"])


def refused_by_dicom_numpy(entry: Entry) -> bool:
    return entry["kind"] == "slices" and not entry["dicom_numpy"]["ok"]


def sheared(entry: Entry) -> bool:
    return "gantry_tilt_or_sheared_stack" in entry.get("edge_case_flags", [])


def expected_refusal(entry: Entry) -> type[dicomnp.SeriesError]:
    flags = entry.get("edge_case_flags", [])
    if "mixed_series_instance_uids" in flags:
        return InconsistentSeriesError
    if any(flag.startswith("non_uniform_slice_spacing") for flag in flags):
        return MissingSliceError
    if "gantry_tilt_or_sheared_stack" in flags:
        return ShearedStackError
    raise AssertionError(f"no refusal expected for {entry['path']}")


@pytest.mark.parametrize("entry", series_params(accepted_by_dicom_numpy))
def test_combine_slices_equals_dicom_numpy(entry: Entry) -> None:
    expected = entry["dicom_numpy"]
    voxels, affine = combine_slices(datasets_of(entry))
    assert list(voxels.shape) == expected["shape"]
    assert voxels.dtype.str == expected["dtype"]
    assert voxels.flags.f_contiguous
    assert digest(voxels) == expected["sha256"]
    assert affine.dtype == np.float32
    # The manifest rounds the float32 affine to 6 decimals.
    assert np.asarray(affine).round(6).tolist() == expected["affine"]
    c_voxels, c_affine = combine_slices(datasets_of(entry), c_order_axes=True)
    assert list(c_voxels.shape) == expected["c_order_axes_true"]["shape"]
    np.testing.assert_array_equal(c_voxels, voxels.transpose(2, 1, 0))
    np.testing.assert_array_equal(c_affine, affine)


@pytest.mark.parametrize("entry", series_params(refused_by_dicom_numpy))
def test_combine_slices_refuses_with_the_precise_error(entry: Entry) -> None:
    with pytest.raises(expected_refusal(entry)):
        combine_slices(datasets_of(entry))


def assert_agrees_with_simpleitk(volume: dicomnp.Volume, entry: Entry, *, step: bool) -> None:
    """Origin, spacing and direction as SimpleITK reads them, to 1e-4."""
    itk = entry["simpleitk"]
    np.testing.assert_allclose(volume.affine[:3, 3], itk["origin"], atol=1e-4)
    np.testing.assert_allclose(volume.spacing[::-1], itk["spacing"], atol=1e-4)
    direction = np.array(itk["direction"]).reshape(3, 3)
    columns = volume.affine[:3, :3] / np.array(volume.spacing)
    np.testing.assert_allclose(columns[:, 2], direction[:, 0], atol=1e-4)
    np.testing.assert_allclose(columns[:, 1], direction[:, 1], atol=1e-4)
    if step:
        np.testing.assert_allclose(columns[:, 0], direction[:, 2], atol=1e-4)


def unrescaled(volume: dicomnp.Volume) -> bool:
    header = volume.header
    return all(slope in (None, 1.0) for slope in header.rescale_slopes) and all(
        intercept in (None, 0.0) for intercept in header.rescale_intercepts
    )


@pytest.mark.parametrize(
    "entry", series_params(lambda e: accepted_by_dicom_numpy(e) and not sheared(e))
)
def test_combine_series_geometry_agrees_with_simpleitk(entry: Entry) -> None:
    volume = combine_series(folder_of(entry))
    assert volume.header.files == tuple(str(CORPUS / name) for name in entry["sorted_files"])
    assert_agrees_with_simpleitk(volume, entry, step=True)
    # dicom_numpy's affine, its axes reordered from (c, r, s) to (s, r, c).
    np.testing.assert_allclose(
        volume.affine[:, [2, 1, 0, 3]], entry["dicom_numpy"]["affine"], atol=1e-4
    )
    if unrescaled(volume):
        pixels: NDArray[Any] = volume.array[..., 0]
        if pixels.dtype.str == entry["simpleitk"]["array_zyx"]["dtype"]:
            assert digest(pixels) == entry["simpleitk"]["array_zyx"]["sha256"]
        if pixels.dtype.str == entry["dicom_numpy"]["dtype"]:
            assert digest(pixels.transpose(2, 1, 0)) == entry["dicom_numpy"]["sha256"]


@pytest.mark.parametrize("entry", series_params(lambda e: e["kind"] == "slices" and sheared(e)))
def test_tilted_series_are_refused_then_accepted_on_request(entry: Entry) -> None:
    with pytest.raises(expected_refusal(entry)):
        combine_series(folder_of(entry))
    if expected_refusal(entry) is not ShearedStackError:
        return
    volume = combine_series(folder_of(entry), allow_shear=True)
    assert volume.header.sheared
    assert volume.header.tilt_degrees == pytest.approx(entry["stack_vs_normal_angle_deg"], abs=0.01)
    # SimpleITK keeps the normal as its third direction; the in-plane axes, the
    # origin and the length of the step (its z spacing) agree.
    assert_agrees_with_simpleitk(volume, entry, step=False)
    positions = np.array(volume.header.positions)
    ones = np.ones(len(positions))
    index = np.stack([np.arange(len(positions)), 0 * ones, 0 * ones, ones], axis=1)
    np.testing.assert_allclose((volume.affine @ index.T).T[:, :3], positions, atol=1e-4)


@pytest.mark.parametrize("entry", series_params(refused_by_dicom_numpy))
def test_combine_series_refuses_with_the_precise_error(entry: Entry) -> None:
    with pytest.raises(expected_refusal(entry)) as caught:
        combine_series(folder_of(entry))
    assert caught.value.files


@pytest.mark.parametrize("entry", series_params(lambda e: e["kind"] == "enhanced_multiframe"))
def test_enhanced_multiframe_volume_follows_its_functional_groups(entry: Entry) -> None:
    (path,) = sorted(folder_of(entry).iterdir())
    volume = combine_series(path)
    rows, columns = entry["simpleitk"]["size_xyz"][1::-1]
    assert volume.array.shape == (entry["frames"], rows, columns, 1)
    assert list(volume.header.frames) == entry["frame_order_by_position"]
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    frames = dataset.PerFrameFunctionalGroupsSequence
    for slot, frame in enumerate(volume.header.frames):
        position = [float(v) for v in frames[frame].PlanePositionSequence[0].ImagePositionPatient]
        np.testing.assert_allclose(volume.affine @ [slot, 0, 0, 1], [*position, 1], atol=1e-4)
    assert_agrees_with_simpleitk(volume, entry, step=True)
    rendered = dicomnp.to_array(path, frames=list(volume.header.frames))
    np.testing.assert_array_equal(volume.array, rendered)


@pytest.mark.parametrize("entry", series_params(lambda e: e["kind"] == "slices"))
def test_find_series_groups_each_corpus_folder(entry: Entry) -> None:
    catalog = find_series(folder_of(entry))
    assert len(catalog) == len(entry["series_instance_uids"])
    assert {series.series_instance_uid for series in catalog} == set(entry["series_instance_uids"])
    assert sum(len(stack.files) for s in catalog for stack in s.stacks) == entry["n_files"]
    assert "series in" in catalog.summary()
    for series in catalog:
        (stack,) = series.stacks
        if not sheared(entry):
            assert combine_series(stack).array.shape[0] == len(stack.files)
