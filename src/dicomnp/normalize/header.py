"""The header: a JSON-serialisable mapping that says what the array holds (docs/rendering.rst).

It carries what is needed to undo each step: ``stored_from_array`` gives
the stored value ``v = scale * a + offset`` (undoing the unsigned offset and
any MONOCHROME1 inversion). ``rescale_slope``/``rescale_intercept`` are the
file's Rescale Slope and Intercept (of stored values; ``source_rescale_*``
are the same, under their former name), and
``rescale_slope_from_array``/``rescale_intercept_from_array`` give the
modality value ``m = slope * a + intercept`` directly from the array value
``a`` (the file's values adjusted for the unsigned offset and inversion). Compute these
in a signed or float type (``array.astype(numpy.int64)``): the array is
unsigned and the scale may be -1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._attributes import Attributes, items, optional
from .._syntaxes import TransferSyntax
from .colour import ColourConversion
from .lossy import LossyAssessment
from .options import Values
from .plan import Kind, RenderPlan
from .transform import FrameTransform
from .values import Rescale
from .voi import read_windows

__all__ = ["MEDIA_TYPE", "RenderingDescription", "build_header", "describe_rendering"]

logger = logging.getLogger(__name__)

MEDIA_TYPE = "image/numpy"


def _plain(value: Any) -> Any:
    """``value`` with numbers as built-in int/float and sequences as lists."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _one_or_list(items: list[Any]) -> Any:
    """One value when every frame agrees, else the list per frame."""
    if not items:
        return None
    first = items[0]
    return first if all(item == first for item in items) else items


def _numbers(
    dataset: Attributes, keyword: str, frame: int, name: str
) -> list[float] | float | None:
    """A DS attribute from the top level, else from the Pixel Measures functional group."""
    holders: list[Any] = [dataset]
    for sequence, index in (
        ("SharedFunctionalGroupsSequence", 0),
        ("PerFrameFunctionalGroupsSequence", frame),
    ):
        groups = items(dataset, sequence, name)
        holder = groups[index] if index < len(groups) else None
        measures = items(holder, "PixelMeasuresSequence", name) if holder is not None else []
        if measures:
            holders.append(measures[0])
    for holder in holders:
        value = optional(holder, keyword, name)
        if value is None:
            continue
        try:
            if isinstance(value, (str, int, float)):
                return float(value)
            return [float(item) for item in value]
        except (TypeError, ValueError):
            logger.info("%s %r is not numeric; not reported", keyword, value)
            return None
    return None


def _text(dataset: Attributes, keyword: str, name: str) -> str | None:
    value = optional(dataset, keyword, name)
    return None if value is None else str(value)


def _converted_from(plan: RenderPlan) -> str | None:
    """The colour model converted to RGB: as stored, or as decoded when the file said RGB."""
    if plan.conversion is ColourConversion.NONE:
        return None
    stored = plan.info.photometric_interpretation
    return plan.decoded_photometric if stored == "RGB" else stored


def _stored_from_array(plan: RenderPlan) -> dict[str, Any] | None:
    if plan.options.values is not Values.STORED:
        return None
    if plan.kind is Kind.PALETTE or plan.conversion in (
        ColourConversion.YBR_FULL,
        ColourConversion.YBR_PARTIAL,
    ):
        return None
    if plan.info.float_data:
        return {"scale": 1, "offset": 0}
    if plan.inverted:
        return {"scale": -1, "offset": plan.top - plan.offset}
    return {"scale": 1, "offset": -plan.offset}


def _modality_from_array(plan: RenderPlan) -> list[dict[str, Any]] | None:
    """``m = scale * a + offset`` for each frame, or None when not affine."""
    if plan.kind is not Kind.GREY or plan.options.values is Values.DISPLAY:
        return None
    if plan.options.values is Values.MODALITY:
        return [{"scale": 1, "offset": 0}] * len(plan.frames)
    if plan.modality_lut is not None:
        return None
    stored = _stored_from_array(plan)
    if stored is None:
        return None
    result = []
    for rescale in plan.rescales or [Rescale()] * len(plan.frames):
        scale = rescale.slope * stored["scale"]
        offset = rescale.slope * stored["offset"] + rescale.intercept
        result.append({"scale": _integral(scale), "offset": _integral(offset)})
    return result


