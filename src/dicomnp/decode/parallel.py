"""Decoding frames of many files, or many frames of one file, on every core.

The pylibjpeg codecs hold the GIL, so threads do not help them; this module
uses worker processes (:mod:`.workers`: plain interpreters that import only
dicomnp, safe in notebooks, scripts without a main guard and threaded
programs). The calling process decodes too, from the other end
of the same queue of tasks, so work starts at once while the workers start
up, and nobody idles at the end. Workers send each task's stored frames back
as an array; the caller's ``sink`` puts them in place. The workers are ended
before returning, also when a frame fails: no process is left behind.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._source import open_source
from .frames import open_frames
from .workers import WorkerPool

__all__ = ["FrameTask", "decode_tasks", "resolve_workers"]

# Below this many pixels to decode, starting processes costs more than it saves.
_PARALLEL_PIXELS = 8 * 2**20


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


def resolve_workers(workers: int | None, pixels: int, *, compressed: bool) -> int:
    """How many processes to decode with: ``workers`` if given, else a choice by work size.

    With ``workers=None``, compressed data of at least 8 Mi pixels use every
    core; anything else stays in this process (native data are limited by
    reading, not by the CPU).

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
    if compressed and pixels >= _PARALLEL_PIXELS:
        return cores
    return 1


def decode_tasks(
    tasks: Sequence[Any],
    sink: Callable[[int, Any], None],
    *,
    workers: int,
    local: Callable[[Any], Any] = decode_task,
    remote: Callable[[Any], Any] = decode_task,
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
    with WorkerPool(helpers) as pool:
        outstanding = 0
        while queue or outstanding:
            while queue and pool.idle:
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
