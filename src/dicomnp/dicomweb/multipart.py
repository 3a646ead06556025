"""Reading ``multipart/related`` bodies, keeping each part's Content-Type.

DICOMweb answers a frame request with a ``multipart/related`` body, one part
per frame, and says in each part's Content-Type which transfer syntax the
part holds. dicomweb-client joins the parts and drops their headers, so this
module parses the body itself (RFC 2046): the parts are found by their
delimiter line and returned as views of the body, not copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

__all__ = ["Part", "content_type", "split_multipart"]


@dataclass(frozen=True)
class Part:
    """One body part: its headers (names lower-cased) and its bytes."""

    headers: dict[str, str]
    body: memoryview

    @property
    def content_type(self) -> str:
        """The part's Content-Type header ("" when it has none)."""
        return self.headers.get("content-type", "")


def content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type value into its media type (lower case) and parameters.

    Examples
    --------
    >>> content_type('multipart/related; type="image/jp2"; boundary=abc')
    ('multipart/related', {'type': 'image/jp2', 'boundary': 'abc'})
    """
    message = Message()
    message["content-type"] = value
    params = message.get_params() or []
    media = message.get_content_type()
    return media, {str(name).lower(): str(item) for name, item in params[1:]}


def split_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a ``multipart/related`` body delimited by ``boundary``.

    Raises
    ------
    ValueError
        The body does not start with the delimiter, or a part has no
        header/body separator.

    Examples
    --------
    >>> body = b"--b\\r\\nContent-Type: image/jp2\\r\\n\\r\\nabc\\r\\n--b--\\r\\n"
    >>> [(part.content_type, bytes(part.body)) for part in split_multipart(body, "b")]
    [('image/jp2', b'abc')]
    """
    view = memoryview(body)
    delimiter = b"--" + boundary.encode("ascii")
    start = body.find(delimiter)
    if start < 0:
        raise ValueError(f"the body holds no part delimited by {boundary!r}")
    parts: list[Part] = []
    position = start + len(delimiter)
    following = b"\r\n" + delimiter
    while True:
        if body.startswith(b"--", position):
            return parts  # the close delimiter
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise ValueError("a part delimiter is not followed by a line break")
        header_end = body.find(b"\r\n\r\n", line_end)
        if header_end < 0:
            raise ValueError("a part has no blank line between its headers and its body")
        headers: dict[str, str] = {}
        for line in body[line_end + 2 : header_end].split(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        body_start = header_end + 4
        end = body.find(following, body_start)
        if end < 0:
            raise ValueError("the body ends inside a part (no closing delimiter)")
        parts.append(Part(headers=headers, body=view[body_start:end]))
        position = end + len(following)
