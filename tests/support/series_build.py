"""Building series and enhanced multi-frame images in memory for the volume tests.

Each slice's stored values are ``1024 + 100 * k + (r * columns + c) % 100``
for the slice built ``k``-th, so a test can tell which slice landed where.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import EnhancedCTImageStorage, generate_uid

from dicomnp.examples import ct_slice

Vector = tuple[float, float, float]


def pattern(k: int, rows: int, columns: int) -> NDArray[np.int16]:
    """The Hounsfield pattern of slice ``k``: stored value minus 1024."""
    index = np.arange(rows * columns).reshape(rows, columns) % 100
    return (100 * k + index).astype(np.int16)


def unit(vector: Sequence[float] | NDArray[Any]) -> NDArray[np.float64]:
    """``vector`` scaled to length 1."""
    array = np.asarray(vector, dtype=np.float64)
    scaled: NDArray[np.float64] = array / np.linalg.norm(array)
    return scaled


def geometry_series(
    count: int = 6,
    rows: int = 8,
    columns: int = 5,
    *,
    row_cosines: Vector = (1.0, 0.0, 0.0),
    column_cosines: Vector = (0.0, 1.0, 0.0),
    pixel_spacing: tuple[float, float] = (0.5, 0.8),
    spacing: float = 2.0,
    origin: Vector = (10.0, -20.0, 30.0),
    step: Vector | None = None,
    distances: Sequence[float] | None = None,
    decimals: int = 6,
) -> list[Dataset]:
    """A series of ``count`` CT slices on a grid given by the arguments.

    Slice ``k`` lies at ``origin + distances[k] * unit(step)``; ``step``
    defaults to the slice normal and ``distances`` to ``k * spacing``.
    Image Orientation and Position are written with ``decimals`` decimals.
    """
    normal = np.cross(row_cosines, column_cosines)
    direction = unit(step if step is not None else normal)
    if step is not None and distances is None:
        distances = [k * float(np.linalg.norm(step)) for k in range(count)]
    where = distances if distances is not None else [k * spacing for k in range(count)]
    series, study, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    datasets = []
    for k, distance in enumerate(where):
        position = np.asarray(origin) + distance * direction
        ds = ct_slice(
            pattern(k, rows, columns),
            position=(0.0, 0.0, 0.0),
            instance_number=k + 1,
            series_uid=series,
            study_uid=study,
            frame_of_reference_uid=frame_of_reference,
            pixel_spacing=pixel_spacing,
            slice_thickness=spacing,
        )
        ds.ImagePositionPatient = [f"{value:.{decimals}f}" for value in position]
        ds.ImageOrientationPatient = [
            f"{value:.{decimals}f}" for value in (*row_cosines, *column_cosines)
        ]
        datasets.append(ds)
    return datasets


def rgb_series(count: int = 3, rows: int = 4, columns: int = 6) -> list[Dataset]:
    """An axial series of 8-bit RGB slices; red = 10 k, green = row, blue = column."""
    datasets = geometry_series(count, rows, columns, pixel_spacing=(1.0, 1.0))
    for k, ds in enumerate(datasets):
        rgb = np.zeros((rows, columns, 3), dtype=np.uint8)
        rgb[..., 0] = 10 * k
        rgb[..., 1] = np.arange(rows)[:, None]
        rgb[..., 2] = np.arange(columns)[None, :]
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        for keyword in ("RescaleIntercept", "RescaleSlope", "RescaleType"):
            delattr(ds, keyword)
        ds.PixelData = rgb.tobytes()
    return datasets


def _item(**values: Any) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def enhanced_image(
    positions: Sequence[Vector],
    rows: int = 6,
    columns: int = 4,
    *,
    orientation: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    pixel_spacing: tuple[float, float] = (0.5, 0.8),
    stack_ids: Sequence[str] | None = None,
    temporal: Sequence[int] | None = None,
    slopes: Sequence[float] | None = None,
) -> Dataset:
    """An enhanced CT image with one frame per position, geometry in functional groups.

    Orientation and Pixel Measures are shared; Plane Position, Frame Content
    and (when ``slopes`` is given) Pixel Value Transformation are per frame.
    Frame ``k`` holds :func:`pattern` ``k``.
    """
    frames = len(positions)
    ds = ct_slice(pattern(0, rows, columns))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = EnhancedCTImageStorage
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        delattr(ds, keyword)
    ds.NumberOfFrames = frames
    ds.PixelData = b"".join(
        (pattern(k, rows, columns).astype(np.int32) + 1024).astype("<i2").tobytes()
        for k in range(frames)
    )
    shared = _item(
        PlaneOrientationSequence=DicomSequence(
            [_item(ImageOrientationPatient=[f"{v:.6f}" for v in orientation])]
        ),
        PixelMeasuresSequence=DicomSequence(
            [_item(PixelSpacing=[f"{v:g}" for v in pixel_spacing], SliceThickness="2")]
        ),
    )
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for k, position in enumerate(positions):
        content = _item(
            StackID=stack_ids[k] if stack_ids else "1",
            InStackPositionNumber=k + 1,
            TemporalPositionIndex=temporal[k] if temporal else 1,
        )
        item = _item(
            PlanePositionSequence=DicomSequence(
                [_item(ImagePositionPatient=[f"{v:.6f}" for v in position])]
            ),
            FrameContentSequence=DicomSequence([content]),
        )
        if slopes is not None:
            item.PixelValueTransformationSequence = DicomSequence(
                [_item(RescaleSlope=f"{slopes[k]:g}", RescaleIntercept="-1024")]
            )
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    return ds
