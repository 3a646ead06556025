"""``dicomnp convert``: .npy with its JSON header, .npz and NIfTI that read back right."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as typed_nibabel
import numpy as np
import pytest
from numpy.typing import NDArray

import dicomnp
from dicomnp.examples import ct_slice, write_ct_series
from support.processes import count_forks
from support.series_build import geometry_series, pattern

nibabel: Any = typed_nibabel  # partly unannotated
Runner = Callable[..., Any]
Writer = Callable[..., list[Path]]


@pytest.fixture
def ct_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ct"
    write_ct_series(folder, slices=7, rows=20, columns=16, spacing=2.5)
    return folder


def test_npy_with_json_header(ct_folder: Path, tmp_path: Path, run: Runner) -> None:
    out = tmp_path / "out" / "ct.npy"
    result = run("convert", ct_folder, "-o", out)
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.startswith(f"wrote {out} (7, 20, 16, 1)")
    expected = dicomnp.combine_series(ct_folder)
    array = np.load(out, allow_pickle=False)
    assert array.shape == (7, 20, 16, 1)
    assert np.array_equal(array, expected.array)
    header = json.loads(out.with_suffix(".json").read_text())
    assert header["kind"] == "volume"
    assert header["axes"] == ["slice", "row", "column", "sample"]
    assert header["shape"] == [7, 20, 16, 1]
    assert header["dtype"] == array.dtype.str
    assert header["spacing"] == pytest.approx([2.5, 0.5, 0.5])
    assert np.allclose(header["affine_lps"], expected.affine)
    assert np.allclose(header["affine_ras"], expected.ras_affine)
    assert header["header"]["series_instance_uid"] == expected.header.series_instance_uid
    assert len(header["header"]["sop_instance_uids"]) == 7


def test_npz_holds_array_affine_and_header(ct_folder: Path, tmp_path: Path, run: Runner) -> None:
    out = tmp_path / "ct.npz"
    assert run("convert", ct_folder, "-o", out, "--quiet").code == 0
    with np.load(out, allow_pickle=False) as stored:
        assert sorted(stored.files) == ["affine", "array", "header"]
        assert stored["array"].shape == (7, 20, 16, 1)
        assert stored["affine"].shape == (4, 4)
        header = json.loads(str(stored["header"]))
    assert header["shape"] == [7, 20, 16, 1]


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_reads_back_with_shape_data_and_affine(
    ct_folder: Path, tmp_path: Path, run: Runner, suffix: str
) -> None:
    out = tmp_path / f"ct{suffix}"
    result = run("convert", ct_folder, "-o", out)
    assert result.code == 0, result.err
    assert (tmp_path / "ct.json").is_file()
    image: Any = nibabel.load(out)
    expected = dicomnp.combine_series(ct_folder)
    assert image.shape == (16, 20, 7)  # (columns, rows, slices)
    assert np.array_equal(image.dataobj.get_unscaled(), expected.nifti_array())
    assert np.allclose(image.affine, expected.nifti_affine())
    assert nibabel.aff2axcodes(image.affine) == ("L", "P", "S")  # columns go to the left
    assert image.header.get_xyzt_units()[0] == "mm"
    hounsfield = image.get_fdata()  # scl_slope/scl_inter give modality values
    assert hounsfield.min() == -1000
    assert hounsfield.max() == 1000


def _rotation(z_degrees: float, x_degrees: float) -> NDArray[np.float64]:
    a, b = np.radians(z_degrees), np.radians(x_degrees)
    around_z = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    around_x = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    result: NDArray[np.float64] = around_z @ around_x
    return result


def test_nifti_of_an_oblique_series_follows_dcm2niix_ras_conventions(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    rotation = _rotation(20.0, 30.0)
    x, y = rotation[:, 0], rotation[:, 1]  # row and column direction cosines, LPS
    rows, columns, count, spacing = 8, 5, 6, 2.5
    pixel_spacing = (0.5, 0.8)  # between rows, between columns
    origin = np.array([10.0, -20.0, 30.0])
    slices = geometry_series(
        count,
        rows,
        columns,
        row_cosines=(x[0], x[1], x[2]),
        column_cosines=(y[0], y[1], y[2]),
        pixel_spacing=pixel_spacing,
        spacing=spacing,
        origin=(origin[0], origin[1], origin[2]),
    )
    write_datasets(tmp_path / "oblique", slices)
    out = tmp_path / "oblique.nii.gz"
    result = run("convert", tmp_path / "oblique", "-o", out)
    assert result.code == 0, result.err
    image: Any = nibabel.load(out)
    assert image.shape == (columns, rows, count)
    assert int(image.header["sform_code"]) == 1
    assert int(image.header["qform_code"]) == 1
    assert np.allclose(image.get_qform(), image.get_sform(), atol=1e-4)
    affine = image.affine
    # dcm2niix: i runs along the row direction X (columns), j along the column
    # direction Y (rows), k along the slice normal; LPS is negated in x and y.
    to_ras = np.diag([-1.0, -1.0, 1.0])
    normal = np.cross(x, y)
    assert np.allclose(affine[:3, 0], to_ras @ (x * pixel_spacing[1]), atol=1e-5)
    assert np.allclose(affine[:3, 1], to_ras @ (y * pixel_spacing[0]), atol=1e-5)
    assert np.allclose(affine[:3, 2], to_ras @ (normal * spacing), atol=1e-5)
    assert np.allclose(affine[:3, 3], to_ras @ origin, atol=1e-5)
    # Every voxel: where the affine puts it is where DICOM says that pixel lies.
    data = image.get_fdata()
    for k, dataset in enumerate(slices):
        position = np.array([float(value) for value in dataset.ImagePositionPatient])
        for j in range(rows):
            for i in range(columns):
                lps = position + i * pixel_spacing[1] * x + j * pixel_spacing[0] * y
                assert np.allclose(affine @ [i, j, k, 1], [*(to_ras @ lps), 1], atol=1e-4)
        assert np.array_equal(data[:, :, k], pattern(k, rows, columns).T)


def test_several_stacks_give_one_file_each(
    two_series_and_a_localizer: Path, tmp_path: Path, run: Runner
) -> None:
    out = tmp_path / "out" / "study.npy"
    result = run("convert", two_series_and_a_localizer, "-o", out)
    assert result.code == 0, result.err
    shapes = {name: np.load(out.with_name(f"study-{name}.npy")).shape for name in ("1", "2", "3")}
    assert shapes == {"1": (5, 8, 6, 1), "2": (1, 8, 6, 1), "3": (4, 6, 6, 1)}
    assert sorted(path.name for path in out.parent.iterdir()) == [
        f"study-{n}.{kind}" for n in (1, 2, 3) for kind in ("json", "npy")
    ]
    assert len(result.out.splitlines()) == 3


def test_a_folder_as_output_and_a_chosen_stack(
    two_series_and_a_localizer: Path, tmp_path: Path, run: Runner
) -> None:
    out = tmp_path / "volumes"
    result = run(
        "convert", two_series_and_a_localizer, "-o", out, "--format", "nii", "--stack", "3"
    )
    assert result.code == 0, result.err
    assert sorted(path.name for path in out.iterdir()) == ["stack-3.json", "stack-3.nii"]
    image: Any = nibabel.load(out / "stack-3.nii")
    assert image.shape == (6, 6, 4)


def test_values_workers_and_force(ct_folder: Path, tmp_path: Path, run: Runner) -> None:
    out = tmp_path / "hu.npy"
    result = run("convert", ct_folder, "-o", out, "--values", "modality", "--workers", "2")
    assert result.code == 0, result.err
    hounsfield = np.load(out)
    assert int(hounsfield.min()) == -1000
    assert int(hounsfield.max()) == 1000
    again = run("convert", ct_folder, "-o", out, "--values", "display")
    assert again.code == 5
    assert again.err == f"dicomnp: error: {out} exists; pass --force to replace it\n"
    forced = run("convert", ct_folder, "-o", out, "--values", "display", "--force", "-q")
    assert forced.code == 0
    assert forced.out == ""
    assert np.load(out).dtype == np.uint8


def test_an_existing_header_is_not_replaced_and_no_array_is_left_without_it(
    ct_folder: Path, tmp_path: Path, run: Runner
) -> None:
    out = tmp_path / "ct.npy"
    (tmp_path / "ct.json").write_text("{}")
    refused = run("convert", ct_folder, "-o", out)
    assert refused.code == 5
    assert (
        refused.err
        == f"dicomnp: error: {tmp_path / 'ct.json'} exists; pass --force to replace it\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ct", "ct.json"]
    forced = run("convert", ct_folder, "-o", out, "--force", "-q")
    assert forced.code == 0, forced.err
    assert json.loads((tmp_path / "ct.json").read_text())["shape"] == [7, 20, 16, 1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ct", "ct.json", "ct.npy"]


def test_lossy_data_refused_unless_allowed(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    slices = geometry_series(3)
    for ds in slices:
        ds.LossyImageCompression = "01"
    write_datasets(tmp_path / "lossy", slices)
    refused = run("convert", tmp_path / "lossy", "-o", tmp_path / "x.npy")
    assert refused.code == 3
    assert len(refused.err.splitlines()) == 1
    assert "lossy" in refused.err
    assert "pass --allow-lossy" in refused.err
    assert "allow_lossy=True" not in refused.err
    assert not (tmp_path / "x.npy").exists()
    allowed = run("convert", tmp_path / "lossy", "-o", tmp_path / "x.npy", "--allow-lossy")
    assert allowed.code == 0, allowed.err
    assert np.load(tmp_path / "x.npy").shape == (3, 8, 5, 1)


def test_a_lone_image_without_geometry_is_written_as_an_image(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    ds = ct_slice()
    del ds.ImagePositionPatient
    del ds.ImageOrientationPatient
    (path,) = write_datasets(tmp_path / "cr", [ds])
    result = run("convert", path, "-o", tmp_path / "image.npy")
    assert result.code == 0, result.err
    assert np.array_equal(np.load(tmp_path / "image.npy"), dicomnp.to_array(path))
    header = json.loads((tmp_path / "image.json").read_text())
    assert header["kind"] == "image"
    assert header["axes"] == ["row", "column", "sample"]
    assert header["header"]["shape"] == [64, 64, 1]
    refused = run("convert", path, "-o", tmp_path / "image.nii")
    assert refused.code == 5
    assert "NIfTI needs patient geometry" in refused.err


def test_stacks_converted_in_forked_copies_write_and_say_what_one_process_does(
    two_series_and_a_localizer: Path,
    tmp_path: Path,
    run: Runner,
    write_datasets: Writer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lossy = geometry_series(3)
    for ds in lossy:
        ds.LossyImageCompression = "01"
    write_datasets(two_series_and_a_localizer / "lossy", lossy)
    alone = run("convert", two_series_and_a_localizer, "-o", tmp_path / "one" / "s.npy")
    forks = count_forks(monkeypatch)
    shared = run(
        "convert", two_series_and_a_localizer, "-o", tmp_path / "two" / "s.npy", "--workers", "2"
    )
    assert forks  # the stacks were shared with a copy
    assert (shared.code, alone.code) == (3, 3)  # the lossy stack is refused, the others written
    assert shared.err == alone.err
    assert shared.out == alone.out.replace(str(tmp_path / "one"), str(tmp_path / "two"))
    assert len(shared.out.splitlines()) == 3
    names = sorted(path.name for path in (tmp_path / "one").iterdir())
    assert names == sorted(path.name for path in (tmp_path / "two").iterdir())
    for name in names:
        if name.endswith(".npy"):
            np.testing.assert_array_equal(
                np.load(tmp_path / "one" / name), np.load(tmp_path / "two" / name)
            )
