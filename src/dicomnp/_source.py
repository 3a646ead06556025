"""Open any accepted source: the header without the pixel bytes, and where they are.

A source is a path, an ``os.PathLike``, a binary file object, ``bytes`` or a
``pydicom.Dataset``. :func:`open_source` reads the data set up to the pixel
element (walked in memory by :mod:`dicomnp._head` when it is the common
case, else by pydicom), then reads the pixel element's own header to learn
the offset and length of its value, so that the decode layer can read just
the bytes of the frames it is asked for.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import BinaryIO, Protocol, Union, cast

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import data_element_generator
from pydicom.uid import UID

from ._attributes import UNREADABLE, Attributes, HeadAttributes, as_dataset, optional
from ._deflated import InflatingReader, deflated_start, read_deflated_header
from ._head import HeadTooShort, Located, explicit_layout, locate_elements
from ._remote import is_url, open_url
from ._syntaxes import TransferSyntax, lookup
from .errors import (
    CorruptPixelDataError,
    DicomNumpyError,
    InvalidPixelMetadataError,
    NoPixelDataError,
    NotDicomError,
    SourceNotFoundError,
    UnsupportedTransferSyntaxError,
)

__all__ = [
    "DICOMDIR_CLASS",
    "ByteReader",
    "OffsetReader",
    "OpenSource",
    "PixelElement",
    "SourceLike",
    "file_stamp",
    "open_source",
    "release_large_values",
    "source_name",
]

SourceLike = Union[str, os.PathLike[str], BinaryIO, bytes, bytearray, memoryview, Dataset]
"""Anything dicomnp reads from."""

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
PIXEL_TAGS = (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA)
PIXEL_TAGS_START = FLOAT_PIXEL_DATA
"""The lowest pixel element tag: every element of the header comes before it."""
_PIXEL_KEYWORDS = {
    PIXEL_DATA: "PixelData",
    FLOAT_PIXEL_DATA: "FloatPixelData",
    DOUBLE_FLOAT_PIXEL_DATA: "DoubleFloatPixelData",
}
UNDEFINED_LENGTH = 0xFFFFFFFF
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
"""Media Storage Directory Storage: the SOP Class of a DICOMDIR."""

_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"


class ByteReader(Protocol):
    """Random access to the bytes of a source."""

    def readinto(self, offset: int, view: memoryview) -> int:
        """Fill ``view`` from ``offset``; return how many bytes were read."""
        ...

    def read(self, offset: int, size: int) -> bytes:
        """Return up to ``size`` bytes from ``offset``."""
        ...

    @property
    def size(self) -> int:
        """The number of bytes there are to read."""
        ...


def _fill(view: memoryview, read: Callable[[memoryview, int], int | None]) -> int:
    """Fill ``view`` by calls of ``read(rest of view, bytes read so far)``; return the bytes read.

    Stops early, at the end of the file, when a call reads nothing.
    """
    target = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    total = 0
    while total < len(target):
        count = read(target[total:], total)
        if not count:
            break
        total += count
    return total


class FileReader:
    """Reads from a seekable binary file object."""

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        fp.seek(0, os.SEEK_END)
        self._size = fp.tell()

    @property
    def size(self) -> int:
        return self._size

    def readinto(self, offset: int, view: memoryview) -> int:
        self._fp.seek(offset)
        return _fill(view, lambda part, _: self._fp.readinto(part))  # type: ignore[attr-defined]

    def read(self, offset: int, size: int) -> bytes:
        self._fp.seek(offset)
        return self._fp.read(max(0, min(size, self._size - offset)))

    def shared(self) -> ByteReader | None:
        """A reader of this same open file for another thread; None where reads by offset fail.

        Each of its reads stands alone (``os.preadv``), so threads share the
        file without sharing a position, and read what this reader reads even
        if the path has since been given another file.
        """
        try:
            descriptor = self._fp.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        if not hasattr(os, "preadv"):
            return None
        return OffsetReader(descriptor, self._size)


class OffsetReader:
    """Reads an open file descriptor by offset, without moving its position."""

    def __init__(self, descriptor: int, size: int) -> None:
        self._descriptor = descriptor
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def readinto(self, offset: int, view: memoryview) -> int:
        return _fill(view, lambda part, done: os.preadv(self._descriptor, [part], offset + done))

    def read(self, offset: int, size: int) -> bytes:
        buffer = bytearray(max(0, min(size, self._size - offset)))
        count = self.readinto(offset, memoryview(buffer))
        return bytes(buffer[:count])


class _CappedReader(io.BufferedReader):
    """A file whose reads never ask for more than the bytes left in it.

    pydicom reads an element's value with ``read(length)``; a buffered file
    allocates the whole requested length first, so a length field of 2 GB in
    a small file would allocate 2 GB. Capping each read at the bytes left
    keeps allocations within the file's size.
    """

    def __init__(self, raw: io.FileIO) -> None:
        super().__init__(raw)
        self.stamp = file_stamp(raw.fileno())
        self._size = self.stamp[2]

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > 0:
            left = self._size - self.tell()
            size = max(0, min(size, left))
            if size == 0:
                return b""
        return super().read(size)


class BufferReader:
    """Reads from bytes held in memory."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = memoryview(data).cast("B")

    @property
    def size(self) -> int:
        return len(self._data)

    def readinto(self, offset: int, view: memoryview) -> int:
        target = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        chunk = self._data[offset : offset + len(target)]
        target[: len(chunk)] = chunk
        return len(chunk)

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self._data[offset : offset + size])


