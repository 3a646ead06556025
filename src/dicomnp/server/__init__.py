"""Serving the ``series/numpy`` and ``image/numpy`` rendered media types over HTTP.

Needs the ``dicomweb`` extra (Starlette, and uvicorn for ``dicomnp serve``).
:func:`create_app` returns an ASGI app serving a folder or proxying a
DICOMweb origin; see the DICOMweb page of the documentation for the profile.
"""

from .app import IMAGE_NUMPY, SERIES_NUMPY, create_app
from .running import serve, serving

__all__ = ["IMAGE_NUMPY", "SERIES_NUMPY", "create_app", "serve", "serving"]
