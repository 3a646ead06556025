"""Rendering with worker processes gives exactly what one process gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array

import dicomnp
from support.build import to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

RNG = np.random.default_rng(11)


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


def test_a_script_without_a_main_guard_runs_once(j2k_multiframe: Path, tmp_path: Path) -> None:
    script = tmp_path / "convert.py"
    script.write_text(
        "import dicomnp\n"
        f"array = dicomnp.to_array({str(j2k_multiframe)!r}, workers=2)\n"
        "print('shape', array.shape)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["shape (6, 33, 40, 1)"]
