"""dicomnp: DICOM pixel data to NumPy arrays that mean the same thing whatever wrote them.

Importing dicomnp is cheap: pydicom, NumPy and the codec packages load when a
function that needs them is first used (PEP 562 module attributes).
"""

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .errors import (
    CorruptEncapsulationError,
    CorruptPixelDataError,
    DicomImportException,
    DicomNumpyError,
    DicomwebError,
    DuplicateSliceError,
    FrameIndexError,
    GeometryError,
    InconsistentSeriesError,
    InvalidLutError,
    InvalidOptionError,
    InvalidPixelMetadataError,
    LossyDataError,
    MissingCodecError,
    MissingDependencyError,
    MissingInstanceNumberException,
    MissingSliceError,
    MultipleVolumesError,
    NoPixelDataError,
    NotDicomError,
    OutputTooLargeError,
    SeriesError,
    ShearedStackError,
    SourceNotFoundError,
    TruncatedPixelDataError,
    UnsupportedPixelDataError,
    UnsupportedTransferSyntaxError,
)

if TYPE_CHECKING:
    from ._api import iter_frames, read, to_array
    from .batch import BatchReport, convert_tree
    from .dask_io import LazyImage, LazyVolume, combine_series_dask, read_dask
    from .decode import PixelDescription, StoredPixels, decode_pixels
    from .normalize import Image, to_npy
    from .volume import (
        SeriesCatalog,
        Stack,
        Volume,
        Volume4D,
        combine_series,
        combine_slices,
        combine_volumes,
        find_series,
        sort_by_instance_number,
        sort_by_slice_position,
    )

_LAZY = {
    "iter_frames": "._api",
    "read": "._api",
    "to_array": "._api",
    "PixelDescription": ".decode",
    "StoredPixels": ".decode",
    "decode_pixels": ".decode",
    "Image": ".normalize",
    "to_npy": ".normalize",
    "SeriesCatalog": ".volume",
    "Stack": ".volume",
    "Volume": ".volume",
    "Volume4D": ".volume",
    "combine_series": ".volume",
    "combine_slices": ".volume",
    "combine_volumes": ".volume",
    "find_series": ".volume",
    "sort_by_instance_number": ".volume",
    "sort_by_slice_position": ".volume",
    "LazyImage": ".dask_io",
    "LazyVolume": ".dask_io",
    "combine_series_dask": ".dask_io",
    "read_dask": ".dask_io",
    "BatchReport": ".batch",
    "convert_tree": ".batch",
}
"""Public names loaded on first access, and the module that defines each."""

__version__ = "0.1.0"

__all__ = [
    "BatchReport",
    "CorruptEncapsulationError",
    "CorruptPixelDataError",
    "DicomImportException",
    "DicomNumpyError",
    "DicomwebError",
    "DuplicateSliceError",
    "FrameIndexError",
    "GeometryError",
    "Image",
    "InconsistentSeriesError",
    "InvalidLutError",
    "InvalidOptionError",
    "InvalidPixelMetadataError",
    "LazyImage",
    "LazyVolume",
    "LossyDataError",
    "MissingCodecError",
    "MissingDependencyError",
    "MissingInstanceNumberException",
    "MissingSliceError",
    "MultipleVolumesError",
    "NoPixelDataError",
    "NotDicomError",
    "OutputTooLargeError",
    "PixelDescription",
    "SeriesCatalog",
    "SeriesError",
    "ShearedStackError",
    "SourceNotFoundError",
    "Stack",
    "StoredPixels",
    "TruncatedPixelDataError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
    "Volume",
    "Volume4D",
    "__version__",
    "combine_series",
    "combine_series_dask",
    "combine_slices",
    "combine_volumes",
    "convert_tree",
    "decode_pixels",
    "find_series",
    "iter_frames",
    "read",
    "read_dask",
    "sort_by_instance_number",
    "sort_by_slice_position",
    "to_array",
    "to_npy",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dicomnp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups bypass this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


logging.getLogger(__name__).addHandler(logging.NullHandler())
