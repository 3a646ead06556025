"""A local HTTP server on 127.0.0.1 for URL tests: files of a folder, ranged reads, counted.

:func:`serving` runs a threaded ``http.server`` in the background for the
length of a ``with`` block. It answers ``HEAD``, ``GET`` and ``GET`` with one
``Range: bytes=a-b`` (206 Partial Content), lists a folder as an HTML page of
links, and records each request (method, path, range, bytes sent) in
:attr:`Served.requests`.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class Request:
    """One request the server answered."""

    method: str
    path: str
    range: str | None
    sent: int


@dataclass
class Served:
    """The server's address and what it was asked."""

    url: str
    requests: list[Request] = field(default_factory=list)

    def reset(self) -> None:
        """Forget the requests counted so far."""
        self.requests.clear()

    @property
    def bytes_sent(self) -> int:
        """Body bytes sent in all requests counted."""
        return sum(request.sent for request in self.requests)


def _handler(
    root: Path, served: Served, lock: threading.Lock, ranges: bool
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the requests are recorded, not printed."""

        def _record(self, sent: int) -> None:
            with lock:
                served.requests.append(
                    Request(self.command, self.path, self.headers.get("Range"), sent)
                )

        def _answer(self, body: bool) -> None:
            target = root / unquote(self.path.split("?", 1)[0]).lstrip("/")
            if target.is_dir():
                names = sorted(
                    item.name + ("/" if item.is_dir() else "") for item in target.iterdir()
                )
                page = "".join(
                    f'<a href="{quote(name)}">{html.escape(name)}</a>\n' for name in names
                ).encode()
                self._send(200, page, "text/html", body)
                return
            if not target.is_file():
                self._send(404, b"not found", "text/plain", body)
                return
            data = target.read_bytes()
            match = _RANGE.match(self.headers.get("Range", ""))
            if match is None or not ranges:
                self._send(200, data, "application/octet-stream", body)
                return
            start = int(match.group(1))
            stop = min(len(data), int(match.group(2)) + 1 if match.group(2) else len(data))
            self._send(
                206,
                data[start:stop],
                "application/octet-stream",
                body,
                {"Content-Range": f"bytes {start}-{stop - 1}/{len(data)}"},
            )

        def _send(
            self,
            status: int,
            data: bytes,
            kind: str,
            body: bool,
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self._record(len(data) if body else 0)  # before the client can see the answer
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

    return Handler


@contextmanager
def serving(root: Path, *, ranges: bool = True) -> Iterator[Served]:
    """Serve the files under ``root`` at ``http://127.0.0.1:<free port>/`` while the block runs.

    With ``ranges=False`` the server answers a ranged request with the whole file, as some do.
    """
    served = Served(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, served, threading.Lock(), ranges))
    served.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
