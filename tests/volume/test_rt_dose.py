"""RT Dose: a multi-frame image whose frames are placed by Grid Frame Offset Vector (3004,000C)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import RTDoseStorage

import dicomnp
from dicomnp.cli import main
from dicomnp.examples import ct_slice
from support.build import to_bytes
from support.corpus import Entry, file_params, path_of

ORIGIN = (-20.0, -30.0, 40.0)


def rt_dose(offsets: list[float], *, rows: int = 4, columns: int = 5) -> tuple[Dataset, Any]:
    """An RT Dose of ``len(offsets)`` uint32 frames, each frame's values telling its index."""
    ds = ct_slice(position=ORIGIN, pixel_spacing=(2.0, 3.0))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = RTDoseStorage
    ds.Modality = "RTDOSE"
    del ds.RescaleSlope, ds.RescaleIntercept
    frames = len(offsets)
    values = (
        np.arange(frames * rows * columns, dtype=np.uint32).reshape(frames, rows, columns)
        + 1000 * np.arange(frames, dtype=np.uint32)[:, None, None]
    )
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x3004000C
    ds.GridFrameOffsetVector = offsets
    ds.DoseGridScaling = 1e-4
    ds.PixelData = values.astype("<u4").tobytes()
    return ds, values


def test_relative_offsets_give_the_spacing_and_affine() -> None:
    ds, values = rt_dose([0.0, 2.5, 5.0, 7.5])
    volume = dicomnp.combine_series(ds)
    np.testing.assert_array_equal(volume.array[..., 0], values)
    assert volume.spacing == pytest.approx((2.5, 2.0, 3.0))
    # (slice, row, column) to LPS mm: slices along +z, rows along +y, columns along +x
    expected = [
        [0.0, 0.0, 3.0, ORIGIN[0]],
        [0.0, 2.0, 0.0, ORIGIN[1]],
        [2.5, 0.0, 0.0, ORIGIN[2]],
        [0.0, 0.0, 0.0, 1.0],
    ]
    np.testing.assert_allclose(volume.affine, expected)


def test_absolute_offsets_are_z_coordinates_and_descending_ones_are_sorted() -> None:
    ds, values = rt_dose([40.0, 37.0, 34.0])
    volume = dicomnp.combine_series(ds)
    np.testing.assert_array_equal(volume.array[..., 0], values[::-1])
    assert volume.spacing[0] == pytest.approx(3.0)
    np.testing.assert_allclose(volume.affine[:3, 3], (ORIGIN[0], ORIGIN[1], 34.0))


def test_an_offset_count_other_than_the_frame_count_is_named() -> None:
    ds, _ = rt_dose([0.0, 2.5, 5.0])
    ds.GridFrameOffsetVector = [0.0, 2.5]
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match=r"\(3004,000C\).*2 offsets"):
        dicomnp.combine_series(ds)


def test_absolute_offsets_in_a_sagittal_plane_are_refused() -> None:
    ds, _ = rt_dose([40.0, 42.0])
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    with pytest.raises(dicomnp.GeometryError, match="axial planes only"):
        dicomnp.combine_series(ds)


def test_convert_writes_the_dose_volume(tmp_path: Path) -> None:
    ds, values = rt_dose([0.0, 2.5, 5.0])
    source = tmp_path / "dose.dcm"
    source.write_bytes(to_bytes(ds))
    assert main(["convert", str(source), "-o", str(tmp_path / "dose.npy"), "--quiet"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "dose.npy")[..., 0], values)


def rt_dose_files(entry: Entry) -> bool:
    return bool(
        entry["sop_class_name"] == "RT Dose Storage"
        and entry["number_of_frames"] > 1
        and entry["oracle"].get("ok")
    )


@pytest.mark.parametrize("entry", file_params(rt_dose_files))
def test_corpus_rt_dose_is_a_volume_equal_to_pydicom(entry: Entry) -> None:
    path = path_of(entry)
    dataset = pydicom.dcmread(path)
    volume = dicomnp.combine_series(path)
    np.testing.assert_array_equal(volume.array[..., 0], dataset.pixel_array)
    offsets = [float(value) for value in dataset.GridFrameOffsetVector]
    assert volume.spacing[0] == pytest.approx(offsets[1] - offsets[0])
    np.testing.assert_allclose(
        volume.affine[:3, 3], [float(v) for v in dataset.ImagePositionPatient]
    )
