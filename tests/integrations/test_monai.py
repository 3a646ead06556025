"""The MONAI reader against MONAI's NibabelReader on the NIfTI file dicomnp writes.

``LoadImage(reader=DicomnpReader)`` on a series folder and on an enhanced
multi-frame image gives the array and affine that MONAI's own
``NibabelReader`` gives for ``dicomnp convert``'s NIfTI output of the same
data. MONAI (and PyTorch) is not in the ``test`` extra: too heavy for CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dicomnp
from dicomnp.cli import main
from dicomnp.examples import write_ct_series
from support.corpus import CORPUS, Entry, series_params

monai = pytest.importorskip(
    "monai", reason="MONAI is not installed (extra 'monai'; it needs PyTorch, too heavy for CI)"
)
pytest.importorskip("nibabel", reason="nibabel is not installed (extra 'nifti')")

from monai.data.image_reader import NibabelReader  # noqa: E402
from monai.transforms.io.array import LoadImage  # noqa: E402

from dicomnp.monai import DicomnpReader  # noqa: E402

# LoadImage makes each of MONAI's readers, and one warns when its GPU codec is absent.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _readable(entry: Entry) -> bool:
    flags = entry.get("edge_case_flags") or []
    return entry["kind"] == "enhanced_multiframe" or (entry["kind"] == "slices" and not flags)


def _nifti(source: Path, tmp_path: Path) -> Path:
    out = tmp_path / "volume.nii.gz"
    assert main(["convert", str(source), "-o", str(out), "-q"]) == 0
    return out


def _load(reader: Any, source: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    image = LoadImage(reader=reader, image_only=True)(str(source))
    return np.asarray(image), np.asarray(image.affine), dict(image.meta)


@pytest.mark.parametrize("entry", series_params(_readable))
def test_load_image_equals_nibabel_reader_on_dicomnp_nifti(entry: Entry, tmp_path: Path) -> None:
    folder = CORPUS / str(entry["path"])
    source = folder
    if entry["kind"] == "enhanced_multiframe":
        (source,) = sorted(folder.iterdir())  # the one multi-frame file itself
    array, affine, meta = _load(DicomnpReader, source)
    expected_array, expected_affine, expected_meta = _load(NibabelReader, _nifti(source, tmp_path))
    assert array.shape == expected_array.shape
    if dicomnp.combine_series(source, values="modality").array.dtype.kind == "f":
        # A non-integral rescale: dicomnp computes modality values in float32, nibabel
        # in float64 that LoadImage then rounds to float32; they agree to one unit in
        # the last place of float32.
        np.testing.assert_allclose(array, expected_array, rtol=np.finfo(np.float32).eps, atol=0)
    else:
        np.testing.assert_array_equal(array, expected_array)
    np.testing.assert_allclose(affine, expected_affine, atol=1e-4)  # NIfTI keeps float32
    assert meta["space"] == expected_meta["space"] == "RAS"
    np.testing.assert_array_equal(meta["spatial_shape"], expected_meta["spatial_shape"])
    assert np.isnan(meta["original_channel_dim"])
    np.testing.assert_allclose(meta["original_affine"], expected_meta["original_affine"], atol=1e-4)


def test_enhanced_multiframe_has_its_per_frame_geometry() -> None:
    folder = CORPUS / "series" / "philips_enhanced_mr_t1_8fr"
    if not folder.is_dir():
        pytest.skip(f"corpus series absent: {folder}")
    (path,) = sorted(folder.iterdir())
    reader = DicomnpReader()
    _, meta = reader.get_data(reader.read(path))
    volume = dicomnp.combine_series(path)
    np.testing.assert_allclose(meta["affine"], volume.nifti_affine())
    assert not np.allclose(meta["affine"][:3, :3], np.eye(3))  # not a made-up identity


def test_lps_affine_when_asked(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=3, rows=8, columns=6)
    reader = DicomnpReader(affine_lps_to_ras=False)
    array, meta = reader.get_data(reader.read(tmp_path))
    volume = dicomnp.combine_series(tmp_path, values="modality")
    assert meta["space"] == "LPS"
    voxel = np.array([5, 7, 2, 1.0])  # (column, row, slice)
    np.testing.assert_allclose(meta["affine"] @ voxel, volume.affine @ voxel[[2, 1, 0, 3]])
    np.testing.assert_array_equal(array, volume.array.transpose(2, 1, 0, 3)[..., 0])


def test_modality_values_by_default(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=3, rows=8, columns=8)
    reader = DicomnpReader()
    array, meta = reader.get_data(reader.read(tmp_path))
    hu = dicomnp.combine_series(tmp_path, values="modality").nifti_array()
    np.testing.assert_array_equal(array, hu)
    assert meta["values"] == "modality"
    assert int(array.min()) == -1000


def test_a_folder_of_several_series_is_refused_naming_them() -> None:
    folder = CORPUS / "series" / "mixed_two_series"
    if not folder.is_dir():
        pytest.skip(f"corpus series absent: {folder}")
    reader = DicomnpReader()
    with pytest.raises(dicomnp.InconsistentSeriesError, match="SeriesInstanceUID differs"):
        reader.read(folder)


def test_verify_suffix(tmp_path: Path) -> None:
    reader = DicomnpReader()
    assert reader.verify_suffix(tmp_path)
    assert reader.verify_suffix(["a.dcm", "b.IMA"])
    assert not reader.verify_suffix("volume.nii.gz")
    assert not reader.verify_suffix(["a.dcm", "b.png"])


def test_several_sources_stack_as_channels(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_ct_series(first, slices=3, rows=8, columns=8)
    write_ct_series(second, slices=3, rows=8, columns=8)
    reader = DicomnpReader()
    array, meta = reader.get_data(reader.read([first, second]))
    assert array.shape == (2, 8, 8, 3)
    assert meta["original_channel_dim"] == 0
