"""A drop-in for dicom_numpy 0.6: :func:`combine_slices` and the two sort functions.

Same inputs, same outputs: voxels indexed ``(column, row, slice)`` by default
(Fortran-ordered, so each slice is contiguous), float32 when any slice has
Rescale Slope or Rescale Intercept and ``rescale`` is None, and the float32
affine that maps ``(column, row, slice, 1)`` to patient LPS mm. The slices
may be pydicom Datasets, paths, or any object that has the DICOM attributes
by keyword and a ``pixel_array`` (as dicom_numpy's own test fixtures are). A
Dataset's pixels are its ``pixel_array`` when pydicom already holds one
(edited in place, say), else dicomnp decodes them to the same values.

dicom_numpy's acceptance rules are kept (so results match it for every
series it accepts), but a refusal raises a precise
:class:`~dicomnp.errors.SeriesError` subclass naming the slices and values;
``DicomImportException`` is another name for ``SeriesError``, so code that
catches it keeps working.

For the ``(slice, row, column)`` order, validated spacing and a non-singular
affine for one slice, use :func:`~dicomnp.combine_series`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import convert_color_space

from .._attributes import HeadAttributes
from .._source import open_source, source_name
from ..decode import open_frames
from ..errors import (
    DuplicateSliceError,
    GeometryError,
    InconsistentSeriesError,
    MissingInstanceNumberException,
    MissingSliceError,
    SeriesError,
)
from .consistency import resolve_duplicates
from .dicomdir import DICOMDIR_CLASS
from .geometry import describe_gaps, reference_spacing, slice_positions
from .headers import SliceHeader
from .reading import read_headers

__all__ = ["combine_slices", "sort_by_instance_number", "sort_by_slice_position"]

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class _Slice:
    """One input of :func:`combine_slices`: what it is, how to name it, where its attributes are."""

    item: Any
    name: str
    attributes: Any

    def get(self, keyword: str) -> Any:
        """The attribute ``keyword``, None when absent (or empty in a data set)."""
        if isinstance(self.attributes, (Dataset, HeadAttributes)):
            return self.attributes.get(keyword)
        return getattr(self.attributes, keyword, None)

    @property
    def decodable(self) -> bool:
        """True when dicomnp can read the item itself (a Dataset or a path)."""
        return isinstance(self.item, (Dataset, str, os.PathLike))


def _slice_of(item: Any, index: int) -> _Slice:
    if isinstance(item, (str, os.PathLike)):
        with open_source(item) as opened:
            return _Slice(item, opened.name, opened.dataset)
    if isinstance(item, Dataset):
        return _Slice(item, source_name(item), item)
    filename = getattr(item, "filename", None)
    name = filename if isinstance(filename, str) and filename else f"slice {index}"
    return _Slice(item, f"{name} ({type(item).__name__})", item)


def _slices_of(items: Iterable[Any]) -> list[_Slice]:
    return [_slice_of(item, index) for index, item in enumerate(items)]


def _floats(entry: _Slice, keyword: str, count: int) -> NDArray[np.float64]:
    value = entry.get(keyword)
    try:
        values = np.array([float(item) for item in value], dtype=np.float64)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.size != count:
        hint = (
            "; an enhanced multi-frame image keeps it per frame: use combine_series"
            if keyword == "ImageOrientationPatient" and entry.get("NumberOfFrames") is not None
            else ""
        )
        raise GeometryError(
            f"{keyword} is missing or malformed: {value!r}{hint}",
            path=entry.name,
            files=[entry.name],
        )
    return values


def _normal(entry: _Slice) -> NDArray[np.float64]:
    orientation = _floats(entry, "ImageOrientationPatient", 6)
    return np.cross(orientation[:3], orientation[3:])


def _positions(entries: Sequence[_Slice]) -> list[float]:
    """Positions along the (unnormalised) normal of the first slice, as dicom_numpy takes them."""
    normal = _normal(entries[0])
    return [float(np.dot(normal, _floats(entry, "ImagePositionPatient", 3))) for entry in entries]


def _by_position(entries: Sequence[_Slice]) -> list[_Slice]:
    if not entries:
        return []
    positions = _positions(entries)
    return [entries[i] for i in sorted(range(len(entries)), key=positions.__getitem__)]


def _by_instance(entries: Sequence[_Slice]) -> list[_Slice]:
    numbers = [entry.get("InstanceNumber") for entry in entries]
    missing = [entry.name for entry, number in zip(entries, numbers, strict=True) if number is None]
    if missing:
        raise MissingInstanceNumberException(
            f"InstanceNumber is missing in {len(missing)} of {len(entries)} slices "
            f"({', '.join(missing[:5])}); cannot sort by instance",
            files=missing,
        )
    order = sorted(range(len(entries)), key=lambda i: int(numbers[i]), reverse=True)
    return [entries[i] for i in order]


def sort_by_slice_position(datasets: Iterable[Any]) -> list[Any]:
    """Return the slices sorted by position along the slice normal, as dicom_numpy does.

    The normal is that of the first slice; equal positions keep their input
    order. Pixel data are not needed.

    Parameters
    ----------
    datasets : iterable
        pydicom Datasets, paths, or objects with the DICOM attributes by keyword.

    Returns
    -------
    list
        The same objects, sorted.

    Raises
    ------
    GeometryError
        A slice has no Image Orientation or Image Position (Patient).

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> [int(ds.InstanceNumber) for ds in sort_by_slice_position(slices[::-1])]
    [1, 2, 3]
    """
    return [entry.item for entry in _by_position(_slices_of(datasets))]


def sort_by_instance_number(datasets: Iterable[Any]) -> list[Any]:
    """Return the slices sorted by decreasing Instance Number, as dicom_numpy does.

    Parameters
    ----------
    datasets : iterable
        pydicom Datasets, paths, or objects with the DICOM attributes by keyword.

    Returns
    -------
    list
        The same objects, the highest Instance Number first.

    Raises
    ------
    MissingInstanceNumberException
        A slice has no Instance Number; the message names it.

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> [int(ds.InstanceNumber) for ds in sort_by_instance_number(slices)]
    [3, 2, 1]
    """
    return [entry.item for entry in _by_instance(_slices_of(datasets))]


def _is_dicomdir(entry: _Slice) -> bool:
    classes = {entry.get("MediaStorageSOPClassUID")}
    meta = getattr(entry.attributes, "file_meta", None) if entry.decodable else None
    if meta is not None:
        classes.add(meta.get("MediaStorageSOPClassUID"))
    return DICOMDIR_CLASS in classes


def combine_slices(
    datasets: Iterable[Any],
    rescale: bool | None = None,
    enforce_slice_spacing: bool = True,
    sort_by_instance: bool = False,
    skip_sorting: bool = False,
    c_order_axes: bool = False,
) -> tuple[NDArray[Any], NDArray[np.float32]]:
    """Stack the slices of a series as dicom_numpy 0.6 does; a drop-in replacement.

    Parameters
    ----------
    datasets : iterable
        The slices: pydicom Datasets, paths, or objects with the DICOM
        attributes by keyword and a ``pixel_array``. DICOMDIR data sets are
        ignored.
    rescale : bool or None
        None: float32 with each slice's Rescale Slope and Intercept applied if
        any slice has either, else the stored dtype. True: always float32,
        rescaled. False: never rescaled.
    enforce_slice_spacing : bool
        Refuse missing slices (gaps more than 10 % from the first gap) and
        two slices at one position (dicom_numpy accepts a stack made only of
        such duplicates; this does not).
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
        Each slice's ``pixel_array`` transposed, stacked on a last axis:
        ``(columns, rows, slices)``; colour slices ``(3, columns, rows,
        slices)``; multi-frame slices ``(columns, rows, frames, slices)``.
    ijk_to_xyz : numpy.ndarray
        4x4 float32: ``(column, row, slice, 1)`` to patient LPS mm. For one
        slice the slice column is Spacing Between Slices times the normal, or
        zero (a singular affine) when that is absent, as in dicom_numpy.

    Raises
    ------
    SeriesError
        No image slices, or a slice that is neither a Dataset, a path nor
        an object with a ``pixel_array``.
    InconsistentSeriesError
        Modality, SOP Class, Series Instance UID, Rows, Columns, Samples per
        Pixel, Pixel Spacing, Pixel Representation or Bits Allocated differ.
    MissingInstanceNumberException
        ``sort_by_instance`` and a slice has no Instance Number.
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
    entries = [entry for entry in _slices_of(datasets) if not _is_dicomdir(entry)]
    if not entries:
        raise SeriesError("Must provide at least one image DICOM dataset")
    if skip_sorting:
        ordered = entries
    elif sort_by_instance:
        ordered = _by_instance(entries)
    else:
        ordered = _by_position(entries)
    _validate(ordered, enforce_slice_spacing)
    voxels = _merge(ordered, rescale, c_order_axes)
    return voxels, _affine(ordered)


