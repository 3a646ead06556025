"""The benchmark runs end to end at tiny sizes (timings are not checked here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.__main__ import measure, summarise, table
from benchmarks.data import SMOKE, ensure


def test_benchmark_measures_and_tabulates_at_smoke_sizes(tmp_path: Path) -> None:
    folders = ensure(tmp_path, ["ct", "mf"], SMOKE)
    assert len(list(folders["ct"].glob("*.dcm"))) == SMOKE.ct_slices
    results = {
        "ct": {
            name: [measure("ct", name, folders["ct"])]
            for name in ("pydicom", "read files (limit)", "readinto pixels (limit)")
        },
        "mf": {name: [measure("mf", name, folders["mf"])] for name in ("pydicom",)},
    }
    report = {"machine": "test", "date": "today", "sizes": "smoke", "results": results}
    rows = summarise(report)
    assert {row["contender"] for row in rows} >= {"pydicom", "readinto pixels (limit)"}
    pixel_bytes = SMOKE.ct_slices * SMOKE.size**2 * 2
    readinto = results["ct"]["readinto pixels (limit)"][0]
    assert readinto["output_bytes"] == pixel_bytes
    assert results["ct"]["pydicom"][0]["shape"] == [SMOKE.ct_slices, SMOKE.size, SMOKE.size]
    assert "| ct | pydicom |" in table(report)


def test_benchmark_workloads_are_reused_once_made(tmp_path: Path) -> None:
    ensure(tmp_path, ["mf"], SMOKE)
    marker = tmp_path / "mf" / ".complete"
    first = marker.stat().st_mtime_ns
    ensure(tmp_path, ["mf"], SMOKE)
    assert marker.stat().st_mtime_ns == first
    with pytest.raises(KeyError):
        ensure(tmp_path, ["nonexistent"], SMOKE)
