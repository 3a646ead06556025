"""Rendering frames in another process: the picklable unit of work and its runner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._source import open_source
from .options import Padding, RenderOptions
from .renderer import FrameRenderer

__all__ = ["RenderTask", "render_frames", "render_task"]


@dataclass(frozen=True)
class RenderTask:
    """Frames of one file to decode and render, with the options to render them by."""

    path: str
    frames: tuple[int, ...]
    options: RenderOptions


def render_task(
    task: RenderTask,
) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """Decode and render ``task.frames`` of ``task.path``, as the calling process would.

    Returns the frames, shaped ``(frames, rows, columns, samples)``, and with
    ``padding="mask"`` their masks, shaped ``(frames, rows, columns)``.
    Lossy data are not refused here: the caller refused them before
    splitting the work.
    """
    return render_frames(task.path, task.frames, task.options)


def render_frames(
    path: str,
    frames: tuple[int, ...],
    options: RenderOptions,
    dtype: np.dtype[Any] | None = None,
) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """Decode and render ``frames`` of the file at ``path``, in whatever process runs it.

    Parameters
    ----------
    path : str
        The file.
    frames : tuple of int
        0-based frames, in output order.
    options : RenderOptions
        How to render them.
    dtype : numpy.dtype, optional
        The dtype to render into (a series' common dtype); the frame's own
        rendering dtype when omitted.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray or None)
        The frames ``(frames, rows, columns, samples)`` and, with
        ``padding="mask"``, their masks ``(frames, rows, columns)``.
    """
    with open_source(path) as opened:
        renderer = FrameRenderer.of_source(opened, frames, options)
        plan = renderer.plan
        count = len(frames)
        out = np.empty((count, *plan.frame_shape), dtype=plan.dtype if dtype is None else dtype)
        masks = None
        if options.padding is Padding.MASK:
            masks = np.zeros((count, plan.info.rows, plan.info.columns), dtype=bool)
        for position in range(count):
            renderer.render_into(
                position, out[position], None if masks is None else masks[position]
            )
    return out, masks
