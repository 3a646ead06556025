"""Rendering a series of files: a plan per group of files that read the same, every check kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

import dicomnp
from dicomnp import InconsistentSeriesError, TruncatedPixelDataError, combine_series
from dicomnp.normalize import (
    RenderingDescription,
    RenderOptions,
    describe_rendering,
    plan_rendering,
)
from dicomnp.volume.jobs import SourceJob, describe_jobs, render_series, series_output_dtype
from dicomnp.volume.volume import plan_series
from support.build import to_bytes
from support.render_options import OPTIONS
from support.series_build import geometry_series


def written(datasets: list[Dataset], folder: Path) -> list[str]:
    paths = []
    for number, ds in enumerate(datasets):
        path = folder / f"{number:03d}.dcm"
        path.write_bytes(to_bytes(ds))
        paths.append(str(path))
    return paths


def varied(count: int = 9) -> list[Dataset]:
    """A series whose files differ, a few at a time, in rescale, window and padding."""
    datasets = geometry_series(count, 6, 5)
    for k, ds in enumerate(datasets):
        ds.RescaleIntercept = "-1024" if k % 3 else "-1000"
        ds.WindowCenter = "40" if k % 2 else "60"
        if k >= count - 2:
            ds.PixelPaddingValue = int(ds.pixel_array.min())
    return datasets


@pytest.mark.parametrize("options", OPTIONS)
def test_files_that_differ_render_each_by_its_own_plan(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    paths = written(varied(), tmp_path)
    volume = combine_series(paths, **options)
    by_uid = {str(dicomnp.read(path).header["sop_instance_uids"][0]): path for path in paths}
    for slot, uid in enumerate(volume.header.sop_instance_uids):
        image = dicomnp.read(by_uid[uid], **options)
        np.testing.assert_array_equal(volume.array[slot], image.array.astype(volume.array.dtype))
        header = image.header
        assert volume.header.windows[slot] == header["window"]
        assert volume.header.padding[slot] == header["padding"]
        modality = header["modality_from_array"]
        assert volume.header.modality_from_array[slot] == modality


@pytest.mark.parametrize("options", OPTIONS)
def test_descriptions_alone_equal_those_of_rendering(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    plan = plan_series(written(varied(), tmp_path))
    render = RenderOptions.create(**options)
    dtype = series_output_dtype(plan.jobs, render)
    first = plan.jobs[0].headers[0]
    array = np.empty((len(plan.jobs), first.rows, first.columns, 1), dtype=dtype)
    mask = np.zeros(array.shape[:3], dtype=bool) if render.padding.value == "mask" else None
    rendered = render_series(plan.jobs, array, mask, render, 1)
    each = [alone(job, render) for job in plan.jobs]
    assert rendered == each
    assert describe_jobs(plan.jobs, render, dtype) == each
    assert len({repr(description.window) for description in each}) == 2


def alone(job: SourceJob, options: RenderOptions) -> RenderingDescription:
    """How the job's file renders, planned and described by itself."""
    parsed = job.parsed
    plan = plan_rendering(
        parsed.dataset,
        parsed.info,
        parsed.info.photometric_interpretation,
        job.frames,
        options,
        little_endian=True,
        name=job.name,
    )
    return describe_rendering(plan, parsed.dataset, job.name)


def test_a_file_changed_since_its_header_was_read_is_refused(tmp_path: Path) -> None:
    datasets = geometry_series(4, 6, 5)
    paths = written(datasets, tmp_path)
    (stack,) = [stack for series in dicomnp.find_series(tmp_path) for stack in series.stacks]
    changed = datasets[2]
    changed.Rows = 3
    changed.PixelData = changed.PixelData[: 3 * 5 * 2]
    Path(paths[2]).write_bytes(to_bytes(changed))
    with pytest.raises(InconsistentSeriesError, match="changed since its header was read"):
        combine_series(stack)


def test_a_file_cut_short_after_its_header_was_read_is_refused(tmp_path: Path) -> None:
    paths = written(geometry_series(4, 6, 5), tmp_path)
    plan = plan_series(paths)
    render = RenderOptions.create()
    dtype = series_output_dtype(plan.jobs, render)
    os.truncate(paths[1], os.path.getsize(paths[1]) - 4)
    array = np.empty((4, 6, 5, 1), dtype=dtype)
    with pytest.raises(TruncatedPixelDataError, match=r"holds 56 bytes but 1 frame.* need 60"):
        render_series(plan.jobs, array, None, render, 1)  # the file changed: parsed again


def test_a_file_rewritten_with_a_longer_header_is_read_where_its_pixels_now_are(
    tmp_path: Path,
) -> None:
    datasets = geometry_series(4, 6, 5)
    paths = written(datasets, tmp_path)
    (stack,) = [stack for series in dicomnp.find_series(tmp_path) for stack in series.stacks]
    before = combine_series(stack).array
    changed = datasets[1]
    changed.ImageComments = "x" * 400  # the pixel data now start 400 bytes further on
    changed.PixelData = (np.frombuffer(changed.PixelData, "<u2") + 1).astype("<u2").tobytes()
    Path(paths[1]).write_bytes(to_bytes(changed))
    after = combine_series(stack).array
    np.testing.assert_array_equal(np.delete(after, 1, axis=0), np.delete(before, 1, axis=0))
    assert not np.array_equal(after[1], before[1])
    alone = dicomnp.to_array(paths[1])
    np.testing.assert_array_equal(after[1], alone)


def test_threads_share_the_plans_and_render_as_one_thread_does(tmp_path: Path) -> None:
    paths = written(varied(24), tmp_path)
    alone = combine_series(paths, values="modality", workers=1)
    shared = combine_series(paths, values="modality", workers=2)
    np.testing.assert_array_equal(shared.array, alone.array)
    assert shared.header == alone.header
