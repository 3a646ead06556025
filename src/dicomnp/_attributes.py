"""Reading a header's attributes: from a pydicom Dataset, or straight from the file's bytes.

Every layer reads attributes through :class:`Attributes`: ``get`` by keyword
(the value) or by tag (the pydicom element), and ``in``. A
``pydicom.Dataset`` is one. :class:`HeadAttributes` is another, made from the
elements :func:`~dicomnp._head.locate_elements` found in a file's first
bytes: it converts the values of the common value representations itself, in
a few microseconds and exactly as pydicom would, and builds the pydicom
Dataset only when it is asked for anything else (sequences, a tag's element,
text in a character set other than ASCII's supersets, values pydicom would
repair or refuse). What is not converted here is converted by pydicom.

Values are the same whatever pydicom's global options: :func:`plain` turns
what ``pydicom.config.DS_decimal``, ``DS_numpy`` or ``use_IS_numpy`` make of
a number back into the float or int pydicom gives by default, for every
value read here.

The layers read one attribute with :func:`required` or :func:`optional`, the
two policies for a value that cannot be used: ``required`` refuses it with an
:class:`~dicomnp.errors.InvalidPixelMetadataError` naming the file, the tag
and the value; ``optional`` logs why and reads it as absent. Both treat an
empty value as absent, and both catch what pydicom raises when it converts a
malformed value on access (:data:`UNREADABLE`), here and nowhere else.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, TypeVar, overload

import numpy as np
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence

from ._head import ElementTable, Located
from .errors import InvalidPixelMetadataError

__all__ = [
    "UNREADABLE",
    "Attributes",
    "HeadAttributes",
    "as_dataset",
    "items",
    "optional",
    "optional_values",
    "plain",
    "required",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Attributes(Protocol):
    """What the layers read from a header (a ``pydicom.Dataset`` is one)."""

    def get(self, key: str | int, default: Any = None, /) -> Any:
        """The value of the element named by keyword; the element itself for a tag."""
        ...

    def __contains__(self, key: str | int, /) -> bool:
        """True when the element named by keyword or tag is present."""
        ...


_NUMBERS = {
    vr: struct.Struct("<" + code)
    for vr, code in {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}.items()
}
_CHARSET_TEXT = frozenset({"SH", "LO"})
"""Text whose decoding depends on Specific Character Set."""
_ASCII_CHARSETS = frozenset(
    {"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126",
     "ISO_IR 127", "ISO_IR 138", "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 192",
     "ISO_IR 203", "GB18030", "GBK"}
)  # fmt: skip
"""Character sets in which printable ASCII bytes mean ASCII characters (PS3.3 C.12.1.1.2)."""
_PRINTABLE = re.compile(rb"[\x20-\x7e\x00]*\Z")
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,12}\s*\Z")
"""An Integer String pydicom reads as an int: at most 12 digits (PS3.5 6.2, 12 bytes)."""
_REPAIRED_BY_PYDICOM = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})
"""LUT descriptors, whose first value pydicom reads as unsigned whatever the VR."""
_SPECIFIC_CHARACTER_SET = 0x00080005
_LET_GO: tuple[str | None, int, int] = (None, -1, -1)
"""Where a value let go lies: in the file (see :meth:`HeadAttributes.release_large_values`)."""
_WHOLE = frozenset({0x0028, 0x5200})
"""Groups whose values stay in memory whatever their size: Image Pixel (LUTs), functional groups."""


_UNSET = object()


class _Deferred(Exception):
    """The value is one pydicom converts."""


class HeadAttributes:
    """The top-level attributes of a header walked in memory, converted on demand.

    Parameters
    ----------
    head : bytes
        The file's bytes from its start, at least up to ``located.end``.
    located : Located
        Where the elements lie in ``head``.
    build : callable
        Reads the header bytes with pydicom into a Dataset, when one is needed.
    parent : HeadAttributes, optional
        Given for the File Meta Information's attributes (see :attr:`file_meta`).
    """

    def __init__(
        self,
        head: bytes,
        located: Located,
        build: Callable[[io.BytesIO], Dataset],
        *,
        parent: HeadAttributes | None = None,
    ) -> None:
        self._data = head[: located.end]
        self._located = located
        self._build = build
        self._parent = parent
        self._table: ElementTable = located.elements if parent is None else located.meta
        self._values: dict[int, Any] = {}
        self._dataset: Dataset | None = None
        self._file_meta: HeadAttributes | None = None
        self._ascii: bool | None = None
        self._reread: Callable[[], Dataset] | None = None

    @property
    def file_meta(self) -> HeadAttributes:
        """The File Meta Information's attributes."""
        if self._file_meta is None:
            self._file_meta = HeadAttributes(self._data, self._located, self._build, parent=self)
        return self._file_meta

    @property
    def implicit_vr(self) -> bool:
        """Whether the data set is encoded in implicit VR (the walker checked that it is)."""
        return self._located.syntax.implicit_vr

    @property
    def dataset(self) -> Dataset:
        """The header read by pydicom (built on first use)."""
        if self._parent is not None:
            meta: Dataset = self._parent.dataset.file_meta
            return meta
        if self._dataset is None:
            if self._reread is not None:  # large values were let go: read all from the file
                self._dataset = self._reread()
            else:
                self._dataset = self._build(io.BytesIO(self._data))
        return self._dataset

    @property
    def nbytes(self) -> int:
        """Bytes of the header held in memory."""
        return len(self._data)

    def release_large_values(self, reread: Callable[[], Dataset], limit: int = 256) -> None:
        """Keep only the small values in memory; what is let go is read again from the file.

        Kept: every value of at most ``limit`` bytes, the File Meta
        Information, the Image Pixel and Multi-frame groups (0028 and 5200)
        whatever their size, and every value converted so far. Let go: large
        values elsewhere (private blobs and sequences, a CSA header), whose
        elements stay present; reading one builds the pydicom Dataset with
        ``reread``, from the file, as for any value this class does not
        convert. Nothing changes once the Dataset is built (it holds all).
        A series keeps a few KB of each file's header this way, not tens.
        """
        if self._parent is not None or self._dataset is not None:
            return
        located = self._located
        ends = located.sequence_ends
        cuts = [  # (tag, start, end) of the values let go, in the order of the file
            (tag, start, start + length if length >= 0 else ends[tag])
            for tag, (_, start, length) in located.elements.items()
            if (length > limit or (length < 0 and tag in ends)) and tag >> 16 not in _WHOLE
        ]
        if not cuts:
            return
        parts: list[bytes] = []
        kept_from = shift = 0
        moved: dict[int, int] = {}  # offsets past a cut move back by what was cut before them
        for _, start, stop in cuts:
            parts.append(self._data[kept_from:start])
            shift += stop - start
            kept_from = stop
            moved[start] = shift
        parts.append(self._data[kept_from:])
        elements = dict(located.elements)
        tail = list(elements.items())
        shift = 0
        for tag, (vr, start, length) in tail[list(elements).index(cuts[0][0]) :]:
            shift = moved.get(start, shift)
            elements[tag] = _LET_GO if start in moved else (vr, start - shift, length)
        self._data = b"".join(parts)
        self._located = Located(located.meta, elements, located.syntax, len(self._data))
        self._table = elements
        self._file_meta = None
        self._reread = reread

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle holds: the bytes and where the elements lie.

        Neither the values converted nor the Dataset: a header sent from
        another process costs little to send and to receive.
        """
        if self._parent is not None:
            raise TypeError("pickle the data set, not its File Meta Information")
        return {
            "data": self._data,
            "located": self._located,
            "build": self._build,
            "reread": self._reread,
            "ascii": self._ascii,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = state["data"]
        self._located = state["located"]
        self._table = self._located.elements
        self._build = state["build"]
        self._reread = state["reread"]
        self._ascii = state["ascii"]
        self._parent = None
        self._values = {}
        self._dataset = None
        self._file_meta = None

    def get(self, key: str | int, default: Any = None, /) -> Any:
        """The value of the element named by ``key``; the pydicom element for a tag."""
        if isinstance(key, int):
            return self.dataset.get(key, default) if key in self._table else default
        tag = tag_for_keyword(key)
        if tag is None:
            return self.dataset.get(key, default)
        if tag not in self._table:
            return default
        return self.value(tag)

    def optional_values(self, named: Sequence[tuple[str, int]], name: str) -> dict[str | int, Any]:
        """See the module's :func:`optional_values`."""
        found: dict[str | int, Any] = {}
        table, converted = self._table, self._values
        for keyword, tag in named:
            if tag not in table:
                continue
            value = converted.get(tag, _UNSET)
            if value is _UNSET:
                try:
                    value = self.value(tag)
                except UNREADABLE as exc:  # pydicom converts on access and may fail
                    logger.info("%s%s cannot be read (%s); ignored", _where(name), keyword, exc)
                    continue
            if value is not None and value != "":
                found[keyword] = value
        return found

    def __contains__(self, key: str | int, /) -> bool:
        tag = key if isinstance(key, int) else tag_for_keyword(key)
        return tag in self._table

    def value(self, tag: int) -> Any:
        """The value of the element ``tag``, which is present."""
        value = self._values.get(tag, _UNSET)
        if value is _UNSET:
            try:
                value = self._convert(tag)
            except _Deferred:
                value = plain(self.dataset[tag].value)
            self._values[tag] = value
        return value

    def converts(self, group: int, tags: frozenset[int] = frozenset()) -> bool:
        """Convert the value of every element of ``group``, and of those in ``tags``, here.

        Returns False, converting the rest anyway, when pydicom has to convert
        any of them.
        """
        here = True
        values = self._values
        for tag in self._table:
            if (tag >> 16 == group or tag in tags) and tag not in values:
                try:
                    values[tag] = self._convert(tag)
                except _Deferred:
                    here = False
        return here

    def _convert(self, tag: int) -> Any:
        vr, start, length = self._table[tag]
        if vr is None:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                raise _Deferred from None
        if length == 0 and (vr in _NUMBERS or vr in _TEXT_CONVERTERS):
            return empty_value_for_VR(vr)
        if length <= 0 or start < 0 or tag in _REPAIRED_BY_PYDICOM:
            raise _Deferred  # a sequence, a value let go, a value pydicom repairs
        raw = self._data[start : start + length]
        numbers = _NUMBERS.get(vr)
        if numbers is not None:
            return _numbers(raw, numbers)
        convert = _TEXT_CONVERTERS.get(vr)
        if convert is None or _PRINTABLE.match(raw) is None:
            raise _Deferred
        if vr in _CHARSET_TEXT and not self._ascii_text():
            raise _Deferred
        return convert(raw.decode("ascii"))

    def _ascii_text(self) -> bool:
        """Whether Specific Character Set reads printable ASCII bytes as ASCII."""
        if self._ascii is None:
            self._ascii = self._reads_ascii()
        return self._ascii

    def _reads_ascii(self) -> bool:
        found = self._table.get(_SPECIFIC_CHARACTER_SET)
        if found is None:
            return True
        _, start, length = found  # read here, whatever its VR: no conversion to recurse into
        raw = self._data[start : start + length]
        if _PRINTABLE.match(raw) is None:
            return False
        charset = _strings(raw.decode("ascii"))
        return isinstance(charset, str) and charset.strip() in _ASCII_CHARSETS


