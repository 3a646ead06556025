"""combine_slices and sort_by_slice_position: dicom_numpy 0.6's results, precise errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from pydicom.uid import UID, generate_uid

from dicomnp import (
    DuplicateSliceError,
    GeometryError,
    InconsistentSeriesError,
    MissingSliceError,
    MultipleVolumesError,
    SeriesError,
    combine_slices,
    sort_by_slice_position,
)
from support.series_build import geometry_series, pattern, rgb_series


def test_sort_by_slice_position_is_stable_along_the_first_normal() -> None:
    datasets = geometry_series(5, row_cosines=(0.0, 1.0, 0.0), column_cosines=(0.0, 0.0, -1.0))
    shuffled = [datasets[i] for i in (3, 0, 4, 1, 2)]
    assert sort_by_slice_position(shuffled) == datasets
    twin = copy.deepcopy(datasets[1])
    assert sort_by_slice_position([twin, datasets[1]])[0] is twin
    assert sort_by_slice_position([]) == []


def test_default_voxels_are_column_major_and_rescaled() -> None:
    datasets = geometry_series(4, rows=8, columns=5)
    voxels, affine = combine_slices(datasets[::-1])
    assert voxels.shape == (5, 8, 4)
    assert voxels.dtype == np.float32
    assert voxels.flags.f_contiguous
    for k in range(4):
        np.testing.assert_array_equal(voxels[:, :, k], pattern(k, 8, 5).T.astype(np.float32))
    expected = np.array(
        [
            [0.8, 0.0, 0.0, 10.0],
            [0.0, 0.5, 0.0, -20.0],
            [0.0, 0.0, 2.0, 30.0],
            [0.0, 0.0, 0.0, 1.0],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(affine, expected)
    assert affine.dtype == np.float32


def test_rescale_false_keeps_the_stored_dtype_and_c_order_axes_reorders() -> None:
    datasets = geometry_series(3, rows=4, columns=6)
    voxels, _ = combine_slices(datasets, rescale=False)
    assert voxels.dtype == np.int16
    assert int(voxels[2, 1, 1]) == 1024 + int(pattern(1, 4, 6)[1, 2])
    c_voxels, _ = combine_slices(datasets, rescale=False, c_order_axes=True)
    assert c_voxels.shape == (3, 4, 6)
    assert c_voxels.flags.c_contiguous
    np.testing.assert_array_equal(c_voxels, voxels.transpose(2, 1, 0))


def test_no_rescale_attributes_keep_the_dtype_and_rescale_true_casts() -> None:
    datasets = geometry_series(3)
    for ds in datasets:
        del ds.RescaleSlope, ds.RescaleIntercept
    voxels, _ = combine_slices(datasets)
    assert voxels.dtype == np.int16
    forced, _ = combine_slices(datasets, rescale=True)
    assert forced.dtype == np.float32
    np.testing.assert_array_equal(forced, voxels.astype(np.float32))


def test_per_slice_rescale_is_applied_slice_by_slice() -> None:
    datasets = geometry_series(3, rows=2, columns=2)
    datasets[1].RescaleSlope = "2.5"
    voxels, _ = combine_slices(datasets)
    assert voxels[0, 0, 1] == pytest.approx((1024 + 100) * 2.5 - 1024)
    assert voxels[0, 0, 2] == pytest.approx(200)


def test_rgb_voxels_put_samples_first() -> None:
    voxels, _ = combine_slices(rgb_series(3, rows=4, columns=6))
    assert voxels.shape == (3, 6, 4, 3)
    assert voxels[:, 5, 3, 2].tolist() == [20, 3, 5]


def test_single_slice_affine_is_singular_without_spacing_between_slices() -> None:
    (ds,) = geometry_series(1)
    _, affine = combine_slices([ds])
    np.testing.assert_array_equal(affine[:3, 2], [0.0, 0.0, 0.0])
    ds.SpacingBetweenSlices = "3"
    _, affine = combine_slices([ds])
    np.testing.assert_array_equal(affine[:3, 2], [0.0, 0.0, 3.0])


def test_sort_by_instance_and_skip_sorting() -> None:
    datasets = geometry_series(3, rows=2, columns=2)
    by_instance, _ = combine_slices(datasets, rescale=False, sort_by_instance=True)
    assert [int(by_instance[0, 0, k]) for k in range(3)] == [1224, 1124, 1024]
    kept, _ = combine_slices(datasets[::-1], rescale=False, skip_sorting=True)
    np.testing.assert_array_equal(kept, by_instance)


def test_dicomdir_data_sets_are_ignored_and_none_left_is_an_error() -> None:
    datasets = geometry_series(2)
    directory = copy.deepcopy(datasets[0])
    directory.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.1.3.10")
    voxels, _ = combine_slices([directory, *datasets])
    assert voxels.shape[2] == 2
    with pytest.raises(SeriesError, match="at least one image"):
        combine_slices([directory])


def test_missing_slice_is_named() -> None:
    datasets = geometry_series(8)
    del datasets[3]
    with pytest.raises(MissingSliceError, match="1 slice missing after index 2"):
        combine_slices(datasets)
    voxels, _ = combine_slices(datasets, enforce_slice_spacing=False)
    assert voxels.shape[2] == 7


def test_duplicates_are_refused_with_the_separating_key() -> None:
    datasets = geometry_series(4)
    other = copy.deepcopy(datasets[2])
    other.SOPInstanceUID = generate_uid()
    with pytest.raises(DuplicateSliceError):
        combine_slices([*datasets, other])
    other.EchoNumbers = 2
    with pytest.raises(MultipleVolumesError, match="EchoNumbers"):
        combine_slices([*datasets, other])


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("Modality", "MR"), ("SeriesInstanceUID", "1.2.3"), ("PixelSpacing", ["0.5", "0.9"])],
)
def test_invariant_attributes_are_named(keyword: str, value: object) -> None:
    datasets = geometry_series(3)
    setattr(datasets[2], keyword, value)
    with pytest.raises(InconsistentSeriesError, match=f"{keyword} differs"):
        combine_slices(datasets)


def test_orientation_checks_use_dicom_numpy_tolerances() -> None:
    datasets = geometry_series(3)
    datasets[1].ImageOrientationPatient = ["1", "0", "0", "0", "0.99999", "0.00001"]
    combine_slices(datasets)  # within 1e-5
    datasets[1].ImageOrientationPatient = ["1", "0", "0", "0", "0.9999", "0.0141"]
    with pytest.raises(GeometryError, match="ImageOrientationPatient differs"):
        combine_slices(datasets)
    for ds in datasets:
        ds.ImageOrientationPatient = ["1", "0", "0", "0.001", "1", "0"]
    with pytest.raises(GeometryError, match="not orthonormal"):
        combine_slices(datasets)


def test_missing_orientation_is_a_geometry_error() -> None:
    datasets = geometry_series(2)
    del datasets[1].ImageOrientationPatient
    with pytest.raises(GeometryError, match="ImageOrientationPatient"):
        combine_slices(datasets[::-1])


def test_missing_pixel_spacing_is_a_geometry_error() -> None:
    datasets = geometry_series(2)
    for ds in datasets:
        del ds.PixelSpacing
    with pytest.raises(GeometryError, match="PixelSpacing"):
        combine_slices(datasets)
