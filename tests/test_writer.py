"""The writer shared by ``dicomnp convert`` and the batch: all of a stack's files or none."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicomnp._writer import (
    Converted,
    Format,
    output_names,
    replacing,
    stack_label,
    write,
)
from dicomnp.errors import OutputError


def _converted(fill: int = 7, mask: bool = False) -> Converted:
    array = np.full((2, 3, 4, 1), fill, dtype=np.int16)
    return Converted(
        array=array,
        affine=np.eye(4),
        header={"fill": fill, "spacing": np.array([1.0, 2.0])},
        nifti_array=array[..., 0].transpose(2, 1, 0),
        nifti_affine=np.eye(4),
        mask=np.zeros(array.shape[:3], dtype=bool) if mask else None,
    )


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_npy_is_written_with_its_header_and_no_temporary_is_left(tmp_path: Path) -> None:
    written = write(_converted(), tmp_path / "ct.npy", "npy")
    assert written == [tmp_path / "ct.npy", tmp_path / "ct.json"]
    assert _names(tmp_path) == ["ct.json", "ct.npy"]
    assert np.load(tmp_path / "ct.npy").shape == (2, 3, 4, 1)
    assert json.loads((tmp_path / "ct.json").read_text()) == {"fill": 7, "spacing": [1.0, 2.0]}


def test_a_mask_goes_beside_a_npy_and_inside_a_npz(tmp_path: Path) -> None:
    written = write(_converted(mask=True), tmp_path / "ct.npy", Format.NPY)
    assert [path.name for path in written] == ["ct.npy", "ct.mask.npy", "ct.json"]
    assert np.load(tmp_path / "ct.mask.npy").shape == (2, 3, 4)
    (archive,) = write(_converted(mask=True), tmp_path / "ct.npz", "npz")
    with np.load(archive, allow_pickle=False) as stored:
        assert sorted(stored.files) == ["affine", "array", "header", "mask"]
    with pytest.raises(OutputError, match="not with NIfTI"):
        write(_converted(mask=True), tmp_path / "ct.nii", "nii")
    assert not (tmp_path / "ct.nii").exists()


@pytest.mark.parametrize("fmt", ["nii", "nii.gz"])
def test_nifti_is_written_with_its_header(tmp_path: Path, fmt: str) -> None:
    nibabel: Any = pytest.importorskip("nibabel")
    written = write(_converted(), tmp_path / f"ct.{fmt}", fmt)
    assert [path.name for path in written] == [f"ct.{fmt}", "ct.json"]
    assert _names(tmp_path) == sorted(path.name for path in written)
    assert nibabel.load(written[0]).shape == (4, 3, 2)


def test_a_failure_writing_the_header_leaves_neither_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Path, *args: Any, **kwargs: Any) -> int:
        with self.open("w") as handle:
            handle.write("{")  # half a header, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write(_converted(), tmp_path / "ct.npy", "npy")
    assert _names(tmp_path) == []


def test_a_failure_renaming_the_header_removes_the_array_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[str] = []
    replace = os.replace

    def second_fails(source: Path, target: Path) -> None:
        if renamed:
            raise PermissionError(13, "Permission denied", os.fspath(target))
        renamed.append(os.fspath(target))
        replace(source, target)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(PermissionError):
        write(_converted(), tmp_path / "ct.npy", "npy")
    assert renamed == [os.fspath(tmp_path / "ct.npy")]
    assert _names(tmp_path) == []


def test_a_failure_while_replacing_with_force_puts_the_old_output_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ct.npy"
    write(_converted(), target, "npy")
    old = {name: (tmp_path / name).read_bytes() for name in _names(tmp_path)}
    replace = os.replace

    def header_fails(source: Path, destination: Path) -> None:
        if Path(destination).name == "ct.json" and Path(source).name.endswith(".part"):
            raise PermissionError(13, "Permission denied", os.fspath(destination))
        replace(source, destination)

    monkeypatch.setattr(os, "replace", header_fails)
    with pytest.raises(PermissionError):
        write(_converted(), target, "npy", force=True)
    assert {name: (tmp_path / name).read_bytes() for name in _names(tmp_path)} == old


def test_an_existing_header_is_refused_before_the_array_is_written(tmp_path: Path) -> None:
    (tmp_path / "ct.json").write_text("{}")
    with pytest.raises(OutputError, match=r"ct\.json exists; pass --force"):
        write(_converted(), tmp_path / "ct.npy", "npy")
    assert _names(tmp_path) == ["ct.json"]
    write(_converted(), tmp_path / "ct.npy", "npy", force=True)
    assert json.loads((tmp_path / "ct.json").read_text())["fill"] == 7


def test_a_target_that_appears_meanwhile_is_not_replaced_without_force(tmp_path: Path) -> None:
    target = tmp_path / "a.npy"

    def overtaken() -> None:
        with replacing([target]) as (temporary,):
            temporary.write_bytes(b"mine")
            target.write_bytes(b"theirs")  # another process finished first

    with pytest.raises(OutputError, match="exists"):
        overtaken()
    assert target.read_bytes() == b"theirs"
    assert _names(tmp_path) == ["a.npy"]


def test_a_missing_folder_and_an_unknown_format_are_output_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is not an existing folder"):
        write(_converted(), tmp_path / "missing" / "ct.npy", "npy")
    with pytest.raises(OutputError, match="unknown output format 'zarr'"):
        write(_converted(), tmp_path / "ct.zarr", "zarr")


def test_two_writers_on_one_folder_get_different_temporaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ct.npy"
    with replacing([target], force=True) as (first,), replacing([target], force=True) as (second,):
        assert first != second
        assert first.parent == second.parent == tmp_path
        assert first.name.startswith(".ct.npy.")
        assert first.name.endswith(".part")
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() == b"first"  # the outer block finished last
    assert _names(tmp_path) == ["ct.npy"]
    # Even when the random part of two names is the same (another process, say),
    # the name is created exclusively, so the second writer picks another one.
    tokens: Iterator[str] = iter(["same", "same", "other"])
    monkeypatch.setattr(secrets, "token_hex", lambda _: next(tokens))
    with replacing([target], force=True) as (first,), replacing([target], force=True) as (second,):
        assert first.name.endswith("-same.part")
        assert second.name.endswith("-other.part")


def test_concurrent_writers_of_one_target_leave_whole_files_only(tmp_path: Path) -> None:
    failures: list[BaseException] = []

    def convert(fill: int) -> None:
        try:
            write(_converted(fill), tmp_path / "ct.npy", "npy", force=True)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=convert, args=(fill,)) for fill in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _names(tmp_path) == ["ct.json", "ct.npy"]
    array = np.load(tmp_path / "ct.npy")
    assert len(np.unique(array)) == 1  # one writer's array, whole
    assert json.loads((tmp_path / "ct.json").read_text())["fill"] in range(8)


def test_a_folder_output_replaces_an_older_one_with_force(tmp_path: Path) -> None:
    store, header = tmp_path / "ct.zarr", tmp_path / "ct.json"
    (store / "old").mkdir(parents=True)
    with replacing([store, header], force=True, folders=[store]) as (folder, text):
        assert folder.is_dir()
        assert not any(folder.iterdir())
        (folder / "new").write_text("chunk")
        text.write_text("{}")
    assert _names(store) == ["new"]
    assert _names(tmp_path) == ["ct.json", "ct.zarr"]


def test_one_naming_scheme_for_the_command_and_the_batch() -> None:
    # dicomnp convert: stacks numbered as `dicomnp info` shows them
    assert output_names(["1", "3"], base="stack") == ["stack-1", "stack-3"]
    assert output_names(["2"], base="ct", label_one=False) == ["ct"]
    assert output_names(["1", "2"], base="ct", label_one=False) == ["ct-1", "ct-2"]
    # the batch: stacks labelled by Series Instance UID (and key), stable across runs
    labels = [
        stack_label("1.2.3", (("EchoTime", 2.5),)),
        stack_label("1.2.3", (("EchoTime", 90.0),)),
        stack_label("1.2/3"),
        stack_label("1.2/3"),
    ]
    assert output_names(labels) == [
        "1.2.3_EchoTime-2.5",
        "1.2.3_EchoTime-90",
        "1.2-3",
        "1.2-3_2",
    ]