def _numbers(raw: bytes, code: struct.Struct) -> Any:
    size = code.size
    if len(raw) == size:
        return code.unpack(raw)[0]
    if len(raw) % size:
        raise _Deferred
    return [value for (value,) in code.iter_unpack(raw)]


def _one_or_list(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def _strings(text: str) -> Any:
    # Code strings: trailing padding removed from the value, then split.
    return _one_or_list(text.rstrip(" \0").split("\\"))


def _uids(text: str) -> Any:
    # UIDs: as code strings, then each value stripped of spaces at both ends.
    return _one_or_list([item.strip() for item in text.rstrip(" \0").split("\\")])


def _texts(text: str) -> Any:
    # Short and long strings: each value's trailing padding removed.
    return _one_or_list([item.rstrip("\0 ") for item in text.split("\\")])


def _decimals(text: str) -> Any:
    items = text.strip().rstrip(" \0").split("\\")
    try:
        return _one_or_list([float(item) for item in items])
    except ValueError:
        raise _Deferred from None


def _integers(text: str) -> Any:
    items = text.rstrip(" \0").split("\\")
    if not all(_INTEGER.match(item) for item in items):
        raise _Deferred
    return _one_or_list([int(item) for item in items])


_TEXT_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "CS": _strings,
    "UI": _uids,
    "SH": _texts,
    "LO": _texts,
    "DS": _decimals,
    "IS": _integers,
}