def _validate(ordered: Sequence[_Slice], enforce_slice_spacing: bool) -> None:
    first = ordered[0]
    for keyword in _INVARIANTS:
        expected = first.get(keyword)
        for entry in ordered[1:]:
            value = entry.get(keyword)
            if value != expected:
                raise InconsistentSeriesError(
                    f"{keyword} differs between slices: {first.name} has {expected!r}, "
                    f"{entry.name} has {value!r}",
                    files=[first.name, entry.name],
                )
    reference = _floats(first, "ImageOrientationPatient", 6)
    _check_orthonormal(first, reference[:3], reference[3:])
    for entry in ordered[1:]:
        orientation = _floats(entry, "ImageOrientationPatient", 6)
        if not np.allclose(orientation, reference, atol=1e-5):
            raise GeometryError(
                f"ImageOrientationPatient differs: {first.name} has {reference.tolist()}, "
                f"{entry.name} has {orientation.tolist()} (tolerance 1e-5)",
                files=[first.name, entry.name],
            )
    if enforce_slice_spacing and len(ordered) > 1:
        positions = _positions(ordered)
        gaps = np.diff(sorted(positions))
        if not np.allclose(gaps, gaps[0], atol=0, rtol=1e-5):
            logger.warning("the slice spacing is non-uniform; slice spacings: %s", gaps)
        if not np.allclose(gaps, gaps[0], atol=0, rtol=1e-1) or np.any(gaps <= 1e-3):
            _explain_spacing(ordered, positions)


