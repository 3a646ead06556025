"""The scheduler: work across processes and threads gives what one thread gives, and cleans up."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

import dicomnp
from dicomnp._execute import (
    FrameJob,
    JobFacts,
    forked_processes,
    map_forked,
    parallel_codec,
    plan_schedule,
    render_job,
    resolve_workers,
    run_on_threads,
    run_tasks,
    start_pool_early,
)
from dicomnp._syntaxes import lookup
from dicomnp._workers import WorkerPool
from dicomnp.errors import WorkerDied
from dicomnp.normalize import RenderOptions
from support.build import image_dataset, to_bytes
from support.encaps_build import encapsulated_dataset, encapsulated_value
from support.processes import child_pids

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

RNG = np.random.default_rng(5)


def _files(folder: Path, count: int) -> tuple[list[str], NDArray[Any]]:
    values = RNG.integers(0, 4095, size=(count, 3, 16, 16), dtype=np.uint16)
    paths = []
    for k in range(count):
        path = folder / f"{k}.dcm"
        ds = image_dataset(
            values[k].tobytes(), rows=16, columns=16, bits_allocated=16, bits_stored=12, frames=3
        )
        path.write_bytes(to_bytes(ds))
        paths.append(str(path))
    return paths, values


def stored_job(path: str, frames: tuple[int, ...]) -> FrameJob:
    """A job rendering stored values of ``frames`` (12-bit unsigned: the stored values)."""
    return FrameJob(path, frames, tuple(range(len(frames))), RenderOptions())


def run_stored(
    tasks: Any, sink: Callable[[int, Any], None], *, workers: int, **functions: Any
) -> None:
    """run_tasks with :func:`render_job` both here and in other processes, frames to the sink."""

    def frames_only(index: int, result: Any) -> None:
        sink(index, result[0] if isinstance(result, tuple) else result)

    functions.setdefault("local", render_job)
    functions.setdefault("remote", render_job)
    run_tasks(tasks, frames_only, workers=workers, **functions)


def stored_frames(task: FrameJob) -> NDArray[Any]:
    return render_job(task)[0]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_task_reaches_the_sink_once_with_its_frames(tmp_path: Path, workers: int) -> None:
    paths, values = _files(tmp_path, 6)
    tasks = [stored_job(path, (2, 0)) for path in paths]
    received: dict[int, NDArray[Any]] = {}

    def sink(index: int, frames: NDArray[Any]) -> None:
        assert index not in received
        received[index] = frames

    run_stored(tasks, sink, workers=workers)
    assert sorted(received) == list(range(6))
    for index, frames in received.items():
        np.testing.assert_array_equal(frames[..., 0], values[index][[2, 0]])


def test_a_failing_task_raises_its_dicomnp_error_and_leaves_no_process(tmp_path: Path) -> None:
    paths, _ = _files(tmp_path, 5)
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(Path(paths[0]).read_bytes()[:-100])
    tasks = [stored_job(path, (0,)) for path in paths] + [stored_job(str(broken), (2,))]
    with pytest.raises(dicomnp.TruncatedPixelDataError) as caught:
        run_stored(tasks, lambda index, frames: None, workers=2)
    assert "broken.dcm" in str(caught.value)


def test_local_decoding_is_used_for_the_callers_share(tmp_path: Path) -> None:
    paths, _ = _files(tmp_path, 4)
    calls: list[FrameJob] = []

    def local(task: FrameJob) -> NDArray[Any]:
        calls.append(task)
        return stored_frames(task)

    run_stored(
        [stored_job(path, (1,)) for path in paths], lambda i, f: None, workers=1, local=local
    )
    assert len(calls) == 4


def test_resolve_workers() -> None:
    assert resolve_workers(3, 10, compressed=True) == 3
    assert resolve_workers(None, 10, compressed=True) == 1
    assert resolve_workers(None, 2**30, compressed=False) == 1
    assert resolve_workers(None, 2**30, compressed=True) >= 1
    with pytest.raises(ValueError, match="at least 1"):
        resolve_workers(0, 10, compressed=True)


def test_a_worker_that_dies_is_a_dicomnp_error(tmp_path: Path) -> None:
    paths, _ = _files(tmp_path, 3)
    tasks = [stored_job(path, (0,)) for path in paths]
    # os._exit(3) ends the worker that receives it, without an answer
    with pytest.raises(WorkerDied, match="ended unexpectedly"):
        run_stored([3, 3, 3], lambda index, result: None, workers=2, local=str, remote=os._exit)
    run_stored(tasks, lambda index, frames: None, workers=2)  # a new pool works again


def _j2k_files(folder: Path, count: int) -> list[str]:
    paths = []
    for k in range(count):
        frame = RNG.integers(0, 4096, size=(40, 40), dtype=np.uint16)
        value, _, _ = encapsulated_value(
            [bytes(encode_array(frame, bits_stored=12))], table="basic", fragments_per_frame=1
        )
        ds = encapsulated_dataset(
            value,
            syntax=JPEG2000Lossless,
            rows=40,
            columns=40,
            bits_allocated=16,
            bits_stored=12,
        )
        path = folder / f"{k}.dcm"
        path.write_bytes(to_bytes(ds))
        paths.append(str(path))
    return paths


def test_only_costly_codecs_are_worth_processes() -> None:
    costly = {JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless}
    for uid in (*costly, RLELossless, ExplicitVRLittleEndian):
        syntax = lookup(uid)
        assert syntax is not None
        assert parallel_codec(syntax) == (uid in costly), uid


def test_workers_start_early_only_for_a_costly_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j2k = _j2k_files(tmp_path, 8)
    assert start_pool_early(j2k, 8, workers=2) is None  # imagecodecs: decoded on threads
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # makes importing it fail
    (tmp_path / "notes.txt").write_text("not DICOM")
    pool = start_pool_early([str(tmp_path / "notes.txt"), *j2k], 9, workers=2)
    assert pool is not None
    pool.close()
    assert start_pool_early(j2k, 9, workers=1) is None
    assert start_pool_early(j2k[:3], 3, workers=2) is None  # too few files to pay
    native, _ = _files(tmp_path, 8)
    assert start_pool_early(native, 8, workers=2) is None


def test_large_results_travel_through_a_file_that_is_removed(tmp_path: Path) -> None:
    paths, _ = _files(tmp_path, 4)
    small = [stored_job(path, (0, 1, 2)) for path in paths]  # 4.5 KiB each: inline
    received: dict[int, NDArray[Any]] = {}
    run_stored(small, received.__setitem__, workers=2)
    assert len(received) == 4
    with WorkerPool(1) as pool:
        spill = pool._spill
        pool.submit(np.zeros, (300, 300), "big")  # 720 KB of float64: through a file
        done = pool.collect(block=True)
        assert done is not None
        assert done[0] == "big"
        assert done[1].shape == (300, 300)
        assert os.listdir(spill) == []
    assert not os.path.exists(spill)


def test_run_on_threads_takes_every_item_once_and_gives_helpers_their_own_worker() -> None:
    seen: list[tuple[str, int]] = []
    opened: list[int] = []

    @contextmanager
    def helper() -> Iterator[Callable[[int], None]]:
        opened.append(threading.get_ident())
        yield lambda item: seen.append(("helper", item))

    run_on_threads(range(200), lambda item: seen.append(("here", item)), helper, 3)
    assert sorted(item for _, item in seen) == list(range(200))
    assert 1 <= len(opened) <= 2
    assert threading.get_ident() not in opened


def test_run_on_threads_raises_the_first_error_and_stops_taking_items() -> None:
    taken: list[int] = []

    def work(item: int) -> None:
        taken.append(item)
        if item == 3:
            raise dicomnp.CorruptPixelDataError("bad frame", path="x.dcm", frame=item)

    @contextmanager
    def helper() -> Iterator[Callable[[int], None]]:
        yield work

    with pytest.raises(dicomnp.CorruptPixelDataError, match="frame 3"):
        run_on_threads(range(10_000), work, helper, 2)
    assert len(taken) < 10_000


# Headers of a large folder: this process and forked copies of it ------------------------

_PARENT = os.getpid()
fork_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


def _square_with_pid(item: int) -> tuple[int, int]:
    time.sleep(0.02)  # long enough for every process to take a share
    return item * item, os.getpid()


@fork_only
@pytest.mark.parametrize("processes", [2, 3])
def test_map_forked_gives_every_result_in_order_and_shares_the_work(processes: int) -> None:
    items = list(range(11))
    seen: list[int] = []

    def progress(given: Sequence[int]) -> Iterator[int]:
        for item in given:
            seen.append(item)
            yield item

    results = map_forked(_square_with_pid, items, processes, progress)
    assert [value for value, _ in results] == [k * k for k in range(11)]
    pids = {pid for _, pid in results}
    assert os.getpid() in pids
    assert len(pids) == processes  # every copy took some
    assert seen == items  # the bar went through every item once


def _fails_in_two_places(item: int) -> int:
    if item == 3:
        raise ValueError("item 3")
    if item == 4:
        raise KeyError("item 4")
    return item


@fork_only
def test_map_forked_raises_the_first_error_in_item_order_here() -> None:
    # 3 is a copy's (raised there, computed again here), 4 is this process's own
    with pytest.raises(ValueError, match="item 3"):
        map_forked(_fails_in_two_places, list(range(8)), 2)


def _dies_in_a_copy(item: int) -> int:
    if os.getpid() != _PARENT:
        os._exit(3)
    return item + 1


@fork_only
def test_what_a_dead_copy_does_not_send_is_computed_here() -> None:
    assert os.getpid() == _PARENT
    before = child_pids()
    assert map_forked(_dies_in_a_copy, list(range(9)), 2) == list(range(1, 10))
    assert child_pids() <= before  # the copy was reaped: not even a zombie is left


@fork_only
def test_results_that_cannot_be_pickled_are_computed_here() -> None:
    def maker(item: int) -> Callable[[], int]:
        return lambda: item  # a local function: pickle refuses it

    results = map_forked(maker, list(range(6)), 2)
    assert [made() for made in results] == list(range(6))


def test_forked_processes_only_from_one_thread_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # other tests' threads aside
    assert forked_processes(10, None) == 1  # too few files
    assert forked_processes(5000, 1) == 1
    with pytest.raises(ValueError, match="at least 1"):
        forked_processes(5000, 0)
    expected = 4 if sys.platform.startswith("linux") else 1
    assert forked_processes(5000, None) == expected
    assert forked_processes(3, 8) == min(3, expected)
    monkeypatch.undo()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert forked_processes(5000, 4) == 1  # a fork would copy another thread's locks
    finally:
        stop.set()
        thread.join()


def test_a_native_series_is_read_on_threads_only_when_its_files_are_large(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    native = JobFacts(lookup("1.2.840.10008.1.2.1"), on_disk=True)  # type: ignore[arg-type]
    slices = [native] * 300
    large = plan_schedule(slices, [1] * 300, None, pixels=300 * 512 * 512, nbytes=300 * 2**19)
    assert (large.threads, large.processes) == (2, 0)  # reading outweighs the work per file
    small = plan_schedule(slices, [1] * 300, None, pixels=300 * 128 * 128, nbytes=300 * 2**15)
    assert (small.threads, small.processes) == (1, 0)  # the Python work per file dominates
    alone = plan_schedule(slices, [1] * 300, 1, pixels=300 * 512 * 512, nbytes=300 * 2**19)
    assert alone.threads == 1
