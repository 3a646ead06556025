"""One DICOMweb origin: its base URL, the caller's session or headers, and the requests made.

QIDO-RS searches and WADO-RS metadata go through dicomweb-client, which
does them well. Frames are fetched here: dicomweb-client drops each part's
Content-Type, without which a frame asked for as stored
(``transfer-syntax=*``) cannot be decoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._syntaxes import lookup
from ..errors import DicomwebError, MissingDependencyError
from .media import ACCEPT_NATIVE, ACCEPT_STORED, syntax_of_part
from .multipart import Part, content_type, split_multipart

if TYPE_CHECKING:
    import requests

__all__ = ["Answer", "Connection", "FetchedFrames", "connect"]

INSTALL_HINT = 'pip install "dicomnp[dicomweb]"'

_FALL_BACK = frozenset({400, 406, 415, 500, 501})
"""Statuses after which frames asked for as stored are asked for again as native."""


def _requests() -> Any:
    try:
        import requests
    except ImportError as exc:  # pragma: no cover - requests comes with dicomweb-client
        raise MissingDependencyError(
            f"DICOMweb needs requests, which is not installed: {INSTALL_HINT}",
            packages=("requests",),
            extra="dicomweb",
        ) from exc
    return requests


@dataclass(frozen=True)
class Answer:
    """A server's answer, its body read whole."""

    url: str
    status: int
    reason: str
    content_type: str
    body: bytes

    def check(self) -> None:
        """Raise DicomwebError for a 4xx or 5xx status, with the server's words."""
        if self.status >= 400:
            text = self.body[:300].decode("utf-8", "replace").strip().replace("\n", " ")
            raise DicomwebError(
                f"HTTP {self.status} {self.reason}" + (f": {text}" if text else ""),
                url=self.url,
                status=self.status,
            )


@dataclass(frozen=True)
class FetchedFrames:
    """Frames of one instance as the server sent them.

    Attributes
    ----------
    numbers : tuple of int
        The 1-based frame numbers asked for, in order.
    syntax_uid : str
        The transfer syntax every part holds.
    bodies : tuple of bytes-like
        One body per frame number.
    """

    numbers: tuple[int, ...]
    syntax_uid: str
    bodies: tuple[memoryview, ...]


