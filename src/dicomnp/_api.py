"""The public calls that render one instance: :func:`to_array`, :func:`read`, :func:`iter_frames`.

Orchestration only: open the source, refuse lossy data from the header,
plan the rendering, then decode each requested frame and render it straight
into its place in the output array.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, Union, overload

import numpy as np
from numpy.typing import NDArray

from ._instance import PreparedInstance
from ._source import SourceLike, open_source
from .decode import FrameSelection
from .decode.limits import DEFAULT_MAX_BYTES, check_max_bytes
from .normalize import (
    Image,
    Padding,
    PaddingLike,
    RenderOptions,
    ValuesLike,
    VoiLike,
    check_workers,
)

__all__ = ["iter_frames", "read", "to_array"]

Masked = tuple[NDArray[Any], NDArray[np.bool_]]
"""An array and its padding mask."""
Unmasked = Literal["keep", "fill", Padding.KEEP, Padding.FILL]
MaskMode = Literal["mask", Padding.MASK]


def read(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    workers: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Image:
    """Decode and render one instance, with the header that describes the array.

    Parameters
    ----------
    source : path, os.PathLike, URL, binary file, bytes or pydicom.Dataset
        The instance. Files are only read. A URL (``s3://``, ``https://``,
        ...) is read by ranged requests through fsspec (extra ``cloud``).
    frames : int, slice, sequence of int or None, optional
        0-based frames to decode, in the order given; negative indices count
        from the end. None (default) decodes all: the array has a frame axis
        only for multi-frame objects. An int drops the frame axis, a slice or
        sequence keeps it, even when it selects one frame (as NumPy indexing).
    values : {"stored", "modality", "display"}, optional
        ``"stored"`` (default): stored values by the rules (signed values
        offset by ``2**(BitsStored-1)``, MONOCHROME1 inverted, colour as
        RGB). ``"modality"``: Rescale or Modality LUT applied, float32 or an
        exact integer dtype; never inverted, colour unchanged.
        ``"display"``: modality then VOI, MONOCHROME1 inverted, unsigned
        ``display_bits`` (colour scaled to that range).
    allow_lossy : bool, optional
        Decode lossy-compressed data instead of raising ``LossyDataError``.
    padding : {"keep", "mask", "fill"}, optional
        ``"keep"`` (default) leaves padding pixels, the header says which
        output values they have; ``"mask"`` also returns ``Image.mask`` and
        makes padding NaN in float output; ``"fill"`` sets them to the
        darkest value of the output range (0, or the lowest modality value).
    voi : {"window", "lut"}, optional
        Display mode: prefer Window Center/Width (default) or the VOI LUT
        Sequence; the other is used when the preferred one is absent, and the
        whole modality range when both are.
    voi_index : int, optional
        Which window pair or VOI LUT item (0-based).
    window : (center, width) or None, optional
        An explicit window for display mode, in modality units.
    display_bits : int, optional
        Bits of display output, 1 to 16 (default 8: uint8).
    workers : int or None, optional
        Threads (or, for codecs that hold the GIL, processes) to decode
        the frames of a file with, this one included. None (default) uses
        every core when there are at least 1 Mi compressed pixels to decode
        on threads (8 Mi on processes) or 16 MiB of native frames to read,
        else 1; 1 decodes in this thread. In-memory sources and deflated
        data sets always decode in this thread.
    max_bytes : int or None, optional
        The largest output, in bytes, to allocate: the array plus the mask
        (default ``2**34``, 16 GiB); None for no limit. Checked from the
        header before anything is decoded, so a header that claims more
        than the caller accepts costs nothing.

    Returns
    -------
    Image
        ``array``, ``header`` and, with ``padding="mask"``, ``mask``.

    Raises
    ------
    LossyDataError
        The header says the data are lossy and ``allow_lossy`` is false; raised
        before anything is decoded. ``http_status`` is 406.
    OutputTooLargeError
        The output would be larger than ``max_bytes``; raised before anything
        is decoded.
    InvalidOptionError
        An option is unknown or out of range.
    DicomNumpyError
        Or another subclass, naming the file, frame and tag: not DICOM, no
        pixel data, inconsistent attributes, malformed LUTs, truncated data,
        or a transfer syntax that cannot be decoded.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> image = dicomnp.read(ct_slice())
    >>> image.array.shape, image.array.dtype.str, image.header["value_offset"]
    ((64, 64, 1), '<u2', 32768)
    >>> hu = dicomnp.read(ct_slice(), values="modality").array
    >>> hu.dtype.name, int(hu.min()), int(hu.max())
    ('int32', -1000, 1000)
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    count = check_workers(workers)
    with _prepared(source, frames, options, max_bytes) as prepared:
        array, mask = prepared.render_arrays(options.padding is Padding.MASK, count)
        return Image(array=array, header=prepared.header(array.shape), mask=mask)