@dataclass(frozen=True)
class PixelElement:
    """Where the value of the pixel element lies in its :class:`ByteReader`."""

    tag: int
    vr: str
    value_offset: int
    length: int | None
    """The value length from the element header; None for undefined length."""
    available: int
    """How many value bytes the source really holds from ``value_offset``."""

    @property
    def keyword(self) -> str:
        """``PixelData``, ``FloatPixelData`` or ``DoubleFloatPixelData``."""
        return _PIXEL_KEYWORDS[self.tag]


@dataclass(frozen=True)
class OpenSource:
    """A source opened for decoding."""

    name: str
    """The file path, or a description of an in-memory source, for messages."""
    dataset: Attributes
    """The data set's attributes, without the value of the pixel element."""
    syntax: TransferSyntax
    pixel: PixelElement
    reader: ByteReader
    path: str | None = None
    """The file's path when the source was a path, so other processes can open it."""
    stamp: tuple[int, ...] | None = None
    """The file's :func:`file_stamp` when opened, for a path; to tell whether it changed since."""


def file_stamp(descriptor: int) -> tuple[int, ...]:
    """What tells a file opened later from this one: device, inode, size, modification time."""
    found = os.fstat(descriptor)
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def source_name(source: object) -> str:
    """Return how messages name ``source``."""
    if isinstance(source, (str, os.PathLike)):
        return os.fsdecode(source)
    if isinstance(source, Dataset):
        filename = getattr(source, "filename", None)
        return filename if isinstance(filename, str) and filename else "<Dataset>"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<file object>"


