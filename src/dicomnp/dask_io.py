"""Lazy Dask arrays of one multi-frame file or one series: decoded inside tasks, anywhere.

:func:`read_dask` turns one file into a dask array chunked by frame (or groups
of frames); :func:`combine_series_dask` turns a series into a
``(slices, rows, columns, 1|3)`` dask array chunked by slice. Headers are read
and the geometry validated when they are called, so the header, ``affine``
and ``spacing`` exist before anything is computed; the pixels are decoded and
rendered inside the tasks by the decode and normalize layers, with the
options of :func:`dicomnp.to_array`.

Each task is the scheduler's unit of work for other processes,
:func:`~dicomnp._execute.render_job` of a
:class:`~dicomnp._execute.FrameJob`: a path, frame indices, the
validated options and the output dtype, never pixel data. It opens its file
itself, so it runs as well on a remote ``dask.distributed`` worker that sees
the same files at the same paths.

Dask is optional (``pip install 'dicomnp[dask]'``): this module imports
without it, and the functions that build dask arrays raise
:class:`~dicomnp.errors.MissingDependencyError` saying what to install.
"""

from __future__ import annotations

import importlib.util
import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._execute import FrameJob, render_job
from ._instance import PreparedInstance
from ._remote import is_url
from ._source import open_source
from .decode import FrameSelection
from .errors import InvalidOptionError, MissingDependencyError, SeriesError
from .normalize import (
    Padding,
    PaddingLike,
    RenderOptions,
    ValuesLike,
    VoiLike,
)
from .volume.jobs import describe_jobs, series_output_dtype
from .volume.volume import SeriesSource, VolumeHeader, describe_volume, plan_series

if TYPE_CHECKING:
    import dask.array as da

__all__ = [
    "Chunk",
    "LazyImage",
    "LazyVolume",
    "SeriesTasks",
    "combine_series_dask",
    "plan_series_tasks",
    "read_dask",
    "render_chunk",
    "require",
]

INSTALL_HINT = "pip install 'dicomnp[dask]'"
"""What to install for the optional Dask integration."""


def require(feature: str, modules: Sequence[str] = ("dask",)) -> None:
    """Raise MissingDependencyError unless every module in ``modules`` can be imported.

    Detects without importing (``importlib.util.find_spec``).

    Raises
    ------
    MissingDependencyError
        Naming ``feature``, the missing packages and the install command.
    """
    missing = tuple(module for module in modules if importlib.util.find_spec(module) is None)
    if missing:
        raise MissingDependencyError(
            f"{feature} needs {', '.join(missing)}, which is not installed: {INSTALL_HINT}",
            packages=missing,
            extra="dask",
        )


# Assembling dask arrays -----------------------------------------------------------------


def _path_of(source: object) -> str:
    if is_url(source):
        raise InvalidOptionError(
            "Dask tasks open their files by local path; read a URL with read or "
            f"combine_series instead: {source}",
            option="source",
        )
    if isinstance(source, (str, os.PathLike)):
        return os.path.abspath(os.fspath(source))
    raise InvalidOptionError(
        "Dask tasks open their files themselves, so the source must be a path, "
        f"not {type(source).__name__}",
        option="source",
    )


Chunk = tuple[FrameJob, ...]
"""The tasks of one chunk: consecutive frames of one file each, in output order."""


def render_chunk(tasks: Chunk) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """Render the frames of one chunk, file by file: ``(frames, mask or None)``.

    What each Dask task runs, on any worker: the volume layer's
    :func:`~dicomnp._execute.render_job` for each file.
    """
    results = [render_job(task) for task in tasks]
    if len(results) == 1:
        return results[0]
    masks = [mask for _, mask in results if mask is not None]
    return (
        np.concatenate([array for array, _ in results]),
        np.concatenate(masks) if masks else None,
    )


def _assemble(
    chunks: Sequence[Chunk], frame_shape: tuple[int, ...]
) -> tuple[da.Array, da.Array | None]:
    """The dask array with one chunk per item of ``chunks`` on the first axis, and its mask.

    The array's and the mask's chunks are the two halves of one task's
    result, so computing both renders each chunk once.
    """
    require("dicomnp's dask arrays")
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    first = chunks[0][0]
    counts = tuple(sum(len(task.frames) for task in chunk) for chunk in chunks)
    token = tokenize(list(chunks))
    render, name, mask_name = (f"dicomnp-{part}-{token}" for part in ("render", "array", "mask"))
    rendered: dict[Any, Any] = {
        (render, index): (render_chunk, chunk) for index, chunk in enumerate(chunks)
    }
    arrays: dict[Any, Any] = {
        (name, index, 0, 0, 0): (operator.getitem, (render, index), 0)
        for index in range(len(chunks))
    }
    graph = HighLevelGraph({render: rendered, name: arrays}, {render: set(), name: {render}})
    sizes = (counts, *((size,) for size in frame_shape))
    array = da.Array(graph, name, sizes, dtype=np.dtype(first.dtype))
    if first.options.padding is not Padding.MASK:
        return array, None
    masks: dict[Any, Any] = {
        (mask_name, index, 0, 0): (operator.getitem, (render, index), 1)
        for index in range(len(chunks))
    }
    mask_graph = HighLevelGraph(
        {render: rendered, mask_name: masks}, {render: set(), mask_name: {render}}
    )
    return array, da.Array(mask_graph, mask_name, sizes[:3], dtype=bool)


