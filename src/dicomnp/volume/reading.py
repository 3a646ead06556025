"""Reading the slice headers of one source: a classic image or an enhanced multi-frame one.

:func:`read_headers` opens a source without its pixel bytes and returns one
:class:`~dicomnp.volume.headers.SliceHeader` per frame that could become a
slice of a volume: the header read from the top level of the data set
(:mod:`dicomnp.volume.headers`) for a classic single-frame image, one per frame
from the functional groups (:mod:`dicomnp.volume.enhanced`) for an enhanced
multi-frame image, one per frame from Grid Frame Offset Vector for an RT Dose.
Both modules are used from here, so neither imports the other.
"""

from __future__ import annotations

from .._attributes import as_dataset
from .._source import SourceLike, open_source, release_large_values
from ..decode import PixelInfo
from ..normalize import assess_lossy
from .enhanced import frame_headers, offset_frame_headers
from .headers import ParsedSource, SliceHeader, base_header
from .mosaic import is_mosaic, mosaic_tiles
from .vendor import vendor_values

__all__ = ["read_headers", "read_source"]


def read_headers(source: SourceLike) -> list[SliceHeader]:
    """Return the slice headers of ``source``: one per frame that can be a slice.

    The pixel bytes are not read.

    Parameters
    ----------
    source : path, file object, bytes or pydicom.Dataset
        One DICOM image.

    Returns
    -------
    list of SliceHeader
        One entry for a single-frame image; one per frame for an enhanced
        multi-frame image, in frame order; one per slice of a Siemens mosaic
        (see :mod:`dicomnp.volume.mosaic`), in tile order.

    Raises
    ------
    NotDicomError, NoPixelDataError, InvalidPixelMetadataError
        The source is not a DICOM image dicomnp can read.
    GeometryError
        A geometry attribute is malformed.

    Examples
    --------
    >>> from dicomnp.examples import ct_slice
    >>> header, = read_headers(ct_slice(position=(0.0, 0.0, 5.0)))
    >>> header.position, header.pixel_spacing, header.dtype
    ((0.0, 0.0, 5.0), (0.5, 0.5), 'int16')
    """
    return read_source(source)[0]


def read_source(source: SourceLike) -> tuple[list[SliceHeader], ParsedSource]:
    """:func:`read_headers`, and what was parsed to find them (which each header keeps)."""
    with open_source(source) as opened:
        dataset = opened.dataset
        info = PixelInfo.from_dataset(dataset, opened.pixel, opened.name)
        lossy = assess_lossy(dataset, opened.syntax)
        parsed = ParsedSource(
            name=opened.name,
            dataset=dataset,
            syntax=opened.syntax,
            pixel=opened.pixel,
            info=info,
            path=opened.path,
            stamp=opened.stamp,
        )
        base = vendor_values(
            base_header(dataset, info, opened.name, source, opened.syntax.uid, lossy, parsed),
            dataset,
        )
        if (
            "PerFrameFunctionalGroupsSequence" in dataset
            or "SharedFunctionalGroupsSequence" in dataset
        ):
            headers = frame_headers(as_dataset(dataset), base)
        elif is_mosaic(base):
            headers = mosaic_tiles(base, dataset)
        else:
            placed = offset_frame_headers(dataset, base) if base.number_of_frames > 1 else None
            headers = [base] if placed is None else placed
        release_large_values(opened)
    return headers, parsed
