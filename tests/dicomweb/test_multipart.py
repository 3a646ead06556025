"""Parsing multipart/related answers and the transfer syntax of each part, on built bodies."""

from __future__ import annotations

import pytest

from dicomnp.dicomweb.media import syntax_of_part
from dicomnp.dicomweb.multipart import split_multipart


def _body(parts: list[tuple[str | None, bytes]], boundary: str = "XyZ") -> bytes:
    chunks = []
    for content_type, body in parts:
        header = f"Content-Type: {content_type}\r\n" if content_type else ""
        chunks.append(f"--{boundary}\r\n{header}\r\n".encode() + body + b"\r\n")
    return b"preamble\r\n" + b"".join(chunks) + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize(
    "bodies",
    [
        [b"abc"],
        [b"", b"\r\n\r\n- -XyZ\r\n", b"\x00\xff" * 1000],
        [b"--XyZ", b"x"],  # the boundary inside a body, not at a line start
    ],
)
def test_the_parts_come_back_as_sent(bodies: list[bytes]) -> None:
    body = _body([("image/jp2", item) for item in bodies])
    parts = split_multipart(body, "XyZ")
    assert [bytes(part.body) for part in parts] == bodies
    assert {part.content_type for part in parts} == {"image/jp2"}


def test_a_part_without_headers_has_an_empty_content_type() -> None:
    (part,) = split_multipart(_body([(None, b"raw")]), "XyZ")
    assert part.content_type == ""
    assert bytes(part.body) == b"raw"


@pytest.mark.parametrize(
    "body",
    [b"no delimiter here", b"--XyZ\r\nContent-Type: a/b\r\n\r\nbody without end"],
)
def test_a_malformed_body_raises(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"part|delimit"):
        split_multipart(body, "XyZ")


@pytest.mark.parametrize(
    ("part", "response", "expected"),
    [
        ("image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90", "", "1.2.840.10008.1.2.4.90"),
        ("image/jp2", "", "1.2.840.10008.1.2.4.90"),
        ("image/dicom-rle", "", "1.2.840.10008.1.2.5"),
        ("image/jls", "", "1.2.840.10008.1.2.4.80"),
        ("application/octet-stream", "", "1.2.840.10008.1.2.1"),
        (
            "",
            'multipart/related; type="image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.70"; '
            "boundary=b",
            "1.2.840.10008.1.2.4.70",
        ),
        ("text/plain", "", None),
    ],
)
def test_the_syntax_of_a_part(part: str, response: str, expected: str | None) -> None:
    assert syntax_of_part(part, response) == expected