@contextmanager
def open_source(source: SourceLike) -> Iterator[OpenSource]:
    """Open ``source`` and yield its header and the location of its pixel bytes.

    Files opened here are closed when the context ends; file objects passed in
    are left open, at the position they were found at. Nothing is ever written.

    Raises
    ------
    NotDicomError
        The source cannot be read as a DICOM data set.
    NoPixelDataError
        The data set holds no pixel element.
    UnsupportedTransferSyntaxError
        The transfer syntax is not one dicomnp knows.
    """
    name = source_name(source)
    if isinstance(source, Dataset):
        yield _from_dataset(source, name)
    elif is_url(source):  # read by ranged requests (see _remote.py); no local path
        with open_url(name) as remote:
            yield _from_file(cast(BinaryIO, remote), name, buffered=True)
    elif isinstance(source, (str, os.PathLike)):
        try:
            fp = _CappedReader(io.FileIO(source, "rb"))
        except FileNotFoundError as exc:
            raise SourceNotFoundError("no such file", path=name) from exc
        except IsADirectoryError as exc:
            raise NotDicomError(
                "is a folder, not a file: read one of its files, or stack its series with "
                "combine_series(folder) (find_series(folder) lists them)",
                path=name,
            ) from exc
        except OSError as exc:
            raise NotDicomError(f"cannot open: {exc.strerror or exc}", path=name) from exc
        with fp:
            yield _from_file(fp, name, buffered=True, path=os.fsdecode(source), stamp=fp.stamp)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield _from_file(io.BytesIO(source), name, buffered=True)
    elif hasattr(source, "read") and hasattr(source, "seek"):
        given = cast(BinaryIO, source)
        start = given.tell()
        try:
            yield _from_file(given, name)
        finally:
            if not getattr(given, "closed", False):
                given.seek(start)  # the caller's file, where it was found
    else:
        raise TypeError(
            "source must be a path, a binary file object, bytes or a pydicom Dataset, "
            f"not {type(source).__name__}"
        )


def _read_header(fp: BinaryIO, name: str) -> Dataset:
    """Read the data set up to, not including, the pixel element."""
    start = fp.tell()
    try:
        return pydicom.dcmread(fp, stop_before_pixels=True)
    except InvalidDicomError:
        pass  # no preamble or file meta: try once more without requiring them
    except Exception as exc:  # pydicom raises many types for malformed input
        raise NotDicomError(f"cannot read the DICOM header: {exc}", path=name) from exc
    fp.seek(start)
    try:
        dataset = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
    except Exception as exc:
        raise NotDicomError(f"cannot read the DICOM header: {exc}", path=name) from exc
    if "Rows" not in dataset and "Columns" not in dataset and not _has_sop_class(dataset):
        raise NotDicomError("not a DICOM file (no preamble, no image attributes)", path=name)
    return dataset


_RELEASED_FROM = 8 * 1024
"""Headers of at least this many bytes let their large values go (see release_large_values)."""


def release_large_values(opened: OpenSource) -> None:
    """Let the large values of a file's header walked in memory go; they are read again if asked.

    Only for a file on disk whose header is :data:`_RELEASED_FROM` bytes or
    more (see :meth:`~dicomnp._attributes.HeadAttributes.release_large_values`):
    what a series keeps of each of its files after reading their headers.
    """
    dataset = opened.dataset
    if opened.path is None or not isinstance(dataset, HeadAttributes):
        return
    if dataset.nbytes >= _RELEASED_FROM:
        dataset.release_large_values(functools.partial(_reread_header, opened.path, opened.name))


def _reread_header(path: str, name: str) -> Dataset:
    """The header of the file at ``path``, read by pydicom (its large values were let go)."""
    try:
        fp = _CappedReader(io.FileIO(path, "rb"))
    except OSError as exc:
        raise NotDicomError(f"cannot be opened again: {exc.strerror or exc}", path=name) from exc
    with fp:
        return _read_header(fp, name)


def _has_sop_class(dataset: Dataset) -> bool:
    """True when a data set read without preamble names a valid SOP Class: it is DICOM."""
    return bool(UID(str(optional(dataset, "SOPClassUID", "") or "")).is_valid)


def _no_pixels(dataset: Attributes, name: str) -> NoPixelDataError:
    """The error for a data set without pixels, saying what it is when its SOP Class says."""
    meta = getattr(dataset, "file_meta", None)
    sop_class = optional(dataset, "SOPClassUID", name) or (
        optional(meta, "MediaStorageSOPClassUID", name) if meta else None
    )
    what = ""
    if sop_class:
        uid = UID(str(sop_class))
        if uid == DICOMDIR_CLASS:
            what = (
                ": it is a DICOMDIR, an index of the files of a file-set; "
                "find_series reads the series it lists"
            )
        else:
            what = f" ({uid.name})" if uid.is_valid else ""
    return NoPixelDataError(f"the data set has no pixel data element{what}", path=name)


