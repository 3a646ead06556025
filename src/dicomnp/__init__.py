"""dicomnp: DICOM pixel data to NumPy arrays that mean the same thing whatever wrote them."""

import logging

from .decode import PixelDescription, StoredPixels, decode_pixels
from .errors import (
    CorruptEncapsulationError,
    CorruptPixelDataError,
    DicomNumpyError,
    FrameIndexError,
    InvalidPixelMetadataError,
    LossyDataError,
    MissingCodecError,
    NoPixelDataError,
    NotDicomError,
    TruncatedPixelDataError,
    UnsupportedPixelDataError,
    UnsupportedTransferSyntaxError,
)

__version__ = "0.1.0"

__all__ = [
    "CorruptEncapsulationError",
    "CorruptPixelDataError",
    "DicomNumpyError",
    "FrameIndexError",
    "InvalidPixelMetadataError",
    "LossyDataError",
    "MissingCodecError",
    "NoPixelDataError",
    "NotDicomError",
    "PixelDescription",
    "StoredPixels",
    "TruncatedPixelDataError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
    "__version__",
    "decode_pixels",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