def _integral(number: float) -> int | float:
    return int(number) if float(number).is_integer() else float(number)


def _window(plan: RenderPlan, dataset: Attributes, name: str) -> tuple[Any, list[Any]]:
    """The window used (display) or offered (otherwise), and every window of frame 0."""
    if plan.kind is not Kind.GREY:
        return None, []
    first = plan.frames[0] if plan.frames else 0
    windows = [window.describe() for window in read_windows(dataset, first, name)]
    if plan.options.values is Values.DISPLAY:
        used = [
            voi.describe() if voi is not None else {"source": "frame_range"} for voi in plan.vois
        ]
        return _one_or_list(used), windows
    return (windows[0] if windows else None), windows


def _window_in_array_units(
    window: Any, modality: list[dict[str, Any]] | None
) -> dict[str, float] | None:
    if not isinstance(window, dict) or "center" not in window or not modality:
        return None
    first = modality[0]
    if any(item != first for item in modality) or not first["scale"]:
        return None
    scale, offset = float(first["scale"]), float(first["offset"])
    return {
        "center": (float(window["center"]) - offset) / scale,
        "width": float(window["width"]) / abs(scale),
    }


def _padding(plan: RenderPlan) -> dict[str, Any] | None:
    spec = plan.padding
    if spec is None:
        return None
    ends: list[int | float] = [spec.value] + (
        [] if spec.range_limit is None else [spec.range_limit]
    )
    output = None if spec.outside_bits_stored else FrameTransform(plan).output_of(ends)
    return {
        "stored_value": spec.value,
        "stored_range_limit": spec.range_limit,
        "value": output[0] if output else None,
        "range_limit": output[1] if output and len(output) > 1 else None,
        "mode": plan.options.padding.value,
        "fill_value": plan.fill_value if plan.options.padding.value == "fill" else None,
        "outside_bits_stored": spec.outside_bits_stored,
    }


@dataclass(frozen=True)
class RenderingDescription:
    """How a plan renders its frames: the rendering fields a volume header keeps per slice.

    Made by :func:`describe_rendering` with the same functions that fill
    the image header (:func:`build_header`), so a field means the same in
    both. Per-frame fields hold one item per frame, in the order of
    ``plan.frames``. Plain JSON types only.

    Attributes
    ----------
    value_offset, inverted, output_photometric, stored_from_array, padding
        As the image header's fields of those names.
    modality_from_array : tuple of (dict or None)
        Per frame, the modality value as ``scale * a + offset`` of array value ``a``.
    rescale_type : tuple of (str or None)
        Per frame, the Rescale Type, where a rescale is present.
    window : tuple
        Per frame, the window used (display values) or the first one offered
        (the image header's ``window``).
    """

    value_offset: int
    inverted: bool
    output_photometric: str
    stored_from_array: dict[str, Any] | None
    padding: dict[str, Any] | None
    modality_from_array: tuple[dict[str, Any] | None, ...]
    rescale_type: tuple[str | None, ...]
    window: tuple[Any, ...]


def describe_rendering(plan: RenderPlan, dataset: Attributes, name: str) -> RenderingDescription:
    """How ``plan`` renders each of its frames: what a series header keeps per slice.

    A cheaper subset of :func:`build_header`, with a value per frame where
    it may differ between frames.
    """
    count = len(plan.frames)
    modality = _modality_from_array(plan)
    window, _ = _window(plan, dataset, name)
    rescales = plan.rescales if plan.kind is Kind.GREY else ()
    return RenderingDescription(
        value_offset=plan.offset,
        inverted=plan.inverted,
        output_photometric=_output_photometric(plan),
        stored_from_array=_plain(_stored_from_array(plan)),
        padding=_plain(_padding(plan)),
        modality_from_array=tuple(_plain(modality) if modality is not None else [None] * count),
        rescale_type=tuple(
            [rescale.rescale_type if rescale.present else None for rescale in rescales]
            or [None] * count
        ),
        window=tuple(_plain(window) if isinstance(window, list) else [_plain(window)] * count),
    )


