"""Synthetic example data written with pydicom, for demos, docs and tests.

Nothing here is read from elsewhere: every image is computed, so examples
work on any machine without downloads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

__all__ = ["ct_phantom", "ct_phantom_slice", "ct_series", "ct_slice", "write_ct_series"]


def ct_phantom(slices: int, rows: int, columns: int) -> NDArray[np.int16]:
    """Return a head-like phantom in Hounsfield units, shape ``(slices, rows, columns)``.

    Air (-1000) outside an ellipsoid of soft tissue (40) inside a bone shell
    (1000), with a small dense sphere (300) off centre so that orientation
    errors show.
    """
    z_values = np.linspace(-1, 1, slices) if slices > 1 else np.zeros(1)
    return np.stack([ct_phantom_slice(float(z), rows, columns) for z in z_values])


def ct_phantom_slice(z: float, rows: int, columns: int) -> NDArray[np.int16]:
    """Return the phantom's slice at height ``z`` in [-1, 1], shape ``(rows, columns)``."""
    y, x = np.meshgrid(np.linspace(-1, 1, rows), np.linspace(-1, 1, columns), indexing="ij")
    radius = np.sqrt((x / 0.8) ** 2 + (y / 0.9) ** 2 + (z / 1.2) ** 2)
    hu = np.full(radius.shape, -1000, dtype=np.int16)
    hu[radius < 1.0] = 1000
    hu[radius < 0.9] = 40
    hu[(x - 0.3) ** 2 + (y + 0.2) ** 2 + z**2 < 0.04] = 300
    return hu


def ct_slice(
    hu: NDArray[np.int16] | None = None,
    *,
    position: tuple[float, float, float] = (-120.0, -120.0, 0.0),
    instance_number: int = 1,
    series_uid: str | None = None,
    study_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    pixel_spacing: tuple[float, float] = (0.5, 0.5),
    slice_thickness: float = 2.0,
) -> Dataset:
    """Return one axial CT slice as a pydicom Dataset with file meta.

    Parameters
    ----------
    hu : numpy.ndarray of int16, optional
        Hounsfield units, shape ``(rows, columns)``; a 64x64 phantom slice by
        default.
    position : tuple of float
        Image Position (Patient) in mm.
    instance_number : int
        Instance Number.
    series_uid, study_uid, frame_of_reference_uid : str, optional
        UIDs to share between slices; new ones when omitted.
    pixel_spacing : tuple of float
        Row spacing then column spacing, in mm.
    slice_thickness : float
        Slice Thickness in mm.

    Returns
    -------
    pydicom.dataset.Dataset
        Explicit VR Little Endian, signed 16-bit, rescale intercept -1024.
    """
    if hu is None:
        hu = ct_phantom(3, 64, 64)[1]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.FrameOfReferenceUID = frame_of_reference_uid or generate_uid()
    ds.Modality = "CT"
    ds.PatientName = "Phantom^Head"
    ds.PatientID = "DICOMNP-EXAMPLE"
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [f"{value:.4f}" for value in position]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [f"{value:g}" for value in pixel_spacing]
    ds.SliceThickness = f"{slice_thickness:g}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = hu.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.PixelData = (hu.astype(np.int32) + 1024).astype("<i2").tobytes()
    return ds


def ct_series(
    slices: int = 20, rows: int = 64, columns: int = 64, *, spacing: float = 2.0
) -> list[Dataset]:
    """Return an axial CT series of ``slices`` datasets, ordered along +z (towards the head)."""
    return list(_ct_series(slices, rows, columns, spacing))


def _ct_series(slices: int, rows: int, columns: int, spacing: float) -> Iterator[Dataset]:
    series, study, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    z_values = np.linspace(-1, 1, slices) if slices > 1 else np.zeros(1)
    for k, z in enumerate(z_values):
        yield ct_slice(
            ct_phantom_slice(float(z), rows, columns),
            position=(-0.25 * columns, -0.25 * rows, k * spacing),
            instance_number=k + 1,
            series_uid=series,
            study_uid=study,
            frame_of_reference_uid=frame_of_reference,
            slice_thickness=spacing,
        )


def write_ct_series(
    folder: str | os.PathLike[str],
    slices: int = 20,
    rows: int = 64,
    columns: int = 64,
    *,
    spacing: float = 2.0,
) -> list[Path]:
    """Write a synthetic axial CT series into ``folder``, one file per slice.

    File names are shuffled with respect to slice position, as they often are
    in real exports, so that readers must sort by geometry. Slices are made
    and written one at a time, so large series need little memory.

    Returns
    -------
    list of pathlib.Path
        The files written, in slice order.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     len(write_ct_series(folder, slices=3, rows=8, columns=8))
    3
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    names = np.random.default_rng(0).permutation(slices)
    paths = []
    for dataset, number in zip(_ct_series(slices, rows, columns, spacing), names, strict=True):
        path = target / f"IM{number:05d}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
