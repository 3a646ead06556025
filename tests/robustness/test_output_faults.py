"""Output faults: a full disk, a folder that refuses files, a stale header (issue 16, finding 13).

The disk fills through a stand-in for the files the writer opens, which
raises ENOSPC once a byte budget is spent, as a full file system does; a
folder without write permission through ``os.open``. Every error names the
output the user asked for, never a temporary, and leaves no output behind.
"""

from __future__ import annotations

import errno
import os
import pathlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicomnp._writer import Converted, write
from dicomnp.cli import main
from dicomnp.examples import write_ct_series


def _converted() -> Converted:
    array = np.arange(2 * 64 * 64, dtype=np.int16).reshape(2, 64, 64, 1)
    return Converted(array=array, affine=np.eye(4), header={"kind": "volume"})


class _FullDisk:
    """A file that takes ``budget`` bytes (shared by all files), then raises ENOSPC."""

    def __init__(self, handle: Any, budget: list[int]) -> None:
        self._handle = handle
        self._budget = budget

    def write(self, data: Any) -> int:
        size = len(data) if isinstance(data, str) else memoryview(data).nbytes
        if size > self._budget[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget[0] -= size
        written: int = self._handle.write(data)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    opened = pathlib.Path.open
    left = [budget]

    def open_on_a_small_disk(self: Path, *args: Any, **kwargs: Any) -> Any:
        return _FullDisk(opened(self, *args, **kwargs), left)

    monkeypatch.setattr(pathlib.Path, "open", open_on_a_small_disk)


@pytest.mark.parametrize(
    ("budget", "where"), [(1000, "in the array"), (2 * 64 * 64 * 2 + 128 + 10, "in the header")]
)
def test_a_full_disk_is_said_for_the_target_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int, where: str
) -> None:
    _fill_disk_after(monkeypatch, budget)
    target = tmp_path / "ct.npy"
    with pytest.raises(OSError, match="disk full") as caught:
        write(_converted(), target, "npy")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == os.fspath(target)
    assert list(tmp_path.iterdir()) == []  # neither the array nor its header


def test_a_folder_refusing_files_is_named_by_the_target_not_a_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = os.open

    def read_only(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith(".part"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    target = tmp_path / "ct.npy"
    with pytest.raises(PermissionError) as caught:
        write(_converted(), target, "npy")
    assert caught.value.filename == os.fspath(target)
    assert ".part" not in str(caught.value)


def test_convert_reports_a_full_disk_by_the_output_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=3, rows=16, columns=16)
    (tmp_path / "out").mkdir()
    _fill_disk_after(monkeypatch, 500)
    target = tmp_path / "out" / "ct.npy"
    code = main(["convert", "--quiet", os.fspath(folder), "-o", os.fspath(target)])
    err = capsys.readouterr().err
    assert code == 5
    assert f"{target}: cannot write, disk full" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_an_unrelated_header_beside_the_output_is_not_paired_with_a_new_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=3, rows=16, columns=16)
    stale = tmp_path / "ct.json"
    stale.write_text('{"unrelated": true}\n')
    code = main(["convert", "--quiet", os.fspath(folder), "-o", os.fspath(tmp_path / "ct.npy")])
    assert code == 5
    assert f"{stale} exists" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ct", "ct.json"]
    assert stale.read_text() == '{"unrelated": true}\n'
