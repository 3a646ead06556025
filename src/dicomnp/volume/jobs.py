"""The slices of a series grouped by source file, and rendered into one array.

The slices are grouped by source file into :class:`SourceJob` values. Before
anything is decoded, every source's header is checked for lossy data and its
output dtype is read (:func:`refuse_lossy_sources`, :func:`series_output_dtype`),
so the array can be allocated once. :func:`render_series` then hands one
:class:`~dicomnp._execute.FrameJob` per source to the scheduler
(:mod:`dicomnp._execute`), which decodes each slice straight into its slot
by the rules and options of :func:`dicomnp.to_array`, here, on threads or on
processes.

Each file's header, parsed when the slice headers were read, is reused: a
file on disk is opened again without being parsed again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset

from .._execute import FrameJob, JobFacts, Target, execute, plan_schedule
from .._source import FileReader, OpenSource, SourceLike, open_source
from .._syntaxes import lookup
from .._workers import WorkerPool
from ..decode import FrameDecoder, open_frames
from ..errors import InconsistentSeriesError
from ..normalize import (
    FrameRenderer,
    LossyAssessment,
    RenderingDescription,
    RenderOptions,
    Values,
    assess_lossy,
    describe_rendering,
    refuse_lossy,
    series_dtype,
    slice_output,
)
from .headers import ParsedSource, SliceHeader
from .reading import read_source

__all__ = [
    "SourceJob",
    "carried_lossy",
    "decode_stored",
    "describe_jobs",
    "parse_sources",
    "refuse_lossy_headers",
    "refuse_lossy_sources",
    "render_series",
    "series_output_dtype",
    "source_jobs",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceJob:
    """The slices of one source: its frames and the slots they fill, in slot order.

    Attributes
    ----------
    source : object
        What to open to decode the pixels.
    parsed : ParsedSource
        The source's header, parsed once.
    lossy : LossyAssessment
        Whether its pixel data are lossy, from the header.
    headers : tuple of SliceHeader
        The slices it holds, in slot order.
    slots : tuple of int
        Where each of them goes in the volume.
    """

    source: SourceLike = field(repr=False)
    parsed: ParsedSource
    lossy: LossyAssessment
    headers: tuple[SliceHeader, ...]
    slots: tuple[int, ...]

    @property
    def frames(self) -> tuple[int, ...]:
        """The 0-based frames to render, in slot order."""
        return tuple(header.frame for header in self.headers)

    @property
    def name(self) -> str:
        return self.parsed.name

    def frame_job(self, options: RenderOptions, dtype: np.dtype[Any]) -> FrameJob:
        """The work for the scheduler: these frames, into these slots, in ``dtype``."""
        return FrameJob(self.parsed.path, self.frames, self.slots, options, dtype.str)

    @property
    def facts(self) -> JobFacts:
        """What the scheduler needs to know of the source."""
        return JobFacts(self.parsed.syntax, on_disk=self.parsed.path is not None)


def parse_sources(
    headers: Sequence[SliceHeader], parsed: dict[int, ParsedSource]
) -> dict[int, ParsedSource]:
    """``parsed`` completed with every source of ``headers``: what each header kept, else read."""
    for header in headers:
        key = id(header.source)
        if key not in parsed:
            kept = header.parsed
            parsed[key] = kept if kept is not None else read_source(header.source)[1]
    return parsed


def refuse_lossy_sources(
    parsed: dict[int, ParsedSource],
    options: RenderOptions,
    assessed: Mapping[int, LossyAssessment] | None = None,
) -> dict[int, LossyAssessment]:
    """Assess each source for lossy data from its header; refuse unless ``allow_lossy``.

    Parameters
    ----------
    parsed : dict of int to ParsedSource
        The sources, by ``id(source)``.
    options : RenderOptions
        ``options.allow_lossy`` says whether lossy data are accepted.
    assessed : mapping of int to LossyAssessment, optional
        Assessments already made from the same headers (as each
        :class:`SliceHeader` carries one), by ``id(source)``: used instead of
        assessing those sources again.

    Returns
    -------
    dict of int to LossyAssessment
        Each source's assessment, by ``id(source)``.

    Raises
    ------
    LossyDataError
        The first lossy source found, when ``options.allow_lossy`` is false.
    """
    known = assessed or {}
    found = {}
    for key, source in parsed.items():
        assessment = known.get(key)
        if assessment is None:
            assessment = assess_lossy(source.dataset, source.syntax)
        if not options.allow_lossy:
            refuse_lossy(assessment, source.dataset, source.syntax, source.name)
        found[key] = assessment
    return found


def carried_lossy(headers: Sequence[SliceHeader]) -> dict[int, LossyAssessment]:
    """The lossy assessment each header carries, by ``id(header.source)`` (see
    :func:`refuse_lossy_sources`); headers without one are left out."""
    carried: dict[int, LossyAssessment] = {}
    for header in headers:
        if header.lossy is not None:
            carried.setdefault(id(header.source), header.lossy)
    return carried


def refuse_lossy_headers(headers: Sequence[SliceHeader]) -> None:
    """Refuse lossy data from the assessment each header carries, reading no file again.

    Raises
    ------
    LossyDataError
        The first slice whose header says its pixel data are lossy.
    """
    for header in headers:
        assessment = header.lossy
        if assessment is None or not assessment.lossy:
            continue
        syntax = lookup(header.transfer_syntax_uid)
        if syntax is not None:  # the data set naming the instance is made for the error only
            uid = Dataset()
            uid.SOPInstanceUID = header.sop_instance_uid
            refuse_lossy(assessment, uid, syntax, header.name)


def source_jobs(
    ordered: Sequence[SliceHeader],
    parsed: dict[int, ParsedSource],
    lossy: dict[int, LossyAssessment],
) -> list[SourceJob]:
    """Group the slots of ``ordered`` by source, in order of first appearance."""
    groups: dict[int, list[tuple[int, SliceHeader]]] = {}
    for slot, header in enumerate(ordered):
        groups.setdefault(id(header.source), []).append((slot, header))
    return [
        SourceJob(
            source=members[0][1].source,
            parsed=parsed[key],
            lossy=lossy[key],
            headers=tuple(header for _, header in members),
            slots=tuple(slot for slot, _ in members),
        )
        for key, members in groups.items()
    ]


def series_output_dtype(jobs: Sequence[SourceJob], options: RenderOptions) -> np.dtype[Any]:
    """The dtype of the series array, from the headers alone (see :func:`series_dtype`).

    Raises
    ------
    InconsistentSeriesError
        The slices render to dtypes that cannot be combined without changing values.
    """
    per_job = [
        slice_output(
            job.parsed.dataset,
            job.parsed.info,
            options,
            frames=job.frames,
            little_endian=job.parsed.syntax.little_endian,
            name=job.name,
        )
        for job in jobs
    ]
    photometric = jobs[0].headers[0].photometric_interpretation
    combined = series_dtype(per_job, values=options.values, photometric=photometric)
    if combined is None:
        groups: dict[str, list[str]] = {}
        for job, output in zip(jobs, per_job, strict=True):
            groups.setdefault(output.dtype.name, []).extend(header.label for header in job.headers)
        detail = "; ".join(
            f"{dtype} ({len(labels)}: {', '.join(labels[:3])}{', ...' * (len(labels) > 3)})"
            for dtype, labels in groups.items()
        )
        raise InconsistentSeriesError(
            f"the slices render to different dtypes with values={options.values.value!r}: {detail}",
            files=[label for labels in groups.values() for label in labels],
        )
    return combined


@contextmanager
def _reopen(job: SourceJob) -> Iterator[OpenSource]:
    """Open the job's source again, without parsing a file's header a second time."""
    parsed = job.parsed
    if parsed.reopenable:
        assert parsed.path is not None
        with open(parsed.path, "rb") as fp:
            yield OpenSource(
                name=parsed.name,
                dataset=parsed.dataset,
                syntax=parsed.syntax,
                pixel=parsed.pixel,
                reader=FileReader(fp),
                path=parsed.path,
            )
        return
    with open_source(job.source) as opened:
        yield opened


def _check_unchanged(job: SourceJob, decoder: FrameDecoder) -> None:
    info = decoder.info
    for header in job.headers[:1]:
        found = (info.rows, info.columns, info.samples_per_pixel, info.dtype.name)
        wanted = (header.rows, header.columns, header.samples_per_pixel, header.dtype)
        if found != wanted:
            raise InconsistentSeriesError(
                f"the file changed since its header was read: {found} != {wanted}",
                files=[header.name],
                path=header.label,
            )


def _renderer(
    job: SourceJob, opened: OpenSource, options: RenderOptions, dtype: np.dtype[Any]
) -> FrameRenderer:
    decoder = open_frames(opened)
    _check_unchanged(job, decoder)
    renderer = FrameRenderer.of_source(opened, job.frames, options, decoder)
    planned = renderer.plan.dtype
    widened = options.values is Values.MODALITY and (planned.kind != "f" or dtype.kind == "f")
    if planned != dtype and not widened:  # series_dtype chose a dtype that holds the slice
        raise InconsistentSeriesError(
            f"{job.name} renders to {planned}, which the series dtype {dtype} cannot hold",
            files=[header.label for header in job.headers],
            path=job.name,
        )
    return renderer


def _describe(job: SourceJob, renderer: FrameRenderer) -> RenderingDescription:
    """How the job's frames were rendered (see :func:`describe_rendering`)."""
    return describe_rendering(renderer.plan, job.parsed.dataset, job.name)


