"""What a path holds, from headers alone: series, stacks, syntaxes, lossiness, geometry.

Stacks are numbered from 1 across all series in the order :func:`find_series`
gives them; ``info`` shows these numbers and ``convert --stack`` takes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import Dataset

from .._attributes import Attributes
from .._source import open_source
from .._syntaxes import TransferSyntax, lookup
from ..errors import DicomNumpyError
from ..normalize.lossy import LossyAssessment, assess_lossy, refuse_lossy
from ..volume.dicomdir import is_dicomdir
from ..volume.headers import SliceHeader
from ..volume.reading import read_headers
from ..volume.series import Series, SeriesCatalog, Stack, find_series, split_series
from ..volume.volume import SeriesPlan, plan_series
from ..volume.volumes import plan_volumes
from ._common import one_line

__all__ = ["StackInfo", "catalog_of", "describe_stacks", "lossy_of"]


@dataclass
class StackInfo:
    """One stack as ``info`` reports it.

    Attributes
    ----------
    number : int
        1-based, across all series.
    shape : tuple of int
        ``(slices, rows, columns, samples)``: slices after exact duplicates
        are left out when the geometry is valid, else the images found.
    geometry : str
        ``"ok"`` or the problem, in one line.
    plan : SeriesPlan or None
        The validated plan, when the geometry is valid.
    """

    number: int
    series: Series
    stack: Stack
    shape: tuple[int, int, int, int]
    transfer_syntaxes: tuple[str, ...]
    lossy: str
    lossy_files: int
    geometry: str
    problem: DicomNumpyError | None = None
    plan: SeriesPlan | None = field(default=None, repr=False)
    volumes: int = 1
    volumes_by: str = ""

    @property
    def four_d(self) -> str:
        """``64x64x36x6 (4D: 6 volumes by temporal position)`` for several volumes, else ''."""
        if self.volumes <= 1:
            return ""
        slices, rows, columns, _ = self.shape
        return (
            f"{columns}x{rows}x{slices}x{self.volumes} "
            f"(4D: {self.volumes} volumes by {self.volumes_by})"
        )

    def as_dict(self) -> dict[str, Any]:
        """The stack as plain JSON types."""
        geometry: dict[str, Any] = {"ok": self.problem is None, "message": self.geometry}
        if self.problem is not None:
            geometry["error"] = type(self.problem).__name__
        if self.plan is not None:
            found = self.plan.geometry
            geometry.update(
                slice_spacing=found.slice_spacing,
                affine_lps=found.affine.tolist(),
                sheared=found.sheared,
                dropped_duplicates=len(self.plan.dropped),
            )
        first = self.stack.headers[0]
        return {
            "stack": self.number,
            "series_instance_uid": self.series.series_instance_uid,
            "modality": self.series.modality,
            "series_description": self.series.description,
            "split_key": {name: _plain(value) for name, value in self.stack.key},
            "shape": list(self.shape),
            "volumes": self.volumes,
            "volumes_by": self.volumes_by,
            "files": len(self.stack.files),
            "photometric_interpretation": first.photometric_interpretation,
            "bits_stored": first.bits_stored,
            "pixel_spacing": list(first.pixel_spacing) if first.pixel_spacing else None,
            "transfer_syntaxes": list(self.transfer_syntaxes),
            "lossy": self.lossy,
            "lossy_files": self.lossy_files,
            "geometry": geometry,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def catalog_of(
    path: Path, progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None
) -> SeriesCatalog:
    """The series under a folder or listed by a DICOMDIR, or in one file (an enhanced image
    may hold several stacks); ``progress`` wraps the files as they are read."""
    if path.is_dir() or is_dicomdir(path):
        return find_series(path, progress=progress)
    headers = read_headers(os.fspath(path))
    series = split_series(headers[0].series_instance_uid, headers)
    return SeriesCatalog(folder=os.fspath(path), series=(series,), skipped=())


def numbered_stacks(catalog: SeriesCatalog) -> list[tuple[int, Series, Stack]]:
    """Every stack with its number (from 1) and its series."""
    found: list[tuple[int, Series, Stack]] = []
    for series in catalog:
        for stack in series.stacks:
            found.append((len(found) + 1, series, stack))
    return found


def _files(stack: Stack) -> list[SliceHeader]:
    """The first header of each file in the stack."""
    seen: dict[str, SliceHeader] = {}
    for header in stack.headers:
        seen.setdefault(header.name, header)
    return list(seen.values())


def _assessed(
    stack: Stack,
) -> list[tuple[SliceHeader, TransferSyntax, LossyAssessment, Attributes | None]]:
    """Each file's lossy assessment, with its header read again where it had none.

    The data set is None where the assessment was made when the header was read.
    """
    results: list[tuple[SliceHeader, TransferSyntax, LossyAssessment, Attributes | None]] = []
    for header in _files(stack):
        syntax = lookup(header.transfer_syntax_uid)
        if syntax is None:
            continue
        if header.lossy is not None:  # assessed when the header was read
            results.append((header, syntax, header.lossy, None))
            continue
        with open_source(header.source) as opened:
            dataset = opened.dataset
        results.append((header, syntax, assess_lossy(dataset, syntax), dataset))
    return results


def _named(header: SliceHeader) -> Dataset:
    """A data set holding only the header's SOP Instance UID, for messages."""
    known = Dataset()
    known.SOPInstanceUID = header.sop_instance_uid
    return known


