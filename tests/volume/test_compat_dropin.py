"""combine_slices as a drop-in for dicom_numpy: duck-typed slices, held pixel arrays, paths.

dicom_numpy's users (and its own tests) pass objects that have the DICOM
attributes by keyword and a ``pixel_array``, nothing else: no ``get``, no
Pixel Data. The expected values here are built from the fixtures' own
arrays with NumPy, never by dicomnp.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import dicomnp
from dicomnp import (
    DicomImportException,
    DuplicateSliceError,
    GeometryError,
    InconsistentSeriesError,
    MissingInstanceNumberException,
    MissingSliceError,
    SeriesError,
    combine_slices,
    sort_by_instance_number,
    sort_by_slice_position,
)
from dicomnp.examples import ct_series


class Slice:
    """A slice as dicom_numpy's users build one: attributes and a ``pixel_array``, nothing else."""

    # Set by some tests only: absent until then.
    InstanceNumber: int
    MediaStorageSOPClassUID: str
    SpacingBetweenSlices: float

    def __init__(self, pixels: NDArray[Any], position: float, **attributes: Any) -> None:
        rows, columns = pixels.shape[:2]
        self.pixel_array = pixels
        self.SeriesInstanceUID = "1.2.3"
        self.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        self.Modality = "MR"
        self.PixelSpacing = [1.0, 1.0]
        self.Rows = rows
        self.Columns = columns
        self.SamplesPerPixel = 1 if pixels.ndim == 2 else pixels.shape[2]
        self.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        self.ImagePositionPatient = [-columns / 2, -rows / 2, position]
        for keyword, value in attributes.items():
            setattr(self, keyword, value)


def stack(count: int = 4, shape: tuple[int, ...] = (10, 11), **attributes: Any) -> list[Slice]:
    rng = np.random.default_rng(count)
    return [
        Slice(rng.integers(0, 1000, size=shape, dtype=np.uint16), float(k), **attributes)
        for k in range(count)
    ]


def by_hand(slices: list[Slice]) -> NDArray[Any]:
    """What dicom_numpy gives: each pixel_array transposed, stacked on a last axis."""
    return np.stack([item.pixel_array.T for item in slices], axis=-1)


def test_duck_typed_slices_are_stacked_as_dicom_numpy_stacks_them() -> None:
    slices = stack()
    voxels, affine = combine_slices([slices[2], slices[0], slices[3], slices[1]])
    np.testing.assert_array_equal(voxels, by_hand(slices))
    assert voxels.dtype == np.uint16
    assert voxels.flags.f_contiguous
    np.testing.assert_array_equal(affine[:3, 3], [-5.5, -5.0, 0.0])
    np.testing.assert_array_equal(affine[:3, 2], [0.0, 0.0, 1.0])


def test_rgb_duck_slices_put_the_samples_first() -> None:
    slices = stack(3, (10, 11, 3))
    voxels, _ = combine_slices(slices)
    assert voxels.shape == (3, 11, 10, 3)
    np.testing.assert_array_equal(voxels, np.stack([s.pixel_array for s in slices]).T)


def test_a_dicomdir_among_duck_slices_is_left_out() -> None:
    slices = stack()
    slices[3].MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    voxels, _ = combine_slices(slices)
    np.testing.assert_array_equal(voxels, by_hand(slices[:3]))


def test_one_duck_slice_and_its_spacing() -> None:
    (only,) = stack(1)
    voxels, affine = combine_slices([only])
    np.testing.assert_array_equal(voxels, only.pixel_array.T[:, :, None])
    np.testing.assert_array_equal(affine[:3, 2], [0.0, 0.0, 0.0])
    only.SpacingBetweenSlices = 0.65
    _, affine = combine_slices([only])
    assert np.linalg.norm(affine[:3, 2]) == pytest.approx(0.65)


@pytest.mark.parametrize(
    ("attributes", "rescale", "dtype", "value"),
    [
        ({"RescaleSlope": 2}, None, np.float32, 2.0),
        ({"RescaleSlope": 2, "RescaleIntercept": 3}, None, np.float32, 5.0),
        ({}, True, np.float32, 1.0),
        ({"RescaleSlope": 2, "RescaleIntercept": 3}, False, np.uint8, 1),
        ({}, None, np.uint8, 1),
    ],
)
def test_rescale_rules(
    attributes: dict[str, Any], rescale: bool | None, dtype: type, value: float
) -> None:
    slices = [Slice(np.ones((10, 20), dtype=np.uint8), k, **attributes) for k in range(2)]
    voxels, _ = combine_slices(slices, rescale=rescale)
    assert voxels.dtype == dtype
    assert voxels[0, 0, 0] == value


def test_c_order_axes_put_the_slices_first() -> None:
    slices = [Slice(np.ones((10, 20), dtype=np.uint8), k) for k in range(2)]
    voxels, _ = combine_slices(slices, c_order_axes=True)
    assert voxels.shape == (2, 10, 20)
    assert voxels.flags.c_contiguous


