"""The rendering plan: how each decoded frame becomes an output frame.

A :class:`RenderPlan` (built by :func:`.plan.plan_rendering` from the header,
before any frame is decoded) renders each decoded frame straight into its
place in the output array, in the order of RULES.md section 9: padding mask
from stored values, colour, value mode, MONOCHROME1 inversion, unsigned
offset, padding fill.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..decode.pixel_info import PixelInfo
from .colour import ColourConversion, ybr_to_rgb
from .lut import Lut
from .options import Padding, RenderOptions, Values
from .padding import PaddingSpec
from .palette import Palette
from .values import Rescale, apply_rescale, stored_range, unsigned_dtype, unsigned_offset
from .voi import VoiTransform

__all__ = ["Kind", "RenderPlan"]

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
    rescales: list[Rescale] = field(default_factory=list)
    modality_lut: Lut | None = None
    vois: list[VoiTransform | None] = field(default_factory=list)
    padding: PaddingSpec | None = None
    fill_value: int | float | None = None
    _tables: dict[tuple[Any, ...], NDArray[Any]] = field(
        default_factory=dict, compare=False, repr=False
    )

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

    def direct_target(self, out: NDArray[Any]) -> NDArray[Any] | None:
        """A view of ``out`` the decoder can write stored values into, or None.

        Possible in stored mode for grey and RGB-like data when the stored and
        output samples have the same size: the offset and inversion are then
        made in place, with no second frame buffer.
        """
        if self.options.values is not Values.STORED or self.kind is Kind.PALETTE:
            return None
        if self.info.dtype.itemsize != self.dtype.itemsize:
            return None
        if self.samples != self.info.samples_per_pixel:
            return None
        return out.view(self.info.dtype)

    def render(
        self,
        position: int,
        stored: NDArray[Any],
        out: NDArray[Any],
        mask: NDArray[np.bool_] | None,
        *,
        direct: bool = False,
    ) -> None:
        """Render one decoded frame.

        Parameters
        ----------
        position : int
            The frame's position in the output (index into ``frames``).
        stored : numpy.ndarray
            Stored values ``(rows, columns, samples)`` in ``info.dtype``.
        out : numpy.ndarray
            Receives the frame ``(rows, columns, 1|3)`` in ``dtype``.
        mask : numpy.ndarray of bool or None
            Receives ``(rows, columns)`` padding flags when given.
        direct : bool
            ``stored`` is :meth:`direct_target` of ``out``: same memory.
        """
        padded = None
        if self.padding is not None and (mask is not None or self.wants_mask):
            padded = self.padding.mask(stored[..., 0])
        self._transform(position, stored, out, direct=direct)
        if padded is None:
            return
        if mask is not None:
            mask[...] = padded
        if self.options.padding is Padding.MASK and out.dtype.kind == "f":
            out[padded] = np.nan
        elif self.options.padding is Padding.FILL and self.fill_value is not None:
            out[padded] = self.fill_value

    def _transform(
        self, position: int, stored: NDArray[Any], out: NDArray[Any], *, direct: bool
    ) -> None:
        values = self.options.values
        if self.kind is Kind.GREY:
            if values is Values.STORED:
                self._stored_grey(stored, out, direct=direct)
            elif values is Values.MODALITY:
                self._modality(position, stored, out)
            else:
                self._display(position, stored, out)
            return
        if values is Values.DISPLAY:
            rgb = np.empty(out.shape, dtype=self._colour_dtype())
            self._colour(stored, rgb, direct=False)
            source_top = float((1 << self._colour_bits()) - 1)
            scaled = rgb.astype(np.float64) * (self.top / source_top)
            out[...] = np.floor(scaled + 0.5)
            return
        self._colour(stored, out, direct=direct)

    def _colour_bits(self) -> int:
        return self.palette.bits if self.palette is not None else self.info.bits_stored

    def _colour_dtype(self) -> np.dtype[Any]:
        return (
            self.palette.dtype if self.palette is not None else unsigned_dtype(self._colour_bits())
        )

    def _unsigned(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        """Stored values plus the unsigned offset, modular arithmetic in ``out``'s dtype."""
        if not direct:
            np.copyto(out, stored, casting="unsafe")
        offset = unsigned_offset(self.info.bits_stored, bool(self.info.pixel_representation))
        if offset:
            np.add(out, out.dtype.type(offset), out=out)

    def _stored_grey(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        if self.info.float_data:
            if not direct:
                out[...] = stored
            return
        self._unsigned(stored, out, direct=direct)
        if self.inverted:
            np.subtract(out.dtype.type(self.top), out, out=out)

    def _colour(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        if self.palette is not None:
            self.palette.apply(stored, out)
            return
        self._unsigned(stored, out, direct=direct)
        if self.conversion is ColourConversion.YBR_FULL:
            ybr_to_rgb(out, self.info.bits_stored, partial=False, out=out)
        elif self.conversion is ColourConversion.YBR_PARTIAL:
            ybr_to_rgb(out, self.info.bits_stored, partial=True, out=out)

    def modality_values(self, position: int, stored: NDArray[Any]) -> NDArray[Any]:
        """Modality values of ``stored`` for frame ``position``, as float64 or the LUT dtype."""
        if self.modality_lut is not None:
            return self.modality_lut.apply(stored)
        rescale = self.rescales[position] if self.rescales else Rescale()
        result = stored.astype(np.float64)
        if rescale.present:
            result *= rescale.slope
            result += rescale.intercept
        return result

    def _modality(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        if self.modality_lut is not None:
            out[...] = self.modality_lut.apply(stored)
            return
        rescale = self.rescales[position] if self.rescales else Rescale()
        apply_rescale(stored, rescale, out)

    def _display(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        if not self.info.float_data and self.info.bits_stored <= 16:
            # Up to 65536 stored values: render each once, then look the frame up.
            table = self._display_table(position)
            index = stored.astype(np.intp)
            index -= stored_range(self.info.bits_stored, bool(self.info.pixel_representation))[0]
            np.take(table, index, out=out, mode="clip")
            return
        self._display_values(position, stored, out)

    def _display_table(self, position: int) -> NDArray[Any]:
        rescale = self.rescales[position] if self.rescales else None
        voi = self.vois[position] if self.vois else None
        key = (rescale, id(voi))
        table = self._tables.get(key)
        if table is None:
            low, high = stored_range(self.info.bits_stored, bool(self.info.pixel_representation))
            every = np.arange(low, high + 1, dtype=np.int64).reshape(1, -1, 1)
            table = np.empty(every.shape[1], dtype=self.dtype)
            self._display_values(position, every, table.reshape(1, -1, 1))
            self._tables[key] = table
        return table

    def _display_values(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        values = self.modality_values(position, stored)
        voi = self.vois[position] if self.vois else None
        if voi is not None:
            fraction = voi.fraction(values)
        else:  # float data without any VOI: this frame's own range
            finite = values[np.isfinite(values)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            fraction = (values.astype(np.float64) - low) / (high - low or 1.0)
            np.clip(fraction, 0.0, 1.0, out=fraction)
        level = fraction * self.top
        if self.inverted:
            level = self.top - level
        np.nan_to_num(level, copy=False, nan=0.0)
        out[...] = np.floor(level + 0.5)

    def output_of(self, stored_values: list[int | float]) -> list[Any] | None:
        """What the given stored values become in frame 0's output, or None if unrepresentable."""
        try:
            probe = np.array(stored_values, dtype=self.info.dtype)
        except (OverflowError, ValueError):
            return None
        if probe.tolist() != list(stored_values):
            return None
        probe = probe.reshape(1, -1, 1)
        result = np.empty((1, probe.shape[1], self.samples), dtype=self.dtype)
        self._transform(0, probe, result, direct=False)
        if self.samples == 1:
            return [item.item() for item in result[0, :, 0]]
        return [row.tolist() for row in result[0]]