def lossy_of(stack: Stack) -> list[tuple[SliceHeader, LossyAssessment, Attributes]]:
    """The lossy assessment of each file in the stack (RULES R6).

    The assessment made when each header was read; a header without one has
    its file's header read again (not its pixels).
    """
    return [
        (header, assessment, _named(header) if dataset is None else dataset)
        for header, _, assessment, dataset in _assessed(stack)
    ]


def refuse_lossy_stack(stack: Stack) -> None:
    """Raise LossyDataError for the first lossy file of ``stack``."""
    for header, syntax, assessment, dataset in _assessed(stack):
        if assessment.lossy:  # the data set naming the instance is made for the error only
            named = _named(header) if dataset is None else dataset
            refuse_lossy(assessment, named, syntax, header.name)


def _lossy_summary(stack: Stack) -> tuple[str, int]:
    assessed = _assessed(stack)
    lossy = [assessment for _, _, assessment, _ in assessed if assessment.lossy]
    if not lossy:
        return "no", 0
    reason = lossy[0].evidence[0]
    if len(lossy) == len(assessed):
        return f"yes: {reason}", len(lossy)
    return f"{len(lossy)} of {len(assessed)} files: {reason}", len(lossy)


def describe_stacks(
    catalog: SeriesCatalog,
    *,
    allow_shear: bool = False,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> list[StackInfo]:
    """Check every stack's geometry and lossiness from its headers; decode nothing.

    Exact duplicates (same position) are the one exception: their pixels are
    compared, as :func:`combine_series` does, to tell copies from conflicts.
    """
    stacks = numbered_stacks(catalog)
    infos = []
    for number, series, stack in progress(stacks) if progress else stacks:
        first = stack.headers[0]
        names = []
        for header in stack.headers:
            syntax = lookup(header.transfer_syntax_uid)
            name = syntax.name if syntax else f"unknown ({header.transfer_syntax_uid})"
            if name not in names:
                names.append(name)
        lossy, lossy_files = _lossy_summary(stack)
        problem: DicomNumpyError | None = None
        plan: SeriesPlan | None = None
        volumes, volumes_by = 1, ""
        dropped = 0
        try:
            if stack.volumes > 1:
                planned = plan_volumes(stack, allow_shear=allow_shear, allow_lossy=True, jobs=False)
                plan = planned.plans[0]
                volumes, volumes_by = len(planned.plans), planned.split.words
                dropped = len(planned.split.dropped) + sum(len(p.dropped) for p in planned.plans)
            else:
                plan = plan_series(stack, allow_shear=allow_shear, allow_lossy=True, jobs=False)
                dropped = len(plan.dropped)
        except DicomNumpyError as exc:
            problem = exc
        count = len(plan.headers) if plan is not None else len(stack.headers)
        shape = (count, first.rows, first.columns, first.samples_per_pixel)
        if plan is not None:
            geometry = "ok"
            if plan.geometry.sheared:
                geometry += f", sheared by {plan.geometry.tilt_degrees:.2f} degrees of gantry tilt"
            if dropped:
                geometry += f", {dropped} exact duplicate(s) left out"
        else:
            assert problem is not None
            geometry = f"{type(problem).__name__}: {one_line(problem.detail)}"
        infos.append(
            StackInfo(
                number=number,
                series=series,
                stack=stack,
                shape=shape,
                transfer_syntaxes=tuple(names),
                lossy=lossy,
                lossy_files=lossy_files,
                geometry=geometry,
                problem=problem,
                plan=plan,
                volumes=volumes,
                volumes_by=volumes_by,
            )
        )
    return infos
