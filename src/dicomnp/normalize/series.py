"""One output dtype for many instances, decided from their headers before anything is decoded.

A series is rendered into one array allocated up front, so its dtype must be
known before the first slice is decoded. :func:`slice_output` gives the dtype
:func:`~dicomnp.normalize.plan_rendering` will choose for one instance, from
the header alone; :func:`series_dtype` combines the answers of every slice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._attributes import Attributes
from ..decode.pixel_info import PixelInfo
from .options import RenderOptions, Values, ValuesLike
from .palette import read_palette
from .plan import Kind, modality_lut_for, output_dtype, output_kind
from .values import Rescale, integer_dtype, read_rescales, stored_range

__all__ = ["SliceOutput", "series_dtype", "slice_output"]

_GREY = ("MONOCHROME1", "MONOCHROME2")
_FLOAT32_EXACT = 1 << 24  # float32 holds every integer up to this magnitude


@dataclass(frozen=True)
class SliceOutput:
    """What one instance renders to, known from its header alone.

    Attributes
    ----------
    dtype : numpy.dtype
        The dtype rendering gives it (:attr:`RenderPlan.dtype`).
    value_range : tuple of 2 float or None
        The lowest and highest modality value its stored values can map to
        (``values="modality"`` of grey integer data), else None.
    """

    dtype: np.dtype[Any]
    value_range: tuple[float, float] | None = None


def slice_output(
    dataset: Attributes,
    info: PixelInfo,
    options: RenderOptions,
    *,
    frames: tuple[int, ...],
    little_endian: bool,
    name: str,
) -> SliceOutput:
    """The dtype rendering gives ``frames`` of ``dataset``, read from the header alone.

    It is the dtype of :attr:`RenderPlan.dtype` for the same arguments: the
    colour model a codec reports never changes it.

    Parameters
    ----------
    dataset : pydicom.Dataset or Attributes
        The data set; pixel data not needed.
    info : PixelInfo
        Its Image Pixel attributes.
    options : RenderOptions
        Validated options.
    frames : tuple of int
        The 0-based frames to render (their rescale may differ).
    little_endian : bool
        Byte order of the data set, for LUT data pydicom leaves as bytes.
    name : str
        The source, for messages.

    Raises
    ------
    InvalidLutError, InvalidPixelMetadataError
        A palette, Modality LUT or rescale that rendering needs is malformed.

    Examples
    --------
    >>> from dicomnp._source import open_source
    >>> from dicomnp.decode import PixelInfo
    >>> from dicomnp.examples import ct_slice
    >>> with open_source(ct_slice()) as opened:
    ...     info = PixelInfo.from_dataset(opened.dataset, opened.pixel, opened.name)
    ...     options = RenderOptions.create(values="modality")
    ...     slice_output(opened.dataset, info, options, frames=(0,), little_endian=True,
    ...                  name=opened.name)
    SliceOutput(dtype=dtype('int32'), value_range=(-33792.0, 31743.0))
    """
    signed = bool(info.pixel_representation)
    values = options.values
    kind = output_kind(info.photometric_interpretation, info.samples_per_pixel)
    palette = None
    if kind is Kind.PALETTE and values is not Values.DISPLAY:
        palette = read_palette(dataset, signed=signed, little_endian=little_endian, name=name)
    lut = None
    rescales: list[Rescale] = []
    low, high = stored_range(info.bits_stored, signed)
    value_range = None
    if kind is Kind.GREY and values is Values.MODALITY:
        lut = modality_lut_for(dataset, signed, little_endian, name, values)
        if lut is not None:
            value_range = (float(lut.table.min()), float(lut.table.max()))
        else:
            rescales = read_rescales(dataset, frames, name)
            if not info.float_data:
                ends = [
                    end for rescale in rescales or [Rescale()] for end in rescale.bounds(low, high)
                ]
                value_range = (min(ends), max(ends))
    dtype = output_dtype(info, kind, values, options, palette, lut, rescales, low, high)
    return SliceOutput(dtype, value_range)


def series_dtype(
    outputs: Iterable[SliceOutput], *, values: ValuesLike, photometric: str
) -> np.dtype[Any] | None:
    """One dtype that holds the rendering of every slice of a series exactly, or None.

    Slices of one series share Bits Stored, Pixel Representation and the
    colour model, so stored and display values have one dtype. Modality
    values of grey slices may differ when the rescale differs per slice:

    * when a slice renders to floats (a slope or intercept that is not a
      whole number, float pixel data), float32, or float64 when a slice
      needs it or holds integers beyond float32's 24-bit significand;
    * when all render to integers, the smallest integer dtype holding every
      slice's range.

    Anything else that differs (palettes with 8- and 16-bit entries) cannot
    share a dtype without changing values: None.

    Parameters
    ----------
    outputs : iterable of SliceOutput
        Each slice's :func:`slice_output`.
    values : {"stored", "modality", "display"}
        The value mode.
    photometric : str
        The series' Photometric Interpretation.

    Examples
    --------
    >>> hu = SliceOutput(np.dtype("int32"), (-33792.0, 31743.0))
    >>> pet = SliceOutput(np.dtype("float32"), (0.0, 2500.5))
    >>> series_dtype([hu, pet], values="modality", photometric="MONOCHROME2")
    dtype('float32')
    >>> other = SliceOutput(np.dtype("int16"), (-1024.0, 3071.0))
    >>> series_dtype([hu, other], values="modality", photometric="MONOCHROME2")
    dtype('int32')
    >>> palettes = [SliceOutput(np.dtype("uint8")), SliceOutput(np.dtype("uint16"))]
    >>> series_dtype(palettes, values="stored", photometric="PALETTE COLOR") is None
    True
    """
    found = list(outputs)
    if not found:
        raise ValueError("no slices to combine")
    dtypes = list(dict.fromkeys(output.dtype for output in found))
    if len(dtypes) == 1:
        return dtypes[0]
    if Values(values) is not Values.MODALITY or photometric not in _GREY:
        return None
    floats = [dtype for dtype in dtypes if dtype.kind == "f"]
    ranges = [output.value_range for output in found if output.dtype.kind in "iu"]
    if floats:
        widest = np.result_type(*floats)
        beyond = any(
            value_range is None or max(abs(value_range[0]), abs(value_range[1])) > _FLOAT32_EXACT
            for value_range in ranges
        )
        return np.dtype(np.float64) if beyond else widest
    known = [value_range for value_range in ranges if value_range is not None]
    if len(known) == len(ranges):
        exact = integer_dtype(
            int(min(low for low, _ in known)), int(max(high for _, high in known))
        )
        if exact is not None:
            return exact
    return np.result_type(*dtypes)