_CHECKED_SEQUENCES = frozenset(
    {
        0x52009229,  # Shared Functional Groups Sequence
        0x52009230,  # Per-frame Functional Groups Sequence
        0x00283010,  # VOI LUT Sequence
        0x00283000,  # Modality LUT Sequence
    }
)


def _checked(tag: int) -> bool:
    return tag >> 16 == 0x0028 or tag in _CHECKED_SEQUENCES


def _check_readable(attributes: Attributes, name: str) -> None:
    """Convert the Image Pixel and rendering attributes now, refusing any that cannot be.

    pydicom converts values when they are first used; a corrupt VR or value
    in group 0028 (window, rescale, LUTs, padding), also inside the
    functional groups and LUT sequences, would otherwise raise pydicom's own
    error deep inside rendering.

    Raises
    ------
    InvalidPixelMetadataError
        An element of group 0028 cannot be read.
    """
    if isinstance(attributes, HeadAttributes) and attributes.converts(0x0028, _CHECKED_SEQUENCES):
        return  # every value was converted without pydicom
    _check_dataset(as_dataset(attributes), name)


def _check_dataset(dataset: Dataset, name: str) -> None:
    for tag in list(dataset.keys()):
        if not _checked(tag):
            continue
        try:
            element = dataset[tag]
        except UNREADABLE as exc:  # pydicom converts on access and may fail
            raise InvalidPixelMetadataError(
                f"the element cannot be read: {exc}", path=name, tag=int(tag)
            ) from exc
        if element.VR == "SQ" and element.value is not None:
            for item in element.value:
                if isinstance(item, Dataset):
                    _check_dataset(item, name)


_HEAD_BYTES = 1 << 16
"""Bytes of a file read at once for its header: most headers end well inside them."""
_LARGE_HEAD_BYTES = 1 << 20
"""Bytes read at most for a header walked in memory (large private headers)."""
_PIXEL_HEADER_BYTES = 12
"""The longest header of a pixel element (explicit VR OB or OW): tag, VR, reserved, length."""


def _walked_header(fp: BinaryIO, name: str) -> HeadAttributes | None:
    """The header walked in the file's first bytes (see :mod:`dicomnp._head`), or None.

    One read replaces the many small ones pydicom makes, and values are
    converted on demand. ``fp`` is left where the pixel element starts, as
    after :func:`_read_header`; where it was when the header is not the
    common case (None).
    """
    start = fp.tell()
    if start != 0:
        return None
    head = fp.read(_HEAD_BYTES)
    located, head, _ = _walk(fp, head, len(head) < _HEAD_BYTES)
    if located is None:
        fp.seek(start)
        return None
    fp.seek(located.end)
    return HeadAttributes(head, located, functools.partial(_read_header, name=name))


def _read_header_buffered(fp: BinaryIO, name: str, *, walk: bool = True) -> Attributes:
    """Read the header from the file's first bytes held in memory, else from the file.

    The common header is walked (:func:`_walked_header`, unless ``walk`` is
    False: it was tried). Any other is read by pydicom: from memory when it
    ends, with room for the pixel element's own header, inside the bytes
    read (or when they are the whole file); otherwise from the file, from
    its start. ``fp`` is left where the pixel element starts, as after
    :func:`_read_header`.
    """
    walked = _walked_header(fp, name) if walk else None
    if walked is not None:
        return walked
    start = fp.tell()
    head = fp.read(_HEAD_BYTES)
    whole = len(head) < _HEAD_BYTES
    memory = io.BytesIO(head)
    try:
        dataset = _read_header(memory, name)
    except DicomNumpyError:
        if whole:
            raise
    else:
        if whole or memory.tell() <= len(head) - _PIXEL_HEADER_BYTES:
            fp.seek(start + memory.tell())
            return dataset
    fp.seek(start)
    return _read_header(fp, name)


