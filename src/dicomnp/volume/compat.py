"""A drop-in for dicom_numpy 0.6: :func:`combine_slices` and :func:`sort_by_slice_position`.

Same inputs, same outputs: voxels indexed ``(column, row, slice)`` by default
(Fortran-ordered, so each slice is contiguous), float32 when any slice has
Rescale Slope or Rescale Intercept and ``rescale`` is None, and the float32
affine that maps ``(column, row, slice, 1)`` to patient LPS mm. dicom_numpy's
acceptance rules are kept (so results match it for every series it
accepts), but a refusal raises a precise :class:`~dicomnp.errors.SeriesError`
subclass naming the files and values, instead of ``DicomImportException``.

For the ``(slice, row, column)`` order, validated spacing and a non-singular
affine for one slice, use :func:`~dicomnp.combine_series`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import convert_color_space

from .._source import open_source, source_name
from ..decode import open_frames
from ..errors import (
    GeometryError,
    InconsistentSeriesError,
    MissingSliceError,
    SeriesError,
)
from .consistency import resolve_duplicates
from .geometry import cosines, describe_gaps, slice_positions
from .headers import SliceHeader
from .reading import read_headers

__all__ = ["combine_slices", "sort_by_slice_position"]

logger = logging.getLogger(__name__)

_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
_INVARIANTS = (
    "Modality",
    "SOPClassUID",
    "SeriesInstanceUID",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PixelSpacing",
    "PixelRepresentation",
    "BitsAllocated",
)


def _geometry_vectors(dataset: Dataset) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row and column cosines as dicom_numpy reads them, or a GeometryError."""
    orientation = dataset.get("ImageOrientationPatient")
    if orientation is None or len(orientation) != 6:
        raise GeometryError(
            f"ImageOrientationPatient is missing or malformed: {orientation!r}",
            path=source_name(dataset),
            files=[source_name(dataset)],
        )
    values = np.array([float(value) for value in orientation])
    return values[:3], values[3:]


def _position(dataset: Dataset) -> list[float]:
    position = dataset.get("ImagePositionPatient")
    if position is None or len(position) != 3:
        raise GeometryError(
            f"ImagePositionPatient is missing or malformed: {position!r}",
            path=source_name(dataset),
            files=[source_name(dataset)],
        )
    return [float(value) for value in position]


def _positions(datasets: Sequence[Dataset]) -> list[float]:
    """Positions along the (unnormalised) normal of the first data set, as dicom_numpy does."""
    row, column = _geometry_vectors(datasets[0])
    normal = np.cross(row, column)
    return [float(np.dot(normal, _position(dataset))) for dataset in datasets]


def sort_by_slice_position(datasets: Iterable[Dataset]) -> list[Dataset]:
    """Return ``datasets`` sorted by position along the slice normal, as dicom_numpy does.

    The normal is that of the first data set; equal positions keep their
    input order. Pixel data are not needed.

    Raises
    ------
    GeometryError
        A data set has no Image Orientation or Image Position (Patient).

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> [int(ds.InstanceNumber) for ds in sort_by_slice_position(slices[::-1])]
    [1, 2, 3]
    """
    items = list(datasets)
    if not items:
        return []
    positions = _positions(items)
    order = sorted(range(len(items)), key=lambda index: positions[index])
    return [items[index] for index in order]


def _is_dicomdir(dataset: Dataset) -> bool:
    meta = getattr(dataset, "file_meta", None)
    classes = {dataset.get("MediaStorageSOPClassUID")}
    if meta is not None:
        classes.add(meta.get("MediaStorageSOPClassUID"))
    return _DICOMDIR_CLASS in classes


