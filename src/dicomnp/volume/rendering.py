"""Rendering the slices of a series into one array allocated up front.

The slices are grouped by source file into :class:`SourceJob` values. Before
anything is decoded, every source's header is checked for lossy data and its
output dtype is read (:func:`refuse_lossy_sources`, :func:`series_output_dtype`),
so the array can be allocated once. :func:`render_series` then decodes each
slice straight into its slot with the normalize layer's
:class:`~dicomnp.normalize.FrameRenderer`, by the rules and options of
:func:`dicomnp.to_array`:

* native data (and sources only held in memory) are decoded in this process,
  or by a pool of threads when ``workers`` asks for more than one;
* compressed files on disk are decoded and rendered by worker processes
  (:func:`~dicomnp.decode.parallel.decode_tasks`), one task per file or per
  chunk of frames of a multi-frame file, this process included: it renders
  its share straight into the slots and copies the workers' frames there.

Each file's header, parsed when the slice headers were read, is reused: a
file on disk is opened again without being parsed again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._source import FileReader, OpenSource, SourceLike, open_source
from ..decode import FrameDecoder, open_frames
from ..decode.parallel import decode_tasks, parallel_codec, releases_gil, resolve_workers
from ..decode.workers import WorkerPool
from ..errors import InconsistentSeriesError
from ..normalize import (
    FrameRenderer,
    LossyAssessment,
    RenderOptions,
    Values,
    assess_lossy,
    describe_rendering,
    refuse_lossy,
    series_dtype,
    slice_output,
)
from ..normalize.tasks import render_frames
from .headers import ParsedSource, SliceHeader
from .reading import read_source

__all__ = [
    "SeriesTask",
    "SourceJob",
    "decode_stored",
    "describe_jobs",
    "parse_sources",
    "refuse_lossy_sources",
    "render_series",
    "render_series_task",
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


def parse_sources(
    headers: Sequence[SliceHeader], parsed: dict[int, ParsedSource]
) -> dict[int, ParsedSource]:
    """``parsed`` completed with every source of ``headers`` not parsed yet (e.g. a Stack's)."""
    for header in headers:
        key = id(header.source)
        if key not in parsed:
            parsed[key] = read_source(header.source)[1]
    return parsed


def refuse_lossy_sources(
    parsed: dict[int, ParsedSource], options: RenderOptions
) -> dict[int, LossyAssessment]:
    """Assess each source for lossy data from its header; refuse unless ``allow_lossy``.

    Raises
    ------
    LossyDataError
        The first lossy source found, when ``options.allow_lossy`` is false.
    """
    found = {}
    for key, source in parsed.items():
        assessment = assess_lossy(source.dataset, source.syntax)
        if not options.allow_lossy:
            refuse_lossy(assessment, source.dataset, source.syntax, source.name)
        found[key] = assessment
    return found


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
    source = job.source
    start = source.tell() if hasattr(source, "tell") and hasattr(source, "seek") else None
    with open_source(source) as opened:
        yield opened
    if start is not None:
        source.seek(start)  # type: ignore[union-attr]  # a file object can be read again


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
    renderer = FrameRenderer(
        decoder,
        opened.dataset,
        job.frames,
        options,
        little_endian=opened.syntax.little_endian,
        name=opened.name,
    )
    planned = renderer.plan.dtype
    widened = options.values is Values.MODALITY and (planned.kind != "f" or dtype.kind == "f")
    if planned != dtype and not widened:  # series_dtype chose a dtype that holds the slice
        raise InconsistentSeriesError(
            f"{job.name} renders to {planned}, which the series dtype {dtype} cannot hold",
            files=[header.label for header in job.headers],
            path=job.name,
        )
    return renderer


@dataclass(frozen=True)
class _Target:
    array: NDArray[Any]
    mask: NDArray[np.bool_] | None
    options: RenderOptions

    def slot_mask(self, slot: int) -> NDArray[np.bool_] | None:
        return None if self.mask is None else self.mask[slot]


def _describe(job: SourceJob, renderer: FrameRenderer) -> dict[str, Any]:
    """How the job's frames were rendered (see :func:`describe_rendering`), and its source."""
    described = describe_rendering(renderer.plan, job.parsed.dataset, job.name)
    described["lossy"] = job.lossy.lossy
    described["transfer_syntax"] = job.parsed.syntax.uid
    return described


def describe_jobs(
    jobs: Sequence[SourceJob], options: RenderOptions, dtype: np.dtype[Any]
) -> list[dict[str, Any]]:
    """How each job's frames will be rendered, as :func:`render_series` reports it.

    Nothing is decoded (a codec's colour model may be read from the start of
    frame 0): for lazy volumes, whose header is needed before any slice.
    """
    described = []
    for job in jobs:
        with _reopen(job) as opened:
            described.append(_describe(job, _renderer(job, opened, options, dtype)))
    return described


def _render_job(job: SourceJob, target: _Target) -> dict[str, Any]:
    """Decode and render every slice of one job in this thread."""
    with _reopen(job) as opened:
        renderer = _renderer(job, opened, target.options, target.array.dtype)
        for position, slot in enumerate(job.slots):
            renderer.render_into(position, target.array[slot], target.slot_mask(slot))
    return _describe(job, renderer)


def render_series(
    jobs: Sequence[SourceJob],
    array: NDArray[Any],
    mask: NDArray[np.bool_] | None,
    options: RenderOptions,
    workers: int | None,
    pool: WorkerPool | None = None,
) -> list[dict[str, Any]]:
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
        Processes (compressed files whose codec holds the GIL) or threads
        (anything else) to use, this one included; None decides from the
        work (see :func:`resolve_workers`).
    pool : WorkerPool, optional
        Workers already started for this call (see :func:`start_pool_early`);
        used if processes are chosen, closed in any case.

    Returns
    -------
    list of dict
        How each job's frames were rendered (:func:`describe_rendering`,
        plus ``lossy`` and ``transfer_syntax``), in the order of ``jobs``.
    """
    target = _Target(array, mask, options)
    slices, rows, columns, samples = array.shape
    threaded = [releases_gil(job.parsed.syntax) for job in jobs]
    # Costly frames whose codec holds the GIL go to processes; the rest to threads.
    compressed = [
        parallel_codec(job.parsed.syntax) and job.parsed.path is not None and not gil_free
        for job, gil_free in zip(jobs, threaded, strict=True)
    ]
    count = resolve_workers(
        workers,
        slices * rows * columns * samples,
        compressed=any(compressed) or any(threaded),
        threads=not any(compressed),
    )
    described: list[dict[str, Any] | None] = [None] * len(jobs)
    in_processes = [index for index, flag in enumerate(compressed) if flag] if count > 1 else []
    here = [index for index in range(len(jobs)) if index not in set(in_processes)]
    threads = min(count, len(here))
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as threads_pool:
            mapped = threads_pool.map(lambda index: _render_job(jobs[index], target), here)
            for index, result in zip(here, mapped, strict=True):
                described[index] = result
    else:
        for index in here:
            described[index] = _render_job(jobs[index], target)
    if pool is not None and not in_processes:
        pool.close()
    if in_processes:
        chosen = [jobs[index] for index in in_processes]
        results = _render_in_processes(chosen, target, count, pool)
        for index, result in zip(in_processes, results, strict=True):
            described[index] = result
    return [item for item in described if item is not None]


@dataclass(frozen=True)
class SeriesTask:
    """Frames of one file to render into the series dtype: the unit of work of a process."""

    path: str
    frames: tuple[int, ...]
    options: RenderOptions
    dtype: str


def render_series_task(task: SeriesTask) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """Decode and render ``task.frames`` of ``task.path`` into ``task.dtype``, in any process.

    Returns the frames ``(frames, rows, columns, samples)`` exactly as this
    process would write them into their slots (NaN padding included), and
    with ``padding="mask"`` their masks ``(frames, rows, columns)``. Lossy
    data were refused before the work was split.
    """
    return render_frames(task.path, task.frames, task.options, np.dtype(task.dtype))


def _render_in_processes(
    jobs: Sequence[SourceJob], target: _Target, processes: int, pool: WorkerPool | None
) -> list[dict[str, Any]]:
    """Decode and render the jobs' frames across processes, this one included.

    One task per file, or per chunk of frames of a multi-frame file. Workers
    render into the series dtype and send the frames back; this process
    renders its own share straight into the slots.
    """
    # Nothing is opened here before the work is split: each job's description is
    # made while the workers run, by whichever of local() and sink() meets it first.
    described: list[dict[str, Any] | None] = [None] * len(jobs)
    tasks: list[SeriesTask] = []
    origins: list[tuple[int, int]] = []  # (job, first position) of each task
    dtype = target.array.dtype
    for number, job in enumerate(jobs):
        frames = job.frames
        size = max(1, len(frames) // (processes * 4))
        assert job.parsed.path is not None
        for start in range(0, len(frames), size):
            task = SeriesTask(
                job.parsed.path, frames[start : start + size], target.options, dtype.str
            )
            tasks.append(task)
            origins.append((number, start))
    task_numbers = {id(task): number for number, task in enumerate(tasks)}

    def local(task: SeriesTask) -> None:
        number, start = origins[task_numbers[id(task)]]
        job = jobs[number]
        with _reopen(job) as opened:
            renderer = _renderer(job, opened, target.options, dtype)
            for position in range(start, start + len(task.frames)):
                slot = job.slots[position]
                renderer.render_into(position, target.array[slot], target.slot_mask(slot))
        if described[number] is None:
            described[number] = _describe(job, renderer)

    def sink(
        task_number: int, result: tuple[NDArray[Any], NDArray[np.bool_] | None] | None
    ) -> None:
        if result is None:  # rendered in place by this process
            return
        rendered, masks = result
        number, start = origins[task_number]
        job = jobs[number]
        slots = list(job.slots[start : start + len(rendered)])
        target.array[slots] = rendered
        if target.mask is not None and masks is not None:
            target.mask[slots] = masks
        if described[number] is None:
            with _reopen(job) as opened:  # the plan may read the start of frame 0
                described[number] = _describe(job, _renderer(job, opened, target.options, dtype))

    decode_tasks(tasks, sink, workers=processes, local=local, remote=render_series_task, pool=pool)
    return [item for item in described if item is not None]


def decode_stored(header: SliceHeader) -> NDArray[Any]:
    """The stored values of one slice, ``(rows, columns, samples)`` in their natural dtype."""
    start = (
        header.source.tell()
        if hasattr(header.source, "tell") and hasattr(header.source, "seek")
        else None
    )
    with open_source(header.source) as opened:
        decoder = open_frames(opened)
        out = np.empty(decoder.info.frame_shape, dtype=decoder.info.dtype)
        decoder.decode_into(header.frame, out)
    if start is not None:
        header.source.seek(start)  # type: ignore[union-attr]
    return out