# One file -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LazyImage:
    """A lazily rendered instance: the dask array of :func:`dicomnp.read`, and its header.

    Attributes
    ----------
    array : dask.array.Array
        ``(frames, rows, columns, 1|3)``, or ``(rows, columns, 1|3)`` when
        :func:`dicomnp.read` would drop the frame axis; one chunk per group
        of frames along the first axis.
    header : dict
        The header :func:`dicomnp.read` gives, made before anything is decoded.
    mask : dask.array.Array or None
        With ``padding="mask"``: the padding mask, shaped like ``array``
        without its last axis, computed by the same tasks.
    chunks : tuple of tuple of FrameJob
        What each chunk's task renders (path, frames, options), in order.

    Examples
    --------
    >>> import tempfile, os
    >>> from dicomnp.examples import ct_slice
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "slice.dcm")
    ...     ct_slice().save_as(path, enforce_file_format=True)
    ...     lazy = read_dask(path)
    ...     lazy.array.shape, lazy.array.compute().dtype.name
    ((64, 64, 1), 'uint16')
    """

    array: da.Array
    header: dict[str, Any]
    mask: da.Array | None
    chunks: tuple[Chunk, ...]


def read_dask(
    source: str | os.PathLike[str],
    *,
    frames: FrameSelection = None,
    frames_per_chunk: int = 1,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
) -> LazyImage:
    """A lazy dask array of one file's frames, chunked by frame or groups of frames.

    The header is read, lossy data refused and the rendering planned now;
    each chunk is decoded and rendered when computed, by a task that opens
    the file itself. Computing the array gives exactly what
    :func:`dicomnp.to_array` gives for the same options.

    Parameters
    ----------
    source : str or os.PathLike
        A file on disk that every worker can open at the same path.
    frames : int, slice, sequence of int or None, optional
        As :func:`dicomnp.read`.
    frames_per_chunk : int, optional
        Frames per task and chunk along the first axis (default 1).
    values, allow_lossy, padding, voi, voi_index, window, display_bits
        As :func:`dicomnp.read`.

    Returns
    -------
    LazyImage

    Raises
    ------
    MissingDependencyError
        Dask is not installed.
    InvalidOptionError
        An option is out of range, or ``source`` is not a path.
    LossyDataError, DicomNumpyError
        As :func:`dicomnp.read`, for what the header shows.

    Examples
    --------
    >>> import tempfile, os
    >>> from dicomnp.examples import ct_slice
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "slice.dcm")
    ...     ct_slice().save_as(path, enforce_file_format=True)
    ...     lazy = read_dask(path, values="modality")
    ...     lazy.header["shape"], int(lazy.array.min().compute())
    ([64, 64, 1], -1000)
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
    size = _positive(frames_per_chunk, "frames_per_chunk")
    require("read_dask")
    path = _path_of(source)
    with open_source(path) as opened:
        prepared = PreparedInstance(opened, frames, options, None)
        plan = prepared.plan
        count = len(prepared.indices)
        shape = (count, *plan.frame_shape) if prepared.frame_axis else plan.frame_shape
        header = prepared.header(shape)
        chunks = tuple((prepared.job(start, start + size),) for start in range(0, count, size))
    array, mask = _assemble(chunks, plan.frame_shape)
    if not prepared.frame_axis:
        array = array[0]
        mask = None if mask is None else mask[0]
    return LazyImage(array=array, header=header, mask=mask, chunks=chunks)


def _positive(value: object, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidOptionError(f"{option} must be an integer of at least 1, not {value!r}",
                                 option=option)  # fmt: skip
    return int(value)


# A series -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesTasks:
    """A validated series cut into render tasks; what :func:`plan_series_tasks` returns.

    Attributes
    ----------
    chunks : tuple of tuple of FrameJob
        What each chunk renders, in slice order: consecutive frames of one
        file per :class:`~dicomnp._execute.FrameJob`.
    shape : tuple of int
        ``(slices, rows, columns, samples)``.
    dtype : numpy.dtype
        The output dtype, as :func:`dicomnp.combine_series` chooses it.
    affine : numpy.ndarray
        4x4, ``(s, r, c, 1)`` to patient LPS mm, as :func:`dicomnp.combine_series`.
    header : VolumeHeader
        As :func:`dicomnp.combine_series` gives it.
    """

    chunks: tuple[Chunk, ...]
    shape: tuple[int, int, int, int]
    dtype: np.dtype[Any]
    affine: NDArray[np.float64]
    header: VolumeHeader


def plan_series_tasks(
    sources: SeriesSource,
    *,
    slices_per_chunk: int = 1,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    options: RenderOptions | None = None,
) -> SeriesTasks:
    """Read and validate a series from its headers, and cut it into render tasks.

    Nothing is decoded (except exact duplicate positions, compared as
    :func:`dicomnp.combine_series` does). Needs no Dask.

    Raises
    ------
    InvalidOptionError
        A slice is not a file on disk, or an option is out of range.
    LossyDataError, SeriesError, DicomNumpyError
        As :func:`dicomnp.combine_series`.
    """
    options = options or RenderOptions()
    size = _positive(slices_per_chunk, "slices_per_chunk")
    plan = plan_series(
        sources,
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
        allow_lossy=options.allow_lossy,
    )
    if plan.tiles:
        raise SeriesError(
            "Siemens mosaics are not read lazily: read them with combine_series",
            files=[plan.headers[0].name],
        )
    paths = [_path_of(header.source) for header in plan.headers]
    dtype = series_output_dtype(plan.jobs, options)
    described = describe_jobs(plan.jobs, options, dtype)
    first = plan.headers[0]
    chunks: list[Chunk] = []
    for start in range(0, len(paths), size):
        slots = range(start, min(start + size, len(paths)))
        tasks: list[FrameJob] = []
        run: list[int] = []
        for slot in slots:  # one task per run of slices from one file
            run.append(plan.headers[slot].frame)
            if slot + 1 == slots.stop or paths[slot + 1] != paths[slot]:
                where = tuple(range(slot + 1 - len(run), slot + 1))
                tasks.append(FrameJob(paths[slot], tuple(run), where, options, dtype.str))
                run = []
        chunks.append(tuple(tasks))
    samples = 1 if first.samples_per_pixel == 1 else 3
    shape = (len(paths), first.rows, first.columns, samples)
    header = describe_volume(
        plan,
        shape=shape,
        dtype=dtype.str,
        values=options.values.value,
        rendered=described,
        padding_mode=options.padding.value,
    )
    return SeriesTasks(
        chunks=tuple(chunks), shape=shape, dtype=dtype, affine=plan.geometry.affine, header=header
    )


@dataclass(frozen=True, eq=False)
class LazyVolume:
    """A lazily rendered series: :class:`dicomnp.Volume` with a dask array.

    Attributes
    ----------
    array : dask.array.Array
        ``(slices, rows, columns, 1|3)``, one chunk per group of slices.
    affine : numpy.ndarray
        4x4 float64 mapping ``(s, r, c, 1)`` to patient LPS mm.
    header : VolumeHeader
        As :func:`dicomnp.combine_series` gives it.
    mask : dask.array.Array or None
        With ``padding="mask"``: the padding mask, ``(slices, rows, columns)``.
    chunks : tuple of tuple of FrameJob
        What each chunk's task renders (paths, frames, options), in slice order.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, 4, 16, 16)
    ...     lazy = combine_series_dask(folder, slices_per_chunk=2)
    ...     lazy.array.chunks[0], lazy.affine.shape
    ((2, 2), (4, 4))
    """

    array: da.Array
    affine: NDArray[np.float64]
    header: VolumeHeader
    mask: da.Array | None
    chunks: tuple[Chunk, ...]

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(slice, row, column)`` in mm: the lengths of the affine's columns."""
        lengths = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(lengths[0]), float(lengths[1]), float(lengths[2]))


