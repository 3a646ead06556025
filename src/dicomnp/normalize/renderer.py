"""Rendering the frames of one decoder, each straight into its place in the output."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._attributes import Attributes
from .._source import OpenSource
from ..decode import FrameDecoder, open_frames
from .options import RenderOptions
from .plan import RenderPlan, plan_rendering
from .transform import FrameTransform

__all__ = ["FrameRenderer"]


class FrameRenderer:
    """Decodes and renders chosen frames of one source.

    The plan is made once, from the header, when the renderer is created,
    or given made already (:meth:`by_transform`: files of a series that
    read the same share one). Where stored and output samples have the same
    size, frames are decoded into the output itself; otherwise through one
    reused frame buffer.

    Parameters
    ----------
    decoder : FrameDecoder
        The decoder of the source.
    dataset : pydicom.Dataset or Attributes
        The source's header.
    frames : tuple of int
        The 0-based frames to render, in output order.
    options : RenderOptions
        Validated options.
    little_endian : bool
        Byte order of the data set (for LUT data left as bytes).
    name : str
        The source, for messages.

    Examples
    --------
    >>> import numpy as np
    >>> from dicomnp._source import open_source
    >>> from dicomnp.decode import open_frames
    >>> from dicomnp.examples import ct_slice
    >>> options = RenderOptions.create(values="modality")
    >>> with open_source(ct_slice()) as opened:
    ...     renderer = FrameRenderer(open_frames(opened), opened.dataset, (0,), options,
    ...                              little_endian=True, name=opened.name)
    ...     out = np.empty(renderer.plan.frame_shape, renderer.plan.dtype)
    ...     renderer.render_into(0, out)
    >>> int(out.min())
    -1000
    """

    def __init__(
        self,
        decoder: FrameDecoder,
        dataset: Attributes,
        frames: tuple[int, ...],
        options: RenderOptions,
        *,
        little_endian: bool,
        name: str,
    ) -> None:
        plan = plan_rendering(
            dataset,
            decoder.info,
            decoder.photometric_interpretation,
            frames,
            options,
            little_endian=little_endian,
            name=name,
        )
        self._bind(decoder, FrameTransform(plan))

    def _bind(self, decoder: FrameDecoder, transform: FrameTransform) -> None:
        self.decoder = decoder
        self.transform = transform
        self.plan: RenderPlan = transform.plan
        self.frames: tuple[int, ...] = transform.plan.frames
        self._scratch: NDArray[Any] | None = None

    @classmethod
    def by_transform(cls, decoder: FrameDecoder, transform: FrameTransform) -> FrameRenderer:
        """The renderer of a plan made already (``transform.plan``), over ``decoder``.

        The plan must have been made for data that ``decoder`` decodes as it
        reports (its ``info`` and ``photometric_interpretation``).
        """
        renderer = cls.__new__(cls)
        renderer._bind(decoder, transform)
        return renderer

    @classmethod
    def of_source(
        cls,
        opened: OpenSource,
        frames: tuple[int, ...],
        options: RenderOptions,
        decoder: FrameDecoder | None = None,
    ) -> FrameRenderer:
        """The renderer of ``frames`` of an opened source, over ``decoder`` or a new one."""
        return cls(
            open_frames(opened) if decoder is None else decoder,
            opened.dataset,
            frames,
            options,
            little_endian=opened.syntax.little_endian,
            name=opened.name,
        )

    def sibling(self, decoder: FrameDecoder) -> FrameRenderer:
        """A renderer of the same frames by the same plan, over another decoder of the same data.

        For another thread: the plan and its transform are shared; the
        decoder and the scratch frame are its own.
        """
        return FrameRenderer.by_transform(decoder, self.transform)

    def render_into(
        self, position: int, out: NDArray[Any], mask: NDArray[np.bool_] | None = None
    ) -> None:
        """Decode frame ``frames[position]`` and render it into ``out``.

        ``out`` is C-contiguous, shaped ``plan.frame_shape``, of ``plan.dtype``;
        ``mask``, when given, receives the ``(rows, columns)`` padding flags.
        """
        index = self.frames[position]
        target = self.transform.direct_target(out)
        if target is not None:
            self.decoder.decode_into(index, target)
            self.transform.render(position, target, out, mask, direct=True)
            return
        if self._scratch is None:
            info = self.decoder.info
            self._scratch = np.empty(info.frame_shape, dtype=info.dtype)
        self.decoder.decode_into(index, self._scratch)
        self.transform.render(position, self._scratch, out, mask)
