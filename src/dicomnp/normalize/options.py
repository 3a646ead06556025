"""The rendering options, validated once into a frozen value.

Public calls take keyword-only arguments; :meth:`RenderOptions.create` checks
them and returns one :class:`RenderOptions` that the rest of the layer trusts.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from enum import Enum
from typing import Literal, TypeVar, Union

from ..errors import InvalidOptionError

__all__ = [
    "Padding",
    "PaddingLike",
    "RenderOptions",
    "Values",
    "ValuesLike",
    "Voi",
    "VoiLike",
    "check_workers",
]


class Values(str, Enum):
    """Which values the array holds (rule R8, docs/rendering.rst)."""

    STORED = "stored"
    """Stored values by the rules: unsigned offset, MONOCHROME1 inverted, colour as RGB."""
    MODALITY = "modality"
    """Modality LUT or Rescale Slope/Intercept applied: physical values such as HU."""
    DISPLAY = "display"
    """Modality, then VOI (window or VOI LUT), quantised to unsigned ``display_bits``."""


class Padding(str, Enum):
    """What to do with pixels that Pixel Padding Value / Range Limit mark (R9)."""

    KEEP = "keep"
    """Leave them; the header says which output values are padding."""
    MASK = "mask"
    """Also return a boolean mask; padding becomes NaN in float output."""
    FILL = "fill"
    """Set them to the darkest value of the output range."""


class Voi(str, Enum):
    """Which VOI transform display values use, when the file offers both."""

    WINDOW = "window"
    """Window Center / Window Width (with VOI LUT Function)."""
    LUT = "lut"
    """An item of the VOI LUT Sequence."""


ValuesLike = Union[Values, Literal["stored", "modality", "display"]]
PaddingLike = Union[Padding, Literal["keep", "mask", "fill"]]
VoiLike = Union[Voi, Literal["window", "lut"]]

_E = TypeVar("_E", bound=Enum)


def _choice(kind: type[_E], value: object, option: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise InvalidOptionError(
            f"{option} must be one of {allowed}, not {value!r}", option=option
        ) from None


def _flag(value: object, option: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidOptionError(f"{option} must be True or False, not {value!r}", option=option)
    return value


def _integer(value: object, option: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise InvalidOptionError(f"{option} must be an integer, not {value!r}", option=option)
    try:
        number = operator.index(value)  # type: ignore[arg-type]  # refused below if it cannot
    except TypeError:
        raise InvalidOptionError(
            f"{option} must be an integer, not {value!r}", option=option
        ) from None
    if number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InvalidOptionError(f"{option} must be {bounds}, not {number}", option=option)
    return int(number)


def _window(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        center, width = (float(item) for item in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InvalidOptionError(
            f"window must be None or a (center, width) pair of numbers, not {value!r}",
            option="window",
        ) from None
    if not (math.isfinite(center) and math.isfinite(width)) or width <= 0:
        raise InvalidOptionError(
            f"window needs a finite center and a width above 0, not {value!r}", option="window"
        )
    return (center, width)


@dataclass(frozen=True)
class RenderOptions:
    """How stored values become the output array; every field already validated.

    Attributes
    ----------
    values : Values
        ``stored`` (default), ``modality`` or ``display``.
    allow_lossy : bool
        Decode lossy-compressed data instead of raising ``LossyDataError``.
    padding : Padding
        ``keep`` (default), ``mask`` or ``fill``.
    voi : Voi
        In display mode, prefer the window (default) or the VOI LUT Sequence;
        the other is used when the preferred one is absent.
    voi_index : int
        Which window pair, or which VOI LUT item, to use (0-based).
    window : tuple of float or None
        An explicit ``(center, width)`` that overrides the file's VOI.
    display_bits : int
        Bits of display output, 1 to 16: uint8 up to 8, uint16 above.

    Examples
    --------
    >>> RenderOptions.create(values="modality").values
    <Values.MODALITY: 'modality'>
    >>> RenderOptions.create(padding="blur")
    Traceback (most recent call last):
    ...
    dicomnp.errors.InvalidOptionError: padding must be one of 'keep', 'mask', 'fill', not 'blur'
    """

    values: Values = Values.STORED
    allow_lossy: bool = False
    padding: Padding = Padding.KEEP
    voi: Voi = Voi.WINDOW
    voi_index: int = 0
    window: tuple[float, float] | None = None
    display_bits: int = 8

    @classmethod
    def create(
        cls,
        *,
        values: ValuesLike = "stored",
        allow_lossy: bool = False,
        padding: PaddingLike = "keep",
        voi: VoiLike = "window",
        voi_index: int = 0,
        window: tuple[float, float] | None = None,
        display_bits: int = 8,
    ) -> RenderOptions:
        """Validate keyword arguments into options.

        Raises
        ------
        InvalidOptionError
            A value is of the wrong type or out of range; the message names
            the option and the values it accepts.
        """
        return cls(
            values=_choice(Values, values, "values"),
            allow_lossy=_flag(allow_lossy, "allow_lossy"),
            padding=_choice(Padding, padding, "padding"),
            voi=_choice(Voi, voi, "voi"),
            voi_index=_integer(voi_index, "voi_index", 0),
            window=_window(window),
            display_bits=_integer(display_bits, "display_bits", 1, 16),
        )


def check_workers(workers: object) -> int | None:
    """Validate a ``workers`` option: None, or an integer of at least 1.

    Raises
    ------
    InvalidOptionError
        ``workers`` is anything else.
    """
    return None if workers is None else _integer(workers, "workers", 1)
