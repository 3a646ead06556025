"""The per-frame transform: a decoded frame rendered into its place by a :class:`RenderPlan`.

:class:`FrameTransform` applies a plan (built by
:func:`~dicomnp.normalize.plan_rendering`) to one decoded frame, in the
order of RULES.md section 9: padding mask from stored values, colour, value
mode, MONOCHROME1 inversion, unsigned offset, padding fill. It holds
nothing but the plan and the tables it builds for display values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .colour import ColourConversion, ybr_to_rgb
from .options import Padding, Values
from .plan import Kind, RenderPlan
from .values import Rescale, apply_rescale, stored_range, unsigned_dtype, unsigned_offset

__all__ = ["FrameTransform"]


def _direct_dtype(plan: RenderPlan) -> np.dtype[Any] | None:
    """The stored dtype the decoder writes into the output, where the plan allows it.

    In stored mode, for grey and RGB-like data whose stored and output
    samples have the same size (see :meth:`FrameTransform.direct_target`).
    """
    if plan.options.values is not Values.STORED or plan.kind is Kind.PALETTE:
        return None
    if plan.info.dtype.itemsize != plan.dtype.itemsize:
        return None
    if plan.samples != plan.info.samples_per_pixel:
        return None
    return plan.info.dtype


class FrameTransform:
    """Renders decoded frames by ``plan``.

    Parameters
    ----------
    plan : RenderPlan
        The decisions, made from the header.

    Examples
    --------
    >>> import numpy as np
    >>> from dicomnp._source import open_source
    >>> from dicomnp.decode import open_frames
    >>> from dicomnp.examples import ct_slice
    >>> from dicomnp.normalize import RenderOptions, plan_rendering
    >>> with open_source(ct_slice()) as opened:
    ...     decoder = open_frames(opened)
    ...     plan = plan_rendering(opened.dataset, decoder.info, "MONOCHROME2", (0,),
    ...                           RenderOptions.create(), little_endian=True, name="ct")
    >>> FrameTransform(plan).output_of([-1000, 0, 1000])  # stored values, offset by 2**15
    [31768, 32768, 33768]
    """

    def __init__(self, plan: RenderPlan) -> None:
        self.plan = plan
        self._tables: dict[tuple[Any, ...], NDArray[Any]] = {}
        # Decided once per plan, not per frame: a series renders many frames by one plan.
        self._direct = _direct_dtype(plan)
        self._offset = unsigned_offset(plan.info.bits_stored, bool(plan.info.pixel_representation))

    def direct_target(self, out: NDArray[Any]) -> NDArray[Any] | None:
        """A view of ``out`` the decoder can write stored values into, or None.

        Possible in stored mode for grey and RGB-like data when the stored and
        output samples have the same size: the offset and inversion are then
        made in place, with no second frame buffer.
        """
        return None if self._direct is None else out.view(self._direct)

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
        if self.plan.padding is not None and (mask is not None or self.plan.wants_mask):
            padded = self.plan.padding.mask(stored[..., 0])
        self._transform(position, stored, out, direct=direct)
        if padded is None:
            return
        if mask is not None:
            mask[...] = padded
        if self.plan.options.padding is Padding.MASK and out.dtype.kind == "f":
            out[padded] = np.nan
        elif self.plan.options.padding is Padding.FILL and self.plan.fill_value is not None:
            out[padded] = self.plan.fill_value

    def _transform(
        self, position: int, stored: NDArray[Any], out: NDArray[Any], *, direct: bool
    ) -> None:
        values = self.plan.options.values
        if self.plan.kind is Kind.GREY:
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
            scaled = rgb.astype(np.float64) * (self.plan.top / source_top)
            out[...] = np.floor(scaled + 0.5)
            return
        self._colour(stored, out, direct=direct)

    def _colour_bits(self) -> int:
        return (
            self.plan.palette.bits if self.plan.palette is not None else self.plan.info.bits_stored
        )

    def _colour_dtype(self) -> np.dtype[Any]:
        return (
            self.plan.palette.dtype
            if self.plan.palette is not None
            else unsigned_dtype(self._colour_bits())
        )

    def _unsigned(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        """Stored values plus the unsigned offset, modular arithmetic in ``out``'s dtype."""
        if not direct:
            np.copyto(out, stored, casting="unsafe")
        if self._offset:
            np.add(out, out.dtype.type(self._offset), out=out)

    def _stored_grey(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        if self.plan.info.float_data:
            if not direct:
                out[...] = stored
            return
        self._unsigned(stored, out, direct=direct)
        if self.plan.inverted:
            np.subtract(out.dtype.type(self.plan.top), out, out=out)

    def _colour(self, stored: NDArray[Any], out: NDArray[Any], *, direct: bool) -> None:
        if self.plan.palette is not None:
            self.plan.palette.apply(stored, out)
            return
        self._unsigned(stored, out, direct=direct)
        if self.plan.conversion is ColourConversion.YBR_FULL:
            ybr_to_rgb(out, self.plan.info.bits_stored, partial=False, out=out)
        elif self.plan.conversion is ColourConversion.YBR_PARTIAL:
            ybr_to_rgb(out, self.plan.info.bits_stored, partial=True, out=out)

    def modality_values(self, position: int, stored: NDArray[Any]) -> NDArray[Any]:
        """Modality values of ``stored`` for frame ``position``, as float64 or the LUT dtype."""
        if self.plan.modality_lut is not None:
            return self.plan.modality_lut.apply(stored)
        rescale = self.plan.rescales[position] if self.plan.rescales else Rescale()
        result = stored.astype(np.float64)
        if rescale.present:
            result *= rescale.slope
            result += rescale.intercept
        return result

    def _modality(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        if self.plan.modality_lut is not None:
            out[...] = self.plan.modality_lut.apply(stored)
            return
        rescale = self.plan.rescales[position] if self.plan.rescales else Rescale()
        apply_rescale(stored, rescale, out)

    def _display(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        if not self.plan.info.float_data and self.plan.info.bits_stored <= 16:
            # Up to 65536 stored values: render each once, then look the frame up.
            table = self._display_table(position)
            index = stored.astype(np.intp)
            index -= stored_range(
                self.plan.info.bits_stored, bool(self.plan.info.pixel_representation)
            )[0]
            np.take(table, index, out=out, mode="clip")
            return
        self._display_values(position, stored, out)

    def _display_table(self, position: int) -> NDArray[Any]:
        rescale = self.plan.rescales[position] if self.plan.rescales else None
        voi = self.plan.vois[position] if self.plan.vois else None
        key = (rescale, id(voi))
        table = self._tables.get(key)
        if table is None:
            low, high = stored_range(
                self.plan.info.bits_stored, bool(self.plan.info.pixel_representation)
            )
            every = np.arange(low, high + 1, dtype=np.int64).reshape(1, -1, 1)
            table = np.empty(every.shape[1], dtype=self.plan.dtype)
            self._display_values(position, every, table.reshape(1, -1, 1))
            self._tables[key] = table
        return table

    def _display_values(self, position: int, stored: NDArray[Any], out: NDArray[Any]) -> None:
        values = self.modality_values(position, stored)
        voi = self.plan.vois[position] if self.plan.vois else None
        if voi is not None:
            fraction = voi.fraction(values)
        else:  # float data without any VOI: this frame's own range
            finite = values[np.isfinite(values)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            fraction = (values.astype(np.float64) - low) / (high - low or 1.0)
            np.clip(fraction, 0.0, 1.0, out=fraction)
        level = fraction * self.plan.top
        if self.plan.inverted:
            level = self.plan.top - level
        np.nan_to_num(level, copy=False, nan=0.0)
        out[...] = np.floor(level + 0.5)

    def output_of(self, stored_values: list[int | float]) -> list[Any] | None:
        """What the given stored values become in frame 0's output, or None if unrepresentable."""
        try:
            probe = np.array(stored_values, dtype=self.plan.info.dtype)
        except (OverflowError, ValueError):
            return None
        if probe.tolist() != list(stored_values):
            return None
        probe = probe.reshape(1, -1, 1)
        result = np.empty((1, probe.shape[1], self.plan.samples), dtype=self.plan.dtype)
        self._transform(0, probe, result, direct=False)
        if self.plan.samples == 1:
            return [item.item() for item in result[0, :, 0]]
        return [row.tolist() for row in result[0]]
