"""URLs as sources: fsspec files read by ranged requests through a block cache.

A source given as a URL (``s3://``, ``gs://``, ``https://``, ``memory://``,
...) is opened with fsspec, when it is installed (``pip install
'dicomnp[cloud]'``), as a :class:`RemoteFile`: a seekable binary file whose
reads are served from a cache of fixed-size blocks, each missing run of
blocks fetched by one ranged request (``cat_file(path, start, end)``). Reading
a header is then one request for its first 64 KiB (after one for the
file's size); a frame is one request for the blocks it lies in; a read
larger than a quarter of the cache is fetched exactly and not kept.

Folders of URLs (a prefix of an object store, a directory listing over
HTTP) are listed by :func:`url_files`.
"""

from __future__ import annotations

import io
import re
from collections import OrderedDict
from typing import Any, TypeGuard

from .errors import MissingDependencyError, NotDicomError

__all__ = [
    "BLOCK_BYTES",
    "CACHE_BYTES",
    "RemoteFile",
    "is_url",
    "open_url",
    "url_files",
    "url_is_folder",
]

BLOCK_BYTES = 32 * 1024
"""Bytes of one cached block: a small read fetches one; a frame, the few it lies in."""
CACHE_BYTES = 32 * 1024 * 1024
"""Bytes of blocks kept per open file, least recently used dropped first."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
_HTTP = ("http", "https")


def is_url(source: object) -> TypeGuard[str]:
    """Whether ``source`` is a URL string (a scheme of two letters or more, then ``://``).

    Examples
    --------
    >>> is_url("s3://bucket/ct/1.dcm"), is_url("memory://x.dcm"), is_url("C://data/1.dcm")
    (True, True, False)
    >>> is_url("/data/1.dcm")
    False
    """
    return isinstance(source, str) and _URL.match(source) is not None


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's file system for ``url`` and the path in it."""
    try:
        import fsspec
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading URLs needs fsspec: {url}", packages=("fsspec",), extra="cloud"
        ) from exc
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # a protocol whose package is absent
        raise MissingDependencyError(
            f"fsspec cannot open {url}: {exc}", packages=("fsspec",), extra="cloud"
        ) from exc
    return fs, path


class RemoteFile(io.RawIOBase):
    """A read-only, seekable file over fsspec's ranged reads, with a block cache.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        The file system.
    path : str
        The file's path in it.
    size : int
        The file's size in bytes.
    name : str
        The URL, for messages.

    Examples
    --------
    >>> import fsspec
    >>> fs = fsspec.filesystem("memory")
    >>> fs.pipe("/remote-doc/a.bin", bytes(range(256)) * 1024)
    >>> file = RemoteFile(fs, "/remote-doc/a.bin", 256 * 1024, "memory://remote-doc/a.bin")
    >>> _ = file.seek(1000)
    >>> file.read(4), file.requests
    (b'\\xe8\\xe9\\xea\\xeb', 1)
    >>> _ = file.seek(1010)
    >>> file.read(2), file.requests  # served from the cached block
    (b'\\xf2\\xf3', 1)
    >>> fs.rm("/remote-doc", recursive=True)
    """

    def __init__(self, fs: Any, path: str, size: int, name: str) -> None:
        super().__init__()
        self._fs = fs
        self._path = path
        self._size = size
        self.name = name
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self.requests = 0
        """Ranged requests made so far."""
        self.fetched = 0
        """Bytes received so far."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"whence must be 0, 1 or 2, not {whence}")
        if position < 0:
            raise ValueError(f"negative position {position} in {self.name}")
        self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        start = self._position
        stop = min(self._size, start + len(target))
        if stop <= start:
            return 0
        count = stop - start
        if count > CACHE_BYTES // 4:
            target[:count] = self._fetch(start, stop)
        else:
            self._read_blocks(start, stop, target)
        self._position = stop
        return count

    def _read_blocks(self, start: int, stop: int, target: memoryview) -> None:
        """Copy bytes ``start:stop`` into ``target`` from the cache, fetching missing blocks."""
        first, last = start // BLOCK_BYTES, (stop - 1) // BLOCK_BYTES
        run: list[int] = []
        for block in range(first, last + 1):
            if block in self._blocks:
                self._blocks.move_to_end(block)
                if run:
                    self._fetch_blocks(run)
                    run = []
            else:
                run.append(block)
        if run:
            self._fetch_blocks(run)
        written = 0
        for block in range(first, last + 1):
            data = self._blocks[block]
            begin = max(start - block * BLOCK_BYTES, 0)
            end = min(stop - block * BLOCK_BYTES, len(data))
            target[written : written + end - begin] = data[begin:end]
            written += end - begin

    def _fetch_blocks(self, blocks: list[int]) -> None:
        """Fetch a run of consecutive blocks with one request and keep them."""
        start = blocks[0] * BLOCK_BYTES
        stop = min(self._size, (blocks[-1] + 1) * BLOCK_BYTES)
        data = self._fetch(start, stop)
        for index, block in enumerate(blocks):
            self._blocks[block] = data[index * BLOCK_BYTES : (index + 1) * BLOCK_BYTES]
        while len(self._blocks) * BLOCK_BYTES > CACHE_BYTES:
            self._blocks.popitem(last=False)

    def _fetch(self, start: int, stop: int) -> bytes:
        """Bytes ``start:stop`` by one ranged request, refusing an answer of another length."""
        try:
            data = bytes(self._fs.cat_file(self._path, start=start, end=stop))
        except Exception as exc:  # each file system raises its own errors
            raise OSError(f"cannot read bytes {start}-{stop} of {self.name}: {exc}") from exc
        self.requests += 1
        self.fetched += len(data)
        if len(data) != stop - start:
            raise OSError(
                f"asked {self.name} for bytes {start}-{stop} and received {len(data)} bytes: "
                "the server does not honour ranged reads, or the file changed"
            )
        return data


def open_url(url: str) -> RemoteFile:
    """Open ``url`` for reading: one request for its size, none for its bytes yet.

    Raises
    ------
    MissingDependencyError
        fsspec, or the package of the URL's protocol, is not installed.
    NotDicomError
        The URL cannot be opened (not found, refused).
    """
    fs, path = _filesystem(url)
    try:
        size = fs.size(path)
    except Exception as exc:  # each file system raises its own errors
        raise NotDicomError(f"cannot open: {exc}", path=url) from exc
    if size is None:
        raise NotDicomError("the server does not say the file's size", path=url)
    return RemoteFile(fs, path, int(size), url)


def url_is_folder(url: str) -> bool:
    """Whether ``url`` names a folder: over HTTP, when it ends with ``/``; else by asking.

    An HTTP URL can be both a page and a file; asking would fetch it, so the
    trailing slash decides there.
    """
    fs, path = _filesystem(url)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in _HTTP:
        return url.endswith("/")
    return bool(fs.isdir(path))


def url_files(url: str) -> list[str]:
    """The URLs of the files under the folder ``url``, in sorted order.

    Raises
    ------
    NotDicomError
        The folder cannot be listed.
    """
    fs, path = _filesystem(url)
    try:
        found = fs.find(path)
    except Exception as exc:  # each file system raises its own errors
        raise NotDicomError(f"cannot list the folder: {exc}", path=url) from exc
    return sorted(fs.unstrip_protocol(item) for item in found)
