"""The VOI transform of display values: windows and VOI LUTs (RULES.md 5.3).

Input is the modality value; output is a fraction of the display range,
0 to 1, that the caller quantises. Window functions follow PS3.3
C.11.2.1.2 (LINEAR) and C.11.2.1.3 (LINEAR_EXACT, SIGMOID); a VOI LUT item
maps like any LUT and its entries are scaled by their own range.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes, items, required
from ..errors import InvalidOptionError, InvalidPixelMetadataError
from .lut import Lut
from .options import RenderOptions, Voi
from .values import lut_from_item

__all__ = ["VoiFunction", "VoiLut", "VoiTransform", "Window", "choose_voi", "read_windows"]

logger = logging.getLogger(__name__)

_WINDOW_WIDTH = 0x00281051
_VOI_LUT_FUNCTION = 0x00281056


class VoiFunction(str, Enum):
    """VOI LUT Function (0028,1056)."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"


@dataclass(frozen=True)
class Window:
    """One window, in modality units.

    Attributes
    ----------
    center, width : float
        Window Center and Window Width.
    function : VoiFunction
        How the window maps values.
    explanation : str or None
        Window Center & Width Explanation, when given.
    index : int or None
        Position among the file's windows; None for an explicit or derived one.
    source : str
        ``"window"`` (from the file), ``"explicit"`` (the ``window`` option) or
        ``"range"`` (no VOI in the file: the whole modality range).
    """

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR
    explanation: str | None = None
    index: int | None = None
    source: str = "window"

    def check(self, name: str) -> None:
        """Refuse widths the function cannot use (LINEAR needs 1 or more, others above 0)."""
        least = 1.0 if self.function is VoiFunction.LINEAR else 0.0
        if self.width < least or (least == 0.0 and self.width <= 0.0):
            message = (
                f"Window Width {self.width:g} cannot be used with VOI LUT Function "
                f"{self.function.value}"
            )
            if self.source == "explicit":
                raise InvalidOptionError(message, option="window", path=name)
            raise InvalidPixelMetadataError(message, path=name, tag=_WINDOW_WIDTH)

    def fraction(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Map modality values to 0 .. 1.

        Examples
        --------
        >>> import numpy as np
        >>> Window(40.0, 400.0).fraction(np.array([-500.0, 40.0, 500.0])).round(2).tolist()
        [0.0, 0.5, 1.0]
        """
        x = values.astype(np.float64)
        c, w = self.center, self.width
        if self.function is VoiFunction.SIGMOID:
            result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
            return result
        if self.function is VoiFunction.LINEAR:
            c, w = c - 0.5, w - 1.0
        if w == 0:  # LINEAR with width 1: a step at the center
            return (x > c).astype(np.float64)
        result = (x - c) / w + 0.5
        np.clip(result, 0.0, 1.0, out=result)
        return result

    def describe(self) -> dict[str, Any]:
        """The window as a JSON-serialisable mapping."""
        return {
            "source": self.source,
            "center": self.center,
            "width": self.width,
            "function": self.function.value,
            "explanation": self.explanation,
            "index": self.index,
        }


@dataclass(frozen=True)
class VoiLut:
    """One item of the VOI LUT Sequence."""

    lut: Lut
    index: int
    explanation: str | None = None

    def fraction(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Map modality values through the LUT, scaled to 0 .. 1 by its entry range."""
        looked_up = self.lut.apply(values).astype(np.float64)
        looked_up /= float((1 << self.lut.bits) - 1)
        return looked_up

    def describe(self) -> dict[str, Any]:
        """The LUT as a JSON-serialisable mapping."""
        return {
            "source": "lut",
            "index": self.index,
            "explanation": self.explanation,
            **self.lut.describe(),
        }


VoiTransform = Union[Window, VoiLut]


def _floats(value: Any) -> list[float]:
    values = [value] if isinstance(value, (str, int, float)) else list(value)
    return [float(item) for item in values]


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _windows_in(item: Attributes, name: str) -> list[Window]:
    centers: list[float] = required(item, "WindowCenter", name, _floats, default=[], what="numeric")
    widths: list[float] = required(item, "WindowWidth", name, _floats, default=[], what="numeric")
    function_text = required(item, "VOILUTFunction", name, str, default="LINEAR").strip().upper()
    explanations: list[str] = required(
        item, "WindowCenterWidthExplanation", name, _texts, default=[]
    )
    try:
        function = VoiFunction(function_text)
    except ValueError:
        raise InvalidPixelMetadataError(
            f"unknown VOI LUT Function {function_text!r}", path=name, tag=_VOI_LUT_FUNCTION
        ) from None
    if len(centers) != len(widths):
        logger.info("%s: %d window centers for %d widths", name, len(centers), len(widths))
    return [
        Window(
            center=c,
            width=w,
            function=function,
            explanation=explanations[i] if i < len(explanations) else None,
            index=i,
        )
        for i, (c, w) in enumerate(zip(centers, widths, strict=False))
    ]


def read_windows(dataset: Attributes, frame: int, name: str) -> list[Window]:
    """The windows of ``frame``: top level, else the Frame VOI LUT functional group.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> [(w.center, w.width) for w in read_windows(ct_slice(), 0, "x")]
    [(40.0, 400.0)]
    """
    top = _windows_in(dataset, name)
    if top:
        return top
    for holder_keyword, index in (
        ("PerFrameFunctionalGroupsSequence", frame),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        groups = items(dataset, holder_keyword, name)
        holder = groups[index] if index < len(groups) else None
        found = items(holder, "FrameVOILUTSequence", name) if holder is not None else []
        if found:
            windows = _windows_in(found[0], name)
            if windows:
                return windows
    return []


def _voi_luts(dataset: Attributes, signed: bool, little_endian: bool, name: str) -> list[VoiLut]:
    sequence = required(dataset, "VOILUTSequence", name, default=None)
    if not sequence:
        return []
    result = []
    for index, item in enumerate(sequence):
        lut = lut_from_item(
            item, signed=signed, little_endian=little_endian, what="VOI LUT", name=name
        )
        if lut is None:
            continue
        text = required(item, "LUTExplanation", name, default=None)
        result.append(VoiLut(lut, index, str(text) if text else None))
    return result


def choose_voi(
    dataset: Attributes,
    options: RenderOptions,
    frames: tuple[int, ...],
    modality_range: tuple[float, float] | None,
    *,
    lut_signed: bool,
    little_endian: bool,
    name: str,
) -> list[VoiTransform | None]:
    """The VOI transform for each of ``frames``.

    The explicit ``window`` option wins; then the preferred kind (``voi``),
    then the other kind, each picked by ``voi_index``; then a LINEAR_EXACT
    window over ``modality_range``. None for a frame means the caller must
    use the frame's own minimum and maximum (float data without any VOI).

    Raises
    ------
    InvalidOptionError
        ``voi_index`` is past the windows or LUTs the file holds.
    """
    function = _windows_in(dataset, name)
    if options.window is not None:
        chosen = function[0].function if function else VoiFunction.LINEAR
        explicit = Window(*options.window, function=chosen, source="explicit")
        explicit.check(name)
        return [explicit] * len(frames)
    luts = _voi_luts(dataset, lut_signed, little_endian, name)
    result: list[VoiTransform | None] = []
    for frame in frames:
        windows = read_windows(dataset, frame, name)
        kinds: list[list[Any]] = [windows, luts] if options.voi is Voi.WINDOW else [luts, windows]
        available = next((kind for kind in kinds if kind), None)
        if available is None:
            result.append(_range_window(modality_range))
            continue
        if options.voi_index >= len(available):
            raise InvalidOptionError(
                f"voi_index {options.voi_index} asks for more than the "
                f"{len(windows)} window(s) and {len(luts)} VOI LUT(s) the file holds",
                option="voi_index",
                path=name,
            )
        transform = available[options.voi_index]
        if isinstance(transform, Window):
            transform.check(name)
        result.append(transform)
    return result


def _range_window(modality_range: tuple[float, float] | None) -> Window | None:
    if modality_range is None:
        return None
    low, high = modality_range
    return Window(
        center=(low + high) / 2,
        width=max(high - low, 1e-12),
        function=VoiFunction.LINEAR_EXACT,
        source="range",
    )
