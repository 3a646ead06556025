"""The DICOMweb benchmark runs end to end at smoke sizes against the private Orthanc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks.__main__ import measure, summarise, table
from benchmarks.contenders import CONTENDERS
from benchmarks.data import SMOKE, ensure

pytest.importorskip("dicomweb_client", reason="the dicomweb extra is not installed")


def test_both_contenders_read_the_series_from_orthanc(
    orthanc_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DICOMNP_ORTHANC_URL", orthanc_url)
    folder = ensure(tmp_path, ["dicomweb"], SMOKE)["dicomweb"]
    arrays = {name: make(folder)() for name, make in CONTENDERS["dicomweb"].items()}
    reference = arrays["dicomweb-client+pydicom"]
    assert reference.shape == (SMOKE.codec_slices, SMOKE.size, SMOKE.size)
    # dicomnp's stored values are offset by 2**15 (signed data, rule R2).
    np.testing.assert_array_equal(
        arrays["dicomnp"][..., 0].astype(np.int32) - 32768, reference.astype(np.int32)
    )
    results = {"dicomweb": {name: [measure("dicomweb", name, folder)] for name in arrays}}
    report = {"machine": "test", "date": "today", "sizes": "smoke", "results": results}
    assert all("ratio" in row for row in summarise(report))
    assert "| dicomweb | dicomweb-client+pydicom |" in table(report)


def test_without_a_server_the_contenders_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DICOMNP_ORTHANC_URL", raising=False)
    folder = ensure(tmp_path, ["dicomweb"], SMOKE)["dicomweb"]
    result = measure("dicomweb", "dicomnp", folder)
    assert "DICOMNP_ORTHANC_URL" in result["unavailable"]
