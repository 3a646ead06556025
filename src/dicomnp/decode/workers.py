"""A small pool of worker processes that never import the caller's ``__main__``.

``multiprocessing``'s spawn and forkserver methods re-import the main module
in every worker: a script without an ``if __name__ == "__main__"`` guard
would run itself again, and code read from standard input cannot be
re-imported at all. dicomnp's workers are plain ``python -c`` processes
that import only dicomnp, started with the caller's ``sys.path``, and talk
to this process over their standard input and output: a length-prefixed
pickle of ``(function, task)`` in, of ``(ok, result or error)`` out.

Workers end when their input is closed; :meth:`WorkerPool.close` closes it,
waits briefly and kills what is left, so no process outlives the call.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from ..errors import DicomNumpyError

__all__ = ["WorkerDied", "WorkerPool", "serve"]

_LENGTH = struct.Struct("<Q")
_BOOTSTRAP = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from dicomnp.decode.workers import serve; serve()"
)


class WorkerDied(DicomNumpyError):
    """A worker process ended while it held a task (e.g. a codec crashed it)."""


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


def serve() -> None:
    """The worker's loop: run each ``(function, task)`` received, send back the outcome."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the reply stream
    while (message := _receive(requests)) is not None:
        function, task = message
        try:
            outcome: tuple[bool, Any] = (True, function(task))
        except BaseException as exc:  # every failure goes back to the caller
            outcome = (False, exc)
        try:
            _send(replies, outcome)
        except Exception as exc:  # an unpicklable result or error
            _send(replies, (False, DicomNumpyError(f"cannot return the result: {exc!r}")))


class _Worker:
    def __init__(self, replies: queue.SimpleQueue[tuple[_Worker, Any]]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._read, args=(replies,), daemon=True)
        self._reader.start()

    def _read(self, replies: queue.SimpleQueue[tuple[_Worker, Any]]) -> None:
        assert self.process.stdout is not None
        while True:
            message = _receive(self.process.stdout)
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

    Parameters
    ----------
    size : int
        How many processes to start.
    """

    def __init__(self, size: int) -> None:
        self._replies: queue.SimpleQueue[tuple[_Worker, Any]] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        try:
            for _ in range(size):
                self._workers.append(_Worker(self._replies))
        except BaseException:
            self.close()
            raise
        self.idle = list(self._workers)
        self.busy: dict[_Worker, Any] = {}

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, function: Callable[[Any], Any], task: Any, key: Any) -> None:
        """Give ``function(task)`` to an idle worker; ``key`` comes back with the result."""
        worker = self.idle.pop()
        self.busy[worker] = key
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
        key = self.busy.pop(worker, None)
        if message is None:  # the worker is gone; close() still reaps it
            raise WorkerDied(
                f"a decoding process ended unexpectedly (exit code {worker.process.poll()}) "
                f"while working on {key!r}"
            )
        self.idle.append(worker)
        ok, payload = message
        if not ok:
            raise payload
        return key, payload

    def close(self) -> None:
        """End every worker: close its input, wait, kill it if it does not stop."""
        for worker in self._workers:
            worker.close()
        self._workers.clear()
