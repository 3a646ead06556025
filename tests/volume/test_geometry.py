"""combine_series on series built in memory: sorting, the affine, and each refusal."""

from __future__ import annotations

import copy
import io
import json
import math

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

import dicomnp
from dicomnp import (
    DuplicateSliceError,
    GeometryError,
    InconsistentSeriesError,
    MissingSliceError,
    MultipleVolumesError,
    ShearedStackError,
    combine_series,
)
from dicomnp.volume.geometry import check_orientations
from dicomnp.volume.reading import read_headers
from support.build import to_bytes
from support.series_build import geometry_series, rgb_series, unit

RNG = np.random.default_rng(5)


def slice_ids(volume: dicomnp.Volume) -> list[int]:
    """Which built slice (k) sits at each array index."""
    offset = volume.header.value_offset
    return [(int(value) - offset - 1024) // 100 for value in volume.array[:, 0, 0, 0]]


def test_shuffled_axial_series_is_sorted_with_the_documented_affine() -> None:
    datasets = geometry_series(20)
    shuffled = [datasets[i] for i in RNG.permutation(20)]
    volume = combine_series(shuffled)
    assert volume.array.shape == (20, 8, 5, 1)
    assert volume.array.dtype == np.uint16  # signed stored values, offset by 2**15 (R2)
    assert volume.header.value_offset == 32768
    assert slice_ids(volume) == list(range(20))
    expected = np.array(
        [
            [0.0, 0.0, 0.8, 10.0],
            [0.0, 0.5, 0.0, -20.0],
            [2.0, 0.0, 0.0, 30.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    np.testing.assert_allclose(volume.affine, expected, atol=1e-9)
    assert volume.spacing == pytest.approx((2.0, 0.5, 0.8))
    assert volume.header.slice_spacing == pytest.approx(2.0)
    assert volume.header.slice_spacing_source == "positions"
    assert volume.header.sop_instance_uids == tuple(ds.SOPInstanceUID for ds in datasets)
    assert volume.header.instance_numbers == tuple(range(1, 21))


def test_anisotropic_pixels_put_row_spacing_on_the_row_axis() -> None:
    volume = combine_series(geometry_series(3, pixel_spacing=(0.5, 0.8)))
    assert np.linalg.norm(volume.affine[:3, 1]) == pytest.approx(0.5)
    assert np.linalg.norm(volume.affine[:3, 2]) == pytest.approx(0.8)


def test_reversed_input_gives_the_same_volume() -> None:
    datasets = geometry_series(7)
    forward, backward = combine_series(datasets), combine_series(datasets[::-1])
    np.testing.assert_array_equal(forward.array, backward.array)
    np.testing.assert_array_equal(forward.affine, backward.affine)


def _rotation(seed: int) -> np.ndarray:
    matrix, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return matrix


@pytest.mark.parametrize(
    ("row", "column"),
    [
        pytest.param((0.0, 1.0, 0.0), (0.0, 0.0, -1.0), id="sagittal"),
        pytest.param((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), id="coronal"),
        pytest.param(tuple(_rotation(1)[:, 0]), tuple(_rotation(1)[:, 1]), id="oblique"),
        pytest.param(tuple(_rotation(2)[:, 0]), tuple(_rotation(2)[:, 1]), id="double-oblique"),
    ],
)
def test_affine_round_trip_on_oriented_stacks(
    row: tuple[float, float, float], column: tuple[float, float, float]
) -> None:
    datasets = geometry_series(9, row_cosines=row, column_cosines=column, spacing=1.5)
    volume = combine_series([datasets[i] for i in RNG.permutation(9)])
    assert slice_ids(volume) == list(range(9))
    x, y = np.array(row), np.array(column)
    for _ in range(20):
        k, r, c = RNG.integers(0, 9), RNG.integers(0, 8), RNG.integers(0, 5)
        position = np.array([float(v) for v in datasets[k].ImagePositionPatient])
        expected = position + r * 0.5 * y + c * 0.8 * x
        np.testing.assert_allclose(volume.affine @ [k, r, c, 1], [*expected, 1], atol=1e-5)
    assert np.linalg.det(volume.affine[:3, :3]) < 0  # sorted along +n: (n, Y, X) is left-handed


def test_ras_and_nifti_conventions() -> None:
    volume = combine_series(geometry_series(4))
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    np.testing.assert_array_equal(volume.ras_affine, flip @ volume.affine)
    nifti = volume.nifti_array()
    assert nifti.shape == (5, 8, 4)
    assert np.shares_memory(nifti, volume.array)
    k, r, c = 3, 6, 2
    assert nifti[c, r, k] == volume.array[k, r, c, 0]
    np.testing.assert_allclose(
        volume.nifti_affine() @ [c, r, k, 1], volume.ras_affine @ [k, r, c, 1]
    )


def test_one_missing_slice_is_named() -> None:
    datasets = geometry_series(12)
    del datasets[7]
    with pytest.raises(MissingSliceError, match="1 slice missing after index 6") as caught:
        combine_series(datasets)
    ((after, count),) = caught.value.gaps
    assert after == 6
    assert count == pytest.approx(1.0)
    assert "instance 7" in str(caught.value)
    assert "instance 9" in str(caught.value)


def test_missing_end_slices_are_revealed_by_instance_numbers_on_request() -> None:
    datasets = geometry_series(10)[2:]
    assert combine_series(datasets).array.shape[0] == 8  # positions alone cannot tell
    with pytest.raises(MissingSliceError, match=r"2 slice\(s\) missing before .*1-2 absent"):
        combine_series(datasets, check_instance_numbers=True)


def test_missing_last_slices_are_revealed_by_images_in_acquisition() -> None:
    datasets = geometry_series(10)
    for ds in datasets:
        ds.ImagesInAcquisition = 10
    with pytest.raises(MissingSliceError, match=r"3 slice\(s\) missing after .*8-10 absent"):
        combine_series(datasets[:7], check_instance_numbers=True)
    assert combine_series(datasets, check_instance_numbers=True).array.shape[0] == 10


def test_the_same_instance_twice_is_dropped() -> None:
    datasets = geometry_series(5)
    volume = combine_series([*datasets, datasets[2]])
    assert slice_ids(volume) == list(range(5))
    (dropped,) = volume.header.dropped
    assert "same SOP Instance UID" in dropped.reason


def test_a_copy_with_identical_pixels_is_not_dropped() -> None:
    datasets = geometry_series(5)
    twin = copy.deepcopy(datasets[3])
    twin.SOPInstanceUID = twin.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    with pytest.raises(DuplicateSliceError, match="2 different images at position"):
        combine_series([*datasets, twin])


def _second_echo(datasets: list[Dataset]) -> list[Dataset]:
    echoes = []
    for ds in datasets:
        other = copy.deepcopy(ds)
        other.SOPInstanceUID = other.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        other.PixelData = bytes(b ^ 0x01 for b in ds.PixelData)
        echoes.append(other)
    return echoes


def test_multi_echo_series_says_which_attribute_separates_the_volumes() -> None:
    first = geometry_series(4)
    second = _second_echo(first)
    for ds in first:
        ds.EchoNumbers = 1
    for ds in second:
        ds.EchoNumbers = 2
    with pytest.raises(MultipleVolumesError, match="EchoNumbers") as caught:
        combine_series(first + second)
    assert caught.value.keys == ("EchoNumbers",)
    assert combine_series(second).array.shape[0] == 4


def test_different_images_at_one_position_without_a_key_are_refused() -> None:
    first = geometry_series(4)
    with pytest.raises(DuplicateSliceError, match="2 different images at position") as caught:
        combine_series([*first, _second_echo(first)[1]])
    assert not isinstance(caught.value, MultipleVolumesError)


def test_one_percent_jitter_is_accepted_with_the_median_spacing() -> None:
    jitter = [0.0, 0.02, -0.02, 0.015, -0.01, 0.0, 0.02, -0.015]
    distances = [2.0 * k + 2.0 * j for k, j in enumerate(jitter)]
    volume = combine_series(geometry_series(8, distances=distances))
    assert slice_ids(volume) == list(range(8))
    gaps = np.sort(np.diff(distances))
    assert volume.header.slice_spacing == pytest.approx(gaps[(gaps.size - 1) // 2])
    # The step is the mean, first to last: the affine ends exactly on the last slice.
    np.testing.assert_allclose(volume.affine @ [7, 0, 0, 1], [10.0, -20.0, 30 + distances[-1], 1])


def test_a_twenty_percent_gap_is_refused() -> None:
    distances = [0.0, 2.0, 4.0, 6.4, 8.4, 10.4]
    with pytest.raises(MissingSliceError, match=r"room for 0\.20 more slices after index 2"):
        combine_series(geometry_series(6, distances=distances))


def test_slices_closer_than_the_rest_are_refused() -> None:
    with pytest.raises(GeometryError, match="irregular slice spacing"):
        combine_series(geometry_series(5, distances=[0.0, 2.0, 4.0, 5.0, 7.0]))


def test_gantry_tilt_is_refused_unless_allowed() -> None:
    # The image plane is tilted about x; the table moves along z.
    tilt = math.radians(14.0)
    column = (0.0, math.cos(tilt), -math.sin(tilt))
    step = (0.0, 0.0, 5.0)
    datasets = geometry_series(5, column_cosines=column, step=step)
    with pytest.raises(ShearedStackError, match=r"14\.00 degrees") as caught:
        combine_series(datasets)
    assert caught.value.angle == pytest.approx(14.0, abs=1e-3)
    volume = combine_series(datasets, allow_shear=True)
    assert volume.header.sheared
    np.testing.assert_allclose(volume.affine[:3, 0], step, atol=1e-5)
    assert volume.spacing[0] == pytest.approx(5.0, abs=1e-5)


def test_positions_off_one_line_are_refused() -> None:
    datasets = geometry_series(5)
    datasets[2].ImagePositionPatient = ["10.5", "-20", "34"]
    with pytest.raises(GeometryError, match="not on one line"):
        combine_series(datasets)


def test_cosines_within_1e_4_of_unit_length_are_accepted() -> None:
    datasets = geometry_series(3)
    for ds in datasets:
        ds.ImageOrientationPatient = ["1.00005", "0", "0", "0", "1", "0"]
    combine_series(datasets)


def test_cosines_not_perpendicular_are_refused() -> None:
    datasets = geometry_series(3)
    for ds in datasets:
        ds.ImageOrientationPatient = ["1", "0", "0", "0.0002", "1", "0"]
    with pytest.raises(GeometryError, match="not orthonormal"):
        combine_series(datasets)


def test_one_slice_with_another_orientation_is_refused() -> None:
    datasets = geometry_series(4)
    x = unit((1.0, 0.001, 0.0))
    y = unit((-0.001, 1.0, 0.0))
    datasets[2].ImageOrientationPatient = [f"{v:.6f}" for v in (*x, *y)]
    with pytest.raises(GeometryError, match="ImageOrientationPatient differs"):
        combine_series(datasets)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("Rows", 9),
        ("PixelSpacing", ["0.5", "0.81"]),
        ("SliceThickness", "3"),
        ("BitsStored", 12),
        ("PixelRepresentation", 0),
        ("SeriesInstanceUID", "1.2.3.4"),
        ("Modality", "MR"),
    ],
)
def test_inconsistent_attributes_are_named(keyword: str, value: object) -> None:
    datasets = geometry_series(4)
    setattr(datasets[1], keyword, value)
    if keyword == "Rows":
        datasets[1].PixelData = bytes(2 * 9 * 5)
    with pytest.raises(InconsistentSeriesError, match=f"{keyword} differs between slices"):
        combine_series(datasets)


def test_a_localizer_in_the_series_is_refused() -> None:
    datasets = geometry_series(4)
    datasets[0].ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    with pytest.raises(InconsistentSeriesError, match="localizer"):
        combine_series(datasets)


@pytest.mark.parametrize(
    ("thickness", "between", "source", "spacing"),
    [
        ("2", "3", "SpacingBetweenSlices", 3.0),
        ("2", None, "SliceThickness", 2.0),
        (None, None, "default", 1.0),
    ],
)
def test_a_single_slice_has_a_non_singular_affine(
    thickness: str | None, between: str | None, source: str, spacing: float
) -> None:
    (ds,) = geometry_series(1)
    del ds.SliceThickness
    if thickness is not None:
        ds.SliceThickness = thickness
    if between is not None:
        ds.SpacingBetweenSlices = between
    volume = combine_series([ds])
    assert volume.array.shape == (1, 8, 5, 1)
    assert volume.header.slice_spacing_source == source
    assert volume.spacing[0] == pytest.approx(spacing)
    assert abs(np.linalg.det(volume.affine)) > 0


def test_rgb_series() -> None:
    volume = combine_series(rgb_series(3)[::-1])
    assert volume.array.shape == (3, 4, 6, 3)
    assert volume.array.dtype == np.uint8
    assert volume.array[:, 0, 0, 0].tolist() == [0, 10, 20]
    assert volume.array[1, 3, 5].tolist() == [10, 3, 5]
    assert volume.nifti_array().shape == (6, 4, 3, 3)


def test_threads_give_the_same_volume() -> None:
    datasets = geometry_series(16)
    one, many = combine_series(datasets), combine_series(datasets, workers=4)
    np.testing.assert_array_equal(one.array, many.array)


def test_bytes_and_file_objects_are_sources() -> None:
    datasets = geometry_series(4)
    encoded = [to_bytes(ds) for ds in datasets]
    from_bytes = combine_series(encoded[::-1])
    from_files = combine_series([io.BytesIO(data) for data in encoded])
    np.testing.assert_array_equal(from_bytes.array, combine_series(datasets).array)
    np.testing.assert_array_equal(from_files.array, from_bytes.array)


def test_header_is_json_serialisable() -> None:
    volume = combine_series(geometry_series(3))
    loaded = json.loads(json.dumps(volume.header.as_dict()))
    assert loaded["shape"] == [3, 8, 5, 1]
    assert loaded["coordinate_system"] == "LPS"
    assert len(loaded["positions"]) == 3


def test_per_slice_rescale_with_modality_values() -> None:
    datasets = geometry_series(3)
    for k, ds in enumerate(datasets):
        ds.RescaleSlope = str(1 + k)
    volume = combine_series(datasets, values="modality")
    stored = np.stack([(1024 + 100 * k) for k in range(3)])
    expected = stored * np.array([1, 2, 3]) - 1024
    np.testing.assert_array_equal(volume.array[:, 0, 0, 0], expected)
    assert volume.header.values == "modality"


def test_unknown_options_are_refused() -> None:
    with pytest.raises(dicomnp.InvalidOptionError, match="values must be one of"):
        combine_series(geometry_series(2), values="raw")  # type: ignore[arg-type]
    with pytest.raises(dicomnp.InvalidOptionError, match="padding"):
        combine_series(geometry_series(2), padding="blur")  # type: ignore[arg-type]


def test_check_orientations_refuses_slices_that_all_share_a_non_orthonormal_orientation() -> None:
    series = geometry_series(3)
    for dataset in series:
        dataset.ImageOrientationPatient = [1, 0, 0, 0.5, 1, 0]
    headers = [read_headers(dataset)[0] for dataset in series]
    with pytest.raises(GeometryError, match="not orthonormal"):
        check_orientations(headers)
