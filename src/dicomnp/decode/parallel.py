"""Decoding frames of many files, or many frames of one file, on every core.

imagecodecs' decoders release the GIL: their frames decode on threads
(:func:`run_on_threads`, :func:`releases_gil`). The pylibjpeg codecs hold
it, so without imagecodecs this module uses worker processes
(:mod:`.workers`: plain interpreters that import only dicomnp, safe in
notebooks, scripts without a main guard and threaded programs). The
calling process decodes too, from the other end of the same queue of
tasks, so work starts at once while the workers start up, and nobody idles
at the end. Workers send each task's stored frames back
as an array; the caller's ``sink`` puts them in place. The workers are ended
before returning, also when a frame fails: no process is left behind.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._source import open_source
from .._syntaxes import Codec, TransferSyntax, lookup
from .codecs.gil_free import releases_gil
from .frames import open_frames
from .workers import WorkerPool

__all__ = [
    "FrameTask",
    "decode_task",
    "decode_tasks",
    "native_threads",
    "parallel_codec",
    "releases_gil",
    "resolve_workers",
    "run_on_threads",
    "start_pool_early",
]

Item = TypeVar("Item")

# Below this many pixels to decode, starting processes costs more than it saves.
_PARALLEL_PIXELS = 8 * 2**20
_THREADED_PIXELS = 2**20
# From this many bytes of native frames, a second thread reading half of them saves time.
_THREADED_NATIVE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class FrameTask:
    """Frames of one file to decode: the unit of work sent to a process."""

    path: str
    frames: tuple[int, ...]


def decode_task(task: FrameTask) -> NDArray[Any]:
    """Decode ``task.frames`` of ``task.path``: shape ``(frames, rows, columns, samples)``."""
    with open_source(task.path) as opened:
        decoder = open_frames(opened)
        out = np.empty((len(task.frames), *decoder.info.frame_shape), dtype=decoder.info.dtype)
        for position, index in enumerate(task.frames):
            decoder.decode_into(index, out[position])
    return out


def parallel_codec(syntax: TransferSyntax) -> bool:
    """Whether frames of ``syntax`` cost enough CPU to be worth other processes.

    JPEG, JPEG-LS and JPEG 2000 decode at some 10-30 ms a 512x512 frame.
    RLE (about 0.5 ms), deflated frames and native data are limited by
    reading and copying: handing their frames to a process costs more than
    decoding them here.
    """
    return syntax.codec in (Codec.JPEG, Codec.JPEG_LS, Codec.JPEG_2000)


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
        if syntax is None or not parallel_codec(syntax) or releases_gil(syntax):
            return None  # nothing to decode, or decoded on threads
        return WorkerPool(min(helpers, files - 1))
    return None


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


def decode_tasks(
    tasks: Sequence[Any],
    sink: Callable[[int, Any], None],
    *,
    workers: int,
    local: Callable[[Any], Any] = decode_task,
    remote: Callable[[Any], Any] = decode_task,
    pool: WorkerPool | None = None,
) -> None:
    """Run every task, calling ``sink(task_index, result)`` in this process for each.

    Parameters
    ----------
    tasks : sequence
        The work, picklable; each result is passed to ``sink`` with the
        task's index. :class:`FrameTask` by default.
    sink : callable
        Receives each task's result, in completion order.
    workers : int
        Processes in all, this one included: 1 runs everything here.
    local : callable, optional
        How this process runs a task (e.g. reusing a decoder it holds).
    remote : callable, optional
        How a worker process runs a task: a module-level function, so that
        it can be pickled. :func:`decode_task` by default.
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
    with pool if pool is not None else WorkerPool(helpers) as pool:
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
