"""Enhanced multi-frame images: one slice header per frame from the functional groups.

An enhanced CT or MR image (PS3.3 C.7.6.16) keeps the geometry of each frame
in functional group macros: Plane Position (Patient), Plane Orientation
(Patient), Pixel Measures, Frame Content, Pixel Value Transformation and the
MR/CT frame type and echo sequences. A macro is either in the Per-frame
Functional Groups Sequence item of the frame or in the one Shared Functional
Groups Sequence item; the per-frame item is looked at first. The frames then
go through the same grouping, sorting and validation as a classic series.

An RT Dose (PS3.3 C.8.8.3.2) is a multi-frame image without functional
groups: its frames are planes along the normal of its one Image Orientation,
at the offsets of Grid Frame Offset Vector (3004,000C) from its one Image
Position; :func:`offset_frame_headers` gives each frame its position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from .._attributes import Attributes, items, optional
from ..errors import GeometryError, InvalidPixelMetadataError
from .headers import (
    SliceHeader,
    float_of,
    floats_of,
    image_type_of,
    int_of,
    text_of,
    with_frame,
)

__all__ = ["frame_headers", "offset_frame_headers"]

_PER_FRAME = 0x52009230
_GRID_FRAME_OFFSETS = 0x3004000C


def _macro(
    groups: tuple[Dataset | None, Dataset | None], keyword: str, name: str
) -> Dataset | None:
    """The first item of the ``keyword`` macro, from the per-frame item, else the shared one."""
    for group in groups:
        if group is None:
            continue
        found = items(group, keyword, name)
        if found:
            first: Dataset = found[0]
            return first
    return None


def frame_headers(dataset: Dataset, base: SliceHeader) -> list[SliceHeader]:
    """Return one header per frame of an enhanced multi-frame image.

    Parameters
    ----------
    dataset : pydicom.Dataset
        The image's data set (pixel value not needed).
    base : SliceHeader
        The header read from the top level of the data set; each frame's
        header is a copy with the functional group values filled in.

    Returns
    -------
    list of SliceHeader
        In frame order.

    Raises
    ------
    InvalidPixelMetadataError
        The Per-frame Functional Groups Sequence does not hold one item per frame.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> from dicomnp.examples import ct_slice
    >>> from dicomnp.volume.reading import read_headers
    >>> image = ct_slice()
    >>> image.NumberOfFrames = 2
    >>> image.PixelData = image.PixelData * 2
    >>> def frame_group(z):
    ...     plane, group = Dataset(), Dataset()
    ...     plane.ImagePositionPatient = [0, 0, z]
    ...     group.PlanePositionSequence = [plane]
    ...     return group
    >>> image.PerFrameFunctionalGroupsSequence = [frame_group(5.0), frame_group(2.5)]
    >>> [header.position for header in read_headers(image)]
    [(0.0, 0.0, 5.0), (0.0, 0.0, 2.5)]
    """
    name = base.name
    frames = base.number_of_frames
    per_frame = items(dataset, "PerFrameFunctionalGroupsSequence", name)
    shared_items = items(dataset, "SharedFunctionalGroupsSequence", name)
    shared = shared_items[0] if shared_items else None
    if per_frame and len(per_frame) != frames:
        raise InvalidPixelMetadataError(
            f"the Per-frame Functional Groups Sequence holds {len(per_frame)} items "
            f"for {frames} frames",
            path=name,
            tag=_PER_FRAME,
        )
    headers = []
    for index in range(frames):
        own = per_frame[index] if per_frame else None
        headers.append(_frame_header(base, index, (own, shared), dataset))
    return headers


def _frame_header(
    base: SliceHeader,
    index: int,
    groups: tuple[Dataset | None, Dataset | None],
    dataset: Dataset,
) -> SliceHeader:
    name = f"{base.name} frame {index}"
    changes: dict[str, Any] = {"frame": index, "enhanced": True}
    position = _macro(groups, "PlanePositionSequence", name)
    if position is not None:
        changes["position"] = floats_of(position, "ImagePositionPatient", 3, name)
    orientation = _macro(groups, "PlaneOrientationSequence", name)
    if orientation is not None:
        changes["orientation"] = floats_of(orientation, "ImageOrientationPatient", 6, name)
    measures = _macro(groups, "PixelMeasuresSequence", name)
    if measures is not None:
        changes["pixel_spacing"] = floats_of(measures, "PixelSpacing", 2, name)
        thickness = float_of(measures, "SliceThickness", name)
        spacing = float_of(measures, "SpacingBetweenSlices", name)
        changes["slice_thickness"] = thickness if thickness is not None else base.slice_thickness
        changes["spacing_between_slices"] = (
            spacing if spacing is not None else base.spacing_between_slices
        )
    content = _macro(groups, "FrameContentSequence", name)
    if content is not None:
        changes["stack_id"] = text_of(content, "StackID", name)
        changes["in_stack_position"] = int_of(content, "InStackPositionNumber", name)
        temporal = int_of(content, "TemporalPositionIndex", name)
        if temporal is not None:
            changes["temporal_position"] = temporal
    transform = _macro(groups, "PixelValueTransformationSequence", name)
    if transform is not None:
        changes["rescale_slope"] = float_of(transform, "RescaleSlope", name)
        changes["rescale_intercept"] = float_of(transform, "RescaleIntercept", name)
    for keyword in ("MRImageFrameTypeSequence", "CTImageFrameTypeSequence"):
        frame_type = _macro(groups, keyword, name)
        if frame_type is not None:
            changes["image_type"] = image_type_of(frame_type, "FrameType", name)
    echo = _macro(groups, "MREchoSequence", name)
    if echo is not None:
        changes["echo_time"] = float_of(echo, "EffectiveEchoTime", name)
    diffusion = _macro(groups, "MRDiffusionSequence", name)
    if diffusion is not None:
        changes["b_value"] = float_of(diffusion, "DiffusionBValue", name)
    return with_frame(base, **changes)


def offset_frame_headers(dataset: Attributes, base: SliceHeader) -> list[SliceHeader] | None:
    """One header per frame of a multi-frame image placed by Grid Frame Offset Vector (RT Dose).

    Parameters
    ----------
    dataset : Attributes
        The image's data set (pixel value not needed).
    base : SliceHeader
        The header read from the top level of the data set.

    Returns
    -------
    list of SliceHeader or None
        In frame order, frame ``k`` at Image Position (Patient) plus offset
        ``k`` along the normal (offsets relative to it when the first is 0;
        otherwise the offsets are patient z coordinates, which the standard
        allows for axial planes only). None when the image has no Grid Frame
        Offset Vector, its Frame Increment Pointer names another attribute,
        or it has no Image Orientation or Position to start from.

    Raises
    ------
    InvalidPixelMetadataError
        The vector does not hold one number per frame.
    GeometryError
        Absolute offsets (first not 0) in a plane that is not axial.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> from dicomnp.volume.reading import read_headers
    >>> dose = ct_slice(position=(0.0, 0.0, 10.0))
    >>> dose.NumberOfFrames = 3
    >>> dose.PixelData = dose.PixelData * 3
    >>> dose.GridFrameOffsetVector = [0, 2.5, 5]
    >>> [header.position for header in read_headers(dose)]
    [(0.0, 0.0, 10.0), (0.0, 0.0, 12.5), (0.0, 0.0, 15.0)]
    """
    name = base.name
    offsets_value = optional(dataset, "GridFrameOffsetVector", name)
    pointer = optional(dataset, "FrameIncrementPointer", name)
    pointers = [] if pointer is None else list(pointer) if isinstance(pointer, list) else [pointer]
    if offsets_value is None or (pointers and _GRID_FRAME_OFFSETS not in pointers):
        return None
    if base.orientation is None or base.position is None:
        return None
    raw = [offsets_value] if isinstance(offsets_value, (int, float, str)) else offsets_value
    try:
        offsets = [float(value) for value in raw]
    except (TypeError, ValueError) as exc:
        raise InvalidPixelMetadataError(
            f"GridFrameOffsetVector is malformed: {offsets_value!r}",
            path=name,
            tag=_GRID_FRAME_OFFSETS,
        ) from exc
    if len(offsets) != base.number_of_frames:
        raise InvalidPixelMetadataError(
            f"GridFrameOffsetVector holds {len(offsets)} offsets for "
            f"{base.number_of_frames} frames",
            path=name,
            tag=_GRID_FRAME_OFFSETS,
        )
    orientation = np.array(base.orientation)
    normal = np.cross(orientation[:3], orientation[3:])
    origin = np.array(base.position)
    if offsets[0] != 0:
        if not np.allclose(np.abs(normal), (0.0, 0.0, 1.0), atol=1e-4):
            raise GeometryError(
                f"GridFrameOffsetVector starts at {offsets[0]} (absolute z coordinates), "
                f"which the standard allows for axial planes only; the normal is "
                f"{normal.round(6).tolist()}",
                path=name,
                tag=_GRID_FRAME_OFFSETS,
                files=[name],
            )
        positions = [(origin[0], origin[1], offset) for offset in offsets]
    else:
        positions = [tuple(origin + offset * normal) for offset in offsets]
    return [
        with_frame(
            base,
            frame=index,
            enhanced=True,
            position=tuple(float(value) for value in position),
        )
        for index, position in enumerate(positions)
    ]