@contextmanager
def _prepared(
    source: SourceLike, frames: FrameSelection, options: RenderOptions, max_bytes: int | None
) -> Iterator[PreparedInstance]:
    """Open ``source`` and check it and the options: ready to render."""
    limit = check_max_bytes(max_bytes)
    with open_source(source) as opened:
        yield PreparedInstance(opened, frames, options, limit)


@overload
def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: Unmasked = ...,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    workers: int | None = ...,
    max_bytes: int | None = ...,
) -> NDArray[Any]: ...


@overload
def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: MaskMode,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    workers: int | None = ...,
    max_bytes: int | None = ...,
) -> Masked: ...


def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    workers: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Union[NDArray[Any], Masked]:
    """Decode and render one instance to a NumPy array (the rendering profile: docs/rendering.rst).

    Takes the options of :func:`read`. Use :func:`read` for the header.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        The array: ``(rows, columns, 1|3)`` or ``(frames, rows, columns, 1|3)``,
        native little-endian, C-contiguous, writeable. With ``padding="mask"``,
        the pair ``(array, mask)``: the mask is True at padding pixels and
        shaped like the array without its sample axis.

    Raises
    ------
    LossyDataError, InvalidOptionError, DicomNumpyError
        As :func:`read`.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dicomnp.to_array(ct_slice(), values="display").dtype
    dtype('uint8')
    >>> array, mask = dicomnp.to_array(ct_slice(), padding="mask")
    >>> mask.shape, bool(mask.any())
    ((64, 64), False)
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    count = check_workers(workers)
    with _prepared(source, frames, options, max_bytes) as prepared:  # no header to build
        array, mask = prepared.render_arrays(options.padding is Padding.MASK, count)
    if mask is not None:
        return array, mask
    return array


@overload
def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: Unmasked = ...,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    max_bytes: int | None = ...,
) -> Iterator[NDArray[Any]]: ...


@overload
def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: MaskMode,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    max_bytes: int | None = ...,
) -> Iterator[Masked]: ...


def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Union[Iterator[NDArray[Any]], Iterator[Masked]]:
    """Render the requested frames one at a time, decoding each only when asked for.

    Takes the options of :func:`read`; ``max_bytes`` bounds each frame (and
    its mask). Options are checked at once; the source is opened, and lossy
    data refused, when the first frame is requested. The file stays open
    until the iterator is exhausted or closed.

    Yields
    ------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        Each frame as ``(rows, columns, 1|3)``, rendered exactly as
        :func:`to_array` renders it; with ``padding="mask"``, ``(frame, mask)``.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> [frame.shape for frame in dicomnp.iter_frames(ct_slice())]
    [(64, 64, 1)]
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    limit = check_max_bytes(max_bytes)
    return _frames(source, frames, options, limit)


def _frames(
    source: SourceLike, frames: FrameSelection, options: RenderOptions, max_bytes: int | None
) -> Iterator[Any]:
    with open_source(source) as opened:
        yield from PreparedInstance(
            opened, frames, options, max_bytes, one_at_a_time=True
        ).iter_rendered()
