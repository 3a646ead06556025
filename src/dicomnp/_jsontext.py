"""Indented JSON text, the same bytes as ``json.dumps(value, indent=...)`` writes, made faster.

With ``indent``, :func:`json.dumps` encodes in pure Python, token by token.
A volume header holds lists and small dicts per slice: thousands of values.
:func:`indented_json` walks the containers in Python and hands every list or
dict whose members are all plain strings, numbers, booleans or None, and
every list of such lists or dicts, to the C encoder in one call, with a
separator that holds the indentation of the members; the text is that of
``json.dumps`` with its default options otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from json.encoder import encode_basestring_ascii
from types import NoneType
from typing import Any

__all__ = ["indented_json"]

#: Members that the C encoder writes as the pure-Python one does, in any container.
_SCALARS = frozenset({str, int, float, bool, NoneType})

_INFINITY = float("inf")


def indented_json(value: Any, *, indent: int, default: Callable[[Any], Any]) -> str:
    """``json.dumps(value, indent=indent, default=default)``, the same text.

    Parameters
    ----------
    value : object
        Dicts, lists, tuples, strings, numbers, booleans, None, and objects
        that ``default`` turns into those.
    indent : int
        Spaces per level of nesting.
    default : callable
        Called on a value JSON has no type for; returns one it has.

    Returns
    -------
    str
        The JSON text, with the separators ``","`` and ``": "``, keys in
        their order, non-ASCII characters escaped.

    Raises
    ------
    TypeError
        A dict key that is not a string, number, boolean or None.
    ValueError
        A container holds itself.

    Examples
    --------
    >>> print(indented_json({"a": [1, 2.5], "b": {}}, indent=2, default=str))
    {
      "a": [
        1,
        2.5
      ],
      "b": {}
    }
    """
    return _Indenter(" " * indent, default).encode(value, 0)


class _Indenter:
    """One call of :func:`indented_json`: a C encoder per level, the containers open."""

    def __init__(self, indent: str, default: Callable[[Any], Any]) -> None:
        self.indent = indent
        self.default = default
        self.encoders: dict[int, json.JSONEncoder] = {}
        self.open: set[int] = set()  # as json's markers: a container inside itself is an error

    def encode(self, value: Any, level: int) -> str:
        """``value`` as it stands at nesting ``level``, its members indented one level more."""
        if isinstance(value, str):
            return encode_basestring_ascii(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, (list, tuple)):
            if not value:
                return "[]"
            kinds = set(map(type, value))
            if kinds <= _SCALARS:
                return self._flat(value, level)
            if len(kinds) == 1 and _all_flat(value, kinds.pop()):  # per slice: dicts, positions
                return self._flat_of_flat(value, level, "{" if type(value[0]) is dict else "[")
            self._enter(value)
            items = [self.encode(item, level + 1) for item in value]
            self.open.discard(id(value))
            return self._joined("[", items, "]", level)
        if isinstance(value, dict):
            if not value:
                return "{}"
            if type(value) is dict and _is_flat(value):
                return self._flat(value, level)
            self._enter(value)
            members = [
                f"{encode_basestring_ascii(_key(key))}: {self.encode(item, level + 1)}"
                for key, item in value.items()
            ]
            self.open.discard(id(value))
            return self._joined("{", members, "}", level)
        self._enter(value)
        text = self.encode(self.default(value), level)
        self.open.discard(id(value))
        return text

    def _enter(self, value: Any) -> None:
        if id(value) in self.open:
            raise ValueError("Circular reference detected")
        self.open.add(id(value))

    def _joined(self, opening: str, parts: list[str], closing: str, level: int) -> str:
        inner = "\n" + self.indent * (level + 1)
        return f"{opening}{inner}{f',{inner}'.join(parts)}\n{self.indent * level}{closing}"

    def _c_encoded(self, value: Any, level: int) -> str:
        """``value`` in one line but for the separators between members, which end in a
        new line indented to ``level``: the C encoder writes it."""
        encoder = self.encoders.get(level)
        if encoder is None:
            separator = ",\n" + self.indent * level
            encoder = self.encoders[level] = json.JSONEncoder(separators=(separator, ": "))
        return encoder.encode(value)

    def _flat(self, value: Any, level: int) -> str:
        """A non-empty list or dict of plain members: ``[a,\\n  b]`` from C, opened and closed."""
        text = self._c_encoded(value, level + 1)
        inner = "\n" + self.indent * (level + 1)
        return f"{text[0]}{inner}{text[1:-1]}\n{self.indent * level}{text[-1]}"

    def _flat_of_flat(self, value: Any, level: int, opening: str) -> str:
        """A list of non-empty lists (``opening`` "[") or dicts ("{") of plain members.

        The C encoder writes it with the separator of the inner members
        everywhere. A separator holds a new line, which no encoded string
        does, and between members it follows a plain value and precedes a
        key or a plain value; so it stands between a closing and an opening
        bracket exactly where it separates two items of the outer list.
        """
        closing = "]" if opening == "[" else "}"
        member = "\n" + self.indent * (level + 2)
        inner = "\n" + self.indent * (level + 1)
        text = self._c_encoded(value, level + 2)
        body = text[2:-2].replace(
            f"{closing},{member}{opening}", f"{inner}{closing},{inner}{opening}{member}"
        )
        return f"[{inner}{opening}{member}{body}{inner}{closing}\n{self.indent * level}]"


def _is_flat(value: dict[Any, Any]) -> bool:
    """A non-empty dict of plain values under string keys."""
    return bool(value) and set(map(type, value)) == {str} and _plain(value.values())


def _all_flat(items: Sequence[Any], kind: type) -> bool:
    """Whether ``items``, all of type ``kind``, are non-empty lists, tuples or dicts of plain
    values (a dict's keys strings)."""
    if not all(items):  # an empty one is written [] or {}
        return False
    if kind is dict:
        keys = set(map(type, chain.from_iterable(items)))
        return keys == {str} and _plain(chain.from_iterable(map(dict.values, items)))
    return (kind is list or kind is tuple) and _plain(chain.from_iterable(items))


def _plain(values: Iterable[Any]) -> bool:
    return set(map(type, values)) <= _SCALARS


def _float(value: float) -> str:
    """A float as :mod:`json` writes it (``allow_nan``: NaN and the infinities as JavaScript)."""
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dict key as :mod:`json` writes it: a string, or a number, boolean or None as text."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")
