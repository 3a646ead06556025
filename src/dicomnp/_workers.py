"""A small pool of worker processes that never import the caller's ``__main__``.

``multiprocessing``'s spawn and forkserver methods re-import the main module
in every worker: a script without an ``if __name__ == "__main__"`` guard
would run itself again, and code read from standard input cannot be
re-imported at all. dicomnp's workers are plain ``python -c`` processes
that import only dicomnp, started with the caller's ``sys.path``, and talk
to this process over their standard input and output: a length-prefixed
pickle of ``(function, task)`` in, of ``(ok, result or error)`` out.

Large results do not go through the pipe. This process's reader threads
need the GIL to empty a pipe, and a codec decoding here holds the GIL for a
whole frame, so a worker writing a frame into a 64 KiB pipe would wait on
this process at every chunk. A worker therefore writes the array buffers of
a large result (pickle protocol 5, out of band) to a file in a folder on
tmpfs that the pool owns, and sends only the small pickle and the file
name; the reader loads the buffers from the file and deletes it.

Workers end when their input is closed; :meth:`WorkerPool.close` closes it,
waits briefly and kills what is left, so no process outlives the call.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import queue
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from typing import IO, Any, cast

from .errors import DicomNumpyError, WorkerDied

__all__ = ["WorkerPool", "serve"]

_LENGTH = struct.Struct("<Q")
_BOOTSTRAP = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from dicomnp._workers import serve; serve(sys.argv[2], sys.argv[3])"
)
_INLINE = 32 * 1024
"""Results with fewer bytes of array data than this go through the pipe."""


def _send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next message, or None at end of stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _spill_folder() -> str:
    """A new folder for large results, on tmpfs where there is one."""
    shared = "/dev/shm"
    base = shared if os.path.isdir(shared) and os.access(shared, os.W_OK) else None
    return tempfile.mkdtemp(prefix="dicomnp-", dir=base)


def _pack(outcome: tuple[bool, Any], spill: str, number: int) -> tuple[Any, ...]:
    """The reply for ``outcome``: inline, or its array buffers written to a file."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(outcome, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    if sum(view.nbytes for view in views) < _INLINE:
        return ("inline", pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    path = os.path.join(spill, f"{os.getpid()}-{number}.bin")
    with open(path, "wb") as handle:
        for view in views:
            handle.write(view)
    return ("file", data, path, [view.nbytes for view in views])


def _unpack(reply: tuple[Any, ...]) -> tuple[bool, Any]:
    """The outcome a reply carries; a file it names is read and deleted."""
    if reply[0] == "inline":
        outcome: tuple[bool, Any] = pickle.loads(reply[1])
        return outcome
    _, data, path, sizes = reply
    try:
        with open(path, "rb") as handle:
            content = bytearray(sum(sizes))
            handle.readinto(content)
    finally:
        os.unlink(path)
    view = memoryview(content)
    buffers, start = [], 0
    for size in sizes:
        buffers.append(view[start : start + size])
        start += size
    return cast(tuple[bool, Any], pickle.loads(data, buffers=buffers))


def serve(spill: str, preload: str = "dicomnp") -> None:
    """The worker's loop: run each ``(function, task)`` received, send back the outcome.

    Parameters
    ----------
    spill : str
        The pool's folder for results too large for the pipe.
    preload : str, optional
        A module to import before the first task arrives.
    """
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the reply stream
    # What every task needs (NumPy, pydicom, the layers) is imported while the
    # caller still reads headers, not when the first task arrives.
    importlib.import_module(preload)
    number = 0
    while (message := _receive(requests)) is not None:
        function, task = message
        number += 1
        try:
            outcome: tuple[bool, Any] = (True, function(task))
        except BaseException as exc:  # every failure goes back to the caller
            outcome = (False, exc)
        try:
            reply = _pack(outcome, spill, number)
        except Exception as exc:  # an unpicklable result or error
            failure = DicomNumpyError(f"cannot return the result: {exc!r}")
            reply = _pack((False, failure), spill, number)
        _send(replies, reply)


class _Worker:
    def __init__(
        self, replies: queue.SimpleQueue[tuple[_Worker, Any]], spill: str, preload: str
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, json.dumps(sys.path), spill, preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._read, args=(replies,), daemon=True)
        self._reader.start()

    def _read(self, replies: queue.SimpleQueue[tuple[_Worker, Any]]) -> None:
        assert self.process.stdout is not None
        while True:
            reply = _receive(self.process.stdout)
            try:
                message = None if reply is None else _unpack(reply)
            except Exception as exc:  # a spill file that cannot be read back
                message = (False, DicomNumpyError(f"cannot read a worker's result: {exc!r}"))
            replies.put((self, message))
            if message is None:
                return

    def send(self, function: Callable[[Any], Any], task: Any) -> None:
        assert self.process.stdin is not None
        _send(self.process.stdin, (function, task))

    def close(self) -> None:
        process = self.process
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:  # the worker is already gone
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


class WorkerPool:
    """``size`` worker processes; use as a context manager so they are always ended.

    Each worker holds up to ``depth`` tasks, so that it never waits for the
    caller between two of them.

    Parameters
    ----------
    size : int
        How many processes to start.
    depth : int, optional
        Tasks given to one worker before it has answered any of them.
    preload : str, optional
        The module each worker imports as it starts (what its tasks need),
        so that the import overlaps the caller's own work.
    """

    def __init__(self, size: int, *, depth: int = 4, preload: str = "dicomnp") -> None:
        self._replies: queue.SimpleQueue[tuple[_Worker, Any]] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._depth = depth
        self._spill = _spill_folder()
        try:
            for _ in range(size):
                self._workers.append(_Worker(self._replies, self._spill, preload))
        except BaseException:
            self.close()
            raise
        self._pending: dict[_Worker, deque[Any]] = {worker: deque() for worker in self._workers}

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def has_room(self, limit: int | None = None) -> bool:
        """Whether some worker holds fewer than ``depth`` (or ``limit``) tasks."""
        most = self._depth if limit is None else min(self._depth, limit)
        return any(len(keys) < most for keys in self._pending.values())

    def submit(self, function: Callable[[Any], Any], task: Any, key: Any) -> None:
        """Give ``function(task)`` to the least busy worker; ``key`` comes back with the result."""
        worker = min(self._pending, key=lambda candidate: len(self._pending[candidate]))
        self._pending[worker].append(key)
        worker.send(function, task)

    def collect(self, *, block: bool) -> tuple[Any, Any] | None:
        """One finished task as ``(key, result)``, or None if none is ready and not ``block``.

        Raises
        ------
        Exception
            The task's own error, re-raised here.
        WorkerDied
            A worker ended before answering.
        """
        try:
            worker, message = self._replies.get(block=block)
        except queue.Empty:
            return None
        keys = self._pending[worker]
        key = keys.popleft() if keys else None
        if message is None:  # the worker is gone; close() still reaps it
            raise WorkerDied(
                f"a decoding process ended unexpectedly (exit code {worker.process.poll()}) "
                f"while working on {key!r}"
            )
        ok, payload = message
        if not ok:
            raise payload
        return key, payload

    def close(self) -> None:
        """End every worker: close its input, wait, kill it if it does not stop."""
        for worker in self._workers:
            worker.close()
        self._workers.clear()
        shutil.rmtree(self._spill, ignore_errors=True)
