"""The ASGI app: the ``series/numpy`` and ``image/numpy`` rendered resources (Starlette).

Routes, below any prefix the app is mounted at::

    GET /studies/{study}/series/{series}/rendered                  Accept: series/numpy
    GET /studies/{study}/series/{series}/instances/{i}/rendered     Accept: image/numpy
    GET /studies/{study}/series/{series}/instances/{i}/frames/{f}/rendered
    ... and each one's JSON header at ``.../rendered/header``

A rendered body is the array in NPY format (``numpy.load`` reads it); its
header is at the sibling URL that the ``Link`` header names
(``rel="describedby"``). Query parameters are the reading options
(:mod:`.query`). Statuses: 400 for a bad option, 404 for what is not
there, 406 for an unacceptable ``Accept`` or lossy data without
``allow_lossy=true`` (the body is the LossyDataError text), 422 for data
that cannot be rendered, 502 when the proxied origin fails.
"""

from __future__ import annotations

import os
from typing import Any

from .._writer import header_json
from ..errors import DicomNumpyError, DicomwebError, InvalidOptionError
from ..normalize.image import to_npy
from .backends import Backend, NotFound, backend_for
from .query import frame_numbers, options_of

__all__ = ["IMAGE_NUMPY", "SERIES_NUMPY", "create_app"]

SERIES_NUMPY = "series/numpy"
IMAGE_NUMPY = "image/numpy"


def _accepts(accept: str, media: str) -> bool:
    """Whether an Accept header admits ``media`` (absent, ``*/*`` and ``type/*`` do)."""
    if not accept.strip():
        return True
    kind = media.split("/")[0]
    for item in accept.split(","):
        name = item.split(";")[0].strip().lower()
        if name in (media, "*/*", f"{kind}/*"):
            return True
    return False


def _status(error: Exception) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidOptionError):
        return 400
    if isinstance(error, DicomwebError):
        return 404 if error.status == 404 else 502
    status = getattr(error, "http_status", None)
    if isinstance(status, int):
        return status  # LossyDataError, UnsupportedTransferSyntaxError: 406
    return 422


def create_app(source: str | os.PathLike[str] | Backend) -> Any:
    """The ASGI app serving ``source``: a folder, a DICOMweb base URL, or a backend.

    A folder is walked once, by :func:`dicomnp.find_series`; a URL is
    proxied, each request fetching what it renders from the origin.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> folder = tempfile.mkdtemp()
    >>> files = write_ct_series(folder, slices=3, rows=8, columns=8)
    >>> type(create_app(folder)).__name__
    'Starlette'
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    backend: Backend = backend_for(source) if isinstance(source, (str, os.PathLike)) else source

    def failure(error: Exception) -> Response:
        return PlainTextResponse(str(error) + "\n", status_code=_status(error))

    async def render(request: Request, header: bool) -> Response:
        params = request.path_params
        instance = params.get("instance")
        media = SERIES_NUMPY if instance is None else IMAGE_NUMPY
        if not header and not _accepts(request.headers.get("accept", ""), media):
            return PlainTextResponse(
                f"this resource is served as {media}; the request accepts only "
                f"{request.headers.get('accept')}\n",
                status_code=406,
            )
        try:
            options = options_of(dict(request.query_params), instance=instance is not None)
            if "frame_list" in params:
                if "frames" in options:
                    raise InvalidOptionError("frames are named by the path; no frames= with them")
                options["frames"] = frame_numbers(params["frame_list"])
            array: Any
            if instance is None:
                volume = await run_in_threadpool(
                    backend.volume, params["study"], params["series"], options
                )
                document = {**volume.header.as_dict(), "affine": volume.affine.tolist()}
                array = volume.array
            else:
                image = await run_in_threadpool(
                    backend.image, params["study"], params["series"], instance, options
                )
                document = dict(image.header)
                array = image.array
        except (DicomNumpyError, NotFound) as error:
            return failure(error)
        if header:
            document["media_type"] = media
            return Response(header_json(document), media_type="application/json")
        target = f"{request.url.path}/header{_query(request)}"
        link = f'<{target}>; rel="describedby"; type="application/json"'
        body = await run_in_threadpool(to_npy, array)
        return Response(body, media_type=media, headers={"Link": link})

    async def rendered(request: Request) -> Response:
        return await render(request, header=False)

    async def described(request: Request) -> Response:
        return await render(request, header=True)

    base = "/studies/{study}/series/{series}"
    routes = []
    for path in (
        base,
        base + "/instances/{instance}",
        base + "/instances/{instance}/frames/{frame_list}",
    ):
        routes.append(Route(path + "/rendered", rendered, methods=["GET"]))
        routes.append(Route(path + "/rendered/header", described, methods=["GET"]))
    return Starlette(routes=routes)


def _query(request: Any) -> str:
    text = str(request.url.query)
    return f"?{text}" if text else ""
