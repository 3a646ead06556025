"""Where a server's series come from: a folder of files, or a DICOMweb origin it proxies."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydicom import dcmread

from .._api import read
from ..errors import DicomwebError
from ..normalize.image import Image
from ..volume.series import Stack, find_series
from ..volume.volume import Volume, combine_series

__all__ = ["Backend", "FolderBackend", "NotFound", "ProxyBackend", "backend_for"]


class NotFound(LookupError):
    """The study, series, instance or frame is not there; the message says which."""


class Backend(Protocol):
    """What the server asks of a source of series."""

    def volume(self, study: str, series: str, options: dict[str, Any]) -> Volume:
        """The series stacked with ``options``."""
        ...

    def image(self, study: str, series: str, instance: str, options: dict[str, Any]) -> Image:
        """One instance read with ``options`` (``frames`` 0-based)."""
        ...


@dataclass
class FolderBackend:
    """Series found in a folder tree by :func:`dicomnp.find_series` (walked once, at start)."""

    folder: Path
    stacks: dict[tuple[str, str], tuple[Stack, ...]] = field(default_factory=dict)
    files: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        catalog = find_series(self.folder)
        for found in catalog.series:
            first = str(found.stacks[0].headers[0].source)
            study = str(
                dcmread(first, stop_before_pixels=True, specific_tags=["StudyInstanceUID"]).get(
                    "StudyInstanceUID", ""
                )
            )
            key = (study, found.series_instance_uid)
            self.stacks[key] = found.stacks
            for stack in found.stacks:
                for header in stack.headers:
                    self.files[(study, found.series_instance_uid, header.sop_instance_uid)] = str(
                        header.source
                    )

    def volume(self, study: str, series: str, options: dict[str, Any]) -> Volume:
        stacks = self.stacks.get((study, series))
        if stacks is None:
            raise NotFound(f"series {series} of study {study} is not in {self.folder}")
        if len(stacks) == 1:
            return combine_series(stacks[0], **options)
        files = [str(header.source) for stack in stacks for header in stack.headers]
        return combine_series(files, **options)  # raises the error that says why they differ

    def image(self, study: str, series: str, instance: str, options: dict[str, Any]) -> Image:
        path = self.files.get((study, series, instance))
        if path is None:
            raise NotFound(f"instance {instance} of series {series} is not in {self.folder}")
        return read(path, **options)


@dataclass
class ProxyBackend:
    """Series of a DICOMweb origin, fetched by :mod:`dicomnp.dicomweb` on each request."""

    url: str
    connection: Any = None

    def __post_init__(self) -> None:
        from ..dicomweb import Connection

        self.connection = Connection(self.url)

    def volume(self, study: str, series: str, options: dict[str, Any]) -> Volume:
        from ..dicomweb import combine_series as combine_remote

        volume: Volume = _found(lambda: combine_remote(self.connection, study, series, **options))
        return volume

    def image(self, study: str, series: str, instance: str, options: dict[str, Any]) -> Image:
        from ..dicomweb import read as read_remote

        image: Image = _found(
            lambda: read_remote(self.connection, study, series, instance, **options)
        )
        return image


def _found(call: Any) -> Any:
    try:
        return call()
    except DicomwebError as exc:
        if exc.status == 404:
            raise NotFound(str(exc)) from exc
        raise


def backend_for(source: str | os.PathLike[str] | Sequence[str]) -> Backend:
    """A folder's backend, or a proxy's for an ``http(s)://`` URL.

    Raises
    ------
    NotADirectoryError
        ``source`` is neither a folder nor a URL.
    """
    text = os.fspath(source) if not isinstance(source, Sequence) else str(source)
    if text.startswith(("http://", "https://")):
        return ProxyBackend(text)
    if not Path(text).is_dir():
        raise NotADirectoryError(f"{text} is neither a folder nor an http(s) URL")
    return FolderBackend(Path(text))
