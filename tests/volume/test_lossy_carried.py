"""Lossy data refused from the assessment each slice header carries: the error of a fresh one."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import dicomnp.volume.jobs as jobs
from dicomnp import LossyDataError, find_series
from dicomnp.cli._catalog import lossy_of, refuse_lossy_stack
from dicomnp.errors import DicomNumpyError
from dicomnp.normalize import assess_lossy
from dicomnp.volume import Stack
from dicomnp.volume.volume import plan_series
from support.build import to_bytes
from support.series_build import geometry_series


def _stack(folder: Path, lossy: dict[int, str]) -> Stack:
    """A folder of 4 slices, slice ``k`` with Lossy Image Compression ``lossy[k]``."""
    folder.mkdir()
    for k, ds in enumerate(geometry_series(4)):
        if k in lossy:
            ds.LossyImageCompression = lossy[k]
            ds.LossyImageCompressionMethod = "ISO_10918_1"
        (folder / f"{k}.dcm").write_bytes(to_bytes(ds))
    (series,) = find_series(folder)
    (stack,) = series.stacks
    assert all(header.lossy is not None for header in stack.headers)
    return stack


def _unassessed(stack: Stack) -> Stack:
    """The stack with headers that carry no assessment: each source is assessed again."""
    headers = tuple(dataclasses.replace(header, lossy=None) for header in stack.headers)
    return dataclasses.replace(stack, headers=headers)


def _described(error: DicomNumpyError) -> tuple[Any, ...]:
    assert isinstance(error, LossyDataError)
    return (
        type(error),
        str(error),
        error.evidence,
        error.transfer_syntax_uid,
        error.lossy_image_compression,
        error.path,
        error.tag,
    )


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counted(dataset: Any, syntax: Any) -> Any:
        calls.append(syntax.uid)
        return assess_lossy(dataset, syntax)

    monkeypatch.setattr(jobs, "assess_lossy", counted)
    return calls


def test_a_plan_refuses_from_the_carried_assessment_with_the_error_of_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = _stack(tmp_path / "series", {1: "00", 2: "01", 3: "01"})
    calls = _counting(monkeypatch)
    with pytest.raises(LossyDataError) as carried:
        plan_series(stack)
    assert calls == []  # no source assessed again
    with pytest.raises(LossyDataError) as fresh:
        plan_series(_unassessed(stack))
    assert len(calls) == 3  # up to the first lossy slice
    assert _described(carried.value) == _described(fresh.value)
    assert "(0028,2110) is 01" in str(carried.value)


def test_an_allowed_plan_keeps_each_carried_assessment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = _stack(tmp_path / "series", {2: "01"})
    calls = _counting(monkeypatch)
    plan = plan_series(stack, allow_lossy=True)
    assert calls == []
    fresh = plan_series(_unassessed(stack), allow_lossy=True)
    assert [job.lossy for job in plan.jobs] == [job.lossy for job in fresh.jobs]
    assert [job.lossy.lossy for job in plan.jobs].count(True) == 1


def test_the_command_refuses_a_stack_with_the_error_of_its_files(tmp_path: Path) -> None:
    stack = _stack(tmp_path / "series", {3: "01"})
    with pytest.raises(LossyDataError) as carried:
        refuse_lossy_stack(stack)
    with pytest.raises(LossyDataError) as reread:  # each file's header read again
        refuse_lossy_stack(_unassessed(stack))
    assert _described(carried.value) == _described(reread.value)
    assert str(stack.headers[3].sop_instance_uid) in str(carried.value)
    refuse_lossy_stack(_stack(tmp_path / "lossless", {0: "00"}))  # nothing lossy: no error


def test_lossy_of_names_each_instance(tmp_path: Path) -> None:
    stack = _stack(tmp_path / "series", {1: "01"})
    found = lossy_of(stack)
    assert [assessment.lossy for _, assessment, _ in found] == [False, True, False, False]
    for header, _, dataset in found:
        assert dataset.get("SOPInstanceUID") == header.sop_instance_uid
