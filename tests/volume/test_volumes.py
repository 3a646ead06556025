"""combine_volumes: volumes sharing slice positions as one 4D array."""

from __future__ import annotations

import copy
import logging
import math

import numpy as np
import pytest
from pydicom.uid import generate_uid

import dicomnp
from dicomnp import (
    DuplicateSliceError,
    GeometryError,
    MissingSliceError,
    MultipleVolumesError,
    combine_series,
    combine_volumes,
)
from support.mr_build import classic_volumes, mosaic_image, values


def check_pixels(result: dicomnp.Volume4D, order: list[int]) -> None:
    volumes, slices, rows, columns, _ = result.array.shape
    for v in range(volumes):
        for k in range(slices):
            np.testing.assert_array_equal(
                result.array[v, k, :, :, 0], values(order[v], k, rows, columns)
            )


def test_an_fmri_run_with_per_slice_trigger_times_is_one_4d_array_by_temporal_position() -> None:
    datasets = classic_volumes(
        3,
        4,
        per_volume=[{"TemporalPositionIdentifier": v + 1} for v in range(3)],
        per_slice_trigger=True,
    )
    result = combine_volumes(datasets[::-1])
    assert result.array.shape == (3, 4, 4, 5, 1)
    assert result.header.volumes_by == "TemporalPositionIdentifier"
    check_pixels(result, [0, 1, 2])
    assert result.nifti_array().shape == (5, 4, 4, 3)
    np.testing.assert_allclose(result.affine[:3, 3], [-4.0, -5.0, 0.0])
    np.testing.assert_allclose(result.affine[:3, 0], [0.0, 0.0, 3.0])
    assert result.header.trigger_times == (7.0, 407.0, 807.0)
    with pytest.raises(MultipleVolumesError, match="TemporalPositionIdentifier"):
        combine_series(datasets)


