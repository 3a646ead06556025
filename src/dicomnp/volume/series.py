"""Finding the series, and the stacks within each, in a folder tree: headers only.

:func:`find_series` walks a folder (or reads the files a DICOMDIR lists),
skips files that are not DICOM images, and groups the images by Series Instance UID. Within a series
it splits off stacks that cannot share one volume: a different orientation,
a different image size, localizers; and, where several images share one
position, the attributes that tell them apart (stack, echo, temporal
position, trigger time, b-value, acquisition, image type). Each split is
recorded so the summary can say why.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pydicom.uid

from .._execute import forked_processes, map_forked
from .._remote import is_url, open_url, url_files
from .._source import SourceLike
from ..errors import (
    DicomNumpyError,
    GeometryError,
    NoPixelDataError,
    NotDicomError,
    SourceNotFoundError,
)
from .consistency import SPLIT_KEYS
from .dicomdir import DICOMDIR_CLASS, indexed_files, is_dicomdir
from .geometry import ORIENTATION_TOLERANCE
from .grouping import split_volumes
from .headers import SliceHeader
from .reading import read_source

__all__ = [
    "Scanned",
    "Series",
    "SeriesCatalog",
    "Stack",
    "find_series",
    "iter_dicom_files",
    "note_left_out",
    "scan_sources",
    "split_series",
]

logger = logging.getLogger(__name__)

STACK_KEYS: tuple[tuple[str, str], ...] = (
    ("StackID", "stack_id"),
    ("EchoNumbers", "echo_number"),
    ("EchoTime", "echo_time"),
    ("ImageType", "image_type"),
    ("GE image kind (0043,xx30)", "vendor_kind"),
)
"""What splits images sharing positions into separate stacks (dcm2niix's separate files):
stacks, echoes, image types and a vendor's image kind (GE (0043,xx30), which tells a
field map from its magnitude; not in a diffusion series, where it marks b=0 images).
Temporal position, diffusion, acquisition and trigger time make volumes of one 4D
stack instead."""


@dataclass(frozen=True)
class Stack:
    """Images of one series that can form one volume.

    Attributes
    ----------
    series_instance_uid : str
    key : tuple of (str, object)
        What sets this stack apart from the others of its series, e.g.
        ``(("EchoNumbers", 2),)``; empty when the series is one stack.
    headers : tuple of SliceHeader
        One per slice (per frame for multi-frame images, per tile for
        mosaics), in file order; for several volumes, those of every volume.
    volumes : int
        How many volumes share the stack's slice positions (an fMRI run, a
        diffusion series): read them with :func:`combine_volumes`.
    volumes_by : str
        What separates the volumes, in words (``"temporal position"``,
        ``"instance order"``, ...); empty for one volume.

    Examples
    --------
    >>> import tempfile
    >>> import dicomnp
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, slices=4, rows=8, columns=8)
    ...     stack = dicomnp.find_series(folder)[0].stacks[0]
    ...     volume = dicomnp.combine_series(stack)
    >>> stack.key, len(stack.files), volume.array.shape
    ((), 4, (4, 8, 8, 1))
    """

    series_instance_uid: str
    key: tuple[tuple[str, Any], ...]
    headers: tuple[SliceHeader, ...]
    volumes: int = 1
    volumes_by: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        """The files holding the stack's slices, each once."""
        return tuple(dict.fromkeys(header.name for header in self.headers))

    def __repr__(self) -> str:
        return f"Stack({self.series_instance_uid!r}: {self.describe()})"

    def describe(self) -> str:
        """One line: slices, size, and the key that sets the stack apart."""
        first = self.headers[0]
        size = f"{first.rows}x{first.columns}"
        files = len(self.files)
        if self.volumes > 1:
            images = {(h.sop_instance_uid, h.frame, h.tile) for h in self.headers}
            slices = len(images) // self.volumes
            text = (
                f"{slices} slice(s) x {self.volumes} volumes (4D, by {self.volumes_by}) "
                f"of {size} in {files} file(s)"
            )
        else:
            text = f"{len(self.headers)} slice(s) of {size} in {files} file(s)"
        if self.key:
            text += " [" + ", ".join(f"{name}={_show(value)}" for name, value in self.key) + "]"
        return text


