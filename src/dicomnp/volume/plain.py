"""Header values as plain dicts: what :func:`dataclasses.asdict` gives, made faster.

:func:`dataclasses.asdict` copies every leaf value with :func:`copy.deepcopy`
(on Python 3.11 also strings and numbers); a volume header holds a few
values per slice, thousands in all. :func:`as_plain_dict` returns an equal
dict, with the same types and nothing shared with the instance that could
be changed through it, and hands the leaves that need no copy over as they are.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from types import NoneType
from typing import Any

__all__ = ["as_plain_dict"]

#: Types whose instances :func:`copy.deepcopy` returns unchanged (exact types only).
_IMMUTABLE = frozenset({NoneType, bool, int, float, complex, str, bytes})


def as_plain_dict(instance: Any) -> dict[str, Any]:
    """``dataclasses.asdict(instance)``, without copying what needs no copy.

    Parameters
    ----------
    instance : dataclass instance
        A header such as :class:`~dicomnp.volume.VolumeHeader`.

    Returns
    -------
    dict
        Equal to ``dataclasses.asdict(instance)``: nested dataclasses become
        dicts, lists, tuples and dicts are new containers of the same types,
        other values are deep copies (immutable ones are the values themselves).

    Raises
    ------
    TypeError
        ``instance`` is not a dataclass instance.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Point:
    ...     x: float
    ...     tags: tuple[str, ...]
    >>> @dataclass
    ... class Line:
    ...     ends: tuple[Point, Point]
    ...     meta: dict[str, list[int]]
    >>> as_plain_dict(Line((Point(0.0, ("a",)), Point(1.0, ())), {"k": [1, 2]}))
    {'ends': ({'x': 0.0, 'tags': ('a',)}, {'x': 1.0, 'tags': ()}), 'meta': {'k': [1, 2]}}
    """
    if not dataclasses.is_dataclass(instance) or isinstance(instance, type):
        raise TypeError("as_plain_dict() should be called on dataclass instances")
    result: dict[str, Any] = _plain(instance)
    return result


def _plain(value: Any) -> Any:
    """``value`` as ``dataclasses.asdict`` turns a field's value (its ``_asdict_inner``)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is tuple or kind is list:
        if _immutable(value):  # a flat tuple or list, per slice
            return value if kind is tuple else list(value)
        return kind(_plain(item) for item in value)
    if kind is dict:
        if _immutable(value) and _immutable(value.values()):  # a window, a rescale, per slice
            return dict(value)
        return {_plain(key): _plain(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return kind(*[_plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return kind(_plain(item) for item in value)
    if isinstance(value, dict):
        return kind((_plain(key), _plain(item)) for key, item in value.items())
    return copy.deepcopy(value)


def _immutable(values: Iterable[Any]) -> bool:
    """Whether every value is of a type :func:`copy.deepcopy` returns unchanged."""
    return set(map(type, values)) <= _IMMUTABLE
