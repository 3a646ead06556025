"""The shared real MR series (dcm2niix's QA sets): mosaics, 4D volumes, agreement.

Parametrized over ``/work/shared/realworld`` (or ``$DICOMNP_REALWORLD``);
skipped with the reason when the folder is absent. See its README.md.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nibabel as typed_nibabel
import numpy as np
import pydicom
import pytest
from pydicom.errors import InvalidDicomError

import dicomnp

nibabel: Any = typed_nibabel  # partly unannotated
ROOT = Path(os.environ.get("DICOMNP_REALWORLD", "/work/shared/realworld"))
TOOL = ROOT.parent / "tools" / "dcm2niix_agreement.py"
ABSENT = f"the shared real-world MR folder {ROOT} is absent"


def _series_folders() -> dict[tuple[str, int, bool], Path]:
    """(repository, SeriesNumber, mosaic) to the folder of In/ holding that series."""
    found: dict[tuple[str, int, bool], Path] = {}
    for path in sorted(ROOT.glob("*/In/**/*")):
        if not path.is_file() or path.parent in found.values():
            continue
        try:
            ds = pydicom.dcmread(
                path, stop_before_pixels=True, specific_tags=["SeriesNumber", "ImageType"]
            )
        except (InvalidDicomError, OSError):
            continue
        if "SeriesNumber" in ds:
            repo = path.relative_to(ROOT).parts[0]
            mosaic = "MOSAIC" in list(ds.get("ImageType") or [])
            found.setdefault((repo, int(ds.SeriesNumber), mosaic), path.parent)
    return found


def _mosaic_references() -> list[Any]:
    if not ROOT.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=ABSENT))]
    folders = _series_folders()
    params = []
    for sidecar in sorted(ROOT.glob("*/Ref/*.json")):
        fields = json.loads(sidecar.read_text())
        if "MOSAIC" not in fields.get("ImageType", []):
            continue
        folder = folders.get((sidecar.parent.parent.name, int(fields["SeriesNumber"]), True))
        params.append(pytest.param(folder, sidecar.with_suffix(".nii"), id=sidecar.stem))
    return params


def _reoriented(array: Any, affine: Any, target: Any) -> tuple[Any, Any]:
    orientations: Any = importlib.import_module("nibabel.orientations")  # unannotated
    transform = orientations.ornt_transform(
        orientations.io_orientation(affine), orientations.io_orientation(target)
    )
    spatial = array.shape[:3]
    return (
        orientations.apply_orientation(array, transform),
        affine @ orientations.inv_ornt_aff(transform, spatial),
    )


@pytest.mark.parametrize(("folder", "reference"), _mosaic_references())
def test_a_shared_mosaic_series_is_dcm2niix_s_4d_volume(folder: Path, reference: Path) -> None:
    assert folder is not None, f"no folder of In/ holds the series of {reference.name}"
    result = dicomnp.combine_volumes(folder)
    ref = nibabel.load(reference)
    maps = {(m["scale"], m["offset"]) for m in result.header.stored_from_array if m}
    assert len(maps) == 1
    ((scale, offset),) = maps
    stored = result.nifti_array().astype(np.float64) * scale + offset
    data, affine = _reoriented(stored, result.nifti_affine(), ref.affine)
    assert data.shape == ref.shape
    assert float(np.max(np.abs(affine - ref.affine))) <= 1e-3
    np.testing.assert_array_equal(data, np.asanyarray(ref.dataobj.get_unscaled()))
    fields = json.loads(reference.with_suffix(".json").read_text())
    if "SliceTiming" in fields:
        # the first volume's MosaicRefAcqTimes; dcm2niix may take another volume's,
        # which differ by the header's 2.5 ms steps
        timing = result.header.bids["SliceTiming"]
        assert timing == pytest.approx(fields["SliceTiming"], abs=3e-3)


@pytest.mark.slow
@pytest.mark.skipif(not ROOT.is_dir() or not TOOL.is_file(), reason=ABSENT)
def test_every_reference_agrees_with_dcm2niix(tmp_path: Path) -> None:
    source = Path(dicomnp.__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), *sys.path])}
    done = subprocess.run(
        [sys.executable, str(TOOL), str(ROOT), "--dcm2niix", "none", "--work", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=environment,
        check=False,
    )
    found = re.search(r"agreement: (\d+)/(\d+) references match", done.stdout)
    assert found is not None, done.stdout[-2000:] + done.stderr[-2000:]
    matched, counted = int(found.group(1)), int(found.group(2))
    assert counted == 16
    assert matched == counted, done.stdout
    for line in done.stdout.splitlines():
        assert "mosaic not unpacked" not in line
        assert "split into thin stacks" not in line
        assert "| partial |" not in line
