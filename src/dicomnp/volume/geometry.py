"""Sorting, validating and measuring a stack of slices; the affine that follows.

The rules are RULES.md section 7. Positions are projected on the slice normal
``n = X x Y`` (X the row direction cosines, along which the column index grows;
Y the column direction cosines, along which the row index grows) and sorted
ascending. The spacing is checked against the median gap; the step from slice
to slice is the actual position difference ``(P_last - P_first) / (N - 1)``,
so a sheared stack is represented exactly when it is accepted.

The affine maps an index ``(s, r, c, 1)`` of the ``(slices, rows, columns)``
array to patient LPS millimetres: its columns are the slice step, ``Y`` times
the row spacing (Pixel Spacing[0]), ``X`` times the column spacing (Pixel
Spacing[1]) and the position of the first slice. With slices sorted along
``+n`` its determinant is negative for the usual right-handed ``(X, Y, n)``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import GeometryError, MissingSliceError, ShearedStackError
from .headers import SliceHeader

__all__ = [
    "StackGeometry",
    "check_orientations",
    "cosines",
    "describe_gaps",
    "plan_geometry",
    "reference_spacing",
    "slice_positions",
    "sort_slices",
]

logger = logging.getLogger(__name__)

ORTHONORMAL_TOLERANCE = 1e-4
"""Largest accepted deviation of |X|, |Y| from 1 and of X.Y from 0 (dicom_numpy's)."""
ORIENTATION_TOLERANCE = 1e-4
"""Largest accepted difference of one IOP component between slices (DS rounding)."""


@dataclass(frozen=True)
class StackGeometry:
    """The measured geometry of a sorted stack.

    Attributes
    ----------
    affine : numpy.ndarray
        4x4 float64, ``(s, r, c, 1)`` to patient LPS mm.
    slice_spacing : float
        Median distance between neighbouring slices along the normal, in mm
        (for one slice: the value named by ``slice_spacing_source``).
    slice_spacing_source : str
        ``"positions"``, ``"SpacingBetweenSlices"``, ``"SliceThickness"`` or
        ``"default"`` (1 mm).
    step : tuple of 3 float
        Position difference from one slice to the next, in mm.
    sheared : bool
        True when ``step`` leaves the slice normal (gantry tilt).
    tilt_degrees : float
        Angle between ``step`` and the normal.
    gaps : tuple of float
        Distances between neighbouring slices along the normal.
    """

    affine: NDArray[np.float64]
    slice_spacing: float
    slice_spacing_source: str
    step: tuple[float, float, float]
    sheared: bool
    tilt_degrees: float
    gaps: tuple[float, ...]


def cosines(
    header: SliceHeader, tolerance: float = ORTHONORMAL_TOLERANCE
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(X, Y, n)``: row and column direction cosines and the unit normal.

    ``X`` and ``Y`` are kept as written (within ``tolerance`` of orthonormal).

    Raises
    ------
    GeometryError
        Orientation or position is missing, or the cosines are not unit
        length or not perpendicular within ``tolerance``.
    """
    if header.orientation is None or header.position is None:
        missing = (
            "ImageOrientationPatient" if header.orientation is None else "ImagePositionPatient"
        )
        raise GeometryError(
            f"{missing} is missing, so the slice has no place in a volume",
            files=[header.name],
            path=header.label,
        )
    values = np.asarray(header.orientation, dtype=np.float64)
    x, y = values[:3], values[3:]
    lengths = (float(np.linalg.norm(x)), float(np.linalg.norm(y)))
    dot = float(np.dot(x, y))
    deviation = max(abs(lengths[0] - 1), abs(lengths[1] - 1), abs(dot))
    if deviation > tolerance:
        raise GeometryError(
            f"ImageOrientationPatient {list(header.orientation)} is not orthonormal: "
            f"|row|={lengths[0]:.6g}, |column|={lengths[1]:.6g}, row.column={dot:.3g} "
            f"(tolerance {tolerance:g})",
            files=[header.name],
            path=header.label,
        )
    if deviation > 1e-8:
        logger.info("%s: direction cosines are orthonormal only to %.1e", header.label, deviation)
    normal = np.cross(x, y)
    return x, y, normal / np.linalg.norm(normal)


def slice_positions(headers: Sequence[SliceHeader], normal: NDArray[np.float64]) -> NDArray[Any]:
    """Positions of the slices along ``normal``, in mm."""
    points = np.array([header.position for header in headers], dtype=np.float64)
    return points @ normal


def sort_slices(headers: Sequence[SliceHeader]) -> list[SliceHeader]:
    """Sort ``headers`` along the normal of the first, ties by Instance Number then input order.

    Raises
    ------
    GeometryError
        A slice has no orientation or position, or the first one's cosines are
        not orthonormal.
    """
    _, _, normal = cosines(headers[0])
    for header in headers[1:]:
        if header.position is None:
            cosines(header)  # raises, naming the attribute
    distances = slice_positions(headers, normal)
    order = sorted(
        range(len(headers)),
        key=lambda i: (distances[i], _instance_key(headers[i]), i),
    )
    return [headers[i] for i in order]


def _instance_key(header: SliceHeader) -> float:
    return math.inf if header.instance_number is None else header.instance_number


def check_orientations(headers: Sequence[SliceHeader]) -> None:
    """Require every slice's orientation valid and equal to the first's, component by component.

    Raises
    ------
    GeometryError
        A slice's orientation or position is missing or its cosines are not
        orthonormal (see :func:`cosines`); or naming the first slice whose
        orientation differs, and both values.
    """
    cosines(headers[0])
    first = np.asarray(headers[0].orientation, dtype=np.float64)
    for header in headers[1:]:
        if header.orientation == headers[0].orientation and header.position is not None:
            continue  # the same values as the first: nothing to compare or check again
        cosines(header)
        other = np.asarray(header.orientation, dtype=np.float64)
        difference = float(np.max(np.abs(other - first)))
        if difference > ORIENTATION_TOLERANCE:
            raise GeometryError(
                f"ImageOrientationPatient differs: {headers[0].label} has "
                f"{list(headers[0].orientation or ())}, {header.label} has "
                f"{list(header.orientation or ())} (largest difference {difference:.3g}, "
                f"tolerance {ORIENTATION_TOLERANCE:g})",
                files=[headers[0].name, header.name],
            )


def reference_spacing(gaps: NDArray[Any]) -> float:
    """The median gap; for an even count the lower of the two middle gaps.

    With few slices one wide gap must not shift the reference: for gaps
    ``[2, 4]`` the reference is 2 (a slice is missing), not 3.
    """
    ordered = np.sort(gaps)
    return float(ordered[(ordered.size - 1) // 2])


def describe_gaps(
    headers: Sequence[SliceHeader], distances: NDArray[Any], *, rtol: float, atol: float
) -> None:
    """Raise when the gaps between sorted slices are not one spacing within tolerance.

    A gap is accepted when ``|gap - median| <= atol + rtol * median``, with
    the median as :func:`reference_spacing` takes it. Larger
    gaps raise :class:`MissingSliceError`, saying between which slices and how
    many slices would fit; smaller ones raise :class:`GeometryError`.
    """
    gaps = np.diff(distances)
    if gaps.size == 0:
        return
    median = reference_spacing(gaps)
    limit = atol + rtol * median
    wide = [k for k, gap in enumerate(gaps) if gap - median > limit]
    narrow = [k for k, gap in enumerate(gaps) if median - gap > limit]
    if wide:
        parts, found = [], []
        for k in wide:
            count = float(gaps[k] / median - 1) if median > 0 else math.inf
            found.append((k, count))
            whole = round(count)
            amount = (
                f"{whole} slice{'s' * (whole != 1)} missing"
                if whole >= 1 and abs(count - whole) <= rtol
                else f"room for {count:.2f} more slices"
            )
            parts.append(
                f"{amount} after index {k}: between {_where(headers[k], distances[k])} and "
                f"{_where(headers[k + 1], distances[k + 1])} the gap is {gaps[k]:.4g} mm"
            )
        raise MissingSliceError(
            "; ".join(parts) + f" (median spacing {median:.4g} mm, tolerance {limit:.3g} mm)",
            gaps=tuple(found),
            files=[name for k in wide for name in (headers[k].name, headers[k + 1].name)],
        )
    if narrow:
        k = narrow[0]
        raise GeometryError(
            f"irregular slice spacing: {_where(headers[k], distances[k])} and "
            f"{_where(headers[k + 1], distances[k + 1])} are {gaps[k]:.4g} mm apart, "
            f"the median spacing is {median:.4g} mm (tolerance {limit:.3g} mm)",
            files=[headers[k].name, headers[k + 1].name],
        )
    deviation = float(np.max(np.abs(gaps - median)))
    if deviation > max(1e-3, 1e-3 * median):
        logger.warning(
            "slice spacing is not uniform: gaps from %.6g to %.6g mm, median %.6g mm used",
            float(gaps.min()),
            float(gaps.max()),
            median,
        )


def _where(header: SliceHeader, distance: float) -> str:
    number = "" if header.instance_number is None else f" (instance {header.instance_number})"
    return f"{header.label}{number} at {distance:.4f} mm"


def plan_geometry(
    headers: Sequence[SliceHeader],
    *,
    rtol: float,
    atol: float,
    allow_shear: bool,
) -> StackGeometry:
    """Validate the sorted, de-duplicated ``headers`` and compute the stack geometry.

    Parameters
    ----------
    headers : sequence of SliceHeader
        Sorted along the normal, one per position.
    rtol, atol : float
        Gap tolerance ``atol + rtol * median`` (mm); ``atol`` is also the
        distance a position may lie off the line of the stack (at least 1 %
        of the step) and the in-plane step that counts as shear (at least
        1e-3 of the step).
    allow_shear : bool
        Accept a sheared stack (the affine is then not orthogonal) instead
        of raising :class:`ShearedStackError`.

    Raises
    ------
    GeometryError, MissingSliceError, ShearedStackError
    """
    first = headers[0]
    x, y, normal = cosines(first)
    check_orientations(headers)
    if first.pixel_spacing is None:
        raise GeometryError(
            "PixelSpacing is missing, so the voxel size is unknown",
            files=[first.name],
            path=first.label,
        )
    row_spacing, column_spacing = first.pixel_spacing
    origin = np.asarray(first.position, dtype=np.float64)
    distances = slice_positions(headers, normal)
    if len(headers) == 1:
        spacing, source = _single_slice_spacing(first)
        step = normal * spacing
        gaps: tuple[float, ...] = ()
        sheared, tilt = False, 0.0
    else:
        describe_gaps(headers, distances, rtol=rtol, atol=atol)
        gaps = tuple(float(gap) for gap in np.diff(distances))
        spacing, source = reference_spacing(np.diff(distances)), "positions"
        last = np.asarray(headers[-1].position, dtype=np.float64)
        step = (last - origin) / (len(headers) - 1)
        _check_line(headers, origin, step, atol)
        sheared, tilt = _check_shear(headers, step, normal, atol, allow_shear)
    affine = np.eye(4, dtype=np.float64)
    affine[:3, 0] = step
    affine[:3, 1] = y * row_spacing
    affine[:3, 2] = x * column_spacing
    affine[:3, 3] = origin
    return StackGeometry(
        affine=affine,
        slice_spacing=spacing,
        slice_spacing_source=source,
        step=(float(step[0]), float(step[1]), float(step[2])),
        sheared=sheared,
        tilt_degrees=tilt,
        gaps=gaps,
    )


def _single_slice_spacing(header: SliceHeader) -> tuple[float, str]:
    for value, source in (
        (header.spacing_between_slices, "SpacingBetweenSlices"),
        (header.slice_thickness, "SliceThickness"),
    ):
        if value is not None and value > 0:
            return float(value), source
    return 1.0, "default"


def _check_line(
    headers: Sequence[SliceHeader],
    origin: NDArray[np.float64],
    step: NDArray[np.float64],
    atol: float,
) -> None:
    length = float(np.linalg.norm(step))
    direction = step / length
    tolerance = max(atol, 0.01 * length)
    for header in headers[1:-1]:
        offset = np.asarray(header.position, dtype=np.float64) - origin
        off_line = float(np.linalg.norm(offset - np.dot(offset, direction) * direction))
        if off_line > tolerance:
            raise GeometryError(
                f"slice positions are not on one line: {header.label} at "
                f"{list(header.position or ())} lies {off_line:.3g} mm off the line from "
                f"{headers[0].label} to {headers[-1].label} (tolerance {tolerance:.3g} mm)",
                files=[headers[0].name, header.name, headers[-1].name],
            )


def _check_shear(
    headers: Sequence[SliceHeader],
    step: NDArray[np.float64],
    normal: NDArray[np.float64],
    atol: float,
    allow_shear: bool,
) -> tuple[bool, float]:
    length = float(np.linalg.norm(step))
    along = float(np.dot(step, normal))
    in_plane = float(np.linalg.norm(step - along * normal))
    tilt = math.degrees(math.atan2(in_plane, abs(along)))
    if in_plane <= max(atol, 1e-3 * length):
        return False, tilt
    if not allow_shear:
        raise ShearedStackError(
            f"the slices step {length:.4g} mm at {tilt:.2f} degrees to the slice normal "
            f"({in_plane:.3g} mm in-plane per slice, from {headers[0].label} to "
            f"{headers[-1].label}): a gantry tilt or sheared stack; pass allow_shear=True "
            "to accept it with a non-orthogonal affine",
            angle=tilt,
            files=[headers[0].name, headers[-1].name],
        )
    logger.warning(
        "sheared stack accepted: the slices step %.2f degrees off the slice normal", tilt
    )
    return True, tilt
