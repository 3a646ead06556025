"""Siemens mosaics: one image holding every slice of a volume as tiles of a grid.

A Siemens EPI image whose Image Type holds ``MOSAIC`` stores the slices of one
volume side by side, row-major, in a square grid of ``ceil(sqrt(N))`` tiles a
side, N being NumberOfImagesInMosaic (the image's CSA header, or the private
element (0019,xx0A) of ``SIEMENS MR HEADER``). Its Image Position (Patient) is
not the first slice's: it places the whole mosaic image so that its centre
is the centre of the first slice. The first slice's corner is therefore
shifted by half the size difference along the rows and columns, and slice k
lies ``k * spacing`` further along the CSA header's SliceNormalVector (the
direction of increasing tile index; the cross product of the orientation's
cosines when the header lacks it). The spacing is SpacingBetweenSlices, else
SliceThickness.

:func:`mosaic_tiles` turns the one image header into one
:class:`~dicomnp.volume.headers.SliceHeader` per tile, with the tile's size
and true position, so that the geometry checks and the affine treat the
tiles as any other slices.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np

from .._attributes import Attributes
from ..errors import GeometryError
from .csa import csa_floats, parse_csa
from .headers import MosaicTile, SliceHeader, private_element

__all__ = ["image_csa", "is_mosaic", "mosaic_tiles"]

logger = logging.getLogger(__name__)

CSA_CREATOR = "SIEMENS CSA HEADER"
MR_CREATOR = "SIEMENS MR HEADER"
_CSA_IMAGE_TAG = 0x00291010


def is_mosaic(header: SliceHeader) -> bool:
    """True when Image Type says MOSAIC (a single-frame classic image)."""
    return "MOSAIC" in header.image_type and header.number_of_frames == 1


def image_csa(dataset: Attributes, name: str) -> dict[str, list[str]]:
    """The image's CSA header elements; empty when it has none."""
    value = private_element(dataset, 0x0029, CSA_CREATOR, 0x10)
    if not value:
        return {}
    return parse_csa(bytes(value), name=name, tag=_CSA_IMAGE_TAG)


def _count(csa: dict[str, list[str]], dataset: Attributes, header: SliceHeader) -> int:
    found = csa_floats(csa, "NumberOfImagesInMosaic")
    if found:
        return int(found[0])
    value = private_element(dataset, 0x0019, MR_CREATOR, 0x0A)
    if value is not None:
        return int(value[0] if isinstance(value, (list, tuple)) else value)
    raise GeometryError(
        "ImageType says MOSAIC but NumberOfImagesInMosaic is absent (CSA header and "
        "(0019,xx0A)), so the slices cannot be told apart",
        files=[header.name],
        path=header.name,
    )


def mosaic_tiles(header: SliceHeader, dataset: Attributes) -> list[SliceHeader]:
    """One slice header per tile of the mosaic ``header``, in tile order.

    Raises
    ------
    GeometryError
        The number of slices is absent, or the image is not a grid of it.
    """
    csa = image_csa(dataset, header.name)
    count = _count(csa, dataset, header)
    per_row = math.ceil(math.sqrt(count)) if count > 0 else 0
    if count < 1 or header.rows % per_row or header.columns % per_row:
        raise GeometryError(
            f"a mosaic of {count} slices cannot tile a {header.rows}x{header.columns} image",
            files=[header.name],
            path=header.name,
        )
    rows, columns = header.rows // per_row, header.columns // per_row
    positions: list[tuple[float, ...] | None] = [None] * count
    if (
        header.orientation is not None
        and header.position is not None
        and header.pixel_spacing is not None
    ):
        positions = _tile_positions(header, csa, count, rows, columns)
    times = csa_floats(csa, "MosaicRefAcqTimes")
    if times is not None and len(times) < count:
        times = None
    return [
        replace(
            header,
            rows=rows,
            columns=columns,
            position=positions[index],
            tile=MosaicTile(
                index,
                count,
                per_row,
                header.rows,
                header.columns,
                None if times is None else times[index],
            ),
        )
        for index in range(count)
    ]


def _tile_positions(
    header: SliceHeader, csa: dict[str, list[str]], count: int, rows: int, columns: int
) -> list[tuple[float, ...] | None]:
    assert header.orientation is not None
    assert header.position is not None
    assert header.pixel_spacing is not None
    x = np.asarray(header.orientation[:3], dtype=np.float64)
    y = np.asarray(header.orientation[3:], dtype=np.float64)
    row_spacing, column_spacing = header.pixel_spacing
    corner = (
        np.asarray(header.position, dtype=np.float64)
        + x * column_spacing * (header.columns - columns) / 2
        + y * row_spacing * (header.rows - rows) / 2
    )
    normal_values = csa_floats(csa, "SliceNormalVector")
    if normal_values is not None and len(normal_values) == 3:
        normal = np.asarray(normal_values, dtype=np.float64)
        normal /= np.linalg.norm(normal) or 1.0
    else:
        logger.info(
            "%s: no SliceNormalVector; the mosaic's slices follow row x column", header.name
        )
        normal = np.cross(x, y)
    spacing = header.spacing_between_slices or header.slice_thickness
    if not spacing or spacing <= 0:
        if count == 1:
            spacing = 1.0
        else:
            raise GeometryError(
                "a mosaic without SpacingBetweenSlices or SliceThickness: the distance "
                "between its slices is unknown",
                files=[header.name],
                path=header.name,
            )
    return [tuple(float(v) for v in corner + k * spacing * normal) for k in range(count)]
