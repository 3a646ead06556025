"""A DICOMDIR: the index of a file-set (PS3.10), read for the files it lists.

A DICOMDIR holds no pixels; its directory records name the files of the
file-set, each by Referenced File ID (0004,1500): the components of a path
relative to the DICOMDIR's folder. :func:`indexed_files` gives the files the
records reference, and those the index lists but the folder does not hold,
so that a caller can say so.
"""

from __future__ import annotations

import os

import pydicom

from .._source import DICOMDIR_CLASS
from ..errors import NotDicomError, SourceNotFoundError

__all__ = ["DICOMDIR_CLASS", "indexed_files", "is_dicomdir"]


def is_dicomdir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a file whose File Meta Information says DICOMDIR.

    Examples
    --------
    >>> is_dicomdir("no/such/DICOMDIR")
    False
    """
    if not os.path.isfile(path):
        return False
    try:
        meta = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=[]).file_meta
    except Exception:  # not DICOM, or unreadable: not a DICOMDIR either way
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_CLASS


def indexed_files(path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """The files a DICOMDIR references, in the order of its records.

    Parameters
    ----------
    path : str or os.PathLike
        The DICOMDIR file.

    Returns
    -------
    present : list of str
        The referenced files that exist.
    absent : list of str
        The referenced files that the folder does not hold.

    Raises
    ------
    SourceNotFoundError
        There is no such file.
    NotDicomError
        The file cannot be read as a DICOMDIR; the message says why.

    Examples
    --------
    >>> indexed_files("no/such/DICOMDIR")
    Traceback (most recent call last):
    ...
    dicomnp.errors.SourceNotFoundError: no/such/DICOMDIR: no such file
    """
    name = os.fsdecode(path)
    if not os.path.isfile(name):
        raise SourceNotFoundError("no such file", path=name)
    root = os.path.dirname(os.path.abspath(name))
    try:
        records = pydicom.dcmread(path, force=True).get("DirectoryRecordSequence")
        references = [
            record.get("ReferencedFileID")
            for record in records or ()
            if "ReferencedFileID" in record
        ]
    except Exception as exc:  # pydicom raises many types for a malformed DICOMDIR
        raise NotDicomError(f"cannot read the DICOMDIR: {exc}", path=name) from exc
    if records is None:
        raise NotDicomError("the DICOMDIR has no Directory Record Sequence", path=name)
    present: list[str] = []
    absent: list[str] = []
    for reference in references:
        parts = [reference] if isinstance(reference, str) else list(reference)
        referenced = os.path.join(root, *(str(part).strip() for part in parts))
        (present if os.path.isfile(referenced) else absent).append(referenced)
    return present, absent