def describe_jobs(
    jobs: Sequence[SourceJob], options: RenderOptions, dtype: np.dtype[Any]
) -> list[RenderingDescription]:
    """How each job's frames will be rendered, as :func:`render_series` reports it.

    Nothing is decoded (a codec's colour model may be read from the start of
    frame 0): for lazy volumes, whose header is needed before any slice.
    """
    described = []
    for job in jobs:
        with _reopen(job) as opened:
            described.append(_describe(job, _renderer(job, opened, options, dtype)))
    return described


def render_series(
    jobs: Sequence[SourceJob],
    array: NDArray[Any],
    mask: NDArray[np.bool_] | None,
    options: RenderOptions,
    workers: int | None,
    pool: WorkerPool | None = None,
) -> list[RenderingDescription]:
    """Render every job's slices into their slots of ``array`` (and ``mask``).

    Parameters
    ----------
    jobs : sequence of SourceJob
        The sources and the slots their frames fill.
    array : numpy.ndarray
        ``(slices, rows, columns, samples)``, of the series dtype.
    mask : numpy.ndarray of bool or None
        ``(slices, rows, columns)``: receives the padding flags when given.
    options : RenderOptions
        The rendering options.
    workers : int or None
        Threads or processes to use, this one included; None decides from
        the work (see :func:`~dicomnp._execute.plan_schedule`).
    pool : WorkerPool, optional
        Workers already started for this call (see
        :func:`~dicomnp._execute.start_pool_early`); used if processes are
        chosen, closed in any case.

    Returns
    -------
    list of RenderingDescription
        How each job's frames were rendered (:func:`describe_rendering`),
        in the order of ``jobs``.
    """
    dtype = array.dtype
    slices, rows, columns, samples = array.shape
    facts = [job.facts for job in jobs]
    schedule = plan_schedule(
        facts,
        [len(job.slots) for job in jobs],
        workers,
        pixels=slices * rows * columns * samples,
        nbytes=sum(
            len(job.slots) * job.parsed.info.frame_pixels * job.parsed.info.dtype.itemsize
            for job in jobs
        ),
    )
    described: list[RenderingDescription | None] = [None] * len(jobs)

    @contextmanager
    def open_renderer(index: int, helper: bool) -> Iterator[FrameRenderer]:
        job = jobs[index]
        with _reopen(job) as opened:
            renderer = _renderer(job, opened, options, dtype)
            if described[index] is None:
                described[index] = _describe(job, renderer)
            yield renderer

    frame_jobs = [job.frame_job(options, dtype) for job in jobs]
    execute(frame_jobs, facts, Target(array, mask), open_renderer, schedule, pool=pool)
    for index, job in enumerate(jobs):
        if described[index] is None:  # rendered by other processes only
            with _reopen(job) as opened:  # the plan may read the start of frame 0
                described[index] = _describe(job, _renderer(job, opened, options, dtype))
    return [item for item in described if item is not None]


def decode_stored(header: SliceHeader) -> NDArray[Any]:
    """The stored values of one slice, ``(rows, columns, samples)`` in their natural dtype."""
    with open_source(header.source) as opened:
        decoder = open_frames(opened)
        out = np.empty(decoder.info.frame_shape, dtype=decoder.info.dtype)
        decoder.decode_into(header.frame, out)
    return out
