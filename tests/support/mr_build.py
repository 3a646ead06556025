"""MR images for the mosaic and 4D tests, built with pydicom.

:func:`mr_slice` is one classic MR image; :func:`mosaic_image` packs slices
into a Siemens mosaic with a CSA header written by
:func:`dicomnp.volume.csa.build_csa`. Pixel values say where they came from:
``1000 * volume + 100 * slice + (r * columns + c) % 100``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from dicomnp.volume.csa import build_csa

Vector = tuple[float, float, float]


def values(volume: int, index: int, rows: int, columns: int) -> NDArray[np.uint16]:
    """The pixels of slice ``index`` of volume ``volume``."""
    base = np.arange(rows * columns).reshape(rows, columns) % 100
    return (1000 * volume + 100 * index + base).astype(np.uint16)


def mr_slice(
    pixels: NDArray[np.uint16],
    *,
    position: Sequence[float],
    orientation: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    pixel_spacing: tuple[float, float] = (2.0, 2.0),
    series_uid: str,
    frame_of_reference_uid: str,
    instance_number: int = 1,
    **attributes: Any,
) -> Dataset:
    """One classic MR image (unsigned 16-bit) with the given extra attributes."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.3.4"
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_of_reference_uid
    ds.Modality = "MR"
    ds.SeriesNumber = 7
    ds.SeriesDescription = "test"
    ds.InstanceNumber = instance_number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
    ds.ImageOrientationPatient = [f"{v:.8f}" for v in orientation]
    ds.PixelSpacing = [f"{v:g}" for v in pixel_spacing]
    ds.SliceThickness = "3"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def mosaic_image(
    tiles: Sequence[NDArray[np.uint16]],
    *,
    first_position: Vector,
    orientation: Sequence[float],
    pixel_spacing: tuple[float, float],
    spacing: float,
    normal: Vector,
    series_uid: str,
    frame_of_reference_uid: str,
    instance_number: int = 1,
    csa: dict[str, tuple[str, Sequence[str]]] | None = None,
    **attributes: Any,
) -> Dataset:
    """A Siemens mosaic of ``tiles`` whose first slice's first pixel is at ``first_position``.

    The mosaic's Image Position (Patient) is written as Siemens writes it:
    shifted from the first slice's by half the size difference between the
    mosaic and one slice, along the rows and the columns.
    """
    count = len(tiles)
    per_row = int(np.ceil(np.sqrt(count)))
    rows, columns = tiles[0].shape
    image = np.zeros((rows * per_row, columns * per_row), dtype=np.uint16)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, per_row)
        image[r * rows : (r + 1) * rows, c * columns : (c + 1) * columns] = tile
    x = np.asarray(orientation[:3], dtype=np.float64)
    y = np.asarray(orientation[3:], dtype=np.float64)
    corner = (
        np.asarray(first_position)
        - x * pixel_spacing[1] * (image.shape[1] - columns) / 2
        - y * pixel_spacing[0] * (image.shape[0] - rows) / 2
    )
    elements: dict[str, tuple[str, Sequence[str]]] = {
        "NumberOfImagesInMosaic": ("US", [str(count)]),
        "SliceNormalVector": ("FD", [f"{v:.8f}" for v in normal]),
    }
    elements.update(csa or {})
    ds = mr_slice(
        image,
        position=tuple(corner),
        orientation=orientation,
        pixel_spacing=pixel_spacing,
        series_uid=series_uid,
        frame_of_reference_uid=frame_of_reference_uid,
        instance_number=instance_number,
        SpacingBetweenSlices=f"{spacing:.6f}",
        Manufacturer="SIEMENS",
        **attributes,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", build_csa(elements))
    return ds


def classic_volumes(
    volumes: int,
    slices: int,
    rows: int = 4,
    columns: int = 5,
    *,
    per_volume: Sequence[dict[str, Any]] | None = None,
    per_slice_trigger: bool = False,
) -> list[Dataset]:
    """``volumes`` axial volumes of ``slices`` classic MR images, in acquisition order.

    Image k of volume v has Instance Number ``v * slices + k + 1`` and the
    attributes ``per_volume[v]``; with ``per_slice_trigger`` every image gets
    its own TriggerTime, as GE multi-phase series have.
    """
    series, frame = generate_uid(), generate_uid()
    out = []
    for v in range(volumes):
        for k in range(slices):
            extra = dict(per_volume[v]) if per_volume else {}
            if per_slice_trigger:
                extra["TriggerTime"] = f"{100 * (v * slices + k) + 7}"
            out.append(
                mr_slice(
                    values(v, k, rows, columns),
                    position=(-4.0, -5.0, 3.0 * k),
                    series_uid=series,
                    frame_of_reference_uid=frame,
                    instance_number=v * slices + k + 1,
                    **extra,
                )
            )
    return out