def _walk(fp: BinaryIO, head: bytes, whole: bool) -> tuple[Located | None, bytes, bool]:
    """Walk the header in ``head``, reading up to :data:`_LARGE_HEAD_BYTES` if it needs more.

    Returns where the elements lie (None when pydicom is to read the header),
    the bytes read from the file's start, and whether they are the whole file.
    """
    try:
        return locate_elements(head), head, whole
    except HeadTooShort:
        if whole:
            return None, head, whole
    more = _LARGE_HEAD_BYTES - len(head)
    rest = fp.read(more)
    head += rest
    try:
        return locate_elements(head), head, len(rest) < more
    except HeadTooShort:
        return None, head, len(rest) < more


def _read_implicitly(dataset: Attributes, syntax: TransferSyntax) -> bool:
    """Whether the data set was read in implicit VR, whatever its transfer syntax says.

    pydicom reads a data set in the encoding its first element shows, and
    reads the pixel element in that encoding too. Its Dataset records the
    encoding on each element it has not converted yet (an element of group
    0000, the command set, is always implicit); one with none is taken to be
    encoded as its transfer syntax says.
    """
    if isinstance(dataset, HeadAttributes):
        return dataset.implicit_vr
    assert isinstance(dataset, Dataset)
    tags = dataset.keys()  # get_item gives an element not converted yet as it was read
    for tag in tags:
        element: object = dataset.get_item(tag, keep_deferred=True)
        if tag >> 16 != 0 and isinstance(element, RawDataElement):
            return bool(element.is_implicit_VR)
    return syntax.implicit_vr


def _from_file(
    fp: BinaryIO,
    name: str,
    *,
    buffered: bool = False,
    path: str | None = None,
    stamp: tuple[int, ...] | None = None,
) -> OpenSource:
    walked = _walked_header(fp, name) if buffered else None
    dataset: Attributes
    if walked is not None:
        dataset = walked
    else:  # not the common case: pydicom reads it
        deflated = deflated_start(fp)
        if deflated is not None:
            return replace(_from_deflated(fp, *deflated, name), path=path, stamp=stamp)
        dataset = (
            _read_header_buffered(fp, name, walk=False) if buffered else _read_header(fp, name)
        )
    syntax = _syntax_of(dataset, name)
    implicit = _read_implicitly(dataset, syntax)  # before any value is converted
    _check_readable(dataset, name)
    position = fp.tell()
    reader = FileReader(fp)
    try:
        pixel = _parse_pixel_element(reader, position, syntax, implicit, name)
    except NoPixelDataError:
        raise _no_pixels(dataset, name) from None
    return OpenSource(
        name=name,
        dataset=dataset,
        syntax=syntax,
        pixel=pixel,
        reader=reader,
        path=path,
        stamp=stamp,
    )


def _from_deflated(fp: BinaryIO, meta: FileMetaDataset, start: int, name: str) -> OpenSource:
    """Open a deflated data set: its header inflated now, its pixel data when read.

    Offsets of the pixel element are in the inflated data set. Elements
    after the pixel data are not read (that would inflate all of it).
    """
    reader = InflatingReader(fp, start, name)
    dataset, position = read_deflated_header(reader, meta, name)
    syntax = _syntax_of(dataset, name)
    _check_readable(dataset, name)
    implicit = _read_implicitly(dataset, syntax)
    try:
        pixel = _parse_pixel_element(reader, position, syntax, implicit, name, after=False)
    except NoPixelDataError:
        raise _no_pixels(dataset, name) from None
    return OpenSource(name=name, dataset=dataset, syntax=syntax, pixel=pixel, reader=reader)


