"""The BIDS sidecar fields of an MR acquisition, from its DICOM attributes.

What dcm2niix writes where DICOM holds it, in BIDS units (seconds, degrees):
the scanner and protocol, EchoTime, RepetitionTime, FlipAngle, slice
thickness and spacing, the in-plane phase-encoding axis, and where the data
say so its polarity (Siemens CSA PhaseEncodingDirectionPositive) and the
slice timing (Siemens MosaicRefAcqTimes; per-slice TriggerTime within a
volume, as GE multi-phase series carry it). Axes ``i``, ``j`` and ``k`` are
those of :meth:`dicomnp.Volume4D.nifti_array` (columns, rows, slices), and
SliceTiming lists its slices in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._attributes import Attributes, optional
from ..errors import InvalidPixelMetadataError
from .csa import csa_floats
from .headers import SliceHeader, text_of
from .mosaic import image_csa

__all__ = ["bids_fields", "slice_times"]

_TEXT = (
    "Modality",
    "Manufacturer",
    "ManufacturersModelName",
    "InstitutionName",
    "StationName",
    "BodyPartExamined",
    "PatientPosition",
    "SeriesDescription",
    "ProtocolName",
    "MRAcquisitionType",
)
_NUMBERS = (
    "MagneticFieldStrength",
    "SeriesNumber",
    "AcquisitionNumber",
    "SliceThickness",
    "SpacingBetweenSlices",
    "FlipAngle",
    "PixelBandwidth",
    "ImagingFrequency",
    "PercentPhaseFieldOfView",
    "PercentSampling",
)
_LISTS = ("ImageType", "ScanningSequence", "SequenceVariant", "ScanOptions", "SoftwareVersions")
_RENAMED = {"PercentPhaseFieldOfView": "PercentPhaseFOV"}


def _number(value: Any) -> float | int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _time(text: str | None) -> str | None:
    """DICOM TM ``HHMMSS.ffffff`` as ``HH:MM:SS.ffffff``."""
    if not text or len(text) < 6 or not text[:6].isdigit():
        return None
    return f"{text[:2]}:{text[2:4]}:{text[4:]}"


def slice_times(headers: Sequence[SliceHeader]) -> tuple[float, ...] | None:
    """Each slice's acquisition time in seconds from the first, in array order, or None.

    From a mosaic's MosaicRefAcqTimes, else from a TriggerTime that differs
    between the slices of one volume.
    """
    if all(h.tile is not None and h.tile.time is not None for h in headers):
        found = [h.tile.time for h in headers if h.tile is not None and h.tile.time is not None]
    elif len({h.trigger_time for h in headers}) == len(headers) > 1 and all(
        h.trigger_time is not None for h in headers
    ):
        found = [h.trigger_time for h in headers if h.trigger_time is not None]
    else:
        return None
    start = min(found)
    return tuple(round((value - start) / 1000.0, 6) for value in found)


def bids_fields(dataset: Attributes, headers: Sequence[SliceHeader], name: str) -> dict[str, Any]:
    """The BIDS fields of the acquisition whose first volume has ``headers`` (array order).

    ``dataset`` is the first slice's data set; ``name`` its file, for logs.
    """
    fields: dict[str, Any] = {}
    for keyword in _TEXT:
        value = optional(dataset, keyword, name)
        if value not in (None, ""):
            fields[keyword] = str(value).strip()
    for keyword in _NUMBERS:
        number = _number(optional(dataset, keyword, name))
        if number is not None:
            fields[_RENAMED.get(keyword, keyword)] = number
    for keyword in _LISTS:
        value = optional(dataset, keyword, name)
        if value not in (None, ""):
            items = [value] if isinstance(value, str) else list(value)
            fields[keyword] = [str(item) for item in items]
    first = headers[0]
    acquired = _time(text_of(dataset, "AcquisitionTime", name))
    if acquired:
        fields["AcquisitionTime"] = acquired
    for keyword, value in (
        ("EchoTime", first.echo_time),
        ("RepetitionTime", first.repetition_time),
    ):
        if value is not None:
            fields[keyword] = round(value / 1000.0, 9)
    if first.echo_number is not None:
        fields["EchoNumber"] = first.echo_number
    direction = optional(dataset, "InPlanePhaseEncodingDirection", name)
    if direction in ("ROW", "COL"):
        fields["InPlanePhaseEncodingDirectionDICOM"] = direction
        axis = "i" if direction == "ROW" else "j"
        fields["PhaseEncodingAxis"] = axis
        if first.manufacturer.upper().startswith("SIEMENS"):
            try:
                csa = image_csa(dataset, name)
            except InvalidPixelMetadataError:  # the polarity is then unknown
                csa = {}
            positive = csa_floats(csa, "PhaseEncodingDirectionPositive")
            if positive:
                fields["PhaseEncodingDirection"] = axis if positive[0] else axis + "-"
    timing = slice_times(headers)
    if timing is not None:
        fields["SliceTiming"] = list(timing)
    fields["ConversionSoftware"] = "dicomnp"
    return fields
