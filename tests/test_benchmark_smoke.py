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


def test_study_workload_scans_and_converts_at_smoke_sizes(tmp_path: Path) -> None:
    folders = ensure(tmp_path, ["study"], SMOKE)
    series = sorted(path for path in folders["study"].iterdir() if path.is_dir())
    assert len(series) == SMOKE.study_series
    assert all(len(list(path.glob("*.dcm"))) == SMOKE.study_files for path in series)
    sizes = [path.stat().st_size for path in folders["study"].rglob("*.dcm")]
    assert min(sizes) > 20_000  # the vendor private headers are tens of KB
    names = ["dicomnp find_series", "dicomnp info", "dicomnp convert", "pydicom stop_before_pixels"]
    results = {"study": {name: [measure("study", name, folders["study"])] for name in names}}
    for name in names:
        assert "seconds" in results["study"][name][0], results["study"][name][0]
    report = {"machine": "test", "date": "today", "sizes": "smoke", "results": results}
    rows = {row["contender"]: row for row in summarise(report)}
    assert rows["dicomnp info"]["ratio"] is None  # time is given relative to dcm2niix
    assert "| study | dicomnp convert |" in table(report)
