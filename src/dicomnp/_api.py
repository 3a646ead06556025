"""The public calls that render one instance: :func:`to_array`, :func:`read`, :func:`iter_frames`.

Orchestration only: open the source, refuse lossy data from the header,
plan the rendering, then decode each requested frame and render it straight
into its place in the output array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal, Union, overload

import numpy as np
from numpy.typing import NDArray

from ._source import FileReader, OpenSource, SourceLike, open_source
from .decode import FrameSelection, open_frames, select_frames
from .decode.frames import locate_frames
from .decode.limits import DEFAULT_MAX_BYTES, allocate, check_max_bytes, check_output_size
from .decode.parallel import (
    decode_tasks,
    native_threads,
    parallel_codec,
    releases_gil,
    resolve_workers,
    run_on_threads,
)
from .normalize import (
    FrameRenderer,
    Image,
    Padding,
    PaddingLike,
    RenderOptions,
    RenderPlan,
    ValuesLike,
    VoiLike,
    assess_lossy,
    build_header,
    check_workers,
    refuse_lossy,
)
from .normalize.tasks import RenderTask, render_task

__all__ = ["iter_frames", "read", "to_array"]

Masked = tuple[NDArray[Any], NDArray[np.bool_]]
"""An array and its padding mask."""
Unmasked = Literal["keep", "fill", Padding.KEEP, Padding.FILL]
MaskMode = Literal["mask", Padding.MASK]


def _keeps_frame_axis(frames: FrameSelection, count: int) -> bool:
    """Whether the output has a frame axis.

    None: only for multi-frame objects. An int selects one frame and drops the
    axis, as NumPy indexing does; a slice or a sequence keeps it, even when
    it selects a single frame.
    """
    if frames is None:
        return count > 1
    if isinstance(frames, slice):
        return True
    if isinstance(frames, Sequence) and not isinstance(frames, (str, bytes)):
        return True
    return not hasattr(type(frames), "__index__")  # what SupportsIndex checks, without its cost


class _Rendering:
    """An opened source with its plan, ready to render frames."""

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
        self.lossy = assess_lossy(opened.dataset, opened.syntax)
        if not options.allow_lossy:
            refuse_lossy(self.lossy, opened.dataset, opened.syntax, opened.name)
        decoder = open_frames(opened)
        self.indices = select_frames(frames, decoder.frame_count, opened.name)
        self.frame_axis = _keeps_frame_axis(frames, decoder.frame_count)
        self.renderer = FrameRenderer(
            decoder,
            opened.dataset,
            self.indices,
            options,
            little_endian=opened.syntax.little_endian,
            name=opened.name,
        )
        self.plan: RenderPlan = self.renderer.plan
        # Refused from the header, before anything is decoded or allocated.
        plan = self.plan
        count = 1 if one_at_a_time else len(self.indices)
        mask = count * plan.info.rows * plan.info.columns if options.padding is Padding.MASK else 0
        check_output_size(
            (count, *plan.frame_shape), plan.dtype, max_bytes, opened.name, extra=mask
        )
        locate_frames(decoder, self.indices)

    def render_arrays(
        self, want_mask: bool, workers: int | None = None
    ) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
        """Decode and render every selected frame: the array and, if wanted, its mask."""
        plan = self.plan
        count = len(self.indices)
        name = self.opened.name
        array = allocate((count, *plan.frame_shape), plan.dtype, name)
        mask = (
            allocate((count, plan.info.rows, plan.info.columns), bool, name, zeros=True)
            if want_mask
            else None
        )
        mode, spread = self._parallelism(workers)
        if mode == "threads":
            self._render_in_threads(array, mask, spread)
        elif mode == "processes":
            self._render_in_processes(array, mask, spread)
        else:
            for position in range(count):
                self.renderer.render_into(
                    position, array[position], None if mask is None else mask[position]
                )
        if not self.frame_axis:
            array = array.reshape(plan.frame_shape)
            mask = None if mask is None else mask.reshape(plan.frame_shape[:2])
        return array, mask

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

    def _parallelism(
        self, workers: int | None
    ) -> tuple[Literal["here", "threads", "processes"], int]:
        """How to decode: here, or on threads or processes, and how many in all.

        Only frames of a file on disk are spread: native frames (from 16 MiB)
        and frames whose codec releases the GIL on threads, other compressed
        frames on processes.
        """
        opened = self.opened
        if workers == 1 or len(self.indices) < 2 or opened.path is None:
            return "here", 1
        info = self.plan.info
        pixels = len(self.indices) * info.rows * info.columns * info.samples_per_pixel
        if not opened.syntax.encapsulated:
            if opened.syntax.deflated_dataset:
                return "here", 1  # each thread would inflate the whole data set again
            count = native_threads(workers, pixels * info.dtype.itemsize)
            return ("threads", count) if count > 1 else ("here", 1)
        threads = releases_gil(opened.syntax)
        if workers is None and not (threads or parallel_codec(opened.syntax)):
            return "here", 1  # cheap to decode: other processes would cost more than they save
        count = resolve_workers(workers, pixels, compressed=True, threads=threads)
        if count <= 1:
            return "here", 1
        return ("threads" if threads else "processes"), count

    def _render_in_threads(
        self, array: NDArray[Any], mask: NDArray[np.bool_] | None, threads: int
    ) -> None:
        """Decode and render frames on threads, each other thread with a decoder of its own.

        The other threads read the file this one opened, by offset, and
        render by its plan; where the platform cannot read by offset, they
        open the path again.
        """
        opened = self.opened
        path = opened.path
        assert path is not None
        shared = opened.reader.shared() if isinstance(opened.reader, FileReader) else None

        def render(renderer: FrameRenderer) -> Callable[[int], None]:
            def one(position: int) -> None:
                target_mask = None if mask is None else mask[position]
                renderer.render_into(position, array[position], target_mask)

            return one

        @contextmanager
        def helper() -> Iterator[Callable[[int], None]]:
            if shared is not None:
                decoder = open_frames(replace(opened, reader=shared))
                yield render(self.renderer.sibling(decoder))
                return
            with open_source(path) as again:
                yield render(FrameRenderer.of_source(again, self.indices, self.options))

        run_on_threads(range(len(self.indices)), render(self.renderer), helper, threads)

    def _render_in_processes(
        self, array: NDArray[Any], mask: NDArray[np.bool_] | None, processes: int
    ) -> None:
        """Decode and render chunks of frames across processes, this one included."""
        path = self.opened.path
        assert path is not None
        count = len(self.indices)
        size = max(1, count // (processes * 4))
        starts = list(range(0, count, size))
        tasks = [
            RenderTask(path, self.indices[start : start + size], self.options) for start in starts
        ]

        first_of = {id(task): start for task, start in zip(tasks, starts, strict=True)}

        def local(task: RenderTask) -> None:
            first = first_of[id(task)]
            for position in range(first, first + len(task.frames)):
                target_mask = None if mask is None else mask[position]
                self.renderer.render_into(position, array[position], target_mask)

        def sink(
            task_index: int, result: tuple[NDArray[Any], NDArray[np.bool_] | None] | None
        ) -> None:
            if result is None:  # rendered in place by this process
                return
            rendered, masks = result
            first = starts[task_index]
            array[first : first + len(rendered)] = rendered
            if mask is not None and masks is not None:
                mask[first : first + len(masks)] = masks

        decode_tasks(tasks, sink, workers=processes, local=local, remote=render_task)


def read(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    workers: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Image:
    """Decode and render one instance, with the header that describes the array.

    Parameters
    ----------
    source : path, os.PathLike, binary file, bytes or pydicom.Dataset
        The instance. Files are only read.
    frames : int, slice, sequence of int or None, optional
        0-based frames to decode, in the order given; negative indices count
        from the end. None (default) decodes all: the array has a frame axis
        only for multi-frame objects. An int drops the frame axis, a slice or
        sequence keeps it, even when it selects one frame (as NumPy indexing).
    values : {"stored", "modality", "display"}, optional
        ``"stored"`` (default): stored values by the rules (signed values
        offset by ``2**(BitsStored-1)``, MONOCHROME1 inverted, colour as
        RGB). ``"modality"``: Rescale or Modality LUT applied, float32 or an
        exact integer dtype; never inverted, colour unchanged.
        ``"display"``: modality then VOI, MONOCHROME1 inverted, unsigned
        ``display_bits`` (colour scaled to that range).
    allow_lossy : bool, optional
        Decode lossy-compressed data instead of raising ``LossyDataError``.
    padding : {"keep", "mask", "fill"}, optional
        ``"keep"`` (default) leaves padding pixels, the header says which
        output values they have; ``"mask"`` also returns ``Image.mask`` and
        makes padding NaN in float output; ``"fill"`` sets them to the
        darkest value of the output range (0, or the lowest modality value).
    voi : {"window", "lut"}, optional
        Display mode: prefer Window Center/Width (default) or the VOI LUT
        Sequence; the other is used when the preferred one is absent, and the
        whole modality range when both are.
    voi_index : int, optional
        Which window pair or VOI LUT item (0-based).
    window : (center, width) or None, optional
        An explicit window for display mode, in modality units.
    display_bits : int, optional
        Bits of display output, 1 to 16 (default 8: uint8).
    workers : int or None, optional
        Threads (or, for codecs that hold the GIL, processes) to decode
        the frames of a file with, this one included. None (default) uses
        every core when there are at least 1 Mi compressed pixels to decode
        on threads (8 Mi on processes) or 16 MiB of native frames to read,
        else 1; 1 decodes in this thread. In-memory sources and deflated
        data sets always decode in this thread.
    max_bytes : int or None, optional
        The largest output, in bytes, to allocate: the array plus the mask
        (default ``2**34``, 16 GiB); None for no limit. Checked from the
        header before anything is decoded, so a header that claims more
        than the caller accepts costs nothing.

    Returns
    -------
    Image
        ``array``, ``header`` and, with ``padding="mask"``, ``mask``.

    Raises
    ------
    LossyDataError
        The header says the data are lossy and ``allow_lossy`` is false; raised
        before anything is decoded. ``http_status`` is 406.
    OutputTooLargeError
        The output would be larger than ``max_bytes``; raised before anything
        is decoded.
    InvalidOptionError
        An option is unknown or out of range.
    DicomNumpyError
        Or another subclass, naming the file, frame and tag: not DICOM, no
        pixel data, inconsistent attributes, malformed LUTs, truncated data,
        or a transfer syntax that cannot be decoded.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> image = dicomnp.read(ct_slice())
    >>> image.array.shape, image.array.dtype.str, image.header["value_offset"]
    ((64, 64, 1), '<u2', 32768)
    >>> hu = dicomnp.read(ct_slice(), values="modality").array
    >>> hu.dtype.name, int(hu.min()), int(hu.max())
    ('int32', -1000, 1000)
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    count = check_workers(workers)
    with _rendering(source, frames, options, max_bytes) as rendering:
        array, mask = rendering.render_arrays(options.padding is Padding.MASK, count)
        return Image(array=array, header=rendering.header(array.shape), mask=mask)


