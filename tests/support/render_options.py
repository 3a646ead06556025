"""The rendering options the tests run a series through, as pytest parameters."""

from __future__ import annotations

import pytest

OPTIONS = [
    pytest.param({}, id="stored"),
    pytest.param({"values": "modality"}, id="modality"),
    pytest.param({"values": "display"}, id="display"),
    pytest.param({"padding": "mask"}, id="mask"),
]
"""Keyword arguments of ``RenderOptions.create``: each value mode, and a padding mask."""