@dataclass(frozen=True)
class Series:
    """One Series Instance UID and its stacks.

    Attributes
    ----------
    split_by : tuple of str
        The reasons its images form more than one stack, e.g.
        ``("ImageOrientationPatient",)``; empty for one stack.
    """

    series_instance_uid: str
    modality: str
    description: str
    stacks: tuple[Stack, ...]
    split_by: tuple[str, ...]

    def __repr__(self) -> str:
        described = f" {self.description!r}" if self.description else ""
        split = f", split by {', '.join(self.split_by)}" if self.split_by else ""
        return (
            f"Series({self.modality}{described} {self.series_instance_uid!r}: "
            f"{len(self.stacks)} stack(s){split})"
        )


@dataclass(frozen=True)
class SeriesCatalog:
    """What :func:`find_series` found: the series, and the files it skipped and why.

    Examples
    --------
    >>> import tempfile
    >>> import dicomnp
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, slices=4, rows=8, columns=8)
    ...     catalog = dicomnp.find_series(folder)
    >>> len(catalog), catalog[0].modality
    (1, 'CT')
    >>> print(catalog.summary().splitlines()[-1])
       - 4 slice(s) of 8x8 in 4 file(s)
    """

    folder: str
    series: tuple[Series, ...]
    skipped: tuple[tuple[str, str], ...]
    unreadable: tuple[tuple[str, str], ...] = ()
    """The skipped files that look like DICOM images but cannot be read (cut short, not
    permitted): a series may be missing slices because of them."""

    def __iter__(self) -> Iterator[Series]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, index: int) -> Series:
        return self.series[index]

    def summary(self) -> str:
        """A readable account of the series, their stacks, the splits and the skipped files."""
        total = sum(len(stack.files) for s in self.series for stack in s.stacks)
        lines = [f"{len(self.series)} series in {self.folder} ({total} image files)"]
        for number, series in enumerate(self.series, 1):
            described = f' "{series.description}"' if series.description else ""
            lines.append(
                f"{number}. {series.modality}{described} {series.series_instance_uid}: "
                f"{len(series.stacks)} stack(s)"
                + (f", split by {', '.join(series.split_by)}" if series.split_by else "")
            )
            lines.extend(f"   - {stack.describe()}" for stack in series.stacks)
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s):")
            lines.extend(f"   - {path}: {reason}" for path, reason in self.skipped)
        return "\n".join(lines)

    def __repr__(self) -> str:
        stacks = sum(len(series.stacks) for series in self.series)
        files = sum(len(stack.files) for series in self.series for stack in series.stacks)
        return (
            f"SeriesCatalog({self.folder!r}: {len(self.series)} series, {stacks} stack(s), "
            f"{files} image file(s), {len(self.skipped)} skipped; summary() says more)"
        )

    def __str__(self) -> str:
        return self.summary()


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "/".join(f"{item:g}" if isinstance(item, float) else str(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def iter_dicom_files(
    folder: str | os.PathLike[str], skipped: list[tuple[str, str]] | None = None
) -> Iterator[str]:
    """Regular files under ``folder`` (a path or a URL) in sorted order, leaving out DICOMDIR.

    FIFOs, devices and sockets are left out too (opening a FIFO would wait
    for a writer for ever), with the reason logged and noted in ``skipped``.
    """
    if is_url(folder):
        for url in url_files(os.fspath(folder)):
            if url.rstrip("/").rsplit("/", 1)[-1].upper() == "DICOMDIR":
                logger.info("skipped %s: a DICOMDIR", url)
                continue
            yield url
        return
    for entry in _file_entries(os.fspath(folder)):
        path = entry.path
        if entry.name.upper() == "DICOMDIR":
            logger.info("skipped %s: a DICOMDIR", path)
            continue
        reason = None if _regular(entry) else _not_regular(path)
        if reason is not None:
            logger.info("skipped %s: %s", path, reason)
            if skipped is not None:
                skipped.append((path, reason))
            continue
        yield path


def _file_entries(folder: str) -> Iterator[os.DirEntry[str]]:
    """What is not a folder under ``folder``, by name, a folder's own before its subfolders'.

    As ``os.walk`` walks: a folder that cannot be listed is passed over, and
    a link to a folder is not followed.
    """
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        if not is_folder:
            yield entry
        elif not entry.is_symlink():
            folders.append(entry.path)
    for inner in folders:
        yield from _file_entries(inner)


def _regular(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a regular file (following links), told without a call when it can."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _not_regular(path: str) -> str | None:
    """Why ``path`` is not a regular file to read (following links), or None if it is one."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot be examined: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    for test, what in _SPECIAL_FILES:
        if test(mode):
            return f"not a regular file but {what}"
    return "not a regular file"


def scan_sources(
    sources: Sequence[SourceLike],
    workers: int | None = None,
    walked: bool = True,
    progress: Callable[[Sequence[Any]], Iterable[Any]] | None = None,
) -> list[Scanned]:
    """The headers of each source, or why it was left out, read on every core for many files.

    Local paths are read in this process and in forked copies of it (see
    :func:`~dicomnp._execute.map_forked`; ``workers`` as there: by default
    every core from 200 files, where forking is safe). With ``walked``, a
    source that is not a DICOM image is left out (its :class:`Scanned` says
    why); otherwise its error is raised, as :func:`read_source` raises it.
    ``progress`` wraps the sources as they are read (e.g. ``tqdm.tqdm``).

    Raises
    ------
    GeometryError
        A geometry attribute is malformed.
    DicomNumpyError
        Without ``walked``: a source that cannot be read.
    """
    local = all(isinstance(source, (str, os.PathLike)) and not is_url(source) for source in sources)
    processes = forked_processes(len(sources), workers) if local else 1
    return map_forked(_scan if walked else _read, sources, processes, progress)


class Scanned(NamedTuple):
    """What reading one file's headers found: its headers, or why it was left out."""

    headers: list[SliceHeader] | None
    reason: str = ""
    unreadable: bool = False


def _scan(source: SourceLike) -> Scanned:
    """Read the headers of ``source``, or say why it is left out.

    Raises
    ------
    GeometryError
        A geometry attribute is malformed.
    """
    try:
        headers = read_source(source)[0]
    except GeometryError:
        raise
    except DicomNumpyError as exc:
        reason = f"{type(exc).__name__}: {exc.detail}"
        return Scanned(None, reason, _unreadable_image(exc, source))
    if headers and headers[0].sop_class_uid == DICOMDIR_CLASS:
        return Scanned(None, "a DICOMDIR")
    return Scanned(headers)


def _read(source: SourceLike) -> Scanned:
    """Read the headers of ``source``, raising what reading it raises."""
    return Scanned(read_source(source)[0])


def note_left_out(
    source: SourceLike,
    scanned: Scanned,
    skipped: list[tuple[str, str]] | None,
    unreadable: list[tuple[str, str]] | None,
) -> None:
    """Log and list a source left out."""
    logger.info("skipped %s: %s", source, scanned.reason)
    if scanned.unreadable and unreadable is not None:
        unreadable.append((str(source), scanned.reason))
    if skipped is not None:
        skipped.append((str(source), scanned.reason))


def _unreadable_image(error: DicomNumpyError, source: SourceLike) -> bool:
    """Whether ``error`` reading ``source`` hides an image rather than a file that is none.

    A file that cannot be opened is one; so is any DICOM file refused for
    its content, except an object without pixel data whose SOP Class is not
    an image (a structured report, a presentation state).
    """
    if isinstance(error, NotDicomError):
        return isinstance(error.__cause__, OSError)
    if isinstance(error, NoPixelDataError):
        return _declares_image(source)
    return True


_SOP_CLASS_TAGS = (b"\x02\x00\x02\x00", b"\x08\x00\x16\x00")
"""Media Storage SOP Class UID (file meta) and SOP Class UID, as little-endian tag bytes."""
_SOP_CLASS_HEAD = 4096


def _declares_image(source: SourceLike) -> bool:
    """Whether the SOP Class of ``source`` is an image storage class, or cannot be told.

    Only the first 4 KiB of a file are looked at, for the Media Storage SOP
    Class UID of its file meta (always explicit VR little endian) or the
    SOP Class UID: a header that failed to read is not read again in full.
    """
    if not isinstance(source, (str, os.PathLike)):
        return True
    try:
        with open_url(source) if is_url(source) else open(source, "rb") as handle:
            head = handle.read(_SOP_CLASS_HEAD)
    except OSError:
        return True
    uid = _sop_class_in(head)
    if uid is None:
        return True
    return "Image Storage" in pydicom.uid.UID(uid).name


def _sop_class_in(head: bytes) -> str | None:
    """The first SOP Class UID value found in ``head``, explicit or implicit VR; None if none."""
    for tag in _SOP_CLASS_TAGS:
        at = head.find(tag)
        if at < 0:
            continue
        if head[at + 4 : at + 6] == b"UI":
            length = int.from_bytes(head[at + 6 : at + 8], "little")
        else:
            length = int.from_bytes(head[at + 4 : at + 8], "little")
        value = head[at + 8 : at + 8 + length]
        if 0 < length <= 64 and len(value) == length:
            return value.rstrip(b"\x00 ").decode("ascii", "replace")
    return None


def find_series(
    folder: str | os.PathLike[str],
    *,
    progress: Callable[[Iterable[str]], Iterable[str]] | None = None,
    workers: int | None = None,
) -> SeriesCatalog:
    """Group the DICOM images under ``folder`` into series and stacks, reading headers only.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder, walked recursively: files that are not DICOM images are
        skipped and listed in ``skipped``; a DICOMDIR is not read as an
        image, but each file it lists that the folder does not hold is
        listed in ``skipped``. Or a DICOMDIR file: the files it lists are
        read. Or one DICOM file. Or a folder URL (fsspec, extra ``cloud``).
    progress : callable, optional
        Wraps the iterable of file names as they are read, e.g. ``tqdm.tqdm``
        for a progress bar.
    workers : int, optional
        Processes to read the headers with. By default every core for a
        folder of 200 files or more, on Linux, when this process runs a
        single thread (the others are copies of it made by ``fork``); else
        this process only. 1 reads in this process only.

    Returns
    -------
    SeriesCatalog
        Series in order of first file; ``summary()`` says what was found and
        why series were split. Pass a :class:`Stack` to :func:`combine_series`.

    Raises
    ------
    SourceNotFoundError
        ``folder`` does not exist (also a ``FileNotFoundError``).
    NotDicomError
        A DICOMDIR that cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, 6, 16, 16)
    ...     _ = (Path(folder) / "notes.txt").write_text("not DICOM")
    ...     catalog = find_series(folder)
    >>> len(catalog), catalog[0].stacks[0].describe()
    (1, '6 slice(s) of 16x16 in 6 file(s)')
    >>> catalog.skipped[0][1].startswith("NotDicomError")
    True
    """
    skipped: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []
    by_series: dict[str, list[SliceHeader]] = {}
    paths = list(_files_of(folder, skipped))
    for path, scanned in zip(paths, scan_sources(paths, workers, progress=progress), strict=True):
        if scanned.headers is None:
            note_left_out(path, scanned, skipped, unreadable)
        for header in scanned.headers or ():
            by_series.setdefault(header.series_instance_uid, []).append(header)
    series = tuple(split_series(uid, headers) for uid, headers in by_series.items())
    name = os.fspath(folder) if is_url(folder) else os.fspath(Path(folder))
    return SeriesCatalog(
        folder=name, series=series, skipped=tuple(skipped), unreadable=tuple(unreadable)
    )


def _files_of(folder: str | os.PathLike[str], skipped: list[tuple[str, str]]) -> Iterator[str]:
    """The files :func:`find_series` reads: under a folder, listed by a DICOMDIR, or one file."""
    if is_url(folder):
        yield from iter_dicom_files(folder, skipped)
        return
    if not os.path.exists(folder):
        raise SourceNotFoundError("no such folder or file", path=os.fspath(folder))
    index = folder if os.path.isfile(folder) else os.path.join(folder, "DICOMDIR")
    if is_dicomdir(index):
        try:
            present, absent = indexed_files(index)
        except NotDicomError as exc:
            if os.path.isfile(folder):
                raise
            # inside a folder the index only names absent files: the walk reads the rest
            skipped.append((os.fspath(index), f"{type(exc).__name__}: {exc.detail}"))
            present, absent = [], []
        skipped.extend((path, "listed in the DICOMDIR but absent") for path in absent)
        if os.path.isfile(folder):
            yield from present
            return
    if os.path.isfile(folder):
        yield os.fspath(folder)
        return
    yield from iter_dicom_files(folder, skipped)


def split_series(uid: str, headers: list[SliceHeader]) -> Series:
    """Split the images of one series into the stacks that can each form a volume.

    Parameters
    ----------
    uid : str
        The Series Instance UID the headers share.
    headers : list of SliceHeader
        The slice headers of the series, at least one.

    Returns
    -------
    Series
        Its stacks, and the attributes that split them (localizer, image size,
        orientation, then what tells apart images that share a position).
    """
    reasons: list[str] = []
    groups: list[tuple[tuple[tuple[str, Any], ...], list[SliceHeader]]] = [((), headers)]
    for name, key_of in (
        ("ImageType LOCALIZER", lambda h: h.is_localizer),
        ("Rows/Columns", lambda h: (h.rows, h.columns)),
        ("ImageOrientationPatient", None),
    ):
        split: list[tuple[tuple[tuple[str, Any], ...], list[SliceHeader]]] = []
        for key, members in groups:
            parts = _by_orientation(members) if key_of is None else _by_value(members, key_of)
            split.extend(((*key, (name, value)), part) for value, part in parts)
        if len(split) > len(groups):
            reasons.append(name)
        groups = split
    result: list[Stack] = []
    for key, members in groups:
        parts, used = _split_shared_positions(members, _stack_keys(members))
        for extra, part in parts:
            try:
                found = split_volumes(part)
            except DicomNumpyError:  # not one 4D acquisition: split as before
                pieces, more = _split_shared_positions(part, SPLIT_KEYS)
                used += [name for name in more if name not in used]
                result.extend(
                    Stack(uid, _key(key + extra + detail, [*reasons, *used]), tuple(piece))
                    for detail, piece in pieces
                )
                continue
            stack = Stack(uid, _key(key + extra, [*reasons, *used]), tuple(part))
            if len(found.volumes) > 1:  # every header kept: combine_volumes reports repeats
                stack = replace(stack, volumes=len(found.volumes), volumes_by=found.words)
            result.append(stack)
        reasons.extend(name for name in used if name not in reasons)
    first = headers[0]
    return Series(uid, first.modality, first.series_description, tuple(result), tuple(reasons))


def _stack_keys(members: list[SliceHeader]) -> tuple[tuple[str, str], ...]:
    """:data:`STACK_KEYS`, without GE's image kind in a diffusion series.

    GE marks b=0 and diffusion-weighted images with different values of
    (0043,xx30); they are volumes of one series, not separate stacks.
    """
    if len({h.b_value for h in members}) > 1:
        return tuple(pair for pair in STACK_KEYS if pair[1] != "vendor_kind")
    return STACK_KEYS


def _key(key: tuple[tuple[str, Any], ...], reasons: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    """Keep only the parts of a stack key that actually split the series."""
    return tuple((name, value) for name, value in key if name in reasons)


def _by_value(members: list[SliceHeader], key_of: Any) -> list[tuple[Any, list[SliceHeader]]]:
    parts: dict[Any, list[SliceHeader]] = {}
    for header in members:
        parts.setdefault(key_of(header), []).append(header)
    return list(parts.items())


def _by_orientation(members: list[SliceHeader]) -> list[tuple[Any, list[SliceHeader]]]:
    parts: list[tuple[Any, list[SliceHeader]]] = []
    for header in members:
        value = header.orientation
        for reference, part in parts:
            if value is None or reference is None:
                if value is reference:
                    part.append(header)
                    break
            elif np.max(np.abs(np.subtract(value, reference))) <= ORIENTATION_TOLERANCE:
                part.append(header)
                break
        else:
            parts.append((value, [header]))
    return parts


def _split_shared_positions(
    members: list[SliceHeader], keys: Sequence[tuple[str, str]]
) -> tuple[list[tuple[tuple[tuple[str, Any], ...], list[SliceHeader]]], list[str]]:
    """Split by the ``keys`` that vary among images at one position."""
    positions: dict[tuple[float, ...], list[SliceHeader]] = {}
    for header in members:
        if header.position is not None:
            rounded = tuple(round(value, 2) for value in header.position)
            positions.setdefault(rounded, []).append(header)
    used: list[str] = []
    for keyword, field in keys:
        if any(
            len({getattr(header, field) for header in shared}) > 1 for shared in positions.values()
        ):
            used.append(keyword)
    if not used:
        return [((), members)], []
    fields = [field for keyword, field in keys if keyword in used]
    parts = _by_value(members, lambda header: tuple(getattr(header, f) for f in fields))
    return [(tuple(zip(used, value, strict=True)), part) for value, part in parts], used
