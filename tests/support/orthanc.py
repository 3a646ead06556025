"""Start and stop a private Orthanc for the DICOMweb tests: loopback only, storage given.

Runnable with the standard library alone (``.ci/run`` calls it before the
test suite has a virtual environment)::

    python3 tests/support/orthanc.py start STATE_DIR   # prints the DICOMweb base URL
    python3 tests/support/orthanc.py stop STATE_DIR

The configuration is ``tests/orthanc/orthanc.json`` (no DICOM port, no remote
access, the DICOMweb plugin with ``Host`` naming the port). Where network
namespaces can be made (root, ``ip netns``), Orthanc runs in one that has
only a loopback interface, and a small forwarder (:mod:`support.forward`)
started in the same namespace carries connections from 127.0.0.1 of the
host to it; nothing else can reach it. Elsewhere Orthanc refuses every
client but 127.0.0.1 (``RemoteAccessAllowed: false``). ``STATE_DIR/state.json``
records the process ids, which ``stop`` ends, and the namespace it deletes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "orthanc" / "orthanc.json"
PLUGIN_DIRS = (
    "/usr/share/orthanc/plugins",
    "/usr/lib/orthanc/plugins",
    "/usr/local/share/orthanc/plugins",
)
PLUGIN = "libOrthancDicomWeb.so"


def orthanc_binary() -> str | None:
    """The Orthanc executable, or None when it is not installed."""
    return shutil.which("Orthanc") or next(
        (path for path in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if os.access(path, os.X_OK)),
        None,
    )


def dicomweb_plugin() -> str | None:
    """The DICOMweb plugin's shared library, or None when it is not installed."""
    for folder in PLUGIN_DIRS:
        path = Path(folder) / PLUGIN
        if path.exists():
            return str(path)
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _namespace(name: str) -> bool:
    """Make network namespace ``name`` with its loopback up; False where that is not possible."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False)
    if made.returncode:
        return False
    up = subprocess.run(
        ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
        capture_output=True,
        check=False,
    )
    if up.returncode:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
        return False
    return True


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/system", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Orthanc did not answer at {url} within {seconds:g} s")


@dataclass
class Started:
    """A running Orthanc: its DICOMweb base URL, its processes and their log."""

    url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log: IO[bytes] | None = None


def start(state: Path) -> Started:
    """Start Orthanc with its storage in ``state``.

    Raises
    ------
    RuntimeError
        Orthanc or its DICOMweb plugin is not installed, or it did not start.
    """
    binary, plugin = orthanc_binary(), dicomweb_plugin()
    if binary is None or plugin is None:
        raise RuntimeError(
            "Orthanc and its DICOMweb plugin are not installed "
            "(apt-get install orthanc orthanc-dicomweb)"
        )
    state.mkdir(parents=True, exist_ok=True)
    namespace = f"dicomnp-orthanc-{os.getpid()}-{time.monotonic_ns()}"
    if _namespace(namespace):
        try:
            return _launch(state, binary, plugin, namespace)
        except RuntimeError:
            pass  # e.g. a container that cannot mount inside the namespace: plain loopback
    return _launch(state, binary, plugin, None)


def _launch(state: Path, binary: str, plugin: str, namespace: str | None) -> Started:
    """Start Orthanc, in ``namespace`` behind a forwarder when one is given."""
    storage = state / "storage"
    storage.mkdir(exist_ok=True)
    port = free_port()
    text = CONFIG.read_text()
    for key, value in (("@STORAGE@", str(storage)), ("@PLUGINS@", plugin), ("@PORT@", str(port))):
        text = text.replace(key, value)
    config = state / "orthanc.json"
    config.write_text(text)
    log = open(state / "orthanc.log", "ab")  # noqa: SIM115 - the children keep it
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    record: dict[str, object] = {"namespace": namespace, "pids": []}
    orthanc = subprocess.Popen(
        [*prefix, binary, str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
    )
    record["pids"] = [orthanc.pid]
    processes = [orthanc]
    (state / "state.json").write_text(json.dumps(record))
    started = Started(f"http://127.0.0.1:{port}/dicom-web", processes, log)
    try:
        if namespace:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(64)
            command = [sys.executable, str(HERE / "forward.py"), str(listener.fileno()), str(port)]
            forward = subprocess.Popen(
                [*prefix, *command],
                pass_fds=[listener.fileno()],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
            listener.close()
            record["pids"] = [orthanc.pid, forward.pid]
            processes.append(forward)
            (state / "state.json").write_text(json.dumps(record))
        _wait(f"http://127.0.0.1:{port}", orthanc)
    except (RuntimeError, OSError) as exc:
        stop(state, started)
        raise RuntimeError(str(exc)) from exc
    return started


def stop(state: Path, started: Started | None = None) -> None:
    """End the processes recorded in ``state`` by their ids and delete the namespace.

    ``started``, when this process started them, is waited for and its log closed.
    """
    path = state / "state.json"
    if started is not None:
        for process in started.processes:
            if process.poll() is None:
                process.terminate()
        for process in started.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if started.log is not None:
            started.log.close()
    if not path.exists():
        return
    record = json.loads(path.read_text())
    for pid in reversed(record.get("pids", [])):
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                finished, _ = os.waitpid(int(pid), os.WNOHANG)
            except ChildProcessError:
                finished = int(pid) if not _alive(int(pid)) else 0
            if finished:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    if record.get("namespace"):
        subprocess.run(["ip", "netns", "delete", record["namespace"]], check=False)
    path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: orthanc.py start|stop STATE_DIR", file=sys.stderr)
        return 2
    state = Path(argv[1])
    if argv[0] == "start":
        try:
            print(start(state).url)
        except RuntimeError as exc:
            print(f"orthanc.py: {exc}", file=sys.stderr)
            return 1
        return 0
    stop(state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