def _output_photometric(plan: RenderPlan) -> str:
    return "MONOCHROME2" if plan.samples == 1 else "RGB"


def build_header(
    plan: RenderPlan,
    *,
    shape: tuple[int, ...],
    dataset: Attributes,
    syntax: TransferSyntax,
    lossy: LossyAssessment,
    name: str,
) -> dict[str, Any]:
    """Describe the array that ``plan`` renders, shaped ``shape``.

    Returns
    -------
    dict
        Plain JSON types only; see the module docstring and the rendering
        profile (docs/rendering.rst) for the fields.
    """
    info = plan.info
    dtype = plan.dtype.newbyteorder("<") if plan.dtype.byteorder == ">" else plan.dtype
    modality = _modality_from_array(plan)
    window, windows = _window(plan, dataset, name)
    first = plan.frames[0] if plan.frames else 0
    rescales = plan.rescales if plan.kind is Kind.GREY else []
    present = [rescale for rescale in rescales if rescale.present]
    uid = _text(dataset, "SOPInstanceUID", name)
    header: dict[str, Any] = {
        "media_type": MEDIA_TYPE,
        "shape": list(shape),
        "dtype": dtype.str,
        "itemsize": dtype.itemsize,
        "ndim": len(shape),
        "size": int(np.prod(shape, dtype=np.int64)),
        "frame_axis": len(shape) == 4,
        "frames": list(plan.frames),
        "number_of_frames": info.number_of_frames,
        "bits_allocated": info.bits_allocated,
        "bits_stored": info.bits_stored,
        "high_bit": info.high_bit,
        "pixel_representation": info.pixel_representation,
        "float_data": info.float_data,
        "value_offset": plan.offset,
        "inverted": plan.inverted,
        "photometric": info.photometric_interpretation,
        "decoded_photometric": plan.decoded_photometric,
        "output_photometric": _output_photometric(plan),
        "colour_conversion": plan.conversion.value,
        "colour_converted_from": _converted_from(plan),
        "planar_configuration": info.planar_configuration,
        "palette": plan.palette.describe() if plan.palette is not None else None,
        "values": plan.options.values.value,
        "stored_from_array": _stored_from_array(plan),
        "modality_from_array": _one_or_list(modality or []),
        "rescale_slope": _one_or_list([rescale.slope for rescale in present]),
        "rescale_intercept": _one_or_list([rescale.intercept for rescale in present]),
        "rescale_slope_from_array": _one_or_list([item["scale"] for item in modality or []]),
        "rescale_intercept_from_array": _one_or_list([item["offset"] for item in modality or []]),
        "source_rescale_slope": _one_or_list([rescale.slope for rescale in present]),
        "source_rescale_intercept": _one_or_list([rescale.intercept for rescale in present]),
        "rescale_type": _one_or_list([rescale.rescale_type for rescale in present]),
        "modality_lut": plan.modality_lut.describe() if plan.modality_lut is not None else None,
        "window": window,
        "windows": windows,
        "window_in_array_units": _window_in_array_units(window, modality),
        "padding": _padding(plan),
        "lossy": lossy.lossy,
        "lossy_evidence": list(lossy.evidence),
        "lossy_image_compression": lossy.lossy_image_compression,
        "lossy_methods": list(lossy.methods),
        "lossy_ratios": list(lossy.ratios),
        "transfer_syntax": syntax.uid,
        "transfer_syntax_name": syntax.name,
        "pixel_spacing": _numbers(dataset, "PixelSpacing", first, name),
        "imager_pixel_spacing": _numbers(dataset, "ImagerPixelSpacing", first, name),
        "slice_thickness": _numbers(dataset, "SliceThickness", first, name),
        "spacing_between_slices": _numbers(dataset, "SpacingBetweenSlices", first, name),
        "sop_instance_uids": [uid] if uid else [],
        "presentation_lut_shape": _text(dataset, "PresentationLUTShape", name),
        "dose_grid_scaling": _numbers(dataset, "DoseGridScaling", first, name),
    }
    return {key: _plain(value) for key, value in header.items()}
