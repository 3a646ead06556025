"""The public low-level call: stored values of the requested frames, unrendered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from .._source import SourceLike, open_source
from .frames import FrameSelection, locate_frames, open_frames, select_frames
from .limits import DEFAULT_MAX_BYTES, allocate, check_max_bytes, check_output_size

__all__ = ["PixelDescription", "StoredPixels", "decode_pixels"]


@dataclass(frozen=True)
class PixelDescription:
    """What :func:`decode_pixels` produced, and what the data set declared.

    Attributes
    ----------
    transfer_syntax_uid : str
        The transfer syntax of the source.
    dtype : str
        The array's dtype, e.g. ``"<i2"``; signed when Pixel Representation is 1,
        ``"<f4"``/``"<f8"`` for Float and Double Float Pixel Data.
    photometric_interpretation : str
        The colour model of the returned values. It differs from the stored
        one when decoding changed it: native YBR_FULL_422 is upsampled to
        ``"YBR_FULL"``.
    stored_photometric_interpretation : str
        Photometric Interpretation as the data set declares it.
    planar_configuration : int
        Planar Configuration as stored. The returned array is always
        colour-by-pixel (samples on the last axis) whatever this says.
    samples_per_pixel, bits_allocated, bits_stored, high_bit, pixel_representation : int
        The data set's Image Pixel attributes.
    float_data : bool
        True for Float or Double Float Pixel Data.
    number_of_frames : int
        Frames declared by the data set (1 when Number of Frames is absent).
    frames : tuple of int
        The 0-based frame indices in the array, in array order.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> description = dicomnp.decode_pixels(ct_slice()).description
    >>> description.dtype, description.bits_stored, description.photometric_interpretation
    ('<i2', 16, 'MONOCHROME2')
    """

    transfer_syntax_uid: str
    dtype: str
    photometric_interpretation: str
    stored_photometric_interpretation: str
    planar_configuration: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    float_data: bool
    number_of_frames: int
    frames: tuple[int, ...]


@dataclass(frozen=True)
class StoredPixels:
    """Stored pixel values and their description.

    Attributes
    ----------
    array : numpy.ndarray
        Shape ``(frames, rows, columns, samples)``: axis 0 follows
        ``description.frames``, axis 3 holds the samples of each pixel.
    description : PixelDescription
        What the array holds.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> stored = dicomnp.decode_pixels(ct_slice())
    >>> stored.array.shape, stored.array.dtype.name, stored.description.frames
    ((1, 64, 64, 1), 'int16', (0,))
    """

    array: NDArray[Any]
    description: PixelDescription


def decode_pixels(
    source: SourceLike, *, frames: FrameSelection = None, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> StoredPixels:
    """Decode stored pixel values, before any rendering rule.

    This is the decode layer on its own: values as the standard defines them
    (masked to Bits Stored, sign-extended when Pixel Representation is 1),
    in the natural dtype, colour model as stored or as decoding left it, and
    only the requested frames are read.

    Parameters
    ----------
    source : path, os.PathLike, binary file, bytes or pydicom.Dataset
        The instance to decode. Files are only read, never written.
    frames : int, slice, sequence of int or None, optional
        0-based frames to decode, in the order given; negative indices count
        from the end. None (the default) decodes every frame.
    max_bytes : int or None, optional
        The largest array, in bytes, to allocate (default ``2**34``, 16 GiB);
        None for no limit. Checked from the header, before anything is decoded.

    Returns
    -------
    StoredPixels
        ``array`` shaped ``(frames, rows, columns, samples)`` in native byte
        order, and its ``description``.

    Raises
    ------
    DicomNumpyError
        Or one of its subclasses, naming the file, frame and tag involved:
        the source is not DICOM, has no pixel data, declares inconsistent
        Image Pixel attributes, holds too few bytes, or uses a transfer
        syntax that cannot be decoded.
    OutputTooLargeError
        The array would be larger than ``max_bytes``.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> stored = dicomnp.decode_pixels(ct_slice())
    >>> stored.array.shape, stored.array.dtype.str
    ((1, 64, 64, 1), '<i2')
    """
    limit = check_max_bytes(max_bytes)
    with open_source(source) as opened:
        decoder = open_frames(opened)
        info = decoder.info
        indices = select_frames(frames, decoder.frame_count, opened.name)
        shape = (len(indices), *info.frame_shape)
        check_output_size(shape, info.dtype, limit, opened.name)
        locate_frames(decoder, indices)
        array = allocate(shape, info.dtype, opened.name)
        for position, index in enumerate(indices):
            decoder.decode_into(index, array[position])
        stored_pi = info.photometric_interpretation
        description = PixelDescription(
            transfer_syntax_uid=opened.syntax.uid,
            dtype=array.dtype.str,
            photometric_interpretation=decoder.photometric_interpretation,
            stored_photometric_interpretation=stored_pi,
            planar_configuration=info.planar_configuration,
            samples_per_pixel=info.samples_per_pixel,
            bits_allocated=info.bits_allocated,
            bits_stored=info.bits_stored,
            high_bit=info.high_bit,
            pixel_representation=info.pixel_representation,
            float_data=info.float_data,
            number_of_frames=info.number_of_frames,
            frames=indices,
        )
    return StoredPixels(array=array, description=description)
