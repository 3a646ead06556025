"""Bad input, --help and exit codes: errors are one line, codes are documented ones."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dicomnp.cli
import dicomnp.cli._commands
from dicomnp.examples import write_ct_series
from support.series_build import geometry_series

Runner = Callable[..., Any]


def one_error_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["info", "--help"], ["convert", "--help"]],
    ids=["main", "info", "convert"],
)
def test_help(run: Runner, args: list[str]) -> None:
    result = run(*args)
    assert result.code == 0
    assert result.out.startswith("usage: dicomnp")
    assert result.err == ""


def test_help_names_commands_options_and_exit_codes(run: Runner) -> None:
    text = run("--help").out + run("convert", "--help").out
    for word in ("info", "convert", "--values", "--allow-lossy", "--workers", "--stack"):
        assert word in text
    assert "Exit codes: 0 ok" in text


def test_version(run: Runner) -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out.strip() == f"dicomnp {dicomnp.__version__}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["convert", "."], "the following arguments are required: -o/--output"),
        (["convert", ".", "-o", "x.npy", "--workers", "0"], "must be 1 or more, not 0"),
        (["convert", ".", "-o", "x.npy", "--values", "raw"], "invalid choice: 'raw'"),
        (["info", ".", "--bogus"], "unrecognized arguments: --bogus"),
    ],
    ids=["no-command", "unknown-command", "no-output", "workers", "values", "unknown-option"],
)
def test_usage_errors_exit_2_with_one_line(run: Runner, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.code == 2
    line = one_error_line(result.err)
    assert line.startswith("dicomnp")
    assert message in line
    assert line.endswith("--help)")


def test_missing_path_is_a_usage_error(run: Runner, tmp_path: Path) -> None:
    for command in (["info"], ["convert", "-o", str(tmp_path / "x.npy")]):
        result = run(command[0], tmp_path / "nothing", *command[1:])
        assert result.code == 2
        assert one_error_line(result.err) == (
            f"dicomnp: error: {tmp_path / 'nothing'}: no such file or folder"
        )


def test_format_contradicting_the_name(run: Runner, tmp_path: Path) -> None:
    write_ct_series(tmp_path / "ct", slices=2, rows=4, columns=4)
    result = run("convert", tmp_path / "ct", "-o", tmp_path / "x.npy", "--format", "nii")
    assert result.code == 2
    assert "--format nii contradicts the output name" in one_error_line(result.err)


def test_unknown_stack_number(run: Runner, tmp_path: Path) -> None:
    write_ct_series(tmp_path / "ct", slices=2, rows=4, columns=4)
    result = run("convert", tmp_path / "ct", "-o", tmp_path / "x.npy", "--stack", "4")
    assert result.code == 2
    assert "there is no stack 4" in one_error_line(result.err)


def test_folder_without_dicom_exits_1(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    for args in (["info", tmp_path], ["convert", tmp_path, "-o", tmp_path / "x.npy"]):
        result = run(*args)
        assert result.code == 1
        assert (
            one_error_line(result.err) == f"dicomnp: error: no DICOM images found under {tmp_path}"
        )


def test_a_file_that_is_not_dicom_exits_1(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = run("info", path)
    assert result.code == 1
    line = one_error_line(result.err)
    assert line.startswith(f"dicomnp: error: {path}: not a DICOM file")


def test_a_stack_that_cannot_be_stacked_exits_1_and_the_others_are_written(
    run: Runner, tmp_path: Path, write_datasets: Callable[..., list[Path]]
) -> None:
    broken = geometry_series(6)
    write_datasets(tmp_path / "in" / "a", broken[:2] + broken[3:])
    write_datasets(tmp_path / "in" / "b", geometry_series(3))
    result = run("convert", tmp_path / "in", "-o", tmp_path / "out.npy")
    assert result.code == 1
    line = one_error_line(result.err)
    assert line.startswith("dicomnp: error: stack 1: ")
    assert "1 slice missing after index 1" in line
    assert not (tmp_path / "out-1.npy").exists()
    assert (tmp_path / "out-2.npy").is_file()
    assert result.out.startswith(f"wrote {tmp_path / 'out-2.npy'}")


def test_missing_nibabel_exits_4(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ct_series(tmp_path / "ct", slices=2, rows=4, columns=4)
    monkeypatch.setattr(dicomnp.cli._commands, "nibabel_available", lambda: False)
    result = run("convert", tmp_path / "ct", "-o", tmp_path / "x.nii.gz")
    assert result.code == 4
    assert one_error_line(result.err) == (
        'dicomnp: error: NIfTI output needs nibabel: pip install "dicomnp[nifti]"'
    )


def test_an_unexpected_error_is_one_line_with_code_70(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ct_series(tmp_path / "ct", slices=2, rows=4, columns=4)

    def broken(*args: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(dicomnp.cli._commands, "convert_stack", broken)
    result = run("convert", tmp_path / "ct", "-o", tmp_path / "x.npy")
    assert result.code == 70
    assert one_error_line(result.err) == (
        "dicomnp: error: internal error (RuntimeError: something broke); "
        "run with --debug for details"
    )
    with pytest.raises(RuntimeError, match="something broke"):
        dicomnp.cli.main(
            ["--debug", "convert", str(tmp_path / "ct"), "-o", str(tmp_path / "y.npy")]
        )


def test_python_dash_m_dicomnp_in_a_subprocess(tmp_path: Path) -> None:
    write_ct_series(tmp_path / "ct", slices=3, rows=4, columns=4)
    environment = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run(
        [sys.executable, "-m", "dicomnp", "convert", str(tmp_path / "ct"), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when not on a terminal
    assert (tmp_path / "stack-1.npy").is_file()
    failed = subprocess.run(
        [sys.executable, "-m", "dicomnp", "info", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert failed.returncode == 2
    assert one_error_line(failed.stderr).endswith("no such file or folder")


@pytest.mark.parametrize("command", ["convert", "info"])
def test_a_reader_that_closed_the_pipe_stops_no_work(tmp_path: Path, command: str) -> None:
    """``dicomnp convert ... | head -1``: every stack is still written, and no error is shown."""
    write_ct_series(tmp_path / "study" / "a", slices=3, rows=4, columns=4)
    write_ct_series(tmp_path / "study" / "b", slices=2, rows=4, columns=4)
    (tmp_path / "out").mkdir()
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    arguments = [str(tmp_path / "study")] + (
        ["-o", str(tmp_path / "out")] if command == "convert" else []
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dicomnp", command, *arguments],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if command == "convert":
        assert sorted(path.name for path in (tmp_path / "out").glob("*.npy")) == [
            "stack-1.npy",
            "stack-2.npy",
        ]


def test_the_lossy_refusal_names_the_flag(tmp_path: Path, run: Runner) -> None:
    slices = geometry_series(2)
    for ds in slices:
        ds.LossyImageCompression = "01"
    folder = tmp_path / "lossy"
    folder.mkdir()
    for k, ds in enumerate(slices):
        ds.save_as(folder / f"{k}.dcm", enforce_file_format=True)
    for args in (
        ["convert", folder, "-o", tmp_path / "x.npy"],
        ["convert", folder / "0.dcm", "-o", tmp_path / "y.npy"],
    ):
        result = run(*args)
        assert result.code == 3
        assert one_error_line(result.err).endswith("pass --allow-lossy to decode it anyway")
