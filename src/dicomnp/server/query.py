"""The query parameters of a rendered request, checked and turned into reading options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidOptionError

__all__ = ["frame_numbers", "options_of"]

_TRUE = {"true": True, "1": True, "false": False, "0": False}
_SERIES = ("values", "padding", "allow_lossy", "voi", "voi_index", "window", "display_bits")
_INSTANCE = (*_SERIES, "frames")


def frame_numbers(text: str) -> list[int]:
    """1-based DICOMweb frame numbers, ``"1,3,5"``, as 0-based indices.

    Raises
    ------
    InvalidOptionError
        A number is not a positive integer.

    Examples
    --------
    >>> frame_numbers("1,3")
    [0, 2]
    """
    indices = []
    for item in text.split(","):
        try:
            number = int(item)
        except ValueError:
            number = 0
        if number < 1:
            raise InvalidOptionError(f"frame numbers are 1-based integers, not {item!r}")
        indices.append(number - 1)
    return indices


def options_of(query: Mapping[str, str], *, instance: bool) -> dict[str, Any]:
    """The reading options a query names; unknown names and malformed values raise.

    Values are checked by the reading calls themselves; here they are only
    converted from text.

    Raises
    ------
    InvalidOptionError
        An unknown parameter, or a value that is not of its parameter's kind.

    Examples
    --------
    >>> options_of({"values": "modality", "allow_lossy": "true"}, instance=False)
    {'values': 'modality', 'allow_lossy': True}
    >>> options_of({"window": "40,400", "frames": "2"}, instance=True)
    {'window': (40.0, 400.0), 'frames': [1]}
    """
    known = _INSTANCE if instance else _SERIES
    options: dict[str, Any] = {}
    for name, text in query.items():
        if name not in known:
            raise InvalidOptionError(f"unknown query parameter {name!r}; known: {', '.join(known)}")
        if name == "allow_lossy":
            if text.lower() not in _TRUE:
                raise InvalidOptionError(f"allow_lossy must be true or false, not {text!r}")
            options[name] = _TRUE[text.lower()]
        elif name in ("voi_index", "display_bits"):
            try:
                options[name] = int(text)
            except ValueError:
                raise InvalidOptionError(f"{name} must be an integer, not {text!r}") from None
        elif name == "window":
            try:
                center, width = (float(item) for item in text.split(","))
            except ValueError:
                raise InvalidOptionError(
                    f"window must be center,width in modality units, not {text!r}"
                ) from None
            options[name] = (center, width)
        elif name == "frames":
            options[name] = frame_numbers(text)
        else:
            options[name] = text
    return options
