"""Deflated data sets, inflated only as far as they are read.

In Deflated Explicit VR Little Endian the whole data set after the File Meta
Information is one raw deflate stream. pydicom inflates it whole, before it
reads a single element: a megabyte of deflated zeros becomes a gigabyte in
memory before any size is checked. Here the stream is inflated on demand:
:func:`read_deflated_header` inflates just enough of it to read the header
(at most :data:`HEADER_LIMIT` bytes), so that the output size is checked
against ``max_bytes`` before any pixel byte is inflated, and
:class:`InflatingReader` inflates the pixel data only as far as the frames
asked for need it.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from typing import BinaryIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from .errors import CorruptPixelDataError, NotDicomError

__all__ = [
    "HEADER_LIMIT",
    "UNKNOWN_SIZE",
    "InflatingReader",
    "deflated_start",
    "read_deflated_header",
]

HEADER_LIMIT = 64 * 2**20
"""The most bytes a deflated data set's header may inflate to."""
UNKNOWN_SIZE = 2**62
"""The size of a data set not inflated to its end yet."""
_CHUNK = 1 << 16
"""Deflated bytes read from the file at a time."""
_FIRST_HEADER_TRY = 1 << 16
"""Inflated bytes in which the header is first looked for; doubled until it is found."""
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_DEFLATED_UID = DeflatedExplicitVRLittleEndian.encode("ascii")
_META_PEEK = 1 << 16
"""The most bytes of File Meta Information in which the transfer syntax UID is looked for."""
_META_PEEK_WITHOUT_LENGTH = 1 << 12
"""Bytes looked in when the meta information has no group length (or no preamble)."""


def deflated_start(fp: BinaryIO) -> tuple[FileMetaDataset, int] | None:
    """The File Meta Information and the offset of the data set, when it is deflated.

    Reads the preamble and File Meta Information as pydicom reads them (a
    file without a preamble may start with its meta information). Returns
    None, with ``fp`` where it was, when the transfer syntax is not Deflated
    Explicit VR Little Endian or the meta information cannot be read.
    """
    start = fp.tell()
    peek = _meta_bytes(fp)
    fp.seek(start)
    if _DEFLATED_UID not in peek:
        return None  # the common case, told at once
    try:
        read_preamble(fp, True)
        meta = read_dataset(fp, False, True, stop_when=lambda tag, vr, length: tag >> 16 != 0x0002)
        uid = meta.get("TransferSyntaxUID")
        position = fp.tell()
    except Exception:  # pydicom reads it again and says what is wrong
        fp.seek(start)
        return None
    fp.seek(start)
    if uid != DeflatedExplicitVRLittleEndian:
        return None
    return FileMetaDataset(meta), position


def _meta_bytes(fp: BinaryIO) -> bytes:
    """The bytes that hold the File Meta Information, as far as its group length tells."""
    head = fp.read(144)
    if len(head) == 144 and head[128:140] == b"DICM\x02\x00\x00\x00UL\x04\x00":
        (length,) = struct.unpack_from("<L", head, 140)
        return head + fp.read(min(length, _META_PEEK))
    return head + fp.read(_META_PEEK_WITHOUT_LENGTH)


class InflatingReader:
    """Random access to the inflated data set, inflating it only as far as it is read.

    Offsets are in the inflated data set. Until the stream has been
    inflated to its end its :attr:`size` is unknown, and taken as
    :data:`UNKNOWN_SIZE`: a read past the end of a stream cut short reads
    fewer bytes, as a read past the end of a file does, and the decoder
    refuses the frame it was reading.

    Parameters
    ----------
    fp : binary file
        The file; the deflate stream starts at ``start``.
    start : int
        Offset of the deflated data set in ``fp``.
    name : str
        The source, for messages.
    """

    def __init__(self, fp: BinaryIO, start: int, name: str) -> None:
        self._fp = fp
        self._next = start
        self._name = name
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._data = bytearray()
        self._ended = False
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._data) if self._ended else UNKNOWN_SIZE

    @property
    def inflated(self) -> int:
        """How many bytes have been inflated so far."""
        return len(self._data)

    @property
    def ended(self) -> bool:
        """Whether the whole stream has been inflated."""
        return self._ended

    def head(self, size: int) -> bytes:
        """The first ``size`` inflated bytes (fewer if the stream ends first)."""
        with self._lock:
            self._inflate_to(size)
            return bytes(self._data[:size])

    def read(self, offset: int, size: int) -> bytes:
        end = min(offset + max(0, size), self.size)
        with self._lock:
            self._inflate_to(end)
            return bytes(self._data[offset:end])

    def readinto(self, offset: int, view: memoryview) -> int:
        target = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        end = min(offset + len(target), self.size)
        with self._lock:
            self._inflate_to(end)
            chunk = memoryview(self._data)[offset:end]
            target[: len(chunk)] = chunk
            return len(chunk)

    def _inflate_to(self, end: int) -> None:
        while len(self._data) < end and not self._ended:
            chunk = self._inflater.unconsumed_tail
            if not chunk:
                self._fp.seek(self._next)
                chunk = self._fp.read(_CHUNK)
                self._next += len(chunk)
                if not chunk:
                    self._ended = True  # the stream is cut short: reads come up short
                    return
            try:
                self._data += self._inflater.decompress(chunk, end - len(self._data))
            except zlib.error as exc:
                raise CorruptPixelDataError(
                    f"the deflated data set cannot be inflated: {exc}",
                    path=self._name,
                    tag=0x7FE00010,
                ) from exc
            if self._inflater.eof:
                self._ended = True


def _at_pixel_element(tag: int, vr: str | None, length: int) -> bool:
    return tag in _PIXEL_TAGS


def read_deflated_header(
    reader: InflatingReader, meta: FileMetaDataset, name: str
) -> tuple[Dataset, int]:
    """The header of a deflated data set, and the offset of its pixel element.

    The stream is inflated in growing steps until pydicom, reading it as
    pydicom reads an inflated data set, stops at a pixel element with its
    element header inside the bytes inflated, or the stream ends. The offset
    is the stream's end when there is no pixel element.

    Raises
    ------
    NotDicomError
        The header does not end within :data:`HEADER_LIMIT` inflated bytes,
        or cannot be read.
    """
    size = _FIRST_HEADER_TRY
    while True:
        head = reader.head(size)
        whole = reader.ended and len(head) < size
        fp = io.BytesIO(head)
        try:
            dataset = read_dataset(fp, False, True, stop_when=_at_pixel_element)
        except Exception as exc:
            if whole:
                raise NotDicomError(f"cannot read the deflated data set: {exc}", path=name) from exc
        else:
            end = fp.tell()
            found = int.from_bytes(head[end : end + 2], "little") << 16 | int.from_bytes(
                head[end + 2 : end + 4], "little"
            )
            if whole or (found in _PIXEL_TAGS and end + 12 <= len(head)):
                dataset.file_meta = meta
                return dataset, end
        if size >= HEADER_LIMIT:
            raise NotDicomError(
                f"the deflated data set's header inflates to more than {HEADER_LIMIT} bytes",
                path=name,
            )
        size = min(2 * size, HEADER_LIMIT)
