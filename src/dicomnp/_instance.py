"""One instance made ready to render: opened, checked, planned, its frames located.

:class:`PreparedInstance` is what :func:`dicomnp.read`, :func:`dicomnp.to_array`,
:func:`dicomnp.iter_frames` and the Dask reader share: lossy data refused and
the output size checked from the header, before anything is decoded; then
the frames rendered through the scheduler (:mod:`._execute`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._execute import FrameJob, JobFacts, Target, execute, plan_schedule
from ._source import FileReader, OpenSource, open_source
from .decode import FrameSelection, open_frames, select_frames
from .decode.frames import locate_frames
from .decode.limits import allocate, check_output_size
from .normalize import (
    FrameRenderer,
    LossyAssessment,
    Padding,
    RenderOptions,
    RenderPlan,
    assess_lossy,
    build_header,
    refuse_lossy,
)

__all__ = ["PreparedInstance", "keeps_frame_axis"]


def keeps_frame_axis(frames: FrameSelection, count: int) -> bool:
    """Whether the output has a frame axis.

    None: only for multi-frame objects. An int selects one frame and drops the
    axis, as NumPy indexing does; a slice or a sequence keeps it, even when
    it selects a single frame.

    Examples
    --------
    >>> keeps_frame_axis(None, 1), keeps_frame_axis(None, 5), keeps_frame_axis(2, 5)
    (False, True, False)
    >>> keeps_frame_axis(slice(0, 1), 5), keeps_frame_axis([3], 5)
    (True, True)
    """
    if frames is None:
        return count > 1
    if isinstance(frames, slice):
        return True
    if isinstance(frames, Sequence) and not isinstance(frames, (str, bytes)):
        return True
    return not hasattr(type(frames), "__index__")  # what SupportsIndex checks, without its cost


class PreparedInstance:
    """An opened instance with its plan, ready to render the selected frames.

    Parameters
    ----------
    opened : OpenSource
        The instance, open for the lifetime of this object.
    frames : FrameSelection
        The frames asked for.
    options : RenderOptions
        Validated options.
    max_bytes : int or None
        The largest output to allocate, checked from the header.
    one_at_a_time : bool, optional
        Frames are rendered one by one (``iter_frames``): ``max_bytes``
        bounds each frame rather than all.

    Raises
    ------
    LossyDataError
        Lossy data and ``options.allow_lossy`` is false.
    OutputTooLargeError
        The output would exceed ``max_bytes``.
    """

    def __init__(
        self,
        opened: OpenSource,
        frames: FrameSelection,
        options: RenderOptions,
        max_bytes: int | None,
        *,
        one_at_a_time: bool = False,
    ) -> None:
        self.opened = opened
        self.options = options
        self.lossy: LossyAssessment = assess_lossy(opened.dataset, opened.syntax)
        if not options.allow_lossy:
            refuse_lossy(self.lossy, opened.dataset, opened.syntax, opened.name)
        decoder = open_frames(opened)
        self.indices = select_frames(frames, decoder.frame_count, opened.name)
        self.frame_axis = keeps_frame_axis(frames, decoder.frame_count)
        self.renderer = FrameRenderer.of_source(opened, self.indices, options, decoder)
        self.plan: RenderPlan = self.renderer.plan
        # Refused from the header, before anything is decoded or allocated.
        plan = self.plan
        count = 1 if one_at_a_time else len(self.indices)
        mask = count * plan.info.rows * plan.info.columns if options.padding is Padding.MASK else 0
        check_output_size(
            (count, *plan.frame_shape), plan.dtype, max_bytes, opened.name, extra=mask
        )
        locate_frames(decoder, self.indices)

    def job(self, start: int = 0, stop: int | None = None) -> FrameJob:
        """The selected frames ``start:stop`` as a job for the scheduler, slots from 0."""
        frames = self.indices[start:stop]
        return FrameJob(
            self.opened.path, frames, tuple(range(len(frames))), self.options, self.plan.dtype.str
        )

    def render_arrays(
        self, want_mask: bool, workers: int | None = None
    ) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
        """Decode and render every selected frame: the array and, if wanted, its mask."""
        plan = self.plan
        count = len(self.indices)
        name = self.opened.name
        target = Target(
            allocate((count, *plan.frame_shape), plan.dtype, name),
            allocate((count, plan.info.rows, plan.info.columns), bool, name, zeros=True)
            if want_mask
            else None,
        )
        info = plan.info
        facts = [JobFacts(self.opened.syntax, on_disk=self.opened.path is not None)]
        pixels = count * info.rows * info.columns * info.samples_per_pixel
        schedule = plan_schedule(
            facts, [count], workers, pixels=pixels, nbytes=pixels * info.dtype.itemsize
        )
        execute([self.job()], facts, target, self._open_renderer, schedule)
        array, mask = target.array, target.mask
        if not self.frame_axis:
            array = array.reshape(plan.frame_shape)
            mask = None if mask is None else mask.reshape(plan.frame_shape[:2])
        return array, mask

    @contextmanager
    def _open_renderer(self, index: int, helper: bool) -> Iterator[FrameRenderer]:
        """This thread's renderer: the one made here, or for another thread a decoder of its own.

        Other threads read the file this one opened, by offset, and render by
        its plan; where the platform cannot read by offset, they open the
        path again.
        """
        if not helper:
            yield self.renderer
            return
        opened = self.opened
        reader = opened.reader
        shared = reader.shared() if isinstance(reader, FileReader) else None
        if shared is not None:
            yield self.renderer.sibling(open_frames(replace(opened, reader=shared)))
            return
        assert opened.path is not None
        with open_source(opened.path) as again:
            yield FrameRenderer.of_source(again, self.indices, self.options)

    def header(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """The header of an array of ``shape`` rendered by this plan."""
        return build_header(
            self.plan,
            shape=shape,
            dataset=self.opened.dataset,
            syntax=self.opened.syntax,
            lossy=self.lossy,
            name=self.opened.name,
        )

    def iter_rendered(self) -> Iterator[Any]:
        """Each selected frame rendered on its own: the frame, or ``(frame, mask)``."""
        plan = self.plan
        name = self.opened.name
        want_mask = self.options.padding is Padding.MASK
        for position in range(len(self.indices)):
            out = allocate(plan.frame_shape, plan.dtype, name)
            mask = allocate(plan.frame_shape[:2], bool, name, zeros=True) if want_mask else None
            self.renderer.render_into(position, out, mask)
            yield out if mask is None else (out, mask)