def test_a_three_direction_dwi_carries_b_values_and_fsl_bvecs() -> None:
    directions = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    per_volume = [
        {"DiffusionBValue": 0.0 if v == 0 else 1000.0, "DiffusionGradientOrientation": list(d)}
        for v, d in enumerate(directions)
    ]
    result = combine_volumes(classic_volumes(4, 3, per_volume=per_volume))
    assert result.header.volumes_by == "DiffusionBValue"
    assert result.header.b_values == (0.0, 1000.0, 1000.0, 1000.0)
    assert result.header.is_diffusion
    assert result.header.gradients[1] == (1.0, 0.0, 0.0)
    # axial: NIfTI axes are -x, -y (RAS of LPS columns and rows) and +z; det > 0 flips x
    expected = np.array([[0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    np.testing.assert_allclose(result.fsl_bvecs(), expected, atol=1e-12)


def test_two_mosaics_are_two_volumes() -> None:
    series, frame = generate_uid(), generate_uid()
    angle = math.radians(10)
    normal = (0.0, math.sin(angle), math.cos(angle))
    images = [
        mosaic_image(
            [values(v, k, 2, 3) for k in range(4)],
            first_position=(0.0, 0.0, 0.0),
            orientation=(1.0, 0.0, 0.0, 0.0, math.cos(angle), -math.sin(angle)),
            pixel_spacing=(2.0, 2.0),
            spacing=3.0,
            normal=normal,
            series_uid=series,
            frame_of_reference_uid=frame,
            instance_number=v + 1,
            AcquisitionNumber=v + 1,
        )
        for v in range(2)
    ]
    result = combine_volumes(images[::-1])
    assert result.array.shape == (2, 4, 2, 3, 1)
    assert result.header.volumes_by == "mosaic image"
    check_pixels(result, [0, 1])
    np.testing.assert_allclose(result.affine[:3, 0], 3.0 * np.array(normal), atol=1e-6)


def test_distinct_instances_with_identical_pixels_are_both_kept() -> None:
    datasets = classic_volumes(2, 3)
    for first, second in zip(datasets[:3], datasets[3:], strict=True):
        second.PixelData = first.PixelData
    result = combine_volumes(datasets)
    assert result.array.shape[0] == 2
    assert result.header.volumes_by == "InstanceNumber"
    np.testing.assert_array_equal(result.array[0], result.array[1])
    assert result.header.dropped == ()
    with pytest.raises(MultipleVolumesError, match="instance order") as caught:
        combine_series(datasets)
    assert caught.value.keys == ("InstanceNumber",)


def test_a_repeated_instance_is_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    datasets = classic_volumes(2, 3)
    with caplog.at_level(logging.WARNING):
        result = combine_volumes([*datasets, datasets[4]])
    assert result.array.shape[0] == 2
    (dropped,) = result.header.dropped
    assert "same SOP Instance UID" in dropped.reason
    assert "left out" in caplog.text


def test_images_that_nothing_tells_apart_are_refused() -> None:
    datasets = classic_volumes(1, 3)
    twin = copy.deepcopy(datasets[1])
    twin.SOPInstanceUID = twin.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    with pytest.raises(MissingSliceError, match="different numbers of images"):
        combine_volumes([*datasets, twin])
    twins = [copy.deepcopy(ds) for ds in datasets]
    for ds in twins:
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    with pytest.raises(DuplicateSliceError, match="Instance Number tells them apart"):
        combine_volumes(datasets + twins)


def test_volumes_on_different_grids_are_refused() -> None:
    datasets = classic_volumes(
        2, 3, per_volume=[{"AcquisitionNumber": 1}, {"AcquisitionNumber": 2}]
    )
    for ds in datasets[3:]:
        ds.PixelSpacing = ["2", "2.5"]
    with pytest.raises(GeometryError, match="another grid"):
        combine_volumes(datasets)


def test_one_image_per_position_is_one_volume() -> None:
    result = combine_volumes(classic_volumes(1, 4))
    assert result.array.shape == (1, 4, 4, 5, 1)
    assert result.header.volumes_by == ""
    assert result.volume(0).array.shape == (4, 4, 5, 1)


def test_ge_epi_pepolar_reversed_volumes_get_their_true_row_order() -> None:
    datasets = classic_volumes(
        4, 3, per_volume=[{"TemporalPositionIdentifier": v + 1} for v in range(4)]
    )
    for ds in datasets:
        ds.Manufacturer = "GE MEDICAL SYSTEMS"
        block = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
        block.add_new(0x9C, "LO", "research/ABCD/epi_pepolar")
        block.add_new(0xB3, "DS", "2.000000")
    reversed_, forward = datasets[:3] + datasets[6:9], datasets[3:6] + datasets[9:]
    result = combine_volumes(forward)
    np.testing.assert_allclose(result.affine[:3, 1], [0.0, 2.0, 0.0])
    np.testing.assert_allclose(result.affine[:3, 3], [-4.0, -5.0, 0.0])
    flipped = combine_volumes(reversed_)
    # mode 2: odd temporal positions are stored with their rows reversed
    np.testing.assert_allclose(flipped.affine[:3, 1], [0.0, -2.0, 0.0])
    # the normal turns with the column direction: slices now run down from z = 6
    np.testing.assert_allclose(flipped.affine[:3, 3], [-4.0, -5.0 + 3 * 2.0, 6.0])
    np.testing.assert_allclose(flipped.affine[:3, 0], [0.0, 0.0, -3.0])
    np.testing.assert_array_equal(flipped.array[0, 0, :, :, 0], values(0, 2, 4, 5))
    with pytest.raises(GeometryError, match="another grid"):
        combine_volumes(datasets)


def test_echoes_given_together_are_volumes_by_echo() -> None:
    per_volume = [{"EchoNumbers": v + 1, "EchoTime": f"{5 + 5 * v}"} for v in range(3)]
    datasets = classic_volumes(3, 2, per_volume=per_volume)
    result = combine_volumes(datasets)
    assert result.header.volumes_by == "EchoNumbers"
    assert result.header.echo_times == (5.0, 10.0, 15.0)
    check_pixels(result, [0, 1, 2])
    # find_series keeps echoes as separate stacks, as dcm2niix writes separate files
    from dicomnp.volume.reading import read_headers
    from dicomnp.volume.series import split_series

    headers = [h for ds in datasets for h in read_headers(ds)]
    series = split_series(headers[0].series_instance_uid, headers)
    assert series.split_by == ("EchoNumbers", "EchoTime")
    assert [stack.volumes for stack in series.stacks] == [1, 1, 1]