def test_missing_middle_slice_is_refused_unless_spacing_is_not_enforced() -> None:
    slices = stack()
    chosen = [slices[0], slices[2], slices[3]]
    with pytest.raises(MissingSliceError) as caught:
        combine_slices(chosen)
    assert isinstance(caught.value, DicomImportException)
    assert "between slice 0 (Slice) and slice 1 (Slice) the gap is 2 mm" in str(caught.value)
    assert caught.value.gaps == ((0, 1.0),)
    voxels, _ = combine_slices(chosen, enforce_slice_spacing=False)
    assert voxels.shape[2] == 3


def test_orientation_tolerances() -> None:
    slices = stack()
    slices[0].ImageOrientationPatient[0] += 1e-6
    combine_slices(slices)
    slices[0].ImageOrientationPatient[0] += 1e-4
    with pytest.raises(GeometryError, match="ImageOrientationPatient"):
        combine_slices(slices, enforce_slice_spacing=False)


def test_slices_of_another_series_are_refused() -> None:
    slices = stack()
    slices[2].SeriesInstanceUID += "9"
    with pytest.raises(InconsistentSeriesError, match="SeriesInstanceUID differs"):
        combine_slices(slices, enforce_slice_spacing=False)


def test_sorting_by_instance_number() -> None:
    slices = stack()
    for item, number in zip(slices, (3, 0, 1, 2), strict=True):
        item.InstanceNumber = number
    by_instance, _ = combine_slices(slices, sort_by_instance=True)
    np.testing.assert_array_equal(by_instance, by_hand([slices[i] for i in (0, 3, 2, 1)]))
    assert sort_by_instance_number(slices) == [slices[i] for i in (0, 3, 2, 1)]
    kept, _ = combine_slices(slices[::-1], skip_sorting=True)
    np.testing.assert_array_equal(kept, by_hand(slices[::-1]))
    assert sort_by_slice_position(slices[::-1]) == slices


def test_missing_instance_numbers_are_named() -> None:
    slices = stack()
    slices[0].InstanceNumber = 1
    with pytest.raises(MissingInstanceNumberException, match="missing in 3 of 4") as caught:
        combine_slices(slices, sort_by_instance=True)
    assert isinstance(caught.value, InconsistentSeriesError)


def test_an_object_without_pixels_is_named() -> None:
    slices: list[Any] = stack(2)
    del slices[1].pixel_array
    with pytest.raises(SeriesError, match="Slice is not a slice: a slice is a pydicom Dataset"):
        combine_slices(slices)


def test_paths_are_read_like_datasets(tmp_path: Path) -> None:
    datasets = ct_series(3, 8, 6)
    paths = []
    for k, dataset in enumerate(datasets):
        path = tmp_path / f"{k}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    from_paths, affine = combine_slices([str(p) for p in paths[::-1]])
    from_datasets, expected_affine = combine_slices(datasets)
    np.testing.assert_array_equal(from_paths, from_datasets)
    np.testing.assert_array_equal(affine, expected_affine)
    assert sort_by_slice_position(paths[::-1]) == paths


def test_a_missing_path_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        combine_slices([tmp_path / "absent.dcm"])


def test_a_pixel_array_edited_in_memory_is_the_one_stacked() -> None:
    datasets = ct_series(2, 8, 6)
    datasets[0].pixel_array[0, 0] = 1234  # pydicom keeps the decoded array
    voxels, _ = combine_slices(datasets, rescale=False)
    assert voxels[0, 0, 0] == 1234
    stored = np.frombuffer(datasets[1].PixelData, dtype="<i2").reshape(8, 6)
    np.testing.assert_array_equal(voxels[:, :, 1], stored.T)


def test_one_multi_frame_dataset_keeps_its_frames_axis() -> None:
    dataset = ct_series(1, 8, 6)[0]
    frames = np.arange(3 * 8 * 6, dtype="<i2").reshape(3, 8, 6)
    dataset.NumberOfFrames = 3
    dataset.PixelData = frames.tobytes()
    voxels, _ = combine_slices([dataset], rescale=False)
    assert voxels.shape == (6, 8, 3, 1)
    np.testing.assert_array_equal(voxels[..., 0], frames.T)
    c_voxels, _ = combine_slices([dataset], rescale=False, c_order_axes=True)
    assert c_voxels.shape == (1, 3, 8, 6)
    np.testing.assert_array_equal(c_voxels[0], frames)


def test_a_dataset_given_twice_is_a_duplicate() -> None:
    datasets = ct_series(3, 8, 6)
    for given in ([datasets[0], datasets[0]], [datasets[0], *datasets]):
        with pytest.raises(DuplicateSliceError, match="the same image is given twice"):
            combine_slices(given)
    twin = copy.deepcopy(datasets[1])
    with pytest.raises(DuplicateSliceError, match="SOP Instance UID"):
        combine_slices([*datasets, twin])


def test_dicom_import_exception_is_the_series_error() -> None:
    assert dicomnp.DicomImportException is SeriesError
    assert issubclass(MissingInstanceNumberException, DicomImportException)