def _check_orthonormal(
    entry: _Slice, row: NDArray[np.float64], column: NDArray[np.float64]
) -> None:
    """dicom_numpy's test of the cosines: refused past 1e-4, a warning past 1e-8."""
    measures = {
        "the dot product of the row and column cosines": float(np.dot(row, column)),
        "the row cosine's length minus 1": float(np.linalg.norm(row)) - 1.0,
        "the column cosine's length minus 1": float(np.linalg.norm(column)) - 1.0,
    }
    for what, value in measures.items():
        if not math.isclose(value, 0.0, abs_tol=1e-4):
            raise GeometryError(
                f"ImageOrientationPatient is not orthonormal: {what} is {value:.3g} "
                f"(tolerance 1e-4): {row.tolist()}, {column.tolist()}",
                path=entry.name,
                files=[entry.name],
            )
        if not math.isclose(value, 0.0, abs_tol=1e-8):
            logger.warning("%s: %s is %.3g", entry.name, what, value)


def _explain_spacing(ordered: Sequence[_Slice], positions: Sequence[float]) -> NoReturn:
    """Raise the precise error for a stack dicom_numpy refuses as missing slices."""
    order = sorted(range(len(ordered)), key=positions.__getitem__)
    entries = [ordered[i] for i in order]
    distances = np.array([positions[i] for i in order])
    for k in np.flatnonzero(np.diff(distances) <= 1e-3):
        a, b = entries[k], entries[k + 1]
        uid = a.get("SOPInstanceUID")
        if a.item is b.item or (uid is not None and uid == b.get("SOPInstanceUID")):
            what = "the same object" if a.item is b.item else f"SOP Instance UID {uid}"
            raise DuplicateSliceError(
                f"the same image is given twice ({what}): {a.name} and {b.name} at position "
                f"{distances[k]:.4f} mm; pass each slice once",
                files=[a.name, b.name],
            )
    if all(entry.decodable for entry in entries):
        # The slice headers tell why: several volumes at one position, or where slices are missing.
        headers = [read_headers(entry.item)[0] for entry in entries]
        normal = _normal(entries[0])
        by_position = slice_positions(headers, normal / np.linalg.norm(normal))
        resolve_duplicates(headers, by_position, atol=1e-3, same_pixels=None)
        describe_gaps(headers, by_position, rtol=0.1, atol=0.0)
        _refuse_gaps(headers, distances)
    _refuse_gaps(None, distances, entries)


def _refuse_gaps(
    headers: Sequence[SliceHeader] | None,
    distances: NDArray[Any],
    entries: Sequence[_Slice] = (),
) -> NoReturn:
    names = (
        [header.name for header in headers] if headers is not None else [e.name for e in entries]
    )
    gaps = np.diff(distances)
    if np.any(gaps <= 1e-3):
        k = int(np.flatnonzero(gaps <= 1e-3)[0])
        raise DuplicateSliceError(
            f"2 different images at position {distances[k]:.4f} mm: {names[k]}, {names[k + 1]}",
            files=[names[k], names[k + 1]],
        )
    spacing = reference_spacing(gaps)
    wide = [k for k, gap in enumerate(gaps) if gap > spacing * 1.1] or [0]
    where = "; ".join(
        f"between {names[k]} and {names[k + 1]} the gap is {gaps[k]:.4g} mm" for k in wide[:5]
    )
    raise MissingSliceError(
        f"slices appear to be missing: {where}, the spacing elsewhere is {spacing:.4g} mm "
        "(dicom_numpy's rule: every gap within 10 % of the first); "
        "enforce_slice_spacing=False stacks them anyway",
        gaps=[(k, float(gaps[k] / spacing - 1)) for k in wide],
        files=names,
    )


