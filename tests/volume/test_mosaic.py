"""Siemens mosaics: CSA header parsing, unpacking and the true slice positions."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

import dicomnp
from dicomnp.volume.csa import build_csa, parse_csa
from dicomnp.volume.reading import read_headers
from support.mr_build import mosaic_image, values

ANGLE = math.radians(20)
ORIENTATION = (1.0, 0.0, 0.0, 0.0, math.cos(ANGLE), -math.sin(ANGLE))
NORMAL = (0.0, math.sin(ANGLE), math.cos(ANGLE))


def build(
    count: int, rows: int = 3, columns: int = 4, normal: tuple[float, ...] = NORMAL
) -> tuple[Dataset, list[NDArray[np.uint16]]]:
    tiles = [values(0, k, rows, columns) for k in range(count)]
    image = mosaic_image(
        tiles,
        first_position=(-10.0, 20.0, 5.0),
        orientation=ORIENTATION,
        pixel_spacing=(2.0, 1.5),
        spacing=3.5,
        normal=normal,  # type: ignore[arg-type]
        series_uid=generate_uid(),
        frame_of_reference_uid=generate_uid(),
    )
    return image, tiles


@pytest.mark.parametrize("count", [3, 4])
def test_a_2x2_mosaic_unpacks_into_its_slices_at_their_true_positions(count: int) -> None:
    image, tiles = build(count)
    volume = dicomnp.combine_series(image)
    assert volume.array.shape == (count, 3, 4, 1)
    for k in range(count):
        np.testing.assert_array_equal(volume.array[k, :, :, 0], tiles[k])
        expected = np.array([-10.0, 20.0, 5.0]) + k * 3.5 * np.array(NORMAL)
        np.testing.assert_allclose(volume.header.positions[k], expected, atol=1e-5)
    np.testing.assert_allclose(volume.affine[:3, 0], 3.5 * np.array(NORMAL), atol=1e-6)
    np.testing.assert_allclose(volume.affine[:3, 3], [-10.0, 20.0, 5.0], atol=1e-5)
    assert volume.header.files[1].endswith("mosaic slice 1")


def test_a_slice_normal_against_row_x_column_reverses_the_slices() -> None:
    image, tiles = build(4, normal=tuple(-v for v in NORMAL))
    volume = dicomnp.combine_series(image)
    # sorted along row x column: the last tile comes first
    np.testing.assert_array_equal(volume.array[0, :, :, 0], tiles[3])
    expected = np.array([-10.0, 20.0, 5.0]) - 3 * 3.5 * np.array(NORMAL)
    np.testing.assert_allclose(volume.header.positions[0], expected, atol=1e-5)


def test_the_headers_of_a_mosaic_are_one_per_tile() -> None:
    image, _ = build(3)
    headers = read_headers(image)
    assert [h.tile.index for h in headers if h.tile] == [0, 1, 2]
    assert {(h.rows, h.columns) for h in headers} == {(3, 4)}


def test_a_mosaic_without_a_slice_count_is_refused() -> None:
    image, _ = build(3)
    image[0x00291010].value = build_csa({"SliceNormalVector": ("FD", ["0", "0", "1"])})
    with pytest.raises(dicomnp.GeometryError, match="NumberOfImagesInMosaic"):
        dicomnp.combine_series(image)


def test_csa_round_trip_and_multiplicity() -> None:
    data = build_csa({"A": ("IS", ["1", "2"]), "B": ("FD", [])})
    assert parse_csa(data) == {"A": ["1", "2"], "B": []}


@pytest.mark.parametrize(
    "data",
    [b"", b"SV10\0\0\0\0" + struct.pack("<2I", 5000, 77), build_csa({"A": ("IS", ["1"])})[:-8]],
)
def test_a_malformed_csa_header_is_refused(data: bytes) -> None:
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="CSA header"):
        parse_csa(data, name="x.dcm", tag=0x00291010)
