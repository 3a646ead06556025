"""Carry TCP connections from a listening socket it is given to 127.0.0.1:PORT of its own namespace.

``python forward.py FD PORT``: FD is a socket listening on the host's
loopback, made before this process entered Orthanc's network namespace;
each accepted connection is joined to ``127.0.0.1:PORT`` inside it.
Standard library only.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(1 << 20)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def _serve(client: socket.socket, port: int) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", port))
    except OSError:
        client.close()
        return
    for one in (client, upstream):
        one.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main(argv: list[str]) -> int:
    listener = socket.socket(fileno=int(argv[0]))
    port = int(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve, args=(client, port), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
