"""dicomnp reads what pydicom reads: the differential fuzz checks, a short run.

:mod:`support.differential` compares the header walked in memory with
pydicom's reading, and ``read(bytes)`` with ``read(pydicom Dataset)``. Here
both checks run on mutated fuzz seeds (Hypothesis, the same cases each run)
and, when atheris is installed, under a few thousand executions of the
coverage-guided target.
The long run is described in :mod:`support.fuzz_target`.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import differential
from support.fuzz import mutate, seeds
from support.hostile import delimiter_spelling_a_long_vr

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SEEDS = [data for seed in seeds(corpus=False) for data in seed.files]
SEEDS.append(delimiter_spelling_a_long_vr())
TESTS = Path(__file__).resolve().parents[1]


def _mutated(index: int, seed: int, rounds: int) -> bytes:
    rng = random.Random(seed)
    data = SEEDS[index]
    for _ in range(rounds):
        if not data:
            break
        data, _ = mutate(data, rng)
    return data


@pytest.mark.parametrize("data", SEEDS[-1:] + SEEDS[:3], ids=lambda data: f"{len(data)}B")
def test_the_seeds_read_as_pydicom_reads_them(data: bytes) -> None:
    assert differential.check_walker(data) == "walked"
    assert differential.check_read(data) == "same"


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(
    index=st.integers(0, len(SEEDS) - 1),
    seed=st.integers(0, 2**32 - 1),
    rounds=st.integers(1, 3),
)
def test_mutated_headers_walk_as_pydicom_reads_them(index: int, seed: int, rounds: int) -> None:
    differential.check_walker(_mutated(index, seed, rounds))


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(
    index=st.integers(0, len(SEEDS) - 1),
    seed=st.integers(0, 2**32 - 1),
    rounds=st.integers(1, 2),
)
def test_mutated_files_read_from_bytes_as_from_pydicoms_dataset(
    index: int, seed: int, rounds: int
) -> None:
    differential.check_read(_mutated(index, seed, rounds))


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install atheris; the fuzz extra)",
)
@pytest.mark.parametrize(
    ("target", "runs"),
    [("walker", 3000), ("read", 1000)],
)
def test_a_short_coverage_guided_run_finds_no_mismatch(
    target: str, runs: int, tmp_path: Path
) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "support.fuzz_target",
            target,
            "--corpus",
            str(tmp_path / "corpus"),
            f"-runs={runs}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    finished = re.search(r"^Done (\d+) runs", done.stderr, re.MULTILINE)
    assert finished is not None, done.stderr[-4000:]
    assert int(finished.group(1)) >= runs  # libFuzzer may count its seed inputs too
