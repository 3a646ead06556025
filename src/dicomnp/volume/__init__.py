"""The volume layer: slices and frames to a Volume whose geometry can be trusted.

Headers are read once without pixel bytes (:mod:`.reading`, into the records
of :mod:`.headers` and :mod:`.enhanced`), grouped (:mod:`.series`), checked
(:mod:`.consistency`, :mod:`.geometry`), then each slice is decoded into its
place in one preallocated array (:mod:`.volume`). :mod:`.compat` is a drop-in
for dicom_numpy.
"""

from .compat import combine_slices, sort_by_instance_number, sort_by_slice_position
from .series import Series, SeriesCatalog, Stack, find_series
from .volume import Volume, VolumeHeader, combine_series

__all__ = [
    "Series",
    "SeriesCatalog",
    "Stack",
    "Volume",
    "VolumeHeader",
    "combine_series",
    "combine_slices",
    "find_series",
    "sort_by_instance_number",
    "sort_by_slice_position",
]
