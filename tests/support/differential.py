"""Differential checks of dicomnp against pydicom, one input at a time.

Two checks, each given any bytes:

:func:`check_walker`
    The header walked in memory (``dicomnp._head``, its values converted by
    ``dicomnp._attributes``) against ``pydicom.dcmread(stop_before_pixels=True)``
    of the same bytes: the same elements, at the same offsets, with the same
    VR and length, the same values (or both refusing a value), ending where
    pydicom stops, in the encoding pydicom read the data set in.
:func:`check_read`
    ``dicomnp.read(bytes)`` against ``dicomnp.read(pydicom.dcmread(bytes))``:
    when both give an image, the same array, dtype and mask.

Each returns what happened (a short word, for the run's counts) and raises
:class:`Mismatch` when dicomnp and pydicom read different values,
:class:`Foreign` when dicomnp raised anything but a
:class:`dicomnp.DicomNumpyError`. The coverage-guided driver is
``support.fuzz_target``; ``tests/robustness/test_differential.py`` runs both
checks on mutated seeds in the test suite.
"""

from __future__ import annotations

import io
import math
import traceback
import warnings
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

import dicomnp
from dicomnp import _source
from dicomnp._attributes import HeadAttributes

__all__ = ["READ_MAX_BYTES", "Foreign", "Mismatch", "check_read", "check_walker", "same"]

READ_MAX_BYTES = 8 * 2**20
"""The output size the read check allows: large enough for every seed, small for speed."""


class Mismatch(AssertionError):
    """dicomnp and pydicom read different values from the same bytes."""


class Foreign(AssertionError):
    """dicomnp raised an exception that is not a DicomNumpyError."""


def _same_items(ours: Sequence, theirs: Sequence) -> bool:
    """Equal sequences: the same elements in each item, each equal or refused by both."""
    if len(ours) != len(theirs):
        return False
    for mine, other in zip(ours, theirs, strict=True):
        if set(mine.keys()) != set(other.keys()):
            return False
        for tag in set(mine.keys()):
            try:
                expected = other[tag].value
            except Exception:
                try:
                    mine[tag].value  # noqa: B018
                except Exception:
                    continue
                return False
            if not same(mine[tag].value, expected):
                return False
    return True