_PLAIN = frozenset({str, int, float, bytes, type(None)})


def plain(value: Any) -> Any:
    """``value`` as pydicom gives it with its default options, whatever options are set.

    A Decimal (``DS_decimal``) becomes a float, a NumPy number or array
    (``DS_numpy``, ``use_IS_numpy``) a float or int or a list of them, as a
    multi-valued number read by :class:`HeadAttributes` is. Anything else is
    returned as it is.

    Examples
    --------
    >>> from decimal import Decimal
    >>> import numpy as np
    >>> plain(Decimal("1.5")), plain(np.array([0.5, 2.0])), plain(np.int64(3)), plain("CT")
    (1.5, [0.5, 2.0], 3, 'CT')
    """
    kind = type(value)
    if kind in _PLAIN or (kind is list and all(type(item) in _PLAIN for item in value)):
        return value  # what HeadAttributes gives, and most of pydicom's values
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.ndarray):
        items = [plain(item) for item in value.tolist()]
        return items[0] if value.ndim == 0 else items
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, MultiValue)) and any(
        isinstance(item, (Decimal, np.generic)) for item in value
    ):
        return [plain(item) for item in value]
    return value


def as_dataset(attributes: Attributes) -> Dataset:
    """The pydicom Dataset that holds ``attributes`` (built if need be)."""
    if isinstance(attributes, HeadAttributes):
        return attributes.dataset
    assert isinstance(attributes, Dataset)
    return attributes


