"""``dicomnp convert`` of several volumes: one 4D NIfTI, BIDS fields, .bval/.bvec."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as typed_nibabel
import numpy as np

from support.mr_build import classic_volumes, values

nibabel: Any = typed_nibabel  # partly unannotated
Runner = Callable[..., Any]
Writer = Callable[..., list[Path]]


def test_an_fmri_folder_becomes_one_4d_nifti_with_bids_fields(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    per_volume = [
        {
            "TemporalPositionIdentifier": v + 1,
            "RepetitionTime": "2000",
            "EchoTime": "30",
            "FlipAngle": "75",
            "MagneticFieldStrength": "3",
            "Manufacturer": "GE MEDICAL SYSTEMS",
            "InPlanePhaseEncodingDirection": "COL",
        }
        for v in range(3)
    ]
    datasets = classic_volumes(3, 4, per_volume=per_volume, per_slice_trigger=True)
    write_datasets(tmp_path / "fmri", datasets)
    out = tmp_path / "out"
    result = run("convert", tmp_path / "fmri", "-o", out, "--format", "nii")
    assert result.code == 0, result.err
    (written,) = sorted(out.glob("*.nii"))
    image: Any = nibabel.load(written)
    assert image.shape == (5, 4, 4, 3)
    data = np.asanyarray(image.dataobj)
    for v in range(3):
        for k in range(4):
            np.testing.assert_array_equal(data[:, :, k, v], values(v, k, 4, 5).T)
    assert image.header.get_xyzt_units() == ("mm", "sec")
    assert float(image.header["pixdim"][4]) == 2.0
    sidecar = json.loads(written.with_suffix(".json").read_text())
    assert sidecar["kind"] == "volumes"
    assert sidecar["volumes_by"] == "TemporalPositionIdentifier"
    assert sidecar["RepetitionTime"] == 2.0
    assert sidecar["EchoTime"] == 0.03
    assert sidecar["FlipAngle"] == 75
    assert sidecar["PhaseEncodingAxis"] == "j"
    # per-slice TriggerTime within the first volume: 7, 107, 207, 307 ms
    assert sidecar["SliceTiming"] == [0.0, 0.1, 0.2, 0.3]
    assert len(sidecar["header"]["stored_from_array"]) == 12
    assert not list(out.glob("*.bval"))


def test_a_dwi_folder_gets_bval_and_bvec(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    directions = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    per_volume = [
        {"DiffusionBValue": 0.0 if v == 0 else 800.0, "DiffusionGradientOrientation": list(d)}
        for v, d in enumerate(directions)
    ]
    write_datasets(tmp_path / "dwi", classic_volumes(4, 3, per_volume=per_volume))
    out = tmp_path / "out" / "dwi.nii.gz"
    result = run("convert", tmp_path / "dwi", "-o", out)
    assert result.code == 0, result.err
    assert "dwi.bval" in result.out
    assert (tmp_path / "out" / "dwi.bval").read_text().split() == ["0", "800", "800", "800"]
    bvecs = np.loadtxt(tmp_path / "out" / "dwi.bvec")
    expected = np.array([[0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    np.testing.assert_allclose(bvecs, expected, atol=1e-6)
    assert nibabel.load(out).shape == (5, 4, 3, 4)


def test_a_repeated_file_is_left_out_with_a_warning(
    tmp_path: Path, run: Runner, write_datasets: Writer
) -> None:
    datasets = classic_volumes(2, 3)
    write_datasets(tmp_path / "run", [*datasets, datasets[4]])
    result = run("convert", tmp_path / "run", "-o", tmp_path / "out.npy", "-q")
    assert result.code == 0, result.err
    assert "dicomnp: warning: left out 1 repeated instance(s)" in result.err
    assert "same SOP Instance UID" in result.err
    assert np.load(tmp_path / "out.npy").shape == (2, 3, 4, 5, 1)


def test_the_notebook_display_shows_the_volumes() -> None:
    import dicomnp

    datasets = classic_volumes(
        3, 2, per_volume=[{"TemporalPositionIdentifier": v + 1} for v in range(3)]
    )
    html = dicomnp.combine_volumes(datasets)._repr_html_()
    assert "5x4x2x3 (4D: 3 volumes by temporal position)" in html
    assert "<img" in html