def _merge(ordered: Sequence[_Slice], rescale: bool | None, c_order_axes: bool) -> NDArray[Any]:
    if rescale is None:
        rescale = any(
            entry.get("RescaleSlope") is not None or entry.get("RescaleIntercept") is not None
            for entry in ordered
        )
    first = _pixels(ordered[0])
    count = len(ordered)
    dtype = np.dtype(np.float32) if rescale else first.dtype
    if c_order_axes:
        voxels = np.empty((count, *first.shape), dtype=dtype)
    else:
        voxels = np.empty((*first.shape[::-1], count), dtype=dtype, order="F")
    for index, entry in enumerate(ordered):
        pixels = first if index == 0 else _pixels(entry)
        if pixels.shape != first.shape:
            raise InconsistentSeriesError(
                f"pixel arrays differ in shape: {ordered[0].name} has {first.shape}, "
                f"{entry.name} has {pixels.shape}",
                files=[ordered[0].name, entry.name],
            )
        if rescale:
            slope = float(entry.get("RescaleSlope") or 1)
            intercept = float(entry.get("RescaleIntercept") or 0)
            pixels = pixels.astype(np.float32) * slope + intercept
        if c_order_axes:
            voxels[index] = pixels
        else:
            voxels[..., index] = pixels.T
    return voxels


def _pixels(entry: _Slice) -> NDArray[Any]:
    """The slice's ``pixel_array``: the one it holds, or decoded to the values pydicom gives."""
    item = entry.item
    if isinstance(item, Dataset):
        # pydicom keeps the array it decoded (and any edit of it) until the pixel data change.
        if getattr(item, "_pixel_array", None) is not None:
            return np.asarray(item.pixel_array)
    elif not isinstance(item, (str, os.PathLike)):
        held = getattr(item, "pixel_array", None)
        if held is None:
            raise SeriesError(
                f"{type(item).__name__} is not a slice: a slice is a pydicom Dataset, a path, "
                "or an object with the DICOM attributes and a pixel_array",
                path=entry.name,
                files=[entry.name],
            )
        return np.asarray(held)
    return _decode_like_pixel_array(item)


def _decode_like_pixel_array(source: Any) -> NDArray[Any]:
    """Decode what pydicom's ``Dataset.pixel_array`` gives, shaped as it shapes it.

    Those are the stored values, except that YBR_FULL and YBR_FULL_422 are
    converted to RGB; the frame axis is there only for several frames, the
    sample axis only for several samples.
    """
    with open_source(source) as opened:
        decoder = open_frames(opened)
        info = decoder.info
        frames = decoder.frame_count
        out = np.empty((frames, info.rows, info.columns, info.samples_per_pixel), dtype=info.dtype)
        for frame in range(frames):
            decoder.decode_into(frame, out[frame])
        if decoder.photometric_interpretation in ("YBR_FULL", "YBR_FULL_422"):
            out = convert_color_space(out, "YBR_FULL", "RGB")
    shape = ((frames,) if frames > 1 else ()) + (info.rows, info.columns)
    if info.samples_per_pixel > 1:
        shape += (info.samples_per_pixel,)
    return out.reshape(shape)


def _affine(ordered: Sequence[_Slice]) -> NDArray[np.float32]:
    first = ordered[0]
    orientation = _floats(first, "ImageOrientationPatient", 6)
    row, column = orientation[:3], orientation[3:]
    row_spacing, column_spacing = _floats(first, "PixelSpacing", 2)
    if len(ordered) > 1:
        slice_spacing = float(np.median(np.diff(_positions(ordered))))
    else:
        slice_spacing = float(first.get("SpacingBetweenSlices") or 0)
    transform = np.identity(4, dtype=np.float32)
    transform[:3, 0] = row * column_spacing
    transform[:3, 1] = column * row_spacing
    transform[:3, 2] = np.cross(row, column) * slice_spacing
    transform[:3, 3] = _floats(first, "ImagePositionPatient", 3)
    return transform
