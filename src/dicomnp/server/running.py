"""Running the app with uvicorn: ``dicomnp serve`` and the tests' server in a thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import MissingDependencyError
from .app import create_app

__all__ = ["serve", "serving"]


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:
        raise MissingDependencyError(
            'dicomnp serve needs uvicorn, which is not installed: pip install "dicomnp[dicomweb]"',
            packages=("uvicorn",),
            extra="dicomweb",
        ) from exc
    return uvicorn


def serve(source: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``source`` (a folder or a DICOMweb URL) until interrupted."""
    uvicorn = _uvicorn()
    uvicorn.run(create_app(source), host=host, port=port, log_level="warning")


@contextmanager
def serving(source: str | os.PathLike[str], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``source`` from a thread on a free port of ``host``; yield its base URL.

    The server stops when the context ends.
    """
    uvicorn = _uvicorn()
    config = uvicorn.Config(
        create_app(source), host=host, port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
