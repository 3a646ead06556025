"""find_series on folders written to disk, and enhanced multi-frame volumes built in memory."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from dicomnp import (
    InconsistentSeriesError,
    InvalidPixelMetadataError,
    MissingSliceError,
    MultipleVolumesError,
    combine_series,
    combine_volumes,
    find_series,
)
from dicomnp.examples import write_ct_series
from support.build import to_bytes
from support.series_build import enhanced_image, geometry_series, pattern


def write(folder: Path, datasets: list[Dataset], prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number, ds in enumerate(datasets):
        (folder / f"{prefix}{number:03d}.dcm").write_bytes(to_bytes(ds))


def test_find_series_splits_series_localizers_and_echoes(tmp_path: Path) -> None:
    axial = geometry_series(5)
    localizer = copy.deepcopy(axial[0])
    localizer.SOPInstanceUID = localizer.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    localizer.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    localizer.ImageOrientationPatient = ["1", "0", "0", "0", "0", "-1"]
    echo_one = geometry_series(4)
    echo_two = []
    for ds in echo_one:
        ds.EchoNumbers = 1
        other = copy.deepcopy(ds)
        other.SOPInstanceUID = other.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        other.EchoNumbers = 2
        echo_two.append(other)
    write(tmp_path / "a", [*axial, localizer], "ct")
    write(tmp_path / "b" / "deeper", [*echo_one, *echo_two], "mr")
    (tmp_path / "DICOMDIR").write_bytes(b"not read")
    (tmp_path / "b" / "readme.txt").write_text("notes")

    catalog = find_series(tmp_path)
    assert len(catalog) == 2
    ct, mr = catalog
    assert ct.split_by == ("ImageType LOCALIZER",)
    assert sorted(len(stack.headers) for stack in ct.stacks) == [1, 5]
    assert mr.split_by == ("EchoNumbers",)
    assert [dict(stack.key)["EchoNumbers"] for stack in mr.stacks] == [1, 2]
    assert [path for path, _ in catalog.skipped] == [str(tmp_path / "b" / "readme.txt")]
    summary = catalog.summary()
    assert "split by EchoNumbers" in summary
    assert "EchoNumbers=2" in summary
    assert "readme.txt" in summary

    big = max(ct.stacks, key=lambda stack: len(stack.headers))
    assert combine_series(big).array.shape == (5, 8, 5, 1)
    assert combine_series(mr.stacks[1]).array.shape == (4, 8, 5, 1)
    with pytest.raises(InconsistentSeriesError, match="localizer"):
        combine_series(tmp_path / "a")
    with pytest.raises(MultipleVolumesError, match="EchoNumbers"):
        combine_series(tmp_path / "b")


def test_combine_series_reads_a_folder_written_by_the_examples(tmp_path: Path) -> None:
    paths = write_ct_series(tmp_path, 12, 16, 16)
    volume = combine_series(tmp_path, workers=3)
    assert volume.header.files == tuple(str(path) for path in paths)
    assert volume.spacing == pytest.approx((2.0, 0.5, 0.5))


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing")
    with pytest.raises(Exception, match="no DICOM images found"):
        combine_series(tmp_path)
    assert len(find_series(tmp_path)) == 0


def _axial(count: int, spacing: float = 2.0) -> list[tuple[float, float, float]]:
    return [(-3.0, 4.0, 10.0 + spacing * k) for k in range(count)]


def test_enhanced_frames_are_sorted_by_plane_position() -> None:
    positions = _axial(6)
    order = [4, 0, 5, 2, 1, 3]
    image = enhanced_image([positions[k] for k in order])
    volume = combine_series(to_bytes(image))
    assert volume.array.shape == (6, 6, 4, 1)
    assert list(volume.header.frames) == [order.index(k) for k in range(6)]
    for slot, frame in enumerate(volume.header.frames):
        assert int(volume.array[slot, 0, 0, 0]) == 32768 + 1024 + 100 * frame
        np.testing.assert_allclose(volume.affine @ [slot, 0, 0, 1], [*positions[slot], 1])
    np.testing.assert_allclose(volume.affine[:3, 1], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(volume.affine[:3, 2], [0.8, 0.0, 0.0])
    assert volume.header.slice_thickness == 2.0


def test_enhanced_frames_get_the_classic_validation() -> None:
    positions = _axial(6)
    del positions[2]
    with pytest.raises(MissingSliceError, match="frame 1"):
        combine_series(enhanced_image(positions))


def test_enhanced_per_frame_rescale_is_reported() -> None:
    volume = combine_series(enhanced_image(_axial(3), slopes=[1.0, 2.0, 4.0]))
    assert volume.header.rescale_slopes == (1.0, 2.0, 4.0)
    assert volume.array[2, 0, 0, 0] == 32768 + 1024 + int(pattern(2, 6, 4)[0, 0])


def test_enhanced_stacks_and_temporal_positions_are_several_volumes() -> None:
    positions = _axial(3) * 2
    with pytest.raises(MultipleVolumesError, match="StackID"):
        combine_series(enhanced_image(positions, stack_ids=["1"] * 3 + ["2"] * 3))
    with pytest.raises(MultipleVolumesError, match="TemporalPositionIdentifier"):
        combine_series(enhanced_image(positions, temporal=[1, 1, 1, 2, 2, 2]))


def test_find_series_offers_each_stack_of_an_enhanced_image(tmp_path: Path) -> None:
    image = enhanced_image(_axial(3) * 2, temporal=[1, 1, 1, 2, 2, 2])
    (tmp_path / "enhanced.dcm").write_bytes(to_bytes(image))
    (series,) = find_series(tmp_path)
    assert series.split_by == ()
    (stack,) = series.stacks
    assert (stack.volumes, stack.volumes_by) == (2, "temporal position")
    assert "3 slice(s) x 2 volumes (4D, by temporal position)" in stack.describe()
    volumes = combine_volumes(stack)
    assert list(volumes.header.volume_headers[1].frames) == [3, 4, 5]
    assert stack.files == (str(tmp_path / "enhanced.dcm"),)


def test_find_series_keeps_the_stacks_of_an_enhanced_image_apart(tmp_path: Path) -> None:
    image = enhanced_image(_axial(3) * 2, stack_ids=["1"] * 3 + ["2"] * 3)
    (tmp_path / "enhanced.dcm").write_bytes(to_bytes(image))
    (series,) = find_series(tmp_path)
    assert series.split_by == ("StackID",)
    first, second = series.stacks
    assert list(combine_series(second).header.frames) == [3, 4, 5]
    assert first.volumes == second.volumes == 1


def test_per_frame_groups_must_match_the_frame_count() -> None:
    image = enhanced_image(_axial(3))
    image.NumberOfFrames = 2
    image.PixelData = image.PixelData[: 2 * 6 * 4 * 2]
    with pytest.raises(InvalidPixelMetadataError, match="3 items for 2 frames"):
        combine_series(image)
