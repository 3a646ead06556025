"""What GE and Siemens keep in private elements that separates or describes volumes.

Read only when the standard attribute is absent, and only for the vendor
named by Manufacturer:

- diffusion b-value: GE (0043,xx39) of ``GEMS_PARM_01``, first value modulo
  10**9 (the higher digits are flags); Siemens ``B_value`` of the image's CSA
  header, else (0019,xx0C) of ``SIEMENS MR HEADER``;
- gradient direction, in patient LPS, at the length the vendor stores it: GE
  (0019,xxBB/BC/BD) of ``GEMS_ACQU_01`` hold it along the image's row
  direction, column direction and the reverse of the slice normal; Siemens
  ``DiffusionGradientDirection`` (CSA, else (0019,xx0E)) holds it in LPS;
- GE (0043,xx30) of ``GEMS_PARM_01``: an image kind that tells a field map
  from its magnitude image stored at the same positions of one series.
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
    try:
        csa = image_csa(dataset, header.name)
    except InvalidPixelMetadataError as exc:  # only a mosaic needs it: see mosaic_tiles
        logger.info("%s: CSA header not read: %s", header.name, exc.detail)
        csa = {}
    b_value = header.b_value
    gradient = header.gradient
    if b_value is None:
        found = csa_floats(csa, "B_value") or _floats(
            private_element(dataset, 0x0019, MR_CREATOR, 0x0C)
        )
        b_value = found[0] if found else None
    if gradient is None:
        gradient = _vector(
            csa_floats(csa, "DiffusionGradientDirection")
            or _floats(private_element(dataset, 0x0019, MR_CREATOR, 0x0E))
        )
    return replace(header, b_value=b_value, gradient=gradient)
