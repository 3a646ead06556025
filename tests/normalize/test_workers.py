"""Rendering on threads or worker processes gives exactly what one thread gives.

With imagecodecs, JPEG 2000 frames decode on threads; without it, on worker
processes. Every test runs both ways.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array

import dicomnp
import dicomnp._execute
import dicomnp._instance
from dicomnp._execute import run_on_threads, run_tasks
from support.build import to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

RNG = np.random.default_rng(11)
HIDE_IMAGECODECS = "import sys; sys.modules['imagecodecs'] = None\n"


@pytest.fixture(autouse=True, params=["threads", "processes"])
def spread(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which way frames are spread; asserts afterwards that a call used that way."""
    used: list[str] = []
    real_threads = run_on_threads
    real_tasks = run_tasks

    def on_threads(*args: Any, **kwargs: Any) -> None:
        used.append("threads")
        real_threads(*args, **kwargs)

    def in_processes(*args: Any, **kwargs: Any) -> None:
        used.append("processes")
        real_tasks(*args, **kwargs)

    monkeypatch.setattr(dicomnp._execute, "run_on_threads", on_threads)
    monkeypatch.setattr(dicomnp._execute, "run_tasks", in_processes)
    if request.param == "processes":
        monkeypatch.setitem(sys.modules, "imagecodecs", None)  # makes importing it fail
    yield request.param
    if "subprocess" not in request.node.name:
        assert used
        assert set(used) == {request.param}


def j2k_file(values: NDArray[np.uint16]) -> bytes:
    """Frames of 12-bit values as JPEG 2000 Lossless, one fragment each, with a BOT."""
    frames = [bytes(encode_array(frame, bits_stored=12)) for frame in values]
    value, _, _ = encapsulated_value(frames, table="basic", fragments_per_frame=1)
    ds = encapsulated_dataset(
        value,
        syntax="1.2.840.10008.1.2.4.90",
        rows=values.shape[1],
        columns=values.shape[2],
        bits_allocated=16,
        bits_stored=12,
        frames=len(frames),
    )
    return to_bytes(ds)


@pytest.fixture
def j2k_multiframe(tmp_path: Path) -> Path:
    path = tmp_path / "j2k.dcm"
    path.write_bytes(j2k_file(RNG.integers(0, 4096, size=(6, 33, 40), dtype=np.uint16)))
    return path


@pytest.mark.parametrize("padding", ["keep", "mask"])
def test_workers_render_the_same_array(j2k_multiframe: Path, padding: str) -> None:
    one = dicomnp.read(j2k_multiframe, workers=1, padding=padding)  # type: ignore[arg-type]
    two = dicomnp.read(j2k_multiframe, workers=2, padding=padding)  # type: ignore[arg-type]
    np.testing.assert_array_equal(one.array, two.array)
    assert one.header == two.header
    if padding == "mask":
        assert one.mask is not None
        assert two.mask is not None
        np.testing.assert_array_equal(one.mask, two.mask)


def test_workers_with_a_frame_subset_and_in_memory_sources(j2k_multiframe: Path) -> None:
    expected = dicomnp.to_array(j2k_multiframe, workers=1)
    subset = dicomnp.to_array(j2k_multiframe, frames=[4, 1, 3], workers=2)
    np.testing.assert_array_equal(subset, expected[[4, 1, 3]])
    # bytes cannot be reopened by another process: decoded here, same result
    from_bytes = dicomnp.to_array(j2k_multiframe.read_bytes(), workers=2)
    np.testing.assert_array_equal(from_bytes, expected)


def test_a_corrupt_frame_in_a_worker_raises_a_dicomnp_error(tmp_path: Path) -> None:
    data = bytearray(j2k_file(RNG.integers(0, 4096, size=(6, 33, 40), dtype=np.uint16)))
    first = data.find(b"\xff\xd9")  # end of frame 0: the codestream is cut there
    data[first : first + 2] = b"\x00\x00"
    path = tmp_path / "broken.dcm"
    path.write_bytes(bytes(data))
    with pytest.raises(dicomnp.DicomNumpyError, match=r"broken\.dcm"):
        dicomnp.to_array(path, workers=2)


def test_a_script_without_a_main_guard_runs_once_in_a_subprocess(
    j2k_multiframe: Path, tmp_path: Path, spread: str
) -> None:
    script = tmp_path / "convert.py"
    script.write_text(
        (HIDE_IMAGECODECS if spread == "processes" else "") + "import dicomnp\n"
        f"array = dicomnp.to_array({str(j2k_multiframe)!r}, workers=2)\n"
        "print('shape', array.shape)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["shape (6, 33, 40, 1)"]
