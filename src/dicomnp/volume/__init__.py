"""The volume layer: slices and frames to a Volume whose geometry can be trusted.

Headers are read once without pixel bytes (:mod:`.reading`, into the records
of :mod:`.headers` and :mod:`.enhanced`), grouped (:mod:`.series`), checked
(:mod:`.consistency`, :mod:`.geometry`), then each slice is decoded into its
place in one preallocated array (:mod:`.volume`). Siemens mosaics are cut
into slices (:mod:`.mosaic`, :mod:`.csa`); volumes sharing positions are told
apart (:mod:`.grouping`) and stacked as one 4D array (:mod:`.volumes`). :mod:`.compat` is a drop-in
for dicom_numpy.
"""

from .compat import combine_slices, sort_by_instance_number, sort_by_slice_position
from .series import Series, SeriesCatalog, Stack, find_series
from .volume import Volume, VolumeHeader, combine_series
from .volumes import Volume4D, Volume4DHeader, combine_volumes

__all__ = [
    "Series",
    "SeriesCatalog",
    "Stack",
    "Volume",
    "Volume4D",
    "Volume4DHeader",
    "VolumeHeader",
    "combine_series",
    "combine_slices",
    "combine_volumes",
    "find_series",
    "sort_by_instance_number",
    "sort_by_slice_position",
]