def same(ours: Any, theirs: Any) -> bool:
    """Equal values, the walker's plain types standing for pydicom's."""
    if isinstance(theirs, Sequence):
        return isinstance(ours, Sequence) and _same_items(ours, theirs)
    if isinstance(theirs, (MultiValue, list)) and not isinstance(theirs, Sequence):
        return (
            isinstance(ours, (MultiValue, list))
            and len(ours) == len(theirs)
            and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return bool(ours == theirs) and (
        not isinstance(theirs, (int, float, str)) or isinstance(ours, type(theirs).__mro__[-2])
    )


def _foreign(where: str, exc: BaseException) -> Foreign:
    trace = "".join(traceback.format_exception(exc))
    return Foreign(f"{where} raised {type(exc).__name__}: {exc}\n{trace}")


def check_walker(data: bytes) -> str:
    """Compare the header walked in memory with pydicom's reading of ``data``.

    Returns ``"walked"`` (compared), ``"pydicom"`` (the walker left it to
    pydicom) or ``"refused"`` (a dicomnp error).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            attributes = _source._read_header_buffered(io.BytesIO(data), "<fuzz>")
        except dicomnp.DicomNumpyError:
            return "refused"
        except Exception as exc:
            raise _foreign("reading the header", exc) from exc
        if not isinstance(attributes, HeadAttributes):
            return "pydicom"
        fp = io.BytesIO(data)
        try:
            reference = pydicom.dcmread(fp, stop_before_pixels=True)
        except Exception as exc:
            raise Mismatch(f"walked a header pydicom refuses: {exc!r}") from exc
        located = attributes._located
        if fp.tell() != located.end:
            raise Mismatch(f"the header ends at {located.end}, pydicom's at {fp.tell()}")
        _compare_table(located.elements, reference, attributes.implicit_vr)
        _compare_table(located.meta, reference.file_meta, False)
        _compare_values(attributes, reference)
        _compare_values(attributes.file_meta, reference.file_meta)
    return "walked"


def _compare_table(table: dict[int, Any], reference: Dataset, implicit: bool) -> None:
    if set(table) != set(reference.keys()):
        raise Mismatch(f"elements {sorted(set(table) ^ set(reference.keys()))} differ")
    for tag, (vr, start, length) in table.items():
        raw: object = reference.get_item(tag, keep_deferred=True)
        if not isinstance(raw, RawDataElement):
            continue  # a sequence of undefined length, parsed by pydicom
        if raw.value_tell != start or (length >= 0 and raw.length != length):
            raise Mismatch(
                f"({tag >> 16:04X},{tag & 0xFFFF:04X}) at {start} of {length} bytes, "
                f"pydicom's at {raw.value_tell} of {raw.length}"
            )
        if vr != raw.VR and not (vr is None and raw.VR is None):
            raise Mismatch(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) VR {vr}, pydicom's {raw.VR}")
        if tag >> 16 not in (0x0000, 0x0002) and bool(raw.is_implicit_VR) != implicit:
            raise Mismatch(f"read as implicit VR {implicit}, pydicom {raw.is_implicit_VR}")


def _compare_values(ours: HeadAttributes, theirs: Dataset) -> None:
    for tag in list(ours._table):
        try:
            expected = theirs[tag].value
        except Exception:
            try:
                got = ours.value(tag)
            except Exception:
                continue  # both refuse it
            raise Mismatch(
                f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {got!r}: pydicom refuses it"
            ) from None
        try:
            got = ours.value(tag)
        except Exception as exc:
            raise Mismatch(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) refused: {exc!r}") from exc
        if not same(got, expected):
            raise Mismatch(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {got!r}, pydicom {expected!r}")


def _read(source: Any) -> dicomnp.Image | None:
    """The image, or None for a dicomnp error; anything else is :class:`Foreign`."""
    try:
        return dicomnp.read(
            source,
            values="modality",
            padding="mask",
            workers=1,
            allow_lossy=True,
            max_bytes=READ_MAX_BYTES,
        )
    except dicomnp.DicomNumpyError:
        return None
    except Exception as exc:
        raise _foreign(f"read({type(source).__name__})", exc) from exc


def check_read(data: bytes) -> str:
    """Compare ``read(data)`` with ``read(pydicom.dcmread(data))``.

    Returns ``"same"`` (both images, equal), ``"both refused"``, ``"no
    dataset"`` (pydicom cannot read the whole file), ``"bytes only"`` or
    ``"dataset only"`` (one of the two was refused).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _read(data)
        try:
            dataset = pydicom.dcmread(io.BytesIO(data), force=True)
        except Exception:
            return "no dataset"
        theirs = _read(dataset)
    if ours is None and theirs is None:
        return "both refused"
    if ours is None:
        return "dataset only"
    if theirs is None:
        return "bytes only"
    if ours.array.dtype != theirs.array.dtype or ours.array.shape != theirs.array.shape:
        raise Mismatch(
            f"bytes give {ours.array.dtype}{ours.array.shape}, "
            f"the Dataset {theirs.array.dtype}{theirs.array.shape}"
        )
    if not np.array_equal(ours.array, theirs.array, equal_nan=ours.array.dtype.kind in "fc"):
        raise Mismatch("bytes and the Dataset give different arrays")
    ours_mask, theirs_mask = ours.mask, theirs.mask
    if ours_mask is None or theirs_mask is None:
        if ours_mask is not theirs_mask:
            raise Mismatch("one of bytes and the Dataset gives a mask")
    elif not np.array_equal(ours_mask, theirs_mask):
        raise Mismatch("bytes and the Dataset give different masks")
    return "same"
