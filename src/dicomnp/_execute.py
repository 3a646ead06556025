"""Where frames are decoded and rendered: here, on threads or on processes.

One unit of work, :class:`FrameJob`: these frames of this source, rendered
by these options into this dtype, into these slots of the output. Reading
one instance (:func:`dicomnp.to_array`) is one job; a series
(:func:`dicomnp.combine_series`) is a job per file; Dask and batch run jobs
as tasks of their own.

One scheduler: :func:`plan_schedule` chooses, from the transfer syntaxes
(does the codec release the GIL, is it worth another process), the amount
of work and ``workers=``, how many threads or processes to use, and
:func:`execute` runs the jobs that way:

* in this thread, frame after frame;
* on threads, a frame at a time from a shared queue: native frames
  (reading into the output releases the GIL) and codecs that release the
  GIL (imagecodecs);
* on processes (:mod:`._workers`) for codecs that hold the GIL (the
  pylibjpeg fallback) on files on disk: chunks of frames go to worker
  processes that render them by the same options and send them back, while
  this process renders its own share from the other end of the queue.

The caller opens the renderers (:class:`~dicomnp.normalize.FrameRenderer`)
this process uses, so that it can reuse a header it has read; worker
processes open the file by its path.

Headers are read before any job exists: :func:`map_forked` reads the
headers of a large folder in this process and in copies of it made by
``fork`` (no import to wait for, unlike the worker processes), where that is
safe: on Linux, from a process running one thread.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import IO, Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from ._source import open_source
from ._syntaxes import Codec, TransferSyntax, lookup
from ._workers import WorkerPool
from .decode.codecs.gil_free import releases_gil
from .normalize import FrameRenderer, Padding, RenderOptions

__all__ = [
    "FrameJob",
    "JobFacts",
    "OpenRenderer",
    "Schedule",
    "Target",
    "execute",
    "forked_processes",
    "map_forked",
    "native_threads",
    "parallel_codec",
    "plan_schedule",
    "releases_gil",
    "render_job",
    "resolve_workers",
    "run_on_threads",
    "run_tasks",
    "start_pool_early",
]

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many pixels to decode, starting processes costs more than it saves.
_PARALLEL_PIXELS = 8 * 2**20
_THREADED_PIXELS = 2**20
# From this many bytes of native frames, a second thread reading half of them saves time.
_THREADED_NATIVE_BYTES = 16 * 2**20
# ... when a series' files hold this many bytes each, on average (a 512x512 16-bit slice).
_THREADED_FILE_BYTES = 2**19
# From this many files, reading headers in forked copies of this process saves time:
# a fork costs a few milliseconds, a header a tenth of one.
_FORKED_FILES = 200


@dataclass(frozen=True)
class FrameJob:
    """These frames of one source, rendered by these options into this dtype, into these slots.

    Attributes
    ----------
    path : str or None
        The file, when it is on disk: only then can other processes render it.
    frames : tuple of int
        0-based frames, in output order.
    slots : tuple of int
        Where each frame goes along the output's first axis.
    options : RenderOptions
        How to render them.
    dtype : str or None
        The output dtype (a series' common dtype); None: the frames' own.
    """

    path: str | None
    frames: tuple[int, ...]
    slots: tuple[int, ...]
    options: RenderOptions
    dtype: str | None = None

    def part(self, start: int, stop: int) -> FrameJob:
        """The job of frames ``start:stop`` only."""
        return replace(self, frames=self.frames[start:stop], slots=self.slots[start:stop])


class JobFacts(NamedTuple):
    """What the scheduler needs to know of a job's source."""

    syntax: TransferSyntax
    on_disk: bool


@dataclass(frozen=True)
class Target:
    """Where jobs render: the output array and, with ``padding="mask"``, its mask."""

    array: NDArray[Any]
    mask: NDArray[np.bool_] | None = None

    def render(self, renderer: FrameRenderer, position: int, slot: int) -> None:
        """Render the renderer's frame ``position`` into ``slot``."""
        renderer.render_into(
            position, self.array[slot], None if self.mask is None else self.mask[slot]
        )

    def put(
        self, slots: Sequence[int], rendered: tuple[NDArray[Any], NDArray[np.bool_] | None]
    ) -> None:
        """Copy frames rendered elsewhere (:func:`render_job`) into their slots."""
        frames, masks = rendered
        where = list(slots)
        self.array[where] = frames
        if self.mask is not None and masks is not None:
            self.mask[where] = masks


OpenRenderer = Callable[[int, bool], AbstractContextManager[FrameRenderer]]
"""``open_renderer(job_index, helper)``: a renderer of that job's frames for this process.

``helper`` is True in a thread other than the caller's, which needs a
decoder of its own; the renderer's frame ``k`` is the job's frame ``k``.
"""


def render_job(job: FrameJob) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """Decode and render a job in any process, opening its file by path.

    Returns the frames ``(frames, rows, columns, samples)`` exactly as they
    would be written into their slots (NaN padding included) and, with
    ``padding="mask"``, their masks ``(frames, rows, columns)``. Lossy data
    are not refused here: the caller refused them before splitting the work.
    """
    assert job.path is not None
    with open_source(job.path) as opened:
        renderer = FrameRenderer.of_source(opened, job.frames, job.options)
        plan = renderer.plan
        count = len(job.frames)
        dtype = plan.dtype if job.dtype is None else np.dtype(job.dtype)
        target = Target(
            np.empty((count, *plan.frame_shape), dtype=dtype),
            np.zeros((count, plan.info.rows, plan.info.columns), dtype=bool)
            if job.options.padding is Padding.MASK
            else None,
        )
        for position in range(count):
            target.render(renderer, position, position)
    return target.array, target.mask


def parallel_codec(syntax: TransferSyntax) -> bool:
    """Whether frames of ``syntax`` cost enough CPU to be worth other processes.

    JPEG, JPEG-LS and JPEG 2000 decode at some 10-30 ms a 512x512 frame.
    RLE (about 0.5 ms), deflated frames and native data are limited by
    reading and copying: handing their frames to a process costs more than
    decoding them here.
    """
    return syntax.codec in (Codec.JPEG, Codec.JPEG_LS, Codec.JPEG_2000)


def _to_processes(facts: JobFacts) -> bool:
    """Whether a job's frames are costly, decoded holding the GIL, and readable by path."""
    return facts.on_disk and parallel_codec(facts.syntax) and not releases_gil(facts.syntax)


def _shareable(facts: JobFacts) -> bool:
    """Whether several threads can decode frames of one job, each with its own reader."""
    return facts.on_disk and not facts.syntax.deflated_dataset


def resolve_workers(
    workers: int | None, pixels: int, *, compressed: bool, threads: bool = False
) -> int:
    """How many processes or threads to decode with: ``workers`` if given, else a choice by work.

    With ``workers=None``, data of a :func:`parallel_codec` (``compressed``)
    use every core from 8 Mi pixels on processes, or from 1 Mi pixels on
    threads (``threads``), which cost next to nothing to start; anything
    else stays in this thread.

    Raises
    ------
    ValueError
        ``workers`` is less than 1.
    """
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        return workers
    cores = os.cpu_count() or 1
    if compressed and pixels >= (_THREADED_PIXELS if threads else _PARALLEL_PIXELS):
        return cores
    return 1


def native_threads(workers: int | None, nbytes: int) -> int:
    """How many threads to read ``nbytes`` of native frames with, this one included.

    ``workers`` if given, else every core from 16 MiB: reading from the page
    cache into the output (and its page faults) release the GIL, so two
    threads read a large file nearly twice as fast as one.

    Raises
    ------
    ValueError
        ``workers`` is less than 1.
    """
    if workers is not None:
        return resolve_workers(workers, 0, compressed=False)
    return (os.cpu_count() or 1) if nbytes >= _THREADED_NATIVE_BYTES else 1


class Schedule(NamedTuple):
    """How :func:`execute` runs jobs.

    Attributes
    ----------
    threads : int
        Threads for the jobs not sent to processes, this one included.
    processes : int
        Processes for the jobs in ``to_processes``, this one included (0: none).
    to_processes : tuple of bool
        Per job: whether its frames go to processes.
    """

    threads: int
    processes: int
    to_processes: tuple[bool, ...]


def plan_schedule(
    facts: Sequence[JobFacts],
    frames: Sequence[int],
    workers: int | None,
    *,
    pixels: int,
    nbytes: int,
) -> Schedule:
    """Choose threads and processes for jobs from their sources and the amount of work.

    Parameters
    ----------
    facts : sequence of JobFacts
        Per job: its transfer syntax and whether its file is on disk.
    frames : sequence of int
        Per job: how many frames it renders.
    workers : int or None
        The caller's ``workers=``: 1 runs everything in this thread; None
        decides from the work: every core for costly codecs holding the GIL
        from 8 Mi pixels (processes), for codecs releasing it from 1 Mi
        pixels (threads), for native frames from 16 MiB (threads) when they
        are one file's or the files hold 512 KiB each on average; else one.
    pixels : int
        Pixels (samples) to decode in all.
    nbytes : int
        Bytes of stored values to decode in all.

    Examples
    --------
    >>> from dicomnp._syntaxes import lookup
    >>> native = JobFacts(lookup("1.2.840.10008.1.2.1"), on_disk=True)
    >>> plan_schedule([native] * 3, [1, 1, 1], 2, pixels=3 * 512 * 512, nbytes=2**20)
    Schedule(threads=2, processes=0, to_processes=(False, False, False))
    >>> plan_schedule([native], [40], 1, pixels=40 * 512 * 512, nbytes=20 * 2**20)
    Schedule(threads=1, processes=0, to_processes=(False,))
    """
    to_processes = tuple(_to_processes(fact) for fact in facts)
    if workers == 1 or sum(frames) < 2:
        return Schedule(1, 0, (False,) * len(facts))
    if workers is not None:
        count = resolve_workers(workers, pixels, compressed=True)
    elif any(to_processes):
        count = resolve_workers(None, pixels, compressed=True)
    elif any(fact.syntax.encapsulated and releases_gil(fact.syntax) for fact in facts):
        count = resolve_workers(None, pixels, compressed=True, threads=True)
    elif not any(fact.syntax.encapsulated for fact in facts) and (
        len(facts) == 1 or nbytes >= _THREADED_FILE_BYTES * len(facts)
    ):
        # Reading native frames into the output releases the GIL: one file's, or
        # a series' whose files are large enough for the reading to outweigh the
        # Python work on each file, which holds it.
        count = native_threads(None, nbytes)
    else:  # cheap to decode: other threads would cost more than they save
        count = 1
    if count <= 1:
        return Schedule(1, 0, (False,) * len(facts))
    processes = count if any(to_processes) else 0
    # What threads share: a frame at a time, or a whole job where it cannot be shared.
    here = sum(
        jobs_frames if _shareable(fact) else 1
        for fact, jobs_frames, sent in zip(facts, frames, to_processes, strict=True)
        if not (sent and processes)
    )
    return Schedule(max(1, min(count, here)), processes, to_processes)


def start_pool_early(
    candidates: Sequence[str], files: int, workers: int | None
) -> WorkerPool | None:
    """Start worker processes now when a series of ``files`` will very likely need them.

    Starting a worker takes about a third of a second; started before the
    header pass over a series, it is ready when decoding begins. Decided from
    the transfer syntax of the first of ``candidates`` (paths) that has file
    meta information; a pool that turns out not to be needed is simply
    closed. The caller closes it.
    """
    if workers == 1 or not candidates:
        return None
    helpers = (workers if workers is not None else os.cpu_count() or 1) - 1
    if helpers < 1 or files < 8:
        return None
    from pydicom.filereader import read_file_meta_info

    for path in candidates[:4]:
        try:
            uid = read_file_meta_info(path).get("TransferSyntaxUID")
        except Exception:  # not DICOM, unreadable: the header pass will say
            continue
        syntax = lookup(str(uid)) if uid else None
        if syntax is None or not _to_processes(JobFacts(syntax, on_disk=True)):
            return None  # nothing to decode, or decoded on threads
        return WorkerPool(min(helpers, files - 1), preload=__name__)
    return None


def execute(
    jobs: Sequence[FrameJob],
    facts: Sequence[JobFacts],
    target: Target,
    open_renderer: OpenRenderer,
    schedule: Schedule,
    *,
    pool: WorkerPool | None = None,
) -> None:
    """Render every job's frames into their slots of ``target``, as ``schedule`` says.

    Parameters
    ----------
    jobs : sequence of FrameJob
        The work.
    facts : sequence of JobFacts
        Per job, what :func:`plan_schedule` was told.
    target : Target
        The output array and mask.
    open_renderer : callable
        ``open_renderer(job_index, helper)`` gives, as a context manager, a
        renderer of that job's frames in this process (see :data:`OpenRenderer`).
    schedule : Schedule
        From :func:`plan_schedule`.
    pool : WorkerPool, optional
        Workers already started (see :func:`start_pool_early`): used if
        processes are chosen, closed in any case.

    Raises
    ------
    DicomNumpyError
        The first error any frame raised, after every thread and process
        has stopped.
    """
    sent = schedule.to_processes if schedule.processes > 1 else (False,) * len(jobs)
    try:
        units: list[tuple[int, range]] = []
        for index, (job, fact) in enumerate(zip(jobs, facts, strict=True)):
            if sent[index]:
                continue
            if _shareable(fact) and schedule.threads > 1:
                units.extend((index, range(k, k + 1)) for k in range(len(job.frames)))
            else:
                units.append((index, range(len(job.frames))))
        _run_units(units, jobs, target, open_renderer, schedule.threads)
        if pool is not None and not any(sent):
            pool.close()
        if any(sent):
            chosen = [index for index, flag in enumerate(sent) if flag]
            _run_in_processes(chosen, jobs, target, open_renderer, schedule.processes, pool)
    finally:
        if pool is not None:
            pool.close()


class _Renderers:
    """The renderer one thread holds: the current job's, replaced when the thread moves on.

    A context manager: on exit, the renderer still held is closed (told of
    any error, as a ``with`` block would tell it).
    """

    def __init__(
        self,
        jobs: Sequence[FrameJob],
        target: Target,
        open_renderer: OpenRenderer,
        *,
        helper: bool,
    ) -> None:
        self.jobs = jobs
        self.target = target
        self.open_renderer = open_renderer
        self.helper = helper
        self.job = -1
        self.renderer: FrameRenderer | None = None
        self._held: AbstractContextManager[FrameRenderer] | None = None

    def __enter__(self) -> _Renderers:
        return self

    def __exit__(self, *raised: Any) -> bool:
        held, self._held, self.renderer = self._held, None, None
        return bool(held.__exit__(*raised)) if held is not None else False

    def __call__(self, unit: tuple[int, range]) -> None:
        index, positions = unit
        renderer = self.renderer
        if index != self.job or renderer is None:
            # a job a file: entered and left by hand, which costs less than an ExitStack
            self.__exit__(None, None, None)
            held = self.open_renderer(index, self.helper)
            renderer = held.__enter__()
            self._held, self.renderer, self.job = held, renderer, index
        slots = self.jobs[index].slots
        for position in positions:
            self.target.render(renderer, position, slots[position])


def _run_units(
    units: Sequence[tuple[int, range]],
    jobs: Sequence[FrameJob],
    target: Target,
    open_renderer: OpenRenderer,
    threads: int,
) -> None:
    """Render units (a job and positions of its frames) on ``threads`` threads, this one too."""

    def helper() -> _Renderers:
        return _Renderers(jobs, target, open_renderer, helper=True)

    with _Renderers(jobs, target, open_renderer, helper=False) as here:
        if threads <= 1 or len(units) < 2:
            for unit in units:
                here(unit)
            return
        run_on_threads(units, here, helper, threads)


def _run_in_processes(
    chosen: Sequence[int],
    jobs: Sequence[FrameJob],
    target: Target,
    open_renderer: OpenRenderer,
    processes: int,
    pool: WorkerPool | None,
) -> None:
    """Render the chosen jobs in chunks of frames across processes, this one included."""
    tasks: list[FrameJob] = []
    origins: list[tuple[int, int]] = []  # (job, first position) of each task
    for index in chosen:
        job = jobs[index]
        size = max(1, len(job.frames) // (processes * 4))
        for start in range(0, len(job.frames), size):
            tasks.append(job.part(start, start + size))
            origins.append((index, start))
    number_of = {id(task): number for number, task in enumerate(tasks)}

    def local(task: FrameJob) -> None:
        index, start = origins[number_of[id(task)]]
        with open_renderer(index, False) as renderer:
            for position, slot in enumerate(task.slots, start):
                target.render(renderer, position, slot)

    def sink(number: int, result: tuple[NDArray[Any], NDArray[np.bool_] | None] | None) -> None:
        if result is not None:  # None: rendered in place by this process
            target.put(tasks[number].slots, result)

    run_tasks(tasks, sink, workers=processes, local=local, remote=render_job, pool=pool)


def run_tasks(
    tasks: Sequence[Any],
    sink: Callable[[int, Any], None],
    *,
    workers: int,
    local: Callable[[Any], Any],
    remote: Callable[[Any], Any],
    pool: WorkerPool | None = None,
) -> None:
    """Run every task, calling ``sink(task_index, result)`` in this process for each.

    The calling process works too, from the far end of the same queue, so
    work starts at once while the workers start up and nobody idles at the
    end.

    Parameters
    ----------
    tasks : sequence
        The work, picklable; each result is passed to ``sink`` with the
        task's index.
    sink : callable
        Receives each task's result, in completion order.
    workers : int
        Processes in all, this one included: 1 runs everything here.
    local : callable
        How this process runs a task (e.g. reusing a decoder it holds).
    remote : callable
        How a worker process runs a task: a module-level function, so that
        it can be pickled.
    pool : WorkerPool, optional
        Workers started earlier (see :func:`start_pool_early`), used instead
        of starting new ones, and closed like them when done.

    Raises
    ------
    DicomNumpyError
        The first error any task raised, after every process has stopped.
    """
    queue = deque(enumerate(tasks))
    if workers <= 1 or len(tasks) < 2:
        for index, task in queue:
            sink(index, local(task))
        return
    helpers = min(workers - 1, len(tasks) - 1)
    with pool if pool is not None else WorkerPool(helpers, preload=__name__) as pool:
        outstanding = 0
        while queue or outstanding:
            # near the end, workers hold no more than their share of what is left
            while queue and pool.has_room(max(1, len(queue) // (helpers + 1))):
                index, task = queue.popleft()
                pool.submit(remote, task, index)
                outstanding += 1
            while outstanding and (done := pool.collect(block=False)) is not None:
                outstanding -= 1
                sink(*done)
            if queue:
                # this process works from the far end of the queue
                index, task = queue.pop()
                sink(index, local(task))
            elif outstanding:
                done = pool.collect(block=True)
                assert done is not None
                outstanding -= 1
                sink(*done)


def run_on_threads(
    items: Sequence[Item],
    here: Callable[[Item], None],
    helper: Callable[[], AbstractContextManager[Callable[[Item], None]]],
    threads: int,
) -> None:
    """Call a function on every item from ``threads`` threads, this one included.

    This thread calls ``here``; each other thread enters ``helper()`` once and
    calls what it gives (e.g. a renderer of its own, over a file it opened
    itself, as a reader and a frame buffer cannot be shared). Items are
    taken one at a time from a shared queue, so fast threads take more.

    Raises
    ------
    Exception
        The first error any thread raised, after every thread has stopped;
        the items not yet taken are dropped once one fails.
    """
    queue = deque(items)

    def drain(work: Callable[[Item], None]) -> None:
        try:
            while True:
                try:
                    item = queue.popleft()
                except IndexError:
                    return
                work(item)
        except BaseException:
            queue.clear()  # the others stop after their current item
            raise

    def helped() -> None:
        with helper() as work:
            drain(work)

    if threads <= 1 or len(items) < 2:
        drain(here)
        return
    with ThreadPoolExecutor(max_workers=threads - 1) as executor:
        futures = [executor.submit(helped) for _ in range(min(threads, len(items)) - 1)]
        first: BaseException | None = None
        try:
            drain(here)
        except BaseException as raised:
            first = raised
        for future in futures:
            failed = future.exception()
            if first is None and failed is not None:
                first = failed
    if first is not None:
        raise first


def forked_processes(count: int, workers: int | None, files: int | None = None) -> int:
    """How many processes :func:`map_forked` shares ``count`` items between, this one included.

    ``workers`` if given (1: this process only), else every core when the
    items read 200 files or more (``files``: by default one an item). More
    than one only where forking this process is safe: on Linux
    (macOS system libraries do not survive a fork), with this process running
    a single thread (a lock another thread holds would stay locked in the
    copy for ever).

    Raises
    ------
    ValueError
        ``workers`` is less than 1.

    Examples
    --------
    >>> forked_processes(10, None), forked_processes(5000, 1)
    (1, 1)
    """
    if workers is not None:
        wanted = resolve_workers(workers, 0, compressed=False)
    else:
        read = count if files is None else files
        wanted = (os.cpu_count() or 1) if read >= _FORKED_FILES else 1
    if wanted <= 1 or count < 2 or not sys.platform.startswith("linux"):
        return 1
    if threading.active_count() > 1:
        return 1
    return min(wanted, count)


def map_forked(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    processes: int,
    progress: Callable[[Sequence[Item]], Iterable[Item]] | None = None,
) -> list[Result]:
    """``[function(item) for item in items]``, shared between this process and forked copies.

    The items are cut into chunks, whose numbers wait in a pipe; this
    process and each copy take the next chunk when done with one, so a
    faster process takes more. A copy writes the results of each chunk to a
    file of its own (unnamed, on tmpfs where there is one) and this process
    reads them once the copy has ended. Whatever no copy gives back (a chunk
    where it raised, or anything after it died, or results it could not
    pickle) is computed here, in item order, so that an error is raised here
    as it would be without copies and a result is never missing.
    ``progress`` wraps ``items``: the bar moves as this process completes its
    chunks, at the pace of all the processes, and ends at the end.

    Parameters
    ----------
    function : callable
        Called on each item; reads, never writes (a copy's writes are lost).
    items : sequence
        Picklable results are sent back; anything else is computed here.
    processes : int
        From :func:`forked_processes`.
    progress : callable, optional
        e.g. ``tqdm.tqdm``.

    Examples
    --------
    >>> map_forked(len, ["a", "bb", "ccc"], 1)
    [1, 2, 3]
    """
    if processes <= 1:
        return [function(item) for item in (progress(items) if progress else items)]
    size = max(1, len(items) // (processes * _CHUNKS_EACH), -(-len(items) // _MAX_CHUNKS))
    starts = range(0, len(items), size)
    queue, feed = os.pipe()
    try:
        os.write(feed, b"".join(_CHUNK.pack(number) for number in range(len(starts))))
    finally:
        os.close(feed)  # an empty queue then reads as its end
    children: list[_Copy] = []
    results: dict[int, Result] = {}
    failed: tuple[int, BaseException] | None = None
    try:
        for _ in range(processes - 1):
            children.append(_fork_copy(function, items, starts, size, queue))
        bar = iter(progress(items)) if progress else None  # after the forks: no thread in a copy
        while failed is None and (number := _next_chunk(queue)) is not None:
            first = starts[number]
            for index in range(first, min(first + size, len(items))):
                try:
                    results[index] = function(items[index])
                except Exception as exc:
                    failed = (index, exc)
                    break
            if bar is not None:
                for _ in itertools.islice(bar, size * processes):
                    pass
        for child in children:
            if failed is None:
                child.wait_done()
            else:
                child.stop()  # what it wrote is used; what it did not, is not needed or done here
            for number, done in child.chunks():
                results.update(zip(range(starts[number], len(items)), done, strict=False))
        if bar is not None:
            for _ in bar:
                pass
    finally:
        os.close(queue)
        for child in children:
            child.close()
    stop = failed[0] if failed is not None else len(items)
    for index in range(stop):
        if index not in results:
            results[index] = function(items[index])
    if failed is not None:
        raise failed[1]
    return [results[index] for index in range(len(items))]


_CHUNK = struct.Struct("<I")
_CHUNKS_EACH = 32
"""Chunks per process: small enough to balance, large enough to cost little."""
_MAX_CHUNKS = 16_000
"""At most this many chunk numbers: they fit in a pipe's buffer (64 KiB), written at once."""


def _next_chunk(queue: int) -> int | None:
    """The number of the next chunk to compute, None when none is left."""
    data = os.read(queue, _CHUNK.size)  # a read this small from a pipe is whole
    return _CHUNK.unpack(data)[0] if len(data) == _CHUNK.size else None


@dataclass
class _Copy:
    """A forked copy of this process computing chunks, and how to get what it computed.

    It writes each chunk's results to ``spill`` (an unnamed file), closes
    its end of the pipe ``done`` when it has written all, and exits.
    """

    pid: int
    spill: IO[bytes]
    done: int
    ended: bool = False

    def wait_done(self) -> None:
        """Wait until the copy has written all it will write (or has died)."""
        os.read(self.done, 1)  # end of file once the copy closed its end, or died

    def stop(self) -> None:
        """Stop the copy now."""
        if not self.ended:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def chunks(self) -> Iterator[tuple[int, list[Any]]]:
        """The chunks the copy wrote, as far as they are whole and can be read."""
        spill = self.spill
        spill.seek(0)
        while len(head := spill.read(_LENGTH.size)) == _LENGTH.size:
            data = spill.read(_LENGTH.unpack(head)[0])
            try:
                number, done = pickle.loads(data)
            except Exception:
                return  # cut short where the copy died, or results that cannot be read
            yield number, done

    def close(self) -> None:
        """Release the file and the pipe, and reap the copy (stopping it if it still runs)."""
        self.spill.close()
        os.close(self.done)
        if not self.ended:
            try:
                finished, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                finished = self.pid
            if finished:
                self.ended = True
            else:
                self.stop()

    def _reap(self) -> None:
        with contextlib.suppress(ChildProcessError):  # reaped already: SIGCHLD ignored
            os.waitpid(self.pid, 0)
        self.ended = True


def _fork_copy(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    starts: range,
    size: int,
    queue: int,
) -> _Copy:
    """Fork a copy that computes chunks taken from ``queue``."""
    folder = _SHARED_MEMORY if os.path.isdir(_SHARED_MEMORY) else None
    spill = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - _Copy.close closes it
    done, written = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        spill.close()
        os.close(done)
        os.close(written)
        raise
    if pid:
        os.close(written)
        return _Copy(pid, spill, done)
    # The copy: never returns to the caller's code, never runs its exit handlers. A chunk
    # that raised (or whose results cannot be pickled) is left to the parent.
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        gc.freeze()  # what it inherited is never traversed: no page copied for the collector
        while (number := _next_chunk(queue)) is not None:
            first = starts[number]
            results = [
                function(items[index]) for index in range(first, min(first + size, len(items)))
            ]
            data = pickle.dumps((number, results), protocol=pickle.HIGHEST_PROTOCOL)
            spill.write(_LENGTH.pack(len(data)) + data)
    finally:
        try:
            spill.flush()
            os.close(written)  # all written: the parent reads while this process exits
        finally:
            os._exit(0)


_SHARED_MEMORY = "/dev/shm"
_LENGTH = struct.Struct("<Q")
