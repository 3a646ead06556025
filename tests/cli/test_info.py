"""``dicomnp info``: series, stacks, syntaxes, lossiness and geometry, from headers only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import RLELossless

from support.series_build import geometry_series

from .conftest import write

Runner = Callable[..., Any]


def test_two_series_and_a_localizer_make_three_stacks_and_say_why(
    two_series_and_a_localizer: Path, run: Runner
) -> None:
    result = run("info", two_series_and_a_localizer)
    assert result.code == 0, result.err
    assert result.err == ""
    text = result.out
    assert "2 series (one per Series Instance UID), 3 stack(s), 10 image file(s)" in text
    assert "1 other file(s) skipped" in text
    assert 'series 1: CT "AX HEAD"' in text
    assert "2 stack(s), split by ImageType LOCALIZER" in text
    stack_lines = [line.strip() for line in text.splitlines() if line.startswith("  stack ")]
    assert len(stack_lines) == 3
    assert stack_lines[0].startswith("stack 1 [ImageType LOCALIZER=False]: 5 x 8 x 6 x 1")
    assert stack_lines[1].startswith("stack 2 [ImageType LOCALIZER=True]: 1 x 8 x 6 x 1")
    assert stack_lines[2].startswith("stack 3: 4 x 6 x 6 x 1")
    details = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    assert (
        details
        == [
            "transfer syntax: Explicit VR Little Endian | lossy: no | geometry: ok",
        ]
        * 3
    )
    assert "README.txt: NotDicomError" in text


def test_json_output_for_scripts(two_series_and_a_localizer: Path, run: Runner) -> None:
    result = run("info", two_series_and_a_localizer, "--json")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["series"] == 2
    stacks = document["stacks"]
    assert [stack["stack"] for stack in stacks] == [1, 2, 3]
    assert [stack["shape"] for stack in stacks] == [[5, 8, 6, 1], [1, 8, 6, 1], [4, 6, 6, 1]]
    assert stacks[1]["split_key"] == {"ImageType LOCALIZER": True}
    assert stacks[0]["geometry"]["ok"] is True
    assert stacks[0]["geometry"]["slice_spacing"] == pytest.approx(2.0)
    assert stacks[2]["geometry"]["slice_spacing"] == pytest.approx(3.0)
    assert stacks[0]["transfer_syntaxes"] == ["Explicit VR Little Endian"]
    assert stacks[0]["lossy"] == "no"
    assert document["skipped"][0]["file"].endswith("README.txt")


def test_reports_geometry_problems_without_failing(
    tmp_path: Path, run: Runner, write_datasets: Callable[..., list[Path]]
) -> None:
    slices = geometry_series(6)
    write_datasets(tmp_path, slices[:3] + slices[4:])
    result = run("info", tmp_path)
    assert result.code == 0
    assert "geometry: MissingSliceError: 1 slice missing after index 2" in result.out


def test_reports_syntaxes_and_lossiness(
    tmp_path: Path, run: Runner, write_datasets: Callable[..., list[Path]]
) -> None:
    slices = geometry_series(4)
    slices[0].compress(RLELossless, encoding_plugin="pydicom")
    for ds in slices[2:]:
        ds.LossyImageCompression = "01"
    write_datasets(tmp_path, slices)
    result = run("info", tmp_path)
    assert result.code == 0
    assert "transfer syntax: RLE Lossless; Explicit VR Little Endian" in result.out
    assert "lossy: 2 of 4 files: Lossy Image Compression (0028,2110) is 01" in result.out


def test_one_file(tmp_path: Path, run: Runner, write_datasets: Callable[..., list[Path]]) -> None:
    (path,) = write_datasets(tmp_path, geometry_series(1))
    result = run("info", path)
    assert result.code == 0
    assert "1 stack(s), 1 image file(s)" in result.out
    assert "geometry: ok" in result.out


def test_info_decodes_no_pixels(
    two_series_and_a_localizer: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dicomnp.decode

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("info decoded pixels")

    monkeypatch.setattr(dicomnp.decode, "open_frames", refuse)
    monkeypatch.setattr("dicomnp.volume.volume.open_frames", refuse, raising=False)
    result = run("info", two_series_and_a_localizer)
    assert result.code == 0, result.err


def test_an_fmri_run_is_one_4d_stack(
    tmp_path: Path, run: Runner, write_datasets: Callable[..., list[Path]]
) -> None:
    from support.mr_build import classic_volumes

    datasets = classic_volumes(
        3,
        4,
        per_volume=[{"TemporalPositionIdentifier": v + 1} for v in range(3)],
        per_slice_trigger=True,
    )
    write_datasets(tmp_path / "fmri", datasets)
    result = run("info", tmp_path / "fmri")
    assert result.code == 0, result.err
    assert "stack 1: 5x4x4x3 (4D: 3 volumes by temporal position)" in result.out
    assert "1 stack(s), one stack" in result.out
    assert "geometry: ok" in result.out
    listed = json.loads(run("info", tmp_path / "fmri", "--json").out)
    assert (listed["stacks"][0]["volumes"], listed["stacks"][0]["volumes_by"]) == (
        3,
        "temporal position",
    )


def test_info_reads_each_header_once(
    two_series_and_a_localizer: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pydicom

    import dicomnp.volume.reading as reading

    opened: list[str] = []
    real_open = getattr(reading, "open_source")  # noqa: B009  # the name read_source calls

    def counted(source: Any) -> Any:
        opened.append(str(source))
        return real_open(source)

    def no_dcmread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("info read a header again with pydicom")

    monkeypatch.setattr(reading, "open_source", counted)
    monkeypatch.setattr(pydicom, "dcmread", no_dcmread)
    result = run("info", two_series_and_a_localizer)
    assert result.code == 0, result.err
    assert "lossy: no" in result.out
    images = [name for name in opened if name.endswith(".dcm")]
    assert len(images) == 10  # the 10 image files, each read once
    assert len(set(images)) == len(images)


def test_info_says_lossy_from_the_header_read_once(tmp_path: Path, run: Runner) -> None:
    datasets = geometry_series(3, 8, 8)
    for ds in datasets:
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    write(tmp_path / "lossy", datasets)
    result = run("info", tmp_path / "lossy")
    assert result.code == 0, result.err
    assert "lossy: yes: Lossy Image Compression (0028,2110) is 01" in result.out


def test_find_series_reports_each_file_it_reads_to_progress(
    two_series_and_a_localizer: Path,
) -> None:
    from dicomnp import find_series

    seen: list[str] = []

    def progress(names: Any) -> Any:
        for name in names:
            seen.append(name)
            yield name

    catalog = find_series(two_series_and_a_localizer, progress=progress)
    assert sum(len(stack.headers) for series in catalog for stack in series.stacks) == 10
    assert len(seen) == 11  # the 10 images and the file that is not DICOM
    assert sorted(seen) == seen


def test_info_checks_the_geometry_of_a_lossy_stack(tmp_path: Path, run: Runner) -> None:
    datasets = geometry_series(5, 8, 8)
    for ds in datasets:
        ds.LossyImageCompression = "01"
    write(tmp_path / "lossy", datasets[:2] + datasets[3:])  # a slice missing
    result = run("info", tmp_path / "lossy", "--json")
    assert result.code == 0, result.err
    (stack,) = json.loads(result.out)["stacks"]
    assert stack["geometry"]["error"] == "MissingSliceError"
    assert stack["lossy"].startswith("yes")


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_a_file_name_that_is_not_text_is_shown_safely_under_a_strict_utf8_locale(
    tmp_path: Path, write_datasets: Callable[..., list[Path]], json_output: bool
) -> None:
    folder = tmp_path / "study"
    write_datasets(folder, geometry_series(3, rows=4, columns=4))
    try:  # a Latin-1 byte: not UTF-8, so os.fsdecode escapes it
        (folder / os.fsdecode(b"r\xe9adme.txt")).write_bytes(b"not DICOM")
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    env = dict(os.environ, LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8:strict")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    command = [sys.executable, "-m", "dicomnp", "info", str(folder)]
    done = subprocess.run(
        command + (["--json"] if json_output else []),
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    done.stdout.decode("utf-8")  # strict: only text was written
    expected = b"r\\udce9adme.txt" if json_output else b"r\\xe9adme.txt"
    assert expected in done.stdout