def _parse_pixel_element(
    reader: ByteReader,
    position: int,
    syntax: TransferSyntax,
    implicit: bool,
    name: str,
    *,
    after: bool = True,
) -> PixelElement:
    """Read the header of the pixel element that starts at ``position``.

    ``implicit`` is the encoding the data set was read in. In explicit VR the
    header is read by the rule of :func:`~dicomnp._head.explicit_layout`,
    pydicom's, so that the value starts where pydicom would start it. With
    ``after``, the elements after the pixel element are checked too.
    """
    head = reader.read(position, 12)
    if len(head) < 8:
        raise NoPixelDataError("the data set has no pixel data element", path=name)
    order = "<" if syntax.little_endian else ">"
    group, element = struct.unpack(order + "HH", head[:4])
    tag = group << 16 | element
    if tag not in PIXEL_TAGS:
        raise NoPixelDataError("the data set has no pixel data element", path=name)
    vr_bytes = head[4:6]
    layout = "implicit" if implicit else explicit_layout(vr_bytes)
    if layout == "unknown":
        raise CorruptPixelDataError(
            f"the pixel element has an unknown VR {vr_bytes!r}", path=name, tag=tag
        )
    if layout == "long":
        if len(head) < 12:
            raise CorruptPixelDataError("the pixel element header is cut short", path=name, tag=tag)
        (length,) = struct.unpack(order + "L", head[8:12])
        header_size, vr = 12, vr_bytes.decode()
    elif layout == "short":
        (length,) = struct.unpack(order + "H", head[6:8])
        header_size, vr = 8, vr_bytes.decode()
    else:  # implicit VR: the data set's encoding, or one element written so in explicit VR
        if not implicit and not syntax.little_endian:
            # OB and OW differ in big endian, and nothing says which this value is
            raise CorruptPixelDataError(
                f"the pixel element's VR bytes {vr_bytes!r} are not a VR: in big endian "
                "data the byte order of its samples cannot be told",
                path=name,
                tag=tag,
            )
        (length,) = struct.unpack(order + "L", head[4:8])
        header_size, vr = 8, ("OB" if length == UNDEFINED_LENGTH else "OW")
        if tag != PIXEL_DATA:
            vr = "OF" if tag == FLOAT_PIXEL_DATA else "OD"
    value_offset = position + header_size
    remaining = max(0, reader.size - value_offset)
    if length == UNDEFINED_LENGTH:
        defined: int | None = None
        available = remaining
        end = _encapsulated_end(reader, value_offset, order)
    else:
        defined = length
        available = min(length, remaining)
        end = value_offset + length
    if after and end is not None:
        _refuse_elements_after(reader, end, order, implicit, tag, name)
    return PixelElement(
        tag=tag, vr=vr, value_offset=value_offset, length=defined, available=available
    )


class _ReaderFile:
    """A file object over a :class:`ByteReader`, from ``start``, for pydicom's element reader."""

    def __init__(self, reader: ByteReader, start: int) -> None:
        self._reader = reader
        self._position = start

    def read(self, size: int = -1) -> bytes:
        left = max(0, self._reader.size - self._position)
        data = self._reader.read(self._position, left if size < 0 else min(size, left))
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._reader.size}
        self._position = max(0, base[whence] + offset)
        return self._position

    def tell(self) -> int:
        return self._position


_ITEM_BYTES = {"<": b"\xfe\xff\x00\xe0", ">": b"\xff\xfe\xe0\x00"}
_DELIMITER_BYTES = {"<": b"\xfe\xff\xdd\xe0", ">": b"\xff\xfe\xe0\xdd"}
_TRAILING_DEFER = 256
"""Values after the pixel element longer than this are skipped, not read, when checked."""


def _encapsulated_end(reader: ByteReader, position: int, order: str) -> int | None:
    """Where an encapsulated value ends, its items walked as pydicom walks them; None if not."""
    while True:
        head = reader.read(position, 8)
        if len(head) < 8:
            return None
        if head[:4] == _DELIMITER_BYTES[order]:
            return position + 8
        if head[:4] != _ITEM_BYTES[order]:
            return None  # pydicom searches for a delimiter instead; the decoder refuses
        (length,) = struct.unpack(order + "L", head[4:])
        if length == UNDEFINED_LENGTH:
            return None
        position += 8 + length