@contextmanager
def _rendering(
    source: SourceLike, frames: FrameSelection, options: RenderOptions, max_bytes: int | None
) -> Iterator[_Rendering]:
    """Open ``source`` and check it and the options: ready to render."""
    limit = check_max_bytes(max_bytes)
    with open_source(source) as opened:
        yield _Rendering(opened, frames, options, limit)


@overload
def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: Unmasked = ...,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    workers: int | None = ...,
    max_bytes: int | None = ...,
) -> NDArray[Any]: ...


@overload
def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: MaskMode,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    workers: int | None = ...,
    max_bytes: int | None = ...,
) -> Masked: ...


def to_array(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    workers: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Union[NDArray[Any], Masked]:
    """Decode and render one instance to a NumPy array (DESIGN.md section 3).

    Takes the options of :func:`read`. Use :func:`read` for the header.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        The array: ``(rows, columns, 1|3)`` or ``(frames, rows, columns, 1|3)``,
        native little-endian, C-contiguous, writeable. With ``padding="mask"``,
        the pair ``(array, mask)``: the mask is True at padding pixels and
        shaped like the array without its sample axis.

    Raises
    ------
    LossyDataError, InvalidOptionError, DicomNumpyError
        As :func:`read`.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dicomnp.to_array(ct_slice(), values="display").dtype
    dtype('uint8')
    >>> array, mask = dicomnp.to_array(ct_slice(), padding="mask")
    >>> mask.shape, bool(mask.any())
    ((64, 64), False)
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    count = check_workers(workers)
    with _rendering(source, frames, options, max_bytes) as rendering:  # no header to build
        array, mask = rendering.render_arrays(options.padding is Padding.MASK, count)
    if mask is not None:
        return array, mask
    return array


@overload
def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: Unmasked = ...,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    max_bytes: int | None = ...,
) -> Iterator[NDArray[Any]]: ...


@overload
def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = ...,
    values: ValuesLike = ...,
    allow_lossy: bool = ...,
    padding: MaskMode,
    voi: VoiLike = ...,
    voi_index: int = ...,
    window: tuple[float, float] | None = ...,
    display_bits: int = ...,
    max_bytes: int | None = ...,
) -> Iterator[Masked]: ...


def iter_frames(
    source: SourceLike,
    *,
    frames: FrameSelection = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Union[Iterator[NDArray[Any]], Iterator[Masked]]:
    """Render the requested frames one at a time, decoding each only when asked for.

    Takes the options of :func:`read`; ``max_bytes`` bounds each frame (and
    its mask). Options are checked at once; the source is opened, and lossy
    data refused, when the first frame is requested. The file stays open
    until the iterator is exhausted or closed.

    Yields
    ------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        Each frame as ``(rows, columns, 1|3)``, rendered exactly as
        :func:`to_array` renders it; with ``padding="mask"``, ``(frame, mask)``.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> [frame.shape for frame in dicomnp.iter_frames(ct_slice())]
    [(64, 64, 1)]
    """
    options = RenderOptions.create(
        values=values,
        allow_lossy=allow_lossy,
        padding=padding,
        voi=voi,
        voi_index=voi_index,
        window=window,
        display_bits=display_bits,
    )
    limit = check_max_bytes(max_bytes)
    return _frames(source, frames, options, limit)


def _frames(
    source: SourceLike, frames: FrameSelection, options: RenderOptions, max_bytes: int | None
) -> Iterator[Any]:
    with open_source(source) as opened:
        rendering = _Rendering(opened, frames, options, max_bytes, one_at_a_time=True)
        plan = rendering.plan
        want_mask = options.padding is Padding.MASK
        for position in range(len(rendering.indices)):
            out = allocate(plan.frame_shape, plan.dtype, opened.name)
            mask = (
                allocate(plan.frame_shape[:2], bool, opened.name, zeros=True) if want_mask else None
            )
            rendering.renderer.render_into(position, out, mask)
            yield out if mask is None else (out, mask)
