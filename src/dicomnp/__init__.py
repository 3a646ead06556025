"""dicomnp: DICOM pixel data to NumPy arrays that mean the same thing whatever wrote them."""

import logging

from ._api import iter_frames, read, to_array
from .decode import PixelDescription, StoredPixels, decode_pixels
from .errors import (
    CorruptEncapsulationError,
    CorruptPixelDataError,
    DicomNumpyError,
    DuplicateSliceError,
    FrameIndexError,
    GeometryError,
    InconsistentSeriesError,
    InvalidLutError,
    InvalidOptionError,
    InvalidPixelMetadataError,
    LossyDataError,
    MissingCodecError,
    MissingSliceError,
    MultipleVolumesError,
    NoPixelDataError,
    NotDicomError,
    SeriesError,
    ShearedStackError,
    TruncatedPixelDataError,
    UnsupportedPixelDataError,
    UnsupportedTransferSyntaxError,
)
from .normalize import Image, to_npy
from .volume import (
    SeriesCatalog,
    Stack,
    Volume,
    combine_series,
    combine_slices,
    find_series,
    sort_by_slice_position,
)

__version__ = "0.1.0"

__all__ = [
    "CorruptEncapsulationError",
    "CorruptPixelDataError",
    "DicomNumpyError",
    "DuplicateSliceError",
    "FrameIndexError",
    "GeometryError",
    "Image",
    "InconsistentSeriesError",
    "InvalidLutError",
    "InvalidOptionError",
    "InvalidPixelMetadataError",
    "LossyDataError",
    "MissingCodecError",
    "MissingSliceError",
    "MultipleVolumesError",
    "NoPixelDataError",
    "NotDicomError",
    "PixelDescription",
    "SeriesCatalog",
    "SeriesError",
    "ShearedStackError",
    "Stack",
    "StoredPixels",
    "TruncatedPixelDataError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
    "Volume",
    "__version__",
    "combine_series",
    "combine_slices",
    "decode_pixels",
    "find_series",
    "iter_frames",
    "read",
    "sort_by_slice_position",
    "to_array",
    "to_npy",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