UNREADABLE: tuple[type[Exception], ...] = (
    ArithmeticError,  # a number too large for its type
    AttributeError,  # a value of another type where a data set is expected
    EOFError,
    LookupError,  # an unknown VR or character set (KeyError), an item past the end
    NotImplementedError,  # a VR pydicom does not know
    OSError,  # a sequence cut short
    RecursionError,  # sequences nested without end
    TypeError,
    ValueError,  # a malformed number, text that cannot be decoded
    Warning,  # pydicom's warning of an invalid value, when warnings are errors
    struct.error,
    BytesLengthException,  # a length that does not fit the VR
    InvalidDicomError,
)
"""What pydicom raises when it converts a malformed value on access."""

_NOT_CONVERTED = (ArithmeticError, LookupError, TypeError, ValueError)
"""What a conversion of a value read raises when the value is malformed (or empty)."""


class _Required(Enum):
    """No default: an absent value is refused."""

    TOKEN = 0


_REFUSED = _Required.TOKEN


def _where(name: str) -> str:
    return f"{name}: " if name else ""


@overload
def required(
    attributes: Attributes,
    keyword: str,
    name: str,
    convert: None = None,
    *,
    default: Any = ...,
    what: str = ...,
    error: type[InvalidPixelMetadataError] = ...,
) -> Any: ...


@overload
def required(
    attributes: Attributes,
    keyword: str,
    name: str,
    convert: Callable[[Any], T],
    *,
    default: T = ...,
    what: str = ...,
    error: type[InvalidPixelMetadataError] = ...,
) -> T: ...


