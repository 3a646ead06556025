"""The rendering plan: everything decided from the header before any frame is decoded.

:func:`plan_rendering` reads the header once (colour model, palette,
rescale, VOI, padding) and returns a :class:`RenderPlan`, one frozen value
holding every decision: output kind, dtype and shape, unsigned offset,
inversion, LUTs, windows, padding. The per-frame transform
(:mod:`.transform`) applies it; the image and volume headers
(:mod:`.header`) describe it. :func:`output_kind` and :func:`output_dtype`
are the one place where the kind and the dtype are decided, also for a
series whose dtype must be known before any slice is decoded
(:mod:`.series`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from .._attributes import Attributes
from ..decode.pixel_info import PixelInfo
from ..errors import InvalidPixelMetadataError
from .colour import ColourConversion, conversion_for
from .lut import Lut
from .options import Padding, RenderOptions, Values
from .padding import PaddingSpec, read_padding
from .palette import Palette, read_palette
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

__all__ = [
    "Kind",
    "RenderPlan",
    "modality_lut_for",
    "output_dtype",
    "output_kind",
    "plan_rendering",
]

logger = logging.getLogger(__name__)


class Kind(str, Enum):
    """What the decoded samples are."""

    GREY = "grey"
    COLOUR = "colour"
    PALETTE = "palette"


@dataclass(frozen=True)
class RenderPlan:
    """How decoded frames become output frames; built by :func:`plan_rendering`.

    Attributes
    ----------
    options : RenderOptions
        The validated options.
    info : PixelInfo
        The Image Pixel attributes.
    decoded_photometric : str
        The colour model of decoded values, as the decoder reports it.
    kind : Kind
        Grey, colour or palette.
    conversion : ColourConversion
        The colour step (made here, or by the codec).
    dtype : numpy.dtype
        The output dtype, native little-endian.
    samples : int
        Samples per output pixel: 1 or 3.
    offset : int
        The unsigned offset added to stored values (stored mode; 0 otherwise).
    inverted : bool
        MONOCHROME1 inverted to MONOCHROME2.
    frames : tuple of int
        The 0-based frames rendered, in output order.
    palette : Palette or None
        The palette of PALETTE COLOR data.
    rescales : tuple of Rescale
        Per frame, the rescale of grey data without a Modality LUT (empty: none).
    modality_lut : Lut or None
        The Modality LUT Sequence, when present.
    vois : tuple of (VoiTransform or None)
        Per frame, the VOI step of display values (None: the frame's own range).
    padding : PaddingSpec or None
        Pixel Padding Value / Range Limit.
    fill_value : int, float or None
        What ``padding="fill"`` writes.
    """

    options: RenderOptions
    info: PixelInfo
    decoded_photometric: str
    kind: Kind
    conversion: ColourConversion
    dtype: np.dtype[Any]
    samples: int
    offset: int
    inverted: bool
    frames: tuple[int, ...]
    palette: Palette | None = None
    rescales: tuple[Rescale, ...] = ()
    modality_lut: Lut | None = None
    vois: tuple[VoiTransform | None, ...] = ()
    padding: PaddingSpec | None = None
    fill_value: int | float | None = None

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(rows, columns, samples)`` of one output frame."""
        return (self.info.rows, self.info.columns, self.samples)

    @property
    def wants_mask(self) -> bool:
        """True when rendering needs the padding mask (mask or fill mode with padding)."""
        return self.padding is not None and self.options.padding is not Padding.KEEP

    @property
    def top(self) -> int:
        """The largest output value of stored and display integer modes."""
        if self.options.values is Values.DISPLAY:
            return (1 << self.options.display_bits) - 1
        return (1 << self.info.bits_stored) - 1


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
    kind = output_kind(decoded_photometric, info.samples_per_pixel)
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
        modality_lut = modality_lut_for(dataset, signed, little_endian, name, values)
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
    dtype = output_dtype(info, kind, values, options, palette, modality_lut, rescales, low, high)
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
        rescales=tuple(rescales),
        modality_lut=modality_lut,
        vois=tuple(vois),
        padding=padding,
        fill_value=0.0
        if info.float_data
        else _fill_value(dtype, values, modality_lut, rescales, low, high),
    )


def output_kind(photometric: str, samples_per_pixel: int) -> Kind:
    """What the samples of a colour model are: grey, colour or palette indices.

    Examples
    --------
    >>> output_kind("PALETTE COLOR", 1), output_kind("YBR_FULL", 3), output_kind("MONOCHROME1", 1)
    (<Kind.PALETTE: 'palette'>, <Kind.COLOUR: 'colour'>, <Kind.GREY: 'grey'>)
    """
    if photometric == "PALETTE COLOR":
        return Kind.PALETTE
    return Kind.COLOUR if samples_per_pixel == 3 else Kind.GREY


def modality_lut_for(
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


def output_dtype(
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
    """The output dtype: the one decision, for one instance and for a series alike."""
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