def combine_series_dask(
    sources: SeriesSource,
    *,
    slices_per_chunk: int = 1,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
) -> LazyVolume:
    """A lazy ``(slices, rows, columns, 1|3)`` dask array of a series, chunked by slice.

    The headers are read, sorted and validated now, so ``affine``,
    ``spacing`` and ``header`` are there before anything is computed; each
    chunk is decoded and rendered when computed, by a task that opens its
    files itself and holds about one chunk of output in memory.

    Parameters
    ----------
    sources : folder, Stack, file, or sequence of files
        As :func:`dicomnp.combine_series`, but on disk: every slice must be
        a file that the workers can open at the same path.
    slices_per_chunk : int, optional
        Slices per task and chunk (default 1).
    rtol, atol, allow_shear, check_instance_numbers
        Geometry checks, as :func:`dicomnp.combine_series`.
    values, allow_lossy, padding, voi, voi_index, window, display_bits
        Rendering, as :func:`dicomnp.to_array`.

    Returns
    -------
    LazyVolume

    Raises
    ------
    MissingDependencyError
        Dask is not installed.
    InvalidOptionError, LossyDataError, SeriesError, DicomNumpyError
        As :func:`dicomnp.combine_series`, from the headers, before any task runs.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, 6, 16, 16, spacing=2.5)
    ...     lazy = combine_series_dask(folder, values="modality")
    ...     lazy.array.chunks[0], lazy.spacing, int(lazy.array.max().compute())
    ((1, 1, 1, 1, 1, 1), (2.5, 0.5, 0.5), 1000)
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
    require("combine_series_dask")
    planned = plan_series_tasks(
        sources,
        slices_per_chunk=slices_per_chunk,
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
        options=options,
    )
    array, mask = _assemble(planned.chunks, planned.shape[1:])
    return LazyVolume(
        array=array, affine=planned.affine, header=planned.header, mask=mask, chunks=planned.chunks
    )
