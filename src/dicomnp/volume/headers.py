"""Slice header records: what the volume layer needs from each image, read once.

:func:`~dicomnp.volume.reading.read_headers` opens a source without its pixel
bytes and returns one :class:`SliceHeader` per frame that could become a slice
of a volume: one for a classic single-frame image (:func:`base_header`), one per
frame for an enhanced multi-frame image (see :mod:`dicomnp.volume.enhanced`).
Every later step (grouping, sorting, validation, the affine, messages) reads
these records, never the data sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydicom.datadict import tag_for_keyword

from .._attributes import Attributes, optional, optional_values
from .._source import OffsetReader, PixelElement, SourceLike, file_stamp
from .._syntaxes import TransferSyntax
from ..decode import PixelInfo
from ..errors import GeometryError
from ..normalize import LossyAssessment

__all__ = ["MosaicTile", "ParsedSource", "SliceHeader", "base_header", "private_element"]


@dataclass(frozen=True)
class MosaicTile:
    """Where one slice lies in a Siemens mosaic image: a grid of slices in one frame.

    Attributes
    ----------
    index : int
        The slice's 0-based index among the mosaic's slices (row-major tiles).
    count : int
        Slices in the mosaic (NumberOfImagesInMosaic).
    per_row : int
        Tiles per row of the grid.
    rows, columns : int
        The whole mosaic image's size; the slice is ``rows // per_row`` by
        ``columns // per_row``.
    time : float or None
        When the slice was acquired, in ms from the volume's start (CSA
        MosaicRefAcqTimes), None when the header does not say.
    """

    index: int
    count: int
    per_row: int
    rows: int
    columns: int
    time: float | None = None

    @property
    def origin(self) -> tuple[int, int]:
        """The (row, column) of the tile's first pixel in the mosaic image."""
        height, width = self.rows // self.per_row, self.columns // self.per_row
        return (self.index // self.per_row) * height, (self.index % self.per_row) * width


@dataclass(frozen=True)
class SliceHeader:
    """The attributes of one slice (an image, or one frame of a multi-frame image).

    Attributes
    ----------
    name : str
        The file path, or a description of an in-memory source, for messages.
    source : object
        What to open again to decode the pixels.
    frame : int
        0-based frame index in ``source``.
    orientation : tuple of 6 float or None
        Image Orientation (Patient): row direction (increasing column index),
        then column direction (increasing row index).
    position : tuple of 3 float or None
        Image Position (Patient) of the centre of the first pixel, in mm.
    pixel_spacing : tuple of 2 float or None
        Row spacing (between rows), then column spacing (between columns), in mm.
    enhanced : bool
        True when the frame has a geometry of its own: from the functional
        groups of an enhanced image, or from an RT Dose's Grid Frame Offset
        Vector.
    tile : MosaicTile or None
        For a slice of a Siemens mosaic: where it lies in the mosaic image
        (``rows``, ``columns`` and ``position`` are then the slice's own).
    b_value, gradient : float, tuple of 3 float or None
        Diffusion weighting in s/mm2 and the unit gradient direction in
        patient LPS, from the standard attributes or the vendor's private
        ones (see :mod:`dicomnp.volume.vendor`).
    lossy : LossyAssessment or None
        Whether the file's pixel data are lossy, from its header (RULES R6);
        None where it was not assessed.
    parsed : ParsedSource or None
        What was parsed of the file to read this header, kept so that
        rendering its pixels does not parse it again (large private values
        are let go and read again only if asked for); None where not kept.
    vendor_kind : int or None
        A vendor's private image kind that separates images of one series
        (GE (0043,xx30): magnitude and field map), None elsewhere.
    """

    name: str
    source: SourceLike = field(repr=False, compare=False)
    frame: int
    number_of_frames: int
    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    modality: str
    frame_of_reference_uid: str | None
    transfer_syntax_uid: str
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric_interpretation: str
    dtype: str
    orientation: tuple[float, ...] | None
    position: tuple[float, ...] | None
    pixel_spacing: tuple[float, ...] | None
    slice_thickness: float | None
    spacing_between_slices: float | None
    instance_number: int | None
    acquisition_number: int | None
    echo_number: int | None
    echo_time: float | None
    temporal_position: int | None
    trigger_time: float | None
    b_value: float | None
    image_type: tuple[str, ...]
    stack_id: str | None
    in_stack_position: int | None
    images_in_acquisition: int | None
    rescale_slope: float | None
    rescale_intercept: float | None
    series_description: str = ""
    enhanced: bool = False
    tile: MosaicTile | None = None
    manufacturer: str = ""
    repetition_time: float | None = None
    gradient: tuple[float, ...] | None = None
    vendor_kind: int | None = None
    lossy: LossyAssessment | None = field(default=None, repr=False, compare=False)
    parsed: ParsedSource | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """How messages name this slice: the file, plus the frame or the mosaic tile."""
        if self.number_of_frames > 1:
            return f"{self.name} frame {self.frame}"
        if self.tile is not None:
            return f"{self.name} mosaic slice {self.tile.index}"
        return self.name

    @property
    def is_localizer(self) -> bool:
        """True when Image Type says LOCALIZER (a CT topogram or an MR scout)."""
        return "LOCALIZER" in self.image_type


@dataclass(frozen=True)
class ParsedSource:
    """What opening a source found: kept so that it need not be parsed again.

    Attributes
    ----------
    name : str
        The source, for messages.
    dataset : pydicom.Dataset or Attributes
        The data set without its pixel bytes.
    syntax : TransferSyntax
        Its transfer syntax.
    pixel : PixelElement
        Where the pixel element's value lies in the source.
    info : PixelInfo
        Its validated Image Pixel attributes.
    path : str or None
        The file's path when the source was a path.
    stamp : tuple of int or None
        The file's :func:`~dicomnp._source.file_stamp` when it was parsed.
    """

    name: str
    dataset: Attributes = field(repr=False)
    syntax: TransferSyntax
    pixel: PixelElement
    info: PixelInfo
    path: str | None
    stamp: tuple[int, ...] | None = None

    @property
    def reopenable(self) -> bool:
        """True when the file can be read again from ``pixel`` without parsing its header."""
        return self.path is not None and not self.syntax.deflated_dataset

    def reader_if_unchanged(self, descriptor: int) -> OffsetReader | None:
        """A reader of the file open as ``descriptor`` if it is the one parsed, unchanged since."""
        if self.stamp is None or file_stamp(descriptor) != self.stamp:
            return None
        return OffsetReader(descriptor, self.stamp[2])  # the stamp holds its size


def _converted(
    dataset: Attributes, keyword: str, convert: Callable[[Any], Any], name: str, count: int = 0
) -> Any:
    value = optional(dataset, keyword, name)
    if value is None:
        return None
    try:
        if count:
            items = list(value) if not isinstance(value, (str, bytes)) else [value]
            if len(items) != count:
                raise ValueError(f"{len(items)} values, {count} expected")
            return tuple(convert(item) for item in items)
        if not isinstance(value, (str, bytes)) and hasattr(value, "__len__"):
            value = value[0]  # a multi-valued attribute where one is expected: the first
        return convert(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise GeometryError(f"{keyword} is malformed: {value!r} ({exc})", path=name) from exc


def float_of(dataset: Attributes, keyword: str, name: str) -> float | None:
    """``keyword`` as a float, None when absent; GeometryError when malformed."""
    result: float | None = _converted(dataset, keyword, float, name)
    return result


def int_of(dataset: Attributes, keyword: str, name: str) -> int | None:
    """``keyword`` as an int, None when absent; GeometryError when malformed."""
    result: int | None = _converted(dataset, keyword, lambda item: int(float(item)), name)
    return result


def floats_of(dataset: Attributes, keyword: str, count: int, name: str) -> tuple[float, ...] | None:
    """``keyword`` as ``count`` floats, None when absent; GeometryError when malformed."""
    result: tuple[float, ...] | None = _converted(dataset, keyword, float, name, count)
    return result


def text_of(dataset: Attributes, keyword: str, name: str = "") -> str | None:
    """``keyword`` as a stripped string, None when absent."""
    value = optional(dataset, keyword, name)
    return None if value is None else str(value).strip()


def image_type_of(
    dataset: Attributes, keyword: str = "ImageType", name: str = ""
) -> tuple[str, ...]:
    """Image Type (or Frame Type) as upper-case strings."""
    value = optional(dataset, keyword, name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip().upper(),)
    return tuple(str(item).strip().upper() for item in value)


def private_element(dataset: Attributes, group: int, creator: str, offset: int) -> Any:
    """The value of private element ``offset`` (0x00-0xFF) of ``creator``'s block in ``group``.

    None when the creator or the element is absent. The block is found from
    the Private Creator elements (gggg,0010-00FF), not assumed. A header
    walked in memory converts the common value representations itself.
    """
    for block in range(0x10, 0x21):
        owner = _private_value(dataset, (group << 16) | block)
        if owner is not None and str(owner).strip() == creator:
            return _private_value(dataset, (group << 16) | (block << 8) | offset)
    return None


def _private_value(dataset: Attributes, tag: int) -> Any:
    if tag not in dataset:
        return None
    convert = getattr(dataset, "value", None)  # HeadAttributes: no pydicom Dataset needed
    if callable(convert):
        return convert(tag)
    element = dataset.get(tag)
    return None if element is None else element.value


def base_header(
    dataset: Attributes,
    info: PixelInfo,
    name: str,
    source: SourceLike,
    syntax_uid: str,
    lossy: LossyAssessment | None = None,
    parsed: ParsedSource | None = None,
) -> SliceHeader:
    """The header of an image read from the top level of its data set (frame 0)."""
    meta = getattr(dataset, "file_meta", None)
    found = optional_values(dataset, _BASE, name)  # read once, then converted below
    sop_instance = text_of(found, "SOPInstanceUID", name)
    sop_class = text_of(found, "SOPClassUID", name)
    if meta is not None:
        sop_instance = sop_instance or text_of(meta, "MediaStorageSOPInstanceUID", name)
        sop_class = sop_class or text_of(meta, "MediaStorageSOPClassUID", name)
    return SliceHeader(
        name=name,
        source=source,
        frame=0,
        number_of_frames=info.number_of_frames,
        sop_instance_uid=sop_instance or "",
        sop_class_uid=sop_class or "",
        series_instance_uid=text_of(found, "SeriesInstanceUID", name) or "",
        modality=text_of(found, "Modality", name) or "",
        frame_of_reference_uid=text_of(found, "FrameOfReferenceUID", name),
        transfer_syntax_uid=syntax_uid,
        rows=info.rows,
        columns=info.columns,
        samples_per_pixel=info.samples_per_pixel,
        bits_allocated=info.bits_allocated,
        bits_stored=info.bits_stored,
        pixel_representation=info.pixel_representation,
        photometric_interpretation=info.photometric_interpretation,
        dtype=info.dtype.name,
        orientation=floats_of(found, "ImageOrientationPatient", 6, name),
        position=floats_of(found, "ImagePositionPatient", 3, name),
        pixel_spacing=floats_of(found, "PixelSpacing", 2, name),
        slice_thickness=float_of(found, "SliceThickness", name),
        spacing_between_slices=float_of(found, "SpacingBetweenSlices", name),
        instance_number=int_of(found, "InstanceNumber", name),
        acquisition_number=int_of(found, "AcquisitionNumber", name),
        echo_number=int_of(found, "EchoNumbers", name),
        echo_time=float_of(found, "EchoTime", name),
        temporal_position=int_of(found, "TemporalPositionIdentifier", name),
        trigger_time=float_of(found, "TriggerTime", name),
        b_value=float_of(found, "DiffusionBValue", name),
        image_type=image_type_of(found, name=name),
        stack_id=None,
        in_stack_position=None,
        images_in_acquisition=int_of(found, "ImagesInAcquisition", name),
        rescale_slope=float_of(found, "RescaleSlope", name),
        rescale_intercept=float_of(found, "RescaleIntercept", name),
        series_description=text_of(found, "SeriesDescription", name) or "",
        manufacturer=text_of(found, "Manufacturer", name) or "",
        repetition_time=float_of(found, "RepetitionTime", name),
        gradient=floats_of(found, "DiffusionGradientOrientation", 3, name),
        lossy=lossy,
        parsed=parsed,
    )


_BASE = tuple(
    (keyword, tag_for_keyword(keyword) or 0)
    for keyword in (
        "SOPInstanceUID", "SOPClassUID", "SeriesInstanceUID", "Modality", "FrameOfReferenceUID",
        "ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "SliceThickness",
        "SpacingBetweenSlices", "InstanceNumber", "AcquisitionNumber", "EchoNumbers", "EchoTime",
        "TemporalPositionIdentifier", "TriggerTime", "DiffusionBValue", "ImageType",
        "ImagesInAcquisition", "RescaleSlope", "RescaleIntercept", "SeriesDescription",
        "Manufacturer", "RepetitionTime", "DiffusionGradientOrientation",
    )
)  # fmt: skip
"""The attributes :func:`base_header` reads, with their tags."""


def with_frame(header: SliceHeader, **changes: Any) -> SliceHeader:
    """A copy of ``header`` with the given fields changed (for one frame of many)."""
    return replace(header, **changes)
