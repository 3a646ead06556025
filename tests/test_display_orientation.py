"""The volume display's three planes in radiological convention, whatever the acquisition.

Axial, coronal and sagittal series of the corpus all show anterior up and the
patient's right on the left in the axial panel, superior up and right on the
left in the coronal one, superior up and anterior on the left in the
sagittal one. The pixels are checked against nibabel's reorientation of the
same volume to its closest canonical (RAS) axes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import dicomnp
from dicomnp._display import direction_label, radiological_planes
from dicomnp.examples import write_ct_series
from support.corpus import CORPUS

nibabel = pytest.importorskip("nibabel", reason="nibabel is not installed (extra 'nifti')")

RADIOLOGICAL = {
    "axial": ("A", "L", "P", "R"),
    "coronal": ("S", "L", "I", "R"),
    "sagittal": ("S", "P", "I", "A"),
}
"""Top, right, bottom, left of each panel, as a radiologist expects them."""

SERIES = {
    "ge_mr_t1_sag_4sl": "sagittal",
    "siemens_mr_t1_sag_4sl": "sagittal",
    "philips_mr_t1_cor_4sl_implicit": "coronal",
    "siemens_ct_gantry_tilt_4sl": "axial",
    "philips_enhanced_mr_t1_8fr": "sagittal",
    "hitachi_mr_oblique_4sl_implicit": "oblique",
}


def _volume(name: str) -> Any:
    folder = CORPUS / "series" / name
    if not folder.is_dir():
        pytest.skip(f"corpus series absent: {folder}")
    return dicomnp.combine_series(folder, allow_shear=True)


def _acquired_plane(affine: NDArray[np.float64]) -> str:
    """The plane the slices were acquired in, from the slice axis's largest LPS component."""
    normal = affine[:3, 0]
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


@pytest.mark.parametrize(("name", "acquired"), SERIES.items())
def test_every_acquisition_shows_the_same_orientation(name: str, acquired: str) -> None:
    volume = _volume(name)
    if acquired != "oblique":
        assert _acquired_plane(volume.affine) == acquired
    planes = radiological_planes(volume.array, volume.affine)
    assert [plane.name for plane in planes] == ["axial", "coronal", "sagittal"]
    for plane in planes:
        main = tuple(label[0] for label in plane.labels)  # the main direction of each side
        assert main == RADIOLOGICAL[plane.name], (plane.name, plane.labels)
        if acquired != "oblique":
            assert plane.labels == RADIOLOGICAL[plane.name], (plane.name, plane.labels)


def _nibabel_planes(volume: Any) -> list[NDArray[Any]]:
    """The three planes found with nibabel: closest canonical RAS axes, then flipped by hand."""
    image = nibabel.Nifti1Image(volume.nifti_array(), volume.nifti_affine())
    ras = np.asanyarray(nibabel.as_closest_canonical(image).dataobj)  # i: R, j: A, k: S
    ni, nj, nk = ras.shape
    # As shown: axial rows anterior to posterior, columns right to left; coronal rows
    # superior to inferior, columns right to left; sagittal rows superior to inferior,
    # columns anterior to posterior. The middle index counts from L, P and S ends.
    axial = ras[::-1, ::-1, nk // 2].T
    coronal = ras[::-1, nj - 1 - nj // 2, ::-1].T
    sagittal = ras[ni - 1 - ni // 2, ::-1, ::-1].T
    return [axial, coronal, sagittal]


@pytest.mark.parametrize("name", [name for name, kind in SERIES.items() if kind != "oblique"])
def test_planes_are_nibabels_canonical_planes(name: str) -> None:
    volume = _volume(name)
    planes = radiological_planes(volume.array, volume.affine)
    for plane, expected in zip(planes, _nibabel_planes(volume), strict=True):
        np.testing.assert_array_equal(plane.pixels[..., 0], expected, err_msg=plane.name)


def test_marked_sides_land_where_the_labels_say(tmp_path: Path) -> None:
    """Bits marking the anterior row, the leftmost column and the top slice of an axial CT."""
    write_ct_series(tmp_path, slices=6, rows=10, columns=8)
    volume = dicomnp.combine_series(tmp_path)
    # An axial stack: slices go superior, rows posterior, columns to the patient's left.
    marked = np.zeros((6, 10, 8, 1), dtype=np.int32)
    marked[:, 0, :] = 1  # the most anterior row, in every slice and column
    marked[:, :, -1] += 2  # the leftmost column
    marked[-1] += 4  # the most superior slice
    shown = [plane.pixels[..., 0] for plane in radiological_planes(marked, volume.affine)]
    axial, coronal, sagittal = shown
    assert axial.shape == (10, 8)
    assert coronal.shape == (*sagittal.shape[:1], 8)
    # Anterior at the top and left on the right of the axial panel.
    assert axial[0].min() & 1
    assert not axial[-1].max() & 1
    assert axial[:, -1].min() & 2
    assert not axial[:, 0].max() & 2
    # Superior at the top and left on the right of the coronal panel.
    assert coronal[0].min() & 4
    assert not coronal[-1].max() & 4
    assert coronal[:, -1].min() & 2
    assert not coronal[:, 0].max() & 2
    # Superior at the top and anterior on the left of the sagittal panel.
    assert sagittal[0].min() & 4
    assert not sagittal[-1].max() & 4
    assert sagittal[:, 0].min() & 1
    assert not sagittal[:, -1].max() & 1


def test_labels_are_in_the_notebook_html() -> None:
    volume = _volume("ge_mr_t1_sag_4sl")
    text = volume._repr_html_()
    found = re.findall(r'data-orientation="top:(\w+) right:(\w+) bottom:(\w+) left:(\w+)"', text)
    assert [tuple(labels) for labels in found] == list(RADIOLOGICAL.values())


def test_direction_labels() -> None:
    assert direction_label([-1.0, 0.0, 0.0]) == "R"
    assert direction_label([0.0, 0.0, -2.0]) == "I"
    assert direction_label([0.7, -0.7, 0.1]) in ("LA", "AL")
    assert direction_label([0.2, 0.0, 0.98]) == "S"
