"""Hostile folders: special files, and images that cannot be read (issue 16, findings 9, 10).

A FIFO named like a DICOM file used to block a folder walk for ever in
``open``; files that look like DICOM images but cannot be read (cut short,
not permitted) used to be dropped from a series with only a log line.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import UID

import dicomnp
from dicomnp.cli import main
from dicomnp.examples import ct_slice, write_ct_series

Walk = Callable[[Path], Any]

_WALKS: dict[str, Walk] = {
    "find_series": dicomnp.find_series,
    "combine_series": dicomnp.combine_series,
    "info": lambda folder: main(["info", "--quiet", os.fspath(folder)]),
    "convert": lambda folder: main(
        ["convert", "--quiet", os.fspath(folder), "-o", os.fspath(folder.parent / "out.npy")]
    ),
}


def _finishes(call: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run ``call`` on a daemon thread; fail (rather than hang) when it does not finish."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # reported below, in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s: blocked on a special file")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is not available here")
@pytest.mark.parametrize("walk", sorted(_WALKS))
def test_a_fifo_named_like_dicom_is_skipped_with_a_reason(tmp_path: Path, walk: str) -> None:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=4, rows=8, columns=8)
    os.mkfifo(folder / "IM99999.dcm")
    result = _finishes(lambda: _WALKS[walk](folder))
    if walk == "find_series":
        assert len(result[0].stacks[0].headers) == 4
        assert result.skipped == ((str(folder / "IM99999.dcm"), "not a regular file but a FIFO"),)
    elif walk == "combine_series":
        assert result.array.shape == (4, 8, 8, 1)
    else:
        assert result == 0


def _cut_ends(folder: Path) -> list[Path]:
    """A 5-slice series whose first and last files are cut to half their length."""
    write_ct_series(folder, slices=5, rows=8, columns=8)
    files = sorted(folder.iterdir())
    for path in (files[0], files[-1]):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return [files[0], files[-1]]


def test_combine_series_refuses_a_folder_with_images_cut_short(tmp_path: Path) -> None:
    folder = tmp_path / "ct"
    cut = _cut_ends(folder)
    with pytest.raises(
        dicomnp.SeriesError, match="look like DICOM images but cannot be read"
    ) as err:
        dicomnp.combine_series(folder)
    assert err.value.files == tuple(str(path) for path in cut)
    catalog = dicomnp.find_series(folder)
    assert [name for name, _ in catalog.unreadable] == [str(path) for path in cut]
    volume = dicomnp.combine_series(catalog[0].stacks[0])  # the user's choice to go on
    assert volume.array.shape == (3, 8, 8, 1)


def test_a_structured_report_beside_a_series_is_no_unreadable_image(tmp_path: Path) -> None:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=3, rows=8, columns=8)
    report = ct_slice(np.zeros((8, 8), np.int16))
    del report.PixelData
    basic_text_sr = UID("1.2.840.10008.5.1.4.1.1.88.11")
    report.SOPClassUID = report.file_meta.MediaStorageSOPClassUID = basic_text_sr
    report.save_as(folder / "SR.dcm", enforce_file_format=True)
    assert dicomnp.find_series(folder).unreadable == ()
    assert dicomnp.combine_series(folder).array.shape == (3, 8, 8, 1)


@pytest.mark.parametrize("command", ["info", "convert"])
def test_the_cli_fails_loudly_on_images_cut_short_unless_told_to_skip_them(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ct"
    cut = _cut_ends(folder)
    out = os.fspath(tmp_path / "out.npy")
    extra = ["-o", out] if command == "convert" else []
    code = main([command, "--quiet", os.fspath(folder), *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{cut[0]}: looks like a DICOM image but cannot be read" in err
    assert "--skip-unreadable" in err
    assert not os.path.exists(out)
    code = main([command, "--quiet", "--skip-unreadable", os.fspath(folder), *extra])
    err = capsys.readouterr().err
    assert code == 0
    assert f"dicomnp: warning: {cut[-1]}: looks like a DICOM image" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_image_without_read_permission_is_no_silent_gap(tmp_path: Path) -> None:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=4, rows=8, columns=8)
    last = sorted(folder.iterdir())[-1]
    last.chmod(0)
    try:
        with pytest.raises(dicomnp.SeriesError, match="cannot be read"):
            dicomnp.combine_series(folder)
    finally:
        last.chmod(0o600)


def test_convert_tree_reports_images_cut_short_and_is_not_ok(tmp_path: Path) -> None:
    root = tmp_path / "root"
    cut = _cut_ends(root / "ct")
    report = dicomnp.convert_tree(root, tmp_path / "out")
    assert [name for name, _ in report.unreadable_files] == [str(path) for path in cut]
    assert not report.ok
    assert "UNREADABLE 2 file(s)" in report.summary()
