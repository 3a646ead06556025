"""Batch conversion of a folder tree: one output per stack, resumable, failures reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from benchmarks.__main__ import measure
from benchmarks.data import SMOKE, ensure
from distributed import Client

import dicomnp
from dicomnp.batch import convert_tree, main
from dicomnp.examples import write_ct_series

SERIES = 20


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 series of 5 slices; series 07 misses a middle slice."""
    root = tmp_path_factory.mktemp("tree")
    for number in range(SERIES):
        paths = write_ct_series(root / f"patient{number % 4}" / f"series{number:02d}", 5, 16, 16)
        if number == 7:
            paths[2].unlink()
    return root


def _check_outputs(out: Path, tree: Path) -> None:
    headers = sorted(out.glob("*.json"))
    assert len(headers) == SERIES - 1
    for path in headers[:3]:
        document = json.loads(path.read_text())
        array = np.load(out / document["array"])
        assert array.shape == tuple(document["shape"]) == (5, 16, 16, 1)
        folder = Path(document["files"][0]).parent
        volume = dicomnp.combine_series(folder)
        np.testing.assert_array_equal(array, volume.array)
        np.testing.assert_array_equal(np.array(document["affine"]), volume.affine)
        assert document["header"]["sop_instance_uids"] == list(volume.header.sop_instance_uids)
    assert not list(out.glob("*.partial"))
    assert not [path.name for path in out.iterdir() if path.name.endswith(".part")]


def test_batch_on_two_workers_converts_19_reports_1_and_resumes(
    tree: Path, tmp_path: Path, client: Client
) -> None:
    out = tmp_path / "out"
    report = convert_tree(tree, out, client=client)
    assert len(report.results) == SERIES
    assert len(report.converted) == SERIES - 1
    (failure,) = report.failed
    assert failure.error is not None
    assert failure.error.startswith("MissingSliceError: ")
    assert "series07" in failure.first_file
    assert f"FAILED {failure.name}" in report.summary()
    _check_outputs(out, tree)
    again = convert_tree(tree, out, client=client)
    assert len(again.converted) == 0
    assert len(again.done_before) == SERIES - 1
    assert len(again.failed) == 1
    assert again.nbytes == 0


def test_batch_in_process_matches_and_resumes(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = convert_tree(tree, out, values="modality")
    assert (len(first.converted), len(first.failed)) == (SERIES - 1, 1)
    name = first.converted[0].name
    array = np.load(out / f"{name}.npy")
    assert array.dtype == np.int32
    (out / f"{name}.json").unlink()  # an unfinished stack is converted again
    second = convert_tree(tree, out, values="modality")
    assert [result.name for result in second.converted] == [name]
    np.testing.assert_array_equal(np.load(out / f"{name}.npy"), array)


def test_batch_to_zarr_on_two_workers(tree: Path, tmp_path: Path, client: Client) -> None:
    source = tree / "patient1" / "series05"
    out = tmp_path / "out"
    report = convert_tree(source, out, client=client, output="zarr", padding="mask")
    (result,) = report.converted
    document = json.loads((out / f"{result.name}.json").read_text())
    stored = zarr.open_array(str(out / document["array"]), mode="r")
    assert stored.chunks == (1, 16, 16, 1)
    assert stored.dtype == dicomnp.to_array(sorted(source.glob("*.dcm"))[0]).dtype
    np.testing.assert_array_equal(stored[:], dicomnp.combine_series(source).array)
    assert zarr.open_array(str(out / document["mask"]), mode="r").shape == (5, 16, 16)
    assert len(convert_tree(source, out, output="zarr").done_before) == 1
    (out / f"{result.name}.json").unlink()  # unfinished: the stores are replaced
    again = convert_tree(source, out, output="zarr", values="modality")
    assert [item.name for item in again.converted] == [result.name]
    replaced = zarr.open_array(str(out / document["array"]), mode="r")
    np.testing.assert_array_equal(
        replaced[:], dicomnp.combine_series(source, values="modality").array
    )
    assert sorted(path.name for path in out.iterdir()) == [
        f"{result.name}{suffix}" for suffix in (".json", ".mask.zarr", ".zarr")
    ]


def test_command_line_reports_failures_with_exit_code(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main([str(tree / "patient3"), str(out), "--json", str(tmp_path / "report.json")])
    assert code == 1  # patient3 holds series07
    printed = capsys.readouterr().out
    assert "4 converted" in printed
    assert "MissingSliceError" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert sum(item["status"] == "failed" for item in report["results"]) == 1
    assert main([str(tree / "patient0"), str(out)]) == 0


def test_module_runs_as_a_command(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_ct_series(folder, 3, 8, 8)
    done = subprocess.run(
        [sys.executable, "-m", "dicomnp.batch", str(folder), str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 converted" in done.stdout


def test_benchmark_workload_converts_in_one_process(tmp_path: Path) -> None:
    folder = ensure(tmp_path, ["batch"], SMOKE)["batch"]
    assert len(list(folder.glob("*/*.dcm"))) == SMOKE.batch_series * SMOKE.batch_slices
    measured = measure("batch", "dicomnp", folder)
    assert measured["output_bytes"] == SMOKE.batch_series * SMOKE.batch_slices * 64 * 64 * 2


def test_a_stack_of_several_volumes_is_written_as_one_4d_array(tmp_path: Path) -> None:
    from support.mr_build import classic_volumes

    folder = tmp_path / "fmri"
    folder.mkdir()
    per_volume = [{"TemporalPositionIdentifier": number + 1} for number in range(3)]
    for k, ds in enumerate(classic_volumes(3, 4, per_volume=per_volume)):
        ds.save_as(folder / f"{k:02d}.dcm", enforce_file_format=True)
    report = convert_tree(folder, tmp_path / "out")
    assert report.ok, report.summary()
    (written,) = sorted((tmp_path / "out").glob("*.npy"))
    expected = dicomnp.combine_volumes(folder).array
    array = np.load(written)
    assert array.shape == expected.shape == (3, 4, *expected.shape[2:])
    np.testing.assert_array_equal(array, expected)
    document = json.loads(written.with_suffix(".json").read_text())
    assert document["axes"] == ["volume", "slice", "row", "column", "sample"]