def _refuse_elements_after(
    reader: ByteReader, position: int, order: str, implicit: bool, tag: int, name: str
) -> None:
    """Refuse a pixel element followed by an element that belongs before it.

    pydicom reads the elements after the pixel element too, into the same
    Dataset: a second pixel element, or an attribute of the header repeated
    or out of order, would change what the file means (pydicom keeps the
    last of two). Elements after the pixel element are read here as pydicom
    reads them, and any whose tag is not above the pixel elements' is
    refused. What pydicom cannot read after the pixel element it leaves out,
    and so is it here.

    Raises
    ------
    InvalidPixelMetadataError
        An element after the pixel element is a pixel element or belongs
        before it.
    """
    if reader.size - position < 8:
        return
    elements = data_element_generator(
        cast(BinaryIO, _ReaderFile(reader, position)),
        implicit,
        order == "<",
        defer_size=_TRAILING_DEFER,
    )
    try:
        for element in elements:
            following = int(element.tag)
            if following in PIXEL_TAGS:
                raise InvalidPixelMetadataError(
                    "the data set holds more than one pixel data element", path=name, tag=following
                )
            if following < PIXEL_TAGS_START:
                raise InvalidPixelMetadataError(
                    f"the element {_tag_text(following)} follows the pixel data element "
                    f"{_tag_text(tag)}: the header is out of order",
                    path=name,
                    tag=following,
                )
    except DicomNumpyError:
        raise
    except Exception:  # pydicom stops reading where it cannot, and so does this check
        return


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _syntax_of(dataset: Attributes, name: str) -> TransferSyntax:
    """The transfer syntax from the file meta, or from the encoding pydicom found."""
    meta = getattr(dataset, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid:
        syntax = lookup(str(uid))
        if syntax is None:
            raise UnsupportedTransferSyntaxError(
                f"transfer syntax {uid} is unknown to dicomnp", path=name, tag=0x00020010
            )
        return syntax
    implicit, little = getattr(dataset, "original_encoding", (None, None))
    if implicit is None or little is None:
        raise UnsupportedTransferSyntaxError(
            "the data set has no Transfer Syntax UID and its encoding is unknown; "
            "set dataset.file_meta.TransferSyntaxUID",
            path=name,
            tag=0x00020010,
        )
    uid = _IMPLICIT_LE if implicit else (_EXPLICIT_LE if little else _EXPLICIT_BE)
    syntax = lookup(uid)
    assert syntax is not None
    return syntax


def _from_dataset(dataset: Dataset, name: str, syntax: TransferSyntax | None = None) -> OpenSource:
    if syntax is None:
        syntax = _syntax_of(dataset, name)
    _check_readable(dataset, name)
    present = [tag for tag in PIXEL_TAGS if tag in dataset]
    if not present:
        raise _no_pixels(dataset, name)
    if len(present) > 1:
        raise InvalidPixelMetadataError(
            "the data set holds more than one pixel data element", path=name, tag=present[1]
        )
    tag = present[0]
    try:
        element = dataset[tag]
        value = element.value
        vr = str(element.VR)
    except UNREADABLE as exc:  # pydicom converts on access: e.g. an unknown VR
        raise CorruptPixelDataError(
            f"the pixel element cannot be read: {exc}", path=name, tag=tag
        ) from exc
    if value is None:
        value = b""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise CorruptPixelDataError(
            f"the pixel element holds {type(value).__name__}, not bytes", path=name, tag=tag
        )
    encapsulated = syntax.encapsulated
    pixel = PixelElement(
        tag=tag,
        vr=vr,
        value_offset=0,
        length=None if encapsulated else len(value),
        available=len(value),
    )
    return OpenSource(
        name=name, dataset=dataset, syntax=syntax, pixel=pixel, reader=BufferReader(value)
    )
