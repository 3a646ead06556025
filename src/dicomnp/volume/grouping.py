"""Telling the volumes of one acquisition apart: images that share slice positions.

An fMRI run, a diffusion series, a multi-phase or multi-echo acquisition
stores several images at every slice position. :func:`split_volumes` finds
what separates them, as dcm2niix does, in this order:

1. the images of Siemens mosaics: each mosaic image is one volume;
2. an attribute whose values differ between the images at every position
   and are the same set at every position (:data:`VOLUME_KEYS`: temporal
   position, diffusion b-value and gradient, acquisition number, trigger
   time, echo, image type, a vendor's image kind). A value that changes
   from slice to slice (the per-slice TriggerTime of a GE multi-phase
   series) does not qualify;
3. instance order: when nothing else does, the k-th image of every position
   by Instance Number belongs to volume k (GE field maps and time series
   whose images differ in nothing else).

Volumes are ordered by their first Instance Number (acquisition order).
Exact duplicates (the same SOP Instance, frame and tile) are left out first
and reported; distinct instances are never dropped, even with identical
pixels.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DuplicateSliceError, MissingSliceError
from .consistency import Dropped
from .geometry import ORTHONORMAL_TOLERANCE
from .headers import SliceHeader

__all__ = [
    "VOLUME_KEYS",
    "VolumeSplit",
    "drop_exact_duplicates",
    "position_groups",
    "split_volumes",
]

logger = logging.getLogger(__name__)

VOLUME_KEYS: tuple[tuple[str, str, Callable[[SliceHeader], Any]], ...] = (
    ("TemporalPositionIdentifier", "temporal position", lambda h: h.temporal_position),
    ("DiffusionBValue", "b-value and gradient", lambda h: (h.b_value, _rounded(h.gradient))),
    ("AcquisitionNumber", "acquisition", lambda h: h.acquisition_number),
    ("TriggerTime", "trigger time", lambda h: h.trigger_time),
    ("EchoNumbers", "echo", lambda h: h.echo_number),
    ("EchoTime", "echo time", lambda h: h.echo_time),
    ("ImageType", "image type", lambda h: h.image_type),
    ("vendor image kind", "vendor image kind", lambda h: h.vendor_kind),
)
"""(keyword, words for messages, reader): what may separate volumes, in order of preference."""


def _rounded(vector: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """A gradient direction to 1e-4: slices of one volume may carry it to float noise."""
    return None if vector is None else tuple(round(v, 4) + 0.0 for v in vector)


@dataclass(frozen=True)
class VolumeSplit:
    """The volumes found among the images of one stack.

    Attributes
    ----------
    volumes : tuple of tuple of SliceHeader
        Each volume's slice headers (unsorted), volumes in acquisition order.
    by : str
        The keyword that separated them (``"mosaic image"``, a
        :data:`VOLUME_KEYS` keyword or ``"InstanceNumber"``); empty for one
        volume.
    words : str
        The same for messages, e.g. ``"temporal position"``.
    dropped : tuple of Dropped
        Exact duplicates left out.
    """

    volumes: tuple[tuple[SliceHeader, ...], ...]
    by: str
    words: str
    dropped: tuple[Dropped, ...] = ()


def drop_exact_duplicates(
    headers: Sequence[SliceHeader],
) -> tuple[list[SliceHeader], list[Dropped]]:
    """Leave out the repeats of one SOP Instance (same frame and tile), with a warning."""
    seen: dict[tuple[str, int, Any], SliceHeader] = {}
    kept: list[SliceHeader] = []
    dropped: list[Dropped] = []
    for header in headers:
        key = (header.sop_instance_uid, header.frame, header.tile)
        first = seen.get(key) if header.sop_instance_uid else None
        if first is None:
            seen[key] = header
            kept.append(header)
            continue
        reason = f"same SOP Instance UID as {first.label}"
        dropped.append(Dropped(header.label, header.sop_instance_uid, reason))
        logger.warning("left out %s: %s", header.label, reason)
    return kept, dropped


def position_groups(headers: Sequence[SliceHeader], atol: float) -> list[list[SliceHeader]] | None:
    """The images grouped by slice position along the first one's normal, in that order.

    None when a header has no usable orientation or position.
    """
    first = headers[0]
    if first.orientation is None or any(h.position is None for h in headers):
        return None
    x = np.asarray(first.orientation[:3], dtype=np.float64)
    y = np.asarray(first.orientation[3:], dtype=np.float64)
    normal = np.cross(x, y)
    length = float(np.linalg.norm(normal))
    if abs(length - 1) > 10 * ORTHONORMAL_TOLERANCE + 1e-3:
        return None
    distances = np.array([h.position for h in headers], dtype=np.float64) @ (normal / length)
    order = np.argsort(distances, kind="stable")
    groups: list[list[SliceHeader]] = []
    last = -math.inf
    for index in order:
        if groups and distances[index] - last <= atol:
            groups[-1].append(headers[index])
        else:
            groups.append([headers[index]])
        last = float(distances[index])
    return groups


def _instance(header: SliceHeader) -> float:
    return math.inf if header.instance_number is None else header.instance_number


def _separates(groups: list[list[SliceHeader]], read: Callable[[SliceHeader], Any]) -> bool:
    count = len(groups[0])
    reference: set[Any] | None = None
    for group in groups:
        found = {read(h) for h in group}
        if len(found) != count:
            return False
        if reference is None:
            reference = found
        elif found != reference:
            return False
    return True


def split_volumes(headers: Sequence[SliceHeader], *, atol: float = 0.01) -> VolumeSplit:
    """Find the volumes among ``headers`` (one stack: one size, orientation and kind).

    Raises
    ------
    MissingSliceError
        The positions do not hold the same number of images.
    DuplicateSliceError
        Several distinct images at one position and nothing, not even their
        Instance Numbers, tells them apart.
    """
    kept, dropped = drop_exact_duplicates(headers)
    groups = position_groups(kept, atol)
    if groups is None or all(len(group) == 1 for group in groups):
        return VolumeSplit((tuple(kept),), "", "", tuple(dropped))
    counts = sorted({len(group) for group in groups})
    if len(counts) > 1:
        fewest = min(groups, key=len)
        most = max(groups, key=len)
        raise MissingSliceError(
            f"the slice positions hold different numbers of images ({counts[0]} to "
            f"{counts[-1]}): {len(fewest)} at {fewest[0].label}, {len(most)} at "
            f"{most[0].label}; some volumes are incomplete",
            files=[fewest[0].name, most[0].name],
        )
    keys: list[tuple[str, str, Callable[[SliceHeader], Any]]] = []
    if all(h.tile is not None for h in kept):
        keys.append(("mosaic image", "mosaic image", lambda h: (h.name, h.sop_instance_uid)))
    keys.extend(VOLUME_KEYS)
    for keyword, words, read in keys:
        if _separates(groups, read):
            by_value: dict[Any, list[SliceHeader]] = {}
            for header in kept:
                by_value.setdefault(read(header), []).append(header)
            volumes = sorted(by_value.values(), key=lambda v: min(_instance(h) for h in v))
            return VolumeSplit(tuple(tuple(v) for v in volumes), keyword, words, tuple(dropped))
    if all(
        _separates([g], _instance) and None not in {h.instance_number for h in g} for g in groups
    ):
        count = counts[0]
        ranked: list[list[SliceHeader]] = [[] for _ in range(count)]
        for group in groups:
            for rank, header in enumerate(sorted(group, key=_instance)):
                ranked[rank].append(header)
        return VolumeSplit(
            tuple(tuple(v) for v in ranked), "InstanceNumber", "instance order", tuple(dropped)
        )
    shared = next(group for group in groups if len(group) > 1)
    raise DuplicateSliceError(
        f"{len(shared)} different images at the position of {shared[0].label} "
        f"({', '.join(h.label for h in shared[:4])}): no temporal position, diffusion, "
        "acquisition, trigger time, echo, image type or Instance Number tells them apart",
        files=[h.name for h in shared],
    )
