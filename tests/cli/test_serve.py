"""``dicomnp serve``: its arguments, and a clear error for a source it cannot serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomnp.cli import build_parser, main


def test_serve_listens_on_loopback_by_default() -> None:
    args = build_parser().parse_args(["serve", "folder"])
    assert (args.source, args.host, args.port) == ("folder", "127.0.0.1", 8000)


def test_serving_what_is_neither_folder_nor_url_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("uvicorn", reason="the dicomweb extra is not installed")
    missing = tmp_path / "absent"
    assert main(["serve", str(missing), "--port", "1"]) != 0
    assert "is neither a folder nor an http(s) URL" in capsys.readouterr().err