class Connection:
    """A DICOMweb origin and how to reach it.

    Parameters
    ----------
    url : str
        The service's base URL, e.g. ``http://127.0.0.1:8042/dicom-web``.
    session : requests.Session, optional
        A session carrying the caller's authentication (or retries, proxies,
        certificates); a new one otherwise.
    headers : mapping of str to str, optional
        Headers sent with every request, e.g. ``{"Authorization": "Bearer ..."}``.
        With a ``session`` too, dicomweb-client adds them to the session's
        own headers.
    timeout : float
        Seconds to wait for the server on each request.
    """

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        http = _requests()
        self.url = url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout
        if session is None:
            session = http.Session()
            adapter = http.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session: requests.Session = session
        self._client: Any = None

    def client(self) -> Any:
        """A dicomweb-client ``DICOMwebClient`` on the same session and headers."""
        if self._client is None:
            try:
                from dicomweb_client import DICOMwebClient
            except ImportError as exc:
                raise MissingDependencyError(
                    f"DICOMweb needs dicomweb-client, which is not installed: {INSTALL_HINT}",
                    packages=("dicomweb-client",),
                    extra="dicomweb",
                ) from exc
            self._client = DICOMwebClient(
                self.url, session=self.session, headers=self.headers, timeout=self.timeout
            )
        return self._client

    def instance_url(self, study: str, series: str, instance: str) -> str:
        """The WADO-RS URL of one instance."""
        return f"{self.url}/studies/{study}/series/{series}/instances/{instance}"

    def call(self, what: str, url: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a dicomweb-client call, turning its HTTP errors into DicomwebError."""
        http = _requests()
        try:
            return function(*args, **kwargs)
        except http.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise DicomwebError(
                f"{what} failed: HTTP {status} {_reason(exc.response)}", url=url, status=status
            ) from exc
        except http.RequestException as exc:
            raise DicomwebError(f"{what} failed: {exc}", url=url) from exc

    def get(self, url: str, accept: str) -> Answer:
        """GET ``url`` with ``Accept: accept`` and the connection's headers.

        The body is read in one call (requests' ``content`` reads it in
        10 KiB pieces, slow for frames of megabytes).
        """
        http = _requests()
        from urllib3.exceptions import HTTPError as TransportError

        try:
            with self.session.get(
                url, headers={**self.headers, "Accept": accept}, timeout=self.timeout, stream=True
            ) as response:
                body = response.raw.read(decode_content=True)
                return Answer(
                    url=url,
                    status=response.status_code,
                    reason=str(response.reason),
                    content_type=response.headers.get("Content-Type", ""),
                    body=body,
                )
        except (http.RequestException, TransportError) as exc:
            raise DicomwebError(f"the request failed: {exc}", url=url) from exc

    def frames(self, instance_url: str, numbers: Sequence[int]) -> FetchedFrames:
        """Fetch frames ``numbers`` (1-based) of one instance, as stored where possible.

        Asks for the stored transfer syntax (``transfer-syntax=*``) and reads
        each part's Content-Type; when the server refuses, or sends a syntax
        that names none dicomnp knows, asks again for Explicit VR Little
        Endian.

        Raises
        ------
        DicomwebError
            The server refused both, or sent other than one part per frame
            of one syntax.
        """
        url = f"{instance_url}/frames/{','.join(str(n) for n in numbers)}"
        response = self.get(url, ACCEPT_STORED)
        if response.status in _FALL_BACK:
            response = self.get(url, ACCEPT_NATIVE)
        fetched = _frames_of(response, tuple(numbers))
        if fetched is None:
            fetched = _frames_of(self.get(url, ACCEPT_NATIVE), tuple(numbers))
        if fetched is None:
            raise DicomwebError(
                "the frames came in a transfer syntax dicomnp does not know, even when "
                "asked for Explicit VR Little Endian",
                url=url,
            )
        return fetched

    def bulk(self, url: str) -> bytes:
        """The value of a bulk data element, from its BulkDataURI."""
        response = self.get(url, 'multipart/related; type="application/octet-stream"')
        response.check()
        parts = _parts(response)
        return b"".join(bytes(part.body) for part in parts)


def connect(
    url: str | Connection,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
) -> Connection:
    """``url`` as a Connection (a Connection is returned as it is)."""
    if isinstance(url, Connection):
        return url
    return Connection(url, session=session, headers=headers)


def _reason(response: Any) -> str:
    if response is None:
        return ""
    text = response.text.strip().replace("\n", " ")
    return f"{response.reason}: {text[:300]}" if text else str(response.reason)


def _parts(response: Answer) -> list[Part]:
    url = response.url
    media, params = content_type(response.content_type)
    if media != "multipart/related":
        headers = {"content-type": response.content_type}
        return [Part(headers=headers, body=memoryview(response.body))]
    boundary = params.get("boundary")
    if not boundary:
        raise DicomwebError("a multipart/related answer names no boundary", url=url)
    try:
        return split_multipart(response.body, boundary)
    except ValueError as exc:
        raise DicomwebError(f"the multipart/related answer is malformed: {exc}", url=url) from exc


def _frames_of(response: Answer, numbers: tuple[int, ...]) -> FetchedFrames | None:
    """The frames of a response; None when a part's syntax is unknown to dicomnp."""
    url = response.url
    response.check()
    parts = _parts(response)
    if len(parts) != len(numbers):
        raise DicomwebError(
            f"asked for {len(numbers)} frame(s), the answer holds {len(parts)} part(s)", url=url
        )
    response_type = response.content_type
    syntaxes = {syntax_of_part(part.content_type, response_type) for part in parts}
    if len(syntaxes) != 1:
        raise DicomwebError(
            "the frames of one instance came in different transfer syntaxes: "
            f"{sorted(map(str, syntaxes))}",
            url=url,
        )
    (uid,) = syntaxes
    if uid is None or lookup(uid) is None:
        return None
    return FetchedFrames(numbers=numbers, syntax_uid=uid, bodies=tuple(p.body for p in parts))
