"""Run the benchmark: ``python -m benchmarks [--quick] [--data DIR] [--repeat N]``.

Each measurement runs in a fresh process, so that peak resident memory is the
contender's own, and repetitions are interleaved across contenders so that
drifts in machine load hit all of them alike. A job that takes under five
seconds is timed on its second call in that process, every contender's alike:
its first call would mostly measure one-off costs (first use of pydicom's
dictionaries and of NumPy's code paths, a server's first reply), not the
work; the bound is high enough that the contenders of one workload are timed
the same way. The table gives medians, the output's MB/s, each time as a
ratio to the reference (dicomnp's, or dcm2niix's for the study), and the peak
resident memory the job added (peak RSS during the job minus RSS before it, or
the peak RSS of the largest process it started, if larger).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .contenders import CONTENDERS, DATA_OF, REFERENCE_OF, Unavailable
from .data import FULL, SMOKE, ensure

WARM_BELOW = 5.0
"""Seconds under which a job is timed on its second call (see the module docstring)."""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(workload: str, contender: str, folder: Path) -> dict[str, Any]:
    """Prepare and time one job in this process."""
    try:
        job = CONTENDERS[workload][contender](folder)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    before = _rss_bytes()
    start = time.perf_counter()
    result = job()
    seconds = time.perf_counter() - start
    if seconds < WARM_BELOW:
        del result
        start = time.perf_counter()
        result = job()
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # a program run as a subprocess (dcm2niix), or worker processes: the largest of them
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    nbytes = getattr(result, "nbytes", None)
    if nbytes is None and isinstance(result, list):
        nbytes = sum(len(item) for item in result)
    return {
        "seconds": seconds,
        "added_peak_rss": max(0, peak - before, children),
        "output_bytes": int(nbytes or 0),
        "shape": list(getattr(result, "shape", ()) or ()),
    }


def _child(workload: str, contender: str, folder: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks", "--child", workload, contender, str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(names: list[str], root: Path, repeat: int, quick: bool) -> dict[str, Any]:
    folders = ensure(root, sorted({DATA_OF.get(name, name) for name in names}),
                     SMOKE if quick else FULL)  # fmt: skip
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    rng = random.Random(0)
    for name in names:
        folder = folders[DATA_OF.get(name, name)]
        contenders = list(CONTENDERS[name])
        runs: dict[str, list[dict[str, Any]]] = {contender: [] for contender in contenders}
        for _ in range(repeat):
            rng.shuffle(contenders)
            for contender in contenders:
                runs[contender].append(_child(name, contender, folder))
        results[name] = runs
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "sizes": "smoke" if quick else "full",
        "results": results,
    }


def summarise(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per workload and contender, with medians and ratios to the reference.

    The reference is ``dicomnp``, or the workload's entry of ``REFERENCE_OF``
    (``dcm2niix`` for study-scale conversion).
    """
    rows = []
    for workload, runs in report["results"].items():
        medians: dict[str, float] = {}
        for contender, measured in runs.items():
            times = [run["seconds"] for run in measured if "seconds" in run]
            if times:
                medians[contender] = statistics.median(times)
        reference = medians.get(REFERENCE_OF.get(workload, "dicomnp"))
        for contender, measured in runs.items():
            good = [run for run in measured if "seconds" in run]
            row: dict[str, Any] = {"workload": workload, "contender": contender}
            if not good:
                problem = measured[0] if measured else {}
                row["note"] = problem.get("unavailable") or problem.get("error") or "no run"
            else:
                median = medians[contender]
                row.update(
                    seconds=median,
                    mb_per_s=good[0]["output_bytes"] / median / 1e6 if median else 0.0,
                    ratio=median / reference if reference else None,
                    added_peak_rss_mib=max(run["added_peak_rss"] for run in good) / 2**20,
                    output_mib=good[0]["output_bytes"] / 2**20,
                )
            rows.append(row)
    return rows


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{report['machine']}, {report['date']}, {report['sizes']} sizes",
        "",
        "| workload | contender | median s | MB/s | time / reference | added peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in summarise(report):
        if "note" in row:
            lines.append(f"| {row['workload']} | {row['contender']} | - | - | - | {row['note']} |")
            continue
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"| {row['workload']} | {row['contender']} | {row['seconds']:.4f} | "
            f"{row['mb_per_s']:.0f} | {ratio} | {row['added_peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--data", type=Path, help="where workloads are made and kept")
    parser.add_argument("--repeat", type=int, default=5, help="runs per contender (median)")
    parser.add_argument("--workloads", nargs="*", default=None, help="subset of workloads")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "CONTENDER", "FOLDER"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.child:
        workload, contender, folder = args.child
        print(json.dumps(measure(workload, contender, Path(folder))))
        return 0
    names = args.workloads or list(CONTENDERS)
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown workloads: {', '.join(unknown)}")
    root = args.data or Path(tempfile.gettempdir()) / (
        "dicomnp-bench-smoke" if args.quick else "dicomnp-bench"
    )
    report = run(names, root, 1 if args.quick else args.repeat, args.quick)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
