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
file on disk is opened again by descriptor, without being parsed again, and
read by offset straight into its slots. The files of a series whose headers
read the same (rescale, window, padding, ...) share one rendering plan and
its description (:class:`~dicomnp.normalize.PlanCache`); a file that reads
otherwise is rendered by a plan of its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset

from .._execute import FrameJob, JobFacts, Target, execute, plan_schedule
from .._source import ByteReader, OpenSource, SourceLike, open_source
from .._syntaxes import lookup
from .._workers import WorkerPool
from ..decode import FrameDecoder, PixelInfo, open_frames
from ..errors import InconsistentSeriesError
from ..normalize import (
    FrameRenderer,
    LossyAssessment,
    PlanCache,
    RenderingDescription,
    RenderOptions,
    Values,
    assess_lossy,
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


_BY_OFFSET = hasattr(os, "preadv")
"""Whether a file can be read by offset through its descriptor, without a file object."""


def _opened_again(parsed: ParsedSource, reader: ByteReader) -> tuple[OpenSource, FrameDecoder]:
    """A parsed file opened again over ``reader``, and its decoder: nothing parsed twice."""
    opened = OpenSource(
        name=parsed.name,
        dataset=parsed.dataset,
        syntax=parsed.syntax,
        pixel=parsed.pixel,
        reader=reader,
        path=parsed.path,
    )
    return opened, open_frames(opened, parsed.info)


def _check_unchanged(job: SourceJob, info: PixelInfo) -> None:
    """Refuse a source whose Image Pixel attributes are not those its slice headers hold."""
    for header in job.headers[:1]:
        found = (info.rows, info.columns, info.samples_per_pixel, info.dtype)
        wanted = (header.rows, header.columns, header.samples_per_pixel, np.dtype(header.dtype))
        if found != wanted:
            shown = [(*item[:3], item[3].name) for item in (found, wanted)]
            raise InconsistentSeriesError(
                f"the file changed since its header was read: {shown[0]} != {shown[1]}",
                files=[header.name],
                path=header.label,
            )


class _Rendering:
    """How the jobs of a series render: by these options, into this dtype.

    Jobs whose headers read the same share one plan and its description
    (:class:`~dicomnp.normalize.PlanCache`).
    """

    def __init__(
        self, jobs: Sequence[SourceJob], options: RenderOptions, dtype: np.dtype[Any]
    ) -> None:
        self.jobs = jobs
        self.options = options
        self.dtype = dtype
        self.plans = PlanCache(options)
        self.described: list[RenderingDescription | None] = [None] * len(jobs)

    @contextmanager
    def open_renderer(self, index: int, helper: bool = False) -> Iterator[FrameRenderer]:
        """A renderer of job ``index``'s frames, over its source opened again (an OpenRenderer).

        A file on disk is opened by path (by descriptor, where it can be
        read by offset) with the header, pixel element and Image Pixel
        attributes found when it was parsed; any other source is opened and
        parsed again. How the job renders is noted in :attr:`described`.
        """
        job = self.jobs[index]
        parsed = job.parsed
        if parsed.reopenable and _BY_OFFSET:
            assert parsed.path is not None
            descriptor = os.open(parsed.path, os.O_RDONLY)
            try:
                reader = parsed.reader_if_unchanged(descriptor)
                if reader is not None:
                    yield self._renderer(index, *_opened_again(parsed, reader))
                    return
            finally:
                os.close(descriptor)
        # any other source, or a file changed since it was parsed: parsed again
        with open_source(job.source) as opened:
            yield self._renderer(index, opened, open_frames(opened))

    def _renderer(self, index: int, opened: OpenSource, decoder: FrameDecoder) -> FrameRenderer:
        """The renderer of job ``index``'s frames over ``decoder``; notes how it renders them.

        Raises
        ------
        InconsistentSeriesError
            The file changed since its header was read, or it renders to a
            dtype the series dtype cannot hold.
        """
        job = self.jobs[index]
        info = decoder.info
        _check_unchanged(job, info)
        planned = self.plans.planned(
            opened.dataset,
            info,
            decoder.photometric_interpretation,
            job.frames,
            little_endian=opened.syntax.little_endian,
            name=opened.name,
        )
        self._check_dtype(job, planned.plan.dtype)
        self.described[index] = planned.description
        return FrameRenderer.by_transform(decoder, planned.transform)

    def _check_dtype(self, job: SourceJob, planned: np.dtype[Any]) -> None:
        dtype = self.dtype
        widened = self.options.values is Values.MODALITY and (
            planned.kind != "f" or dtype.kind == "f"
        )
        if planned != dtype and not widened:  # series_dtype chose a dtype that holds the slice
            raise InconsistentSeriesError(
                f"{job.name} renders to {planned}, which the series dtype {dtype} cannot hold",
                files=[header.label for header in job.headers],
                path=job.name,
            )

    def descriptions(self) -> list[RenderingDescription]:
        """How each job renders (see :func:`describe_rendering`), in the order of the jobs.

        Jobs not rendered in this process (by other processes, or not yet)
        are opened to be described; nothing is decoded (a codec's colour
        model may be read from the start of frame 0).
        """
        described = []
        for index, item in enumerate(self.described):
            if item is None:
                with self.open_renderer(index):
                    item = self.described[index]
            assert item is not None
            described.append(item)
        return described


def describe_jobs(
    jobs: Sequence[SourceJob], options: RenderOptions, dtype: np.dtype[Any]
) -> list[RenderingDescription]:
    """How each job's frames will be rendered, as :func:`render_series` reports it.

    Nothing is decoded (a codec's colour model may be read from the start of
    frame 0): for lazy volumes, whose header is needed before any slice.
    """
    return _Rendering(jobs, options, dtype).descriptions()


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
    rendering = _Rendering(jobs, options, dtype)
    frame_jobs = [job.frame_job(options, dtype) for job in jobs]
    execute(frame_jobs, facts, Target(array, mask), rendering.open_renderer, schedule, pool=pool)
    return rendering.descriptions()


def decode_stored(header: SliceHeader) -> NDArray[Any]:
    """The stored values of one slice, ``(rows, columns, samples)`` in their natural dtype."""
    with open_source(header.source) as opened:
        decoder = open_frames(opened)
        out = np.empty(decoder.info.frame_shape, dtype=decoder.info.dtype)
        decoder.decode_into(header.frame, out)
    return out
