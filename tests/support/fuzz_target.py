"""A coverage-guided fuzz target (atheris, libFuzzer): dicomnp against pydicom.

Two targets, each one of the checks of :mod:`support.differential`:

``walker``
    The header walked in memory against pydicom's reading of it.
``read``
    ``dicomnp.read(bytes)`` against ``dicomnp.read(pydicom.dcmread(bytes))``.

dicomnp is instrumented, so libFuzzer keeps the inputs that reach new code.
The starting corpus is the fuzz seeds of :mod:`support.fuzz` (files built in
memory, and the small corpus files when the corpus is present) with the
crafted headers of :mod:`support.hostile`. An input
that gives a value pydicom does not give (:class:`~support.differential.Mismatch`)
or an exception that is not a dicomnp error
(:class:`~support.differential.Foreign`) stops the run with the input saved
as ``crash-*``; one running past ``-timeout`` seconds stops it as a hang.

The long run (``pip install atheris``; any libFuzzer flag may follow the
target)::

    PYTHONPATH=tests python -m support.fuzz_target walker -runs=1000000
    PYTHONPATH=tests python -m support.fuzz_target read -runs=200000

A run that ends with ``Done N runs`` had no mismatch, no foreign exception
and no hang in ``N`` executions; the counts of what the executions did are
printed every ``--every`` executions and at the end. The test suite runs a
few thousand executions of each (``tests/robustness/test_differential.py``).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["dicomnp"]):
    import dicomnp._api  # dicomnp imports its modules lazily: these are the ones used
    import dicomnp.decode
    import dicomnp.normalize  # noqa: F401
    from support import differential

from support.fuzz import seeds
from support.hostile import delimiter_spelling_a_long_vr

CHECKS: dict[str, Callable[[bytes], str]] = {
    "walker": differential.check_walker,
    "read": differential.check_read,
}


def seed_files(folder: Path) -> int:
    """Write the starting corpus into ``folder``; return how many files."""
    count = 0
    files = [data for seed in seeds() for data in seed.files]
    files.append(delimiter_spelling_a_long_vr())
    for index, data in enumerate(files):
        (folder / f"seed{index:04d}.dcm").write_bytes(data)
        count += 1
    return count


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m support.fuzz_target", description=__doc__)
    parser.add_argument("target", choices=sorted(CHECKS))
    parser.add_argument("--every", type=int, default=100_000, help="print counts this often")
    parser.add_argument("--corpus", type=Path, help="keep the growing corpus here")
    args, libfuzzer = parser.parse_known_args(arguments)
    check = CHECKS[args.target]
    counts: collections.Counter[str] = collections.Counter()

    def report() -> None:
        total = sum(counts.values())
        listed = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
        print(f"#{total} {args.target} executions: {listed}", file=sys.stderr, flush=True)

    def one_input(data: bytes) -> None:
        counts[check(data)] += 1
        if sum(counts.values()) % args.every == 0:
            report()

    corpus = args.corpus
    if corpus is None:
        corpus = Path(tempfile.mkdtemp(prefix=f"dicomnp-fuzz-{args.target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        seed_files(corpus)
    flags = [f for f in libfuzzer if f.startswith("-")]
    if not any(f.startswith("-timeout=") for f in flags):
        flags.append("-timeout=30")
    if not any(f.startswith("-rss_limit_mb=") for f in flags):
        flags.append("-rss_limit_mb=3000")
    if not any(f.startswith("-max_len=") for f in flags):
        flags.append("-max_len=70000")
    import atexit

    atexit.register(report)
    atheris.Setup([sys.argv[0], *flags, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    tests = str(Path(__file__).resolve().parents[1])
    if tests not in sys.path:
        sys.path.insert(0, tests)
    main()