def combine_slices(
    datasets: Iterable[Dataset],
    rescale: bool | None = None,
    enforce_slice_spacing: bool = True,
    sort_by_instance: bool = False,
    skip_sorting: bool = False,
    c_order_axes: bool = False,
) -> tuple[NDArray[Any], NDArray[np.float32]]:
    """Stack the slices of a series as dicom_numpy 0.6 does; a drop-in replacement.

    Parameters
    ----------
    datasets : iterable of pydicom.Dataset
        The slices, with pixel data. DICOMDIR data sets are ignored.
    rescale : bool or None
        None: float32 with each slice's Rescale Slope and Intercept applied if
        any slice has either, else the stored dtype. True: always float32,
        rescaled. False: never rescaled.
    enforce_slice_spacing : bool
        Refuse missing slices (gaps more than 10 % from the first gap).
    sort_by_instance : bool
        Sort by decreasing Instance Number instead of position.
    skip_sorting : bool
        Keep the given order.
    c_order_axes : bool
        Voxels ``(slice, row, column)`` C-ordered instead of
        ``(column, row, slice)`` Fortran-ordered; the affine is the same.

    Returns
    -------
    voxels : numpy.ndarray
        ``(columns, rows, slices)``; colour slices ``(3, columns, rows, slices)``.
    ijk_to_xyz : numpy.ndarray
        4x4 float32: ``(column, row, slice, 1)`` to patient LPS mm. For one
        slice the slice column is Spacing Between Slices times the normal, or
        zero (a singular affine) when that is absent, as in dicom_numpy.

    Raises
    ------
    SeriesError
        No image data sets.
    InconsistentSeriesError
        Modality, SOP Class, Series Instance UID, Rows, Columns, Samples per
        Pixel, Pixel Spacing, Pixel Representation or Bits Allocated differ.
    GeometryError
        Orientation missing, not orthonormal (1e-4) or differing (1e-5).
    MissingSliceError, DuplicateSliceError, MultipleVolumesError
        The positions do not form an evenly spaced stack.

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> voxels, ijk_to_xyz = combine_slices(ct_series(4, 8, 6))
    >>> voxels.shape, voxels.dtype.name, voxels.flags.f_contiguous
    ((6, 8, 4), 'float32', True)
    >>> ijk_to_xyz[:3, 2].tolist()
    [0.0, 0.0, 2.0]
    """
    items = [dataset for dataset in datasets if not _is_dicomdir(dataset)]
    if not items:
        raise SeriesError("Must provide at least one image DICOM dataset")
    if skip_sorting:
        ordered = items
    elif sort_by_instance:
        ordered = _sort_by_instance(items)
    else:
        ordered = sort_by_slice_position(items)
    headers = [read_headers(dataset)[0] for dataset in ordered]
    _validate(ordered, headers, enforce_slice_spacing)
    voxels = _merge(ordered, headers, rescale, c_order_axes)
    return voxels, _affine(ordered)


def _sort_by_instance(items: list[Dataset]) -> list[Dataset]:
    numbers = [dataset.get("InstanceNumber") for dataset in items]
    missing = [source_name(d) for d, number in zip(items, numbers, strict=True) if number is None]
    if missing:
        raise InconsistentSeriesError(
            f"InstanceNumber is missing in {', '.join(missing[:5])}; cannot sort by instance",
            files=missing,
        )
    order = sorted(range(len(items)), key=lambda index: int(numbers[index]), reverse=True)
    return [items[index] for index in order]


def _validate(
    ordered: Sequence[Dataset], headers: Sequence[SliceHeader], enforce_slice_spacing: bool
) -> None:
    first = ordered[0]
    for keyword in _INVARIANTS:
        expected = first.get(keyword)
        for dataset, header in zip(ordered[1:], headers[1:], strict=True):
            value = dataset.get(keyword)
            if value != expected:
                raise InconsistentSeriesError(
                    f"{keyword} differs between slices: {headers[0].label} has {expected!r}, "
                    f"{header.label} has {value!r}",
                    files=[headers[0].name, header.name],
                )
    cosines(headers[0])
    reference = np.array(headers[0].orientation)
    for header in headers[1:]:
        if header.orientation is None or not np.allclose(header.orientation, reference, atol=1e-5):
            raise GeometryError(
                f"ImageOrientationPatient differs: {headers[0].label} has "
                f"{list(reference)}, {header.label} has {header.orientation} "
                "(tolerance 1e-5)",
                files=[headers[0].name, header.name],
            )
    if enforce_slice_spacing and len(ordered) > 1:
        gaps = np.diff(sorted(_positions(ordered)))
        if not np.allclose(gaps, gaps[0], atol=0, rtol=1e-5):
            logger.warning("the slice spacing is non-uniform; slice spacings: %s", gaps)
        if not np.allclose(gaps, gaps[0], atol=0, rtol=1e-1):
            _explain_spacing(headers, gaps)


