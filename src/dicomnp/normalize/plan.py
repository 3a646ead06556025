"""Planning the rendering: everything decided from the header before any frame is decoded.

:func:`plan_rendering` reads the header once (colour model, palette,
rescale, VOI, padding) and fixes the output dtype and shape.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .._attributes import Attributes
from ..decode.pixel_info import PixelInfo
from ..errors import InvalidPixelMetadataError
from .colour import ColourConversion, conversion_for
from .lut import Lut
from .options import RenderOptions, Values
from .padding import read_padding
from .palette import Palette, read_palette
from .render import Kind, RenderPlan
from .values import (
    Rescale,
    modality_dtype,
    read_modality_lut,
    read_rescales,
    stored_range,
    unsigned_dtype,
    unsigned_offset,
)
from .voi import VoiTransform, choose_voi

__all__ = ["plan_rendering"]

logger = logging.getLogger(__name__)


def plan_rendering(
    dataset: Attributes,
    info: PixelInfo,
    decoded_photometric: str,
    frames: tuple[int, ...],
    options: RenderOptions,
    *,
    little_endian: bool,
    name: str,
) -> RenderPlan:
    """Read what rendering needs from the header and fix the output.

    Parameters
    ----------
    dataset : pydicom.Dataset or Attributes
        The data set (pixel data not needed).
    info : PixelInfo
        Its validated Image Pixel attributes.
    decoded_photometric : str
        The colour model the decoder reports for its output.
    frames : tuple of int
        The frames to render, in output order.
    options : RenderOptions
        Validated options.
    little_endian : bool
        Byte order of the data set, for LUT data pydicom leaves as bytes.
    name : str
        The source, for messages.

    Raises
    ------
    InvalidLutError
        A palette, Modality LUT or VOI LUT is malformed.
    InvalidPixelMetadataError
        Rescale or window values cannot be read.
    InvalidOptionError
        ``voi_index`` or ``window`` do not fit the file.
    """
    signed = bool(info.pixel_representation)
    conversion = conversion_for(info.photometric_interpretation, decoded_photometric)
    if decoded_photometric == "PALETTE COLOR":
        kind = Kind.PALETTE
    elif info.samples_per_pixel == 3:
        kind = Kind.COLOUR
    else:
        kind = Kind.GREY
    if conversion is ColourConversion.NONE and decoded_photometric in ("YBR_ICT", "YBR_RCT"):
        logger.info(
            "%s: the codec left %s samples untransformed; taken as RGB", name, decoded_photometric
        )
    values = options.values
    palette = None
    if kind is Kind.PALETTE:
        palette = read_palette(dataset, signed=signed, little_endian=little_endian, name=name)
    grey = kind is Kind.GREY
    inverted = grey and decoded_photometric == "MONOCHROME1" and values is not Values.MODALITY
    if inverted and info.float_data and values is Values.STORED:
        logger.info("%s: MONOCHROME1 float data are not inverted in stored mode", name)
        inverted = False
    rescales: list[Rescale] = []
    modality_lut = None
    if grey:
        modality_lut = _modality_lut(dataset, signed, little_endian, name, values)
        if modality_lut is None:
            rescales = read_rescales(dataset, frames, name)
        elif _has_top_rescale(dataset):
            logger.info("%s: Modality LUT Sequence and Rescale both present; LUT used", name)
    low, high = stored_range(info.bits_stored, signed)
    vois: list[VoiTransform | None] = []
    if grey and values is Values.DISPLAY:
        modality_range = _modality_range(info, modality_lut, rescales, low, high)
        vois = choose_voi(
            dataset,
            options,
            frames,
            modality_range,
            lut_signed=signed and modality_lut is None,
            little_endian=little_endian,
            name=name,
        )
    dtype = _output_dtype(info, kind, values, options, palette, modality_lut, rescales, low, high)
    padding = read_padding(
        dataset,
        samples_per_pixel=info.samples_per_pixel,
        float_data=info.bits_allocated if info.float_data else 0,
        bits_stored=info.bits_stored,
        signed=signed,
        little_endian=little_endian,
        name=name,
    )
    return RenderPlan(
        options=options,
        info=info,
        decoded_photometric=decoded_photometric,
        kind=kind,
        conversion=conversion,
        dtype=dtype,
        samples=1 if grey else 3,
        offset=unsigned_offset(info.bits_stored, signed)
        if values is Values.STORED and not info.float_data and kind is not Kind.PALETTE
        else 0,
        inverted=inverted,
        frames=frames,
        palette=palette,
        rescales=rescales,
        modality_lut=modality_lut,
        vois=vois,
        padding=padding,
        fill_value=0.0
        if info.float_data
        else _fill_value(dtype, values, modality_lut, rescales, low, high),
    )


def _modality_lut(
    dataset: Attributes, signed: bool, little_endian: bool, name: str, values: Values
) -> Lut | None:
    """The Modality LUT; in stored mode only reported, so a malformed one is skipped."""
    try:
        return read_modality_lut(dataset, signed=signed, little_endian=little_endian, name=name)
    except InvalidPixelMetadataError:
        if values is not Values.STORED:
            raise
        logger.info("%s: the Modality LUT Sequence is malformed; not reported", name)
        return None


def _has_top_rescale(dataset: Attributes) -> bool:
    return "RescaleSlope" in dataset or "RescaleIntercept" in dataset


def _modality_range(
    info: PixelInfo, lut: Lut | None, rescales: list[Rescale], low: int, high: int
) -> tuple[float, float] | None:
    if info.float_data:
        return None
    if lut is not None:
        return (0.0, float((1 << lut.bits) - 1))
    ends = [end for rescale in rescales or [Rescale()] for end in rescale.bounds(low, high)]
    return (min(ends), max(ends))


def _output_dtype(
    info: PixelInfo,
    kind: Kind,
    values: Values,
    options: RenderOptions,
    palette: Palette | None,
    lut: Lut | None,
    rescales: list[Rescale],
    low: int,
    high: int,
) -> np.dtype[Any]:
    if values is Values.DISPLAY:
        return unsigned_dtype(options.display_bits)
    if palette is not None:
        return palette.dtype
    if kind is Kind.COLOUR:
        return unsigned_dtype(info.bits_stored)
    if values is Values.STORED:
        return info.dtype if info.float_data else unsigned_dtype(info.bits_stored)
    if lut is not None:
        return lut.table.dtype
    return modality_dtype(
        rescales or [Rescale()], low, high, float_data=info.dtype if info.float_data else None
    )


def _fill_value(
    dtype: np.dtype[Any],
    values: Values,
    lut: Lut | None,
    rescales: list[Rescale],
    low: int,
    high: int,
) -> int | float:
    """The darkest value of the output range, which ``padding="fill"`` writes."""
    if values is not Values.MODALITY:
        return 0
    if lut is not None:
        return int(lut.table.min())
    ends = [end for rescale in rescales or [Rescale()] for end in rescale.bounds(low, high)]
    darkest = min(ends)
    return int(darkest) if dtype.kind in "iu" else float(darkest)
