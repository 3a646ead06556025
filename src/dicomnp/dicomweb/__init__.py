"""DICOMweb: series and instances of a PACS as Volumes and Images, and the rendered media types.

Needs the ``dicomweb`` extra: ``pip install "dicomnp[dicomweb]"``.

:func:`find_series` searches (QIDO-RS); :func:`plan_series` plans a series
from its metadata alone; :func:`combine_series` and :func:`read` fetch the
frames they need (WADO-RS) and render them as :func:`dicomnp.combine_series`
and :func:`dicomnp.read` do. :class:`Connection` holds the base URL and the
caller's session or headers. The server side is :mod:`dicomnp.server`.
"""

from .connection import Connection
from .reading import (
    RemoteInstance,
    RemoteSeriesPlan,
    SeriesInfo,
    combine_series,
    find_series,
    plan_series,
    read,
)

__all__ = [
    "Connection",
    "RemoteInstance",
    "RemoteSeriesPlan",
    "SeriesInfo",
    "combine_series",
    "find_series",
    "plan_series",
    "read",
]
