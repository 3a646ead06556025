"""Attributes that must agree between slices, and slices that share a position.

:func:`check_consistent` refuses a stack whose slices disagree on an attribute
that must be equal (RULES.md 7.3 step 1 and rule R7), naming each value and
the files that hold it. :func:`resolve_duplicates` deals with slices at the
same position: exact duplicates are dropped, slices separated by an echo,
temporal position, acquisition or image type are several volumes, anything
else is refused. :func:`check_ends` finds slices missing at the ends of a
stack from Instance Numbers, which positions cannot reveal.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    DuplicateSliceError,
    InconsistentSeriesError,
    MissingSliceError,
    MultipleVolumesError,
)
from .headers import SliceHeader

__all__ = [
    "EQUAL_ATTRIBUTES",
    "SPLIT_KEYS",
    "Dropped",
    "check_consistent",
    "check_ends",
    "describe_groups",
    "resolve_duplicates",
]

logger = logging.getLogger(__name__)

EQUAL_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("SeriesInstanceUID", "series_instance_uid"),
    ("Modality", "modality"),
    ("SOPClassUID", "sop_class_uid"),
    ("FrameOfReferenceUID", "frame_of_reference_uid"),
    ("Rows", "rows"),
    ("Columns", "columns"),
    ("SamplesPerPixel", "samples_per_pixel"),
    ("BitsAllocated", "bits_allocated"),
    ("BitsStored", "bits_stored"),
    ("PixelRepresentation", "pixel_representation"),
    ("PhotometricInterpretation", "photometric_interpretation"),
)
"""(DICOM keyword, SliceHeader field) pairs that must be equal in every slice."""

SPLIT_KEYS: tuple[tuple[str, str], ...] = (
    ("StackID", "stack_id"),
    ("EchoNumbers", "echo_number"),
    ("EchoTime", "echo_time"),
    ("TemporalPositionIdentifier", "temporal_position"),
    ("TriggerTime", "trigger_time"),
    ("DiffusionBValue", "b_value"),
    ("AcquisitionNumber", "acquisition_number"),
    ("ImageType", "image_type"),
)
"""Attributes that separate volumes sharing positions, in the order they are named."""

PIXEL_SPACING_TOLERANCE = 1e-4
SLICE_THICKNESS_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Dropped:
    """A slice left out of the volume, and why."""

    label: str
    sop_instance_uid: str
    reason: str


def describe_groups(headers: Sequence[SliceHeader], field: str, limit: int = 3) -> str:
    """``value (n files: a, b, ...)`` for each distinct value of ``field``."""
    groups: dict[Any, list[str]] = {}
    for header in headers:
        groups.setdefault(getattr(header, field), []).append(header.label)
    parts = []
    for value, labels in groups.items():
        shown = ", ".join(labels[:limit]) + (", ..." if len(labels) > limit else "")
        shown_value = "\\".join(map(str, value)) if isinstance(value, tuple) else value
        parts.append(f"{shown_value} ({len(labels)} slice{'s' * (len(labels) != 1)}: {shown})")
    return "; ".join(parts)


def _differs(headers: Sequence[SliceHeader], field: str, tolerance: float | None) -> bool:
    values = [getattr(header, field) for header in headers]
    if tolerance is None or any(value is None for value in values):
        return len(set(values)) > 1
    array = np.asarray(values, dtype=np.float64)
    return bool(np.max(np.abs(array - array[0])) > tolerance)


def check_consistent(
    headers: Sequence[SliceHeader],
    attributes: Sequence[tuple[str, str]] = EQUAL_ATTRIBUTES,
    *,
    spacing_and_thickness: bool = True,
) -> None:
    """Require the listed attributes, Pixel Spacing and Slice Thickness equal in all slices.

    Also refuses a localizer (Image Type LOCALIZER) mixed with other images.

    Raises
    ------
    InconsistentSeriesError
        Naming the attribute, each value and the files that hold it.
    """
    checks: list[tuple[str, str, float | None]] = [
        (keyword, field, None) for keyword, field in attributes
    ]
    if spacing_and_thickness:
        checks += [
            ("PixelSpacing", "pixel_spacing", PIXEL_SPACING_TOLERANCE),
            ("SliceThickness", "slice_thickness", SLICE_THICKNESS_TOLERANCE),
        ]
    for keyword, field, tolerance in checks:
        if _differs(headers, field, tolerance):
            raise InconsistentSeriesError(
                f"{keyword} differs between slices: {describe_groups(headers, field)}",
                files=sorted({header.name for header in headers}),
            )
    localizers = [header for header in headers if header.is_localizer]
    if localizers and len(localizers) < len(headers):
        names = ", ".join(header.label for header in localizers[:5])
        raise InconsistentSeriesError(
            f"{len(localizers)} localizer image(s) (ImageType LOCALIZER) among the slices: "
            f"{names}; leave them out (find_series puts them in their own stack)",
            files=[header.name for header in localizers],
        )


def resolve_duplicates(
    headers: Sequence[SliceHeader],
    distances: NDArray[Any],
    *,
    atol: float,
    same_pixels: Callable[[SliceHeader, SliceHeader], bool] | None,
) -> tuple[list[int], list[Dropped]]:
    """Find slices at the same position (within ``atol`` mm along the normal).

    Parameters
    ----------
    headers : sequence of SliceHeader
        Sorted along the normal.
    distances : numpy.ndarray
        Their positions along the normal.
    atol : float
        Positions closer than this are the same.
    same_pixels : callable or None
        Compares the pixels of two slices; None refuses every duplicate that
        is not the same SOP Instance.

    Returns
    -------
    kept : list of int
        Indices into ``headers`` of the slices to keep.
    dropped : list of Dropped
        The exact duplicates left out.

    Raises
    ------
    MultipleVolumesError
        Slices at one position differ in a :data:`SPLIT_KEYS` attribute.
    DuplicateSliceError
        Different images at one position and nothing tells them apart.
    """
    clusters: list[list[int]] = [[0]] if len(headers) else []
    for index in range(1, len(headers)):
        if distances[index] - distances[clusters[-1][-1]] <= atol:
            clusters[-1].append(index)
        else:
            clusters.append([index])
    if all(len(cluster) == 1 for cluster in clusters):
        return list(range(len(headers))), []
    kept: list[int] = []
    dropped: list[Dropped] = []
    for cluster in clusters:
        survivors: list[int] = []
        for index in cluster:
            header = headers[index]
            twin = next(
                (
                    other
                    for other in survivors
                    if _same_instance(headers[other], header)
                    or (
                        same_pixels is not None
                        and _same_keys(headers[other], header)
                        and same_pixels(headers[other], header)
                    )
                ),
                None,
            )
            if twin is None:
                survivors.append(index)
                continue
            reason = (
                "same SOP Instance UID"
                if _same_instance(headers[twin], header)
                else "identical pixels"
            )
            dropped.append(
                Dropped(header.label, header.sop_instance_uid, f"{reason} as {headers[twin].label}")
            )
            logger.info("dropped %s: %s as %s", header.label, reason, headers[twin].label)
        if len(survivors) > 1:
            _refuse([headers[i] for i in survivors], headers, float(distances[cluster[0]]))
        kept.append(survivors[0])
    return kept, dropped


def _same_instance(a: SliceHeader, b: SliceHeader) -> bool:
    return (
        bool(a.sop_instance_uid)
        and a.sop_instance_uid == b.sop_instance_uid
        and (a.frame == b.frame)
        and (a.tile == b.tile)
    )


def _same_keys(a: SliceHeader, b: SliceHeader) -> bool:
    return all(getattr(a, field) == getattr(b, field) for _, field in SPLIT_KEYS)


def _refuse(
    together: Sequence[SliceHeader], everything: Sequence[SliceHeader], distance: float
) -> None:
    keys = tuple(keyword for keyword, field in SPLIT_KEYS if _differs(together, field, None))
    names = ", ".join(header.label for header in together[:5])
    if keys:
        keyword, field = next(pair for pair in SPLIT_KEYS if pair[0] == keys[0])
        raise MultipleVolumesError(
            f"{len(together)} slices at position {distance:.4f} mm ({names}) differ in "
            f"{', '.join(keys)}: the slices hold several volumes; by {keyword}: "
            f"{describe_groups(everything, field)}. combine_volumes stacks them as the "
            "volumes of one 4D result",
            keys=keys,
            files=[header.name for header in together],
        )
    numbers = [header.instance_number for header in together]
    if None not in numbers and len(set(numbers)) == len(numbers):
        raise MultipleVolumesError(
            f"{len(together)} different images at position {distance:.4f} mm ({names}) "
            "differ only in InstanceNumber: the slices hold several volumes in instance "
            "order; combine_volumes stacks them",
            keys=("InstanceNumber",),
            files=[header.name for header in together],
        )
    raise DuplicateSliceError(
        f"{len(together)} different images at position {distance:.4f} mm: {names}; "
        "no echo, temporal position, acquisition, image type or instance number tells "
        "them apart",
        files=[header.name for header in together],
    )


def check_ends(headers: Sequence[SliceHeader]) -> None:
    """Use Instance Numbers and Images in Acquisition to find slices missing at the ends.

    Only meaningful when the series numbers its slices from 1 in position
    order, so only called on request. Instance Numbers must be present,
    distinct and run by one along the stack.

    Raises
    ------
    MissingSliceError
        Naming the missing Instance Numbers and the end they belong to.
    """
    numbers = [header.instance_number for header in headers]
    if any(number is None for number in numbers) or len(headers) < 2:
        return
    values = [int(number) for number in numbers if number is not None]
    steps = {b - a for a, b in itertools.pairwise(values)}
    if steps not in ({1}, {-1}):
        return
    low, high = min(values), max(values)
    expected = max((h.images_in_acquisition or 0) for h in headers) or high
    missing_low = list(range(1, low))
    missing_high = list(range(high + 1, expected + 1))
    if not missing_low and not missing_high:
        return
    ascending = values[0] < values[-1]
    parts = []
    for missing in (missing_low, missing_high):
        if not missing:
            continue
        at_start = (missing is missing_low) == ascending
        end = headers[0] if at_start else headers[-1]
        parts.append(
            f"{len(missing)} slice(s) missing {'before' if at_start else 'after'} "
            f"{end.label} (Instance Numbers {missing[0]}-{missing[-1]} absent)"
        )
    raise MissingSliceError(
        "; ".join(parts) + f"; present: Instance Numbers {low}-{high}",
        files=[headers[0].name, headers[-1].name],
    )