def _explain_spacing(headers: Sequence[SliceHeader], gaps: NDArray[Any]) -> None:
    """Raise the precise error for a stack dicom_numpy refuses as missing slices."""
    _, _, normal = cosines(headers[0])
    by_position = sorted(headers, key=lambda header: float(np.dot(normal, header.position or ())))
    distances = slice_positions(by_position, normal)
    resolve_duplicates(by_position, distances, atol=1e-3, same_pixels=None)
    describe_gaps(by_position, distances, rtol=0.1, atol=0.0)
    raise MissingSliceError(
        f"the gaps between slices {[round(float(gap), 4) for gap in gaps]} mm differ from the "
        "first gap by more than 10 %: slices appear to be missing",
        files=[header.name for header in by_position],
    )


def _merge(
    ordered: Sequence[Dataset],
    headers: Sequence[SliceHeader],
    rescale: bool | None,
    c_order_axes: bool,
) -> NDArray[Any]:
    if rescale is None:
        rescale = any(
            "RescaleSlope" in dataset or "RescaleIntercept" in dataset for dataset in ordered
        )
    first = headers[0]
    natural = np.dtype(first.dtype)
    plane = (first.rows, first.columns) + (
        (first.samples_per_pixel,) if first.samples_per_pixel > 1 else ()
    )
    count = len(ordered)
    dtype = np.dtype(np.float32) if rescale else natural
    if c_order_axes:
        voxels = np.empty((count, *plane), dtype=dtype)
    else:
        voxels = np.empty((*plane[::-1], count), dtype=dtype, order="F")
    frame_shape = (first.rows, first.columns, first.samples_per_pixel)
    scratch = np.empty(frame_shape, dtype=natural) if rescale else None
    for index, dataset in enumerate(ordered):
        # A C-contiguous (rows, columns[, samples]) view of the slice's place.
        slot = voxels[index] if c_order_axes else voxels[..., index].T
        target = scratch if scratch is not None else slot.reshape(frame_shape)
        _decode_like_pixel_array(dataset, target)
        if scratch is not None:
            slope = float(dataset.get("RescaleSlope", 1))
            intercept = float(dataset.get("RescaleIntercept", 0))
            slot[...] = (scratch.astype(np.float32) * slope + intercept).reshape(slot.shape)
    return voxels


def _decode_like_pixel_array(dataset: Dataset, out: NDArray[Any]) -> None:
    """Decode into ``out`` the values pydicom's ``Dataset.pixel_array`` gives.

    Those are the stored values, except that YBR_FULL and YBR_FULL_422 are
    converted to RGB.
    """
    with open_source(dataset) as opened:
        decoder = open_frames(opened)
        decoder.decode_into(0, out)
        if decoder.photometric_interpretation in ("YBR_FULL", "YBR_FULL_422"):
            out[...] = convert_color_space(out, "YBR_FULL", "RGB")


def _affine(ordered: Sequence[Dataset]) -> NDArray[np.float32]:
    first = ordered[0]
    row, column = _geometry_vectors(first)
    normal = np.cross(row, column)
    spacing = first.get("PixelSpacing")
    if spacing is None or len(spacing) != 2:
        raise GeometryError(
            f"PixelSpacing is missing or malformed: {spacing!r}",
            path=source_name(first),
            files=[source_name(first)],
        )
    row_spacing, column_spacing = (float(value) for value in spacing)
    if len(ordered) > 1:
        slice_spacing = float(np.median(np.diff(_positions(ordered))))
    else:
        slice_spacing = float(first.get("SpacingBetweenSlices") or 0)
    transform = np.identity(4, dtype=np.float32)
    transform[:3, 0] = row * column_spacing
    transform[:3, 1] = column * row_spacing
    transform[:3, 2] = normal * slice_spacing
    transform[:3, 3] = _position(first)
    return transform