def required(
    attributes: Attributes,
    keyword: str,
    name: str,
    convert: Callable[[Any], Any] | None = None,
    *,
    default: Any = _REFUSED,
    what: str = "valid",
    error: type[InvalidPixelMetadataError] = InvalidPixelMetadataError,
) -> Any:
    """The value of ``keyword``, converted; a value that cannot be used is refused.

    Parameters
    ----------
    attributes : Attributes
        The data set or item to read from.
    keyword : str
        The attribute's keyword, e.g. ``"Rows"``.
    name : str
        The source, for messages.
    convert : callable, optional
        Applied to the value when present; a TypeError, ValueError,
        ArithmeticError or LookupError it raises means the value is malformed.
    default : optional
        Returned, unconverted, when the attribute is absent or empty. Without
        it an absent attribute is refused.
    what : str
        What the converted value is, for the message when ``convert`` fails:
        ``"an integer"`` gives "Rows is not an integer: 'abc'".
    error : type
        The error raised: InvalidPixelMetadataError or a subclass of it.

    Raises
    ------
    InvalidPixelMetadataError
        (or ``error``) naming the file, the attribute's tag and the value: the
        value cannot be read, cannot be converted, or is absent without a default.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> required(dataset, "Rows", "x.dcm", int)
    64
    >>> required(dataset, "NumberOfFrames", "x.dcm", int, default=1)
    1
    >>> required(dataset, "Modality", "x.dcm", int, what="an integer")
    Traceback (most recent call last):
    ...
    dicomnp.errors.InvalidPixelMetadataError: x.dcm: (0008,0060): Modality is not an integer: 'CT'
    """
    try:
        value = plain(attributes.get(keyword))
    except UNREADABLE as exc:  # pydicom converts on access and may fail
        raise error(
            f"{keyword} cannot be read: {exc}", path=name, tag=tag_for_keyword(keyword)
        ) from exc
    if value is None or value == "":  # absent or empty
        if default is _REFUSED:
            raise error(f"{keyword} is missing or empty", path=name, tag=tag_for_keyword(keyword))
        return default
    if convert is None:
        return value
    try:
        return convert(value)
    except _NOT_CONVERTED as exc:
        raise error(
            f"{keyword} is not {what}: {value!r}", path=name, tag=tag_for_keyword(keyword)
        ) from exc


@overload
def optional(attributes: Attributes, keyword: str, name: str, convert: None = None) -> Any: ...


@overload
def optional(
    attributes: Attributes, keyword: str, name: str, convert: Callable[[Any], T]
) -> T | None: ...


def optional(
    attributes: Attributes,
    keyword: str,
    name: str,
    convert: Callable[[Any], Any] | None = None,
) -> Any:
    """The value of ``keyword``, converted; None when absent, empty or unusable.

    A value that cannot be read or converted is logged (at INFO, with why)
    and read as absent.

    Parameters
    ----------
    attributes : Attributes
        The data set or item to read from.
    keyword : str
        The attribute's keyword, e.g. ``"SOPInstanceUID"``.
    name : str
        The source, for the log; may be empty.
    convert : callable, optional
        Applied to the value when present; a TypeError, ValueError,
        ArithmeticError or LookupError it raises means the value is malformed.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> optional(dataset, "Modality", "x.dcm"), optional(dataset, "Modality", "x.dcm", int)
    ('CT', None)
    >>> optional(dataset, "EchoTime", "x.dcm", float) is None
    True
    """
    try:
        value = plain(attributes.get(keyword))
    except UNREADABLE as exc:  # pydicom converts on access and may fail
        logger.info("%s%s cannot be read (%s); ignored", _where(name), keyword, exc)
        return None
    if value is None or value == "":  # absent or empty
        return None
    if convert is None:
        return value
    try:
        return convert(value)
    except _NOT_CONVERTED as exc:
        logger.info("%s%s %r cannot be used (%s); ignored", _where(name), keyword, value, exc)
        return None


def optional_values(
    attributes: Attributes, named: Sequence[tuple[str, int]], name: str
) -> dict[str | int, Any]:
    """:func:`optional` of each ``(keyword, tag)`` in ``named``, in one call: a dict by keyword.

    An attribute absent, empty or unusable is left out of the dict (so that
    ``.get`` gives None). The same values as ``optional`` one by one, read
    with less work per attribute from a header walked in memory: the many
    attributes of a slice header, read from every file of a folder.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> optional_values(ct_slice(), [("Modality", 0x00080060), ("EchoTime", 0x00180081)], "x")
    {'Modality': 'CT'}
    """
    if type(attributes) is not HeadAttributes:
        found = {keyword: optional(attributes, keyword, name) for keyword, _ in named}
        return {keyword: value for keyword, value in found.items() if value is not None}
    return attributes.optional_values(named, name)


def items(attributes: Attributes, keyword: str, name: str) -> list[Any]:
    """The items of the sequence ``keyword``; none when absent, unreadable or not a sequence.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> items(ct_slice(), "PerFrameFunctionalGroupsSequence", "x.dcm")
    []
    """
    value = optional(attributes, keyword, name)
    if value is None:
        return []
    if not isinstance(value, DicomSequence):
        logger.info("%s%s is not a sequence; ignored", _where(name), keyword)
        return []
    return list(value)
