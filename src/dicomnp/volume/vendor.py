"""What GE and Siemens keep in private elements that separates or describes volumes.

Read only when the standard attribute is absent, and only for the vendor
named by Manufacturer:

- diffusion b-value: GE (0043,xx39) of ``GEMS_PARM_01``, first value modulo
  10**9 (the higher digits are flags); Siemens (0019,xx0C) of ``SIEMENS MR
  HEADER``, else ``B_value`` of the image's CSA header (diffusion images);
- gradient direction, in patient LPS, at the length the vendor stores it: GE
  (0019,xxBB/BC/BD) of ``GEMS_ACQU_01`` hold it along the image's row
  direction, column direction and the reverse of the slice normal; Siemens
  (0019,xx0E) (else CSA ``DiffusionGradientDirection``) holds it in LPS;
- GE (0043,xx30) of ``GEMS_PARM_01``: an image kind that tells a field map
  from its magnitude image stored at the same positions of one series;
- GE ``epi_pepolar`` (PulseSequenceName (0019,xx9C)): the reversed-polarity
  images of mode 2 are stored with their rows reversed (see
  :func:`_ge_pepolar`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np

from .._attributes import Attributes
from ..errors import InvalidPixelMetadataError
from .csa import csa_floats
from .headers import SliceHeader, private_element
from .mosaic import MR_CREATOR, image_csa

__all__ = ["vendor_values"]

logger = logging.getLogger(__name__)

GE_PARM = "GEMS_PARM_01"
GE_ACQU = "GEMS_ACQU_01"


def _floats(value: Any) -> tuple[float, ...] | None:
    if value is None or isinstance(value, bytes):
        return None
    items = [value] if isinstance(value, (str, int, float)) else list(value)
    try:
        return tuple(float(item) for item in items)
    except (TypeError, ValueError):
        return None


def _vector(vector: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """Three components as the vendor stores them (not rescaled to unit length, as dcm2niix)."""
    if vector is None or len(vector) != 3:
        return None
    return tuple(float(v) + 0.0 for v in vector)


def vendor_values(header: SliceHeader, dataset: Attributes) -> SliceHeader:
    """``header`` completed with the vendor's private diffusion values and image kind."""
    maker = header.manufacturer.upper()
    if header.modality != "MR":
        return header
    if maker.startswith("GE"):
        return _ge(header, dataset)
    if maker.startswith("SIEMENS"):
        return _siemens(header, dataset)
    return header


def _ge(header: SliceHeader, dataset: Attributes) -> SliceHeader:
    header = _ge_pepolar(header, dataset)
    changes: dict[str, Any] = {}
    kind = _floats(private_element(dataset, 0x0043, GE_PARM, 0x30))
    if kind:
        changes["vendor_kind"] = int(kind[0])
    if header.b_value is None:
        found = _floats(private_element(dataset, 0x0043, GE_PARM, 0x39))
        if found:
            changes["b_value"] = float(found[0] % 1_000_000_000)
    if header.gradient is None and header.orientation is not None:
        parts = [_floats(private_element(dataset, 0x0019, GE_ACQU, e)) for e in (0xBB, 0xBC, 0xBD)]
        if all(parts):
            gx, gy, gz = (p[0] for p in parts if p)
            x = np.asarray(header.orientation[:3], dtype=np.float64)
            y = np.asarray(header.orientation[3:], dtype=np.float64)
            normal = np.cross(x, y)
            changes["gradient"] = _vector(tuple(gx * x + gy * y - gz * normal))
    return replace(header, **changes) if changes else header


def _siemens(header: SliceHeader, dataset: Attributes) -> SliceHeader:
    if header.b_value is not None and header.gradient is not None:
        return header
    b_value = header.b_value
    gradient = header.gradient
    if b_value is None:
        found = _floats(private_element(dataset, 0x0019, MR_CREATOR, 0x0C))
        b_value = found[0] if found else None
    if gradient is None:
        gradient = _vector(_floats(private_element(dataset, 0x0019, MR_CREATOR, 0x0E)))
    if (b_value is None or gradient is None) and "DIFFUSION" in header.image_type:
        try:  # the CSA header holds them too; parsed only for diffusion images
            csa = image_csa(dataset, header.name)
        except InvalidPixelMetadataError as exc:
            logger.info("%s: CSA header not read: %s", header.name, exc.detail)
            csa = {}
        if b_value is None:
            found = csa_floats(csa, "B_value")
            b_value = found[0] if found else None
        if gradient is None:
            gradient = _vector(csa_floats(csa, "DiffusionGradientDirection"))
    if b_value is header.b_value and gradient is header.gradient:
        return header
    return replace(header, b_value=b_value, gradient=gradient)


def _ge_pepolar(header: SliceHeader, dataset: Attributes) -> SliceHeader:
    """The true row order of a GE ``epi_pepolar`` image whose phase encoding is reversed.

    In mode 2 of UserData12 (0019,xxB3) the series alternates reversed and
    forward phase encoding by temporal position, reversed first; the
    reversed images are stored with their rows in reverse order and the
    header unchanged. Their geometry is corrected here: the column
    direction is negated and the position moved to the last row, so the
    stored rows lie where they were acquired (and find_series keeps them as
    their own stack). Other modes are not known to dicomnp: a warning says
    the row order of such images is not checked.
    """
    sequence = private_element(dataset, 0x0019, GE_ACQU, 0x9C)
    if not isinstance(sequence, str) or not sequence.strip().endswith("epi_pepolar"):
        return header
    mode = _floats(private_element(dataset, 0x0019, GE_ACQU, 0xB3))
    if not mode or mode[0] != 2 or header.temporal_position is None:
        logger.warning(
            "%s: GE epi_pepolar with UserData12 %s: which images have reversed rows is not "
            "known; the header's geometry is used as it stands",
            header.name,
            None if not mode else mode[0],
        )
        return header
    if header.temporal_position % 2 == 0 or header.orientation is None:
        return header
    if header.position is None or header.pixel_spacing is None:
        return header
    x = np.asarray(header.orientation[:3], dtype=np.float64)
    y = np.asarray(header.orientation[3:], dtype=np.float64)
    last_row = np.asarray(header.position) + (header.rows - 1) * header.pixel_spacing[0] * y
    return replace(
        header,
        orientation=tuple(float(v) + 0.0 for v in (*x, *(-y))),
        position=tuple(float(v) for v in last_row),
    )
