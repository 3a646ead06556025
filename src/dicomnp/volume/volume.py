"""The Volume value and :func:`combine_series`.

``combine_series`` reads every header without pixel bytes, refuses lossy
data, validates the slices as one regular grid (see :mod:`.geometry` and
:mod:`.consistency`), decides the output dtype from the headers, allocates
the output array once and renders each slice straight into its place by the
rules of :func:`dicomnp.to_array` (see :mod:`.jobs`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Union, cast

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from .._execute import start_pool_early
from .._remote import is_url, url_is_folder
from .._source import SourceLike
from .._workers import WorkerPool
from ..decode.limits import DEFAULT_MAX_BYTES, check_max_bytes
from ..errors import GeometryError, InconsistentSeriesError, SeriesError
from ..normalize import (
    LossyAssessment,
    Padding,
    PaddingLike,
    RenderingDescription,
    RenderOptions,
    ValuesLike,
    VoiLike,
    array_for_numpy,
    check_workers,
)
from .consistency import Dropped, check_consistent, check_ends, resolve_duplicates
from .geometry import (
    StackGeometry,
    check_orientations,
    plan_geometry,
    slice_positions,
    sort_slices,
)
from .geometry import cosines as _cosines
from .headers import ParsedSource, SliceHeader
from .jobs import (
    SourceJob,
    carried_lossy,
    parse_sources,
    refuse_lossy_headers,
    refuse_lossy_sources,
    render_series,
    series_output_dtype,
    source_jobs,
)
from .plain import as_plain_dict
from .preflight import check_before_allocating
from .series import Stack, iter_dicom_files, note_left_out, scan_sources

__all__ = [
    "SeriesPlan",
    "SeriesSource",
    "Volume",
    "VolumeHeader",
    "collect_headers",
    "combine_series",
    "describe_volume",
    "plan_headers",
    "plan_series",
    "render_plan",
]

logger = logging.getLogger(__name__)

SeriesSource = Union[str, "os.PathLike[str]", Stack, Iterable[SourceLike], SourceLike]
"""A folder, a :class:`Stack` from :func:`find_series`, one image, or images (any iterable)."""

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class VolumeHeader:
    """What is known about a volume beyond its array and affine.

    Per-slice tuples are in array order. :meth:`as_dict` gives a
    JSON-serialisable mapping.

    Attributes
    ----------
    files : tuple of str
        Each slice's file (with ``frame k`` for a multi-frame image).
    sop_instance_uids, positions, frames, instance_numbers
        Per slice: SOP Instance UID, Image Position (Patient) in mm, frame
        index in its file, Instance Number.
    slice_spacing : float
        Median distance between slices along the normal, in mm.
    slice_spacing_source : str
        ``"positions"``; for one slice ``"SpacingBetweenSlices"``,
        ``"SliceThickness"`` or ``"default"`` (1 mm).
    slice_step : tuple of 3 float
        The affine's first column: position difference from slice to slice.
    sheared, tilt_degrees
        Whether the step leaves the slice normal, and by how much.
    dropped : tuple of Dropped
        Exact duplicates left out.
    values : str
        ``"stored"``, ``"modality"`` or ``"display"``: what the array holds,
        rendered as :func:`dicomnp.to_array` renders each slice.
    dtype : str
        The array's dtype. With ``values="modality"`` it holds every slice
        exactly: float32 as soon as one slice's rescale is not integral.
    rescale_slopes, rescale_intercepts, rescale_types
        Per slice: Rescale Slope, Intercept and Type as the file gives them
        (None when absent).
    value_offset : int
        The unsigned offset added to every stored value (rule R2, stored
        values of signed data: ``2**(BitsStored-1)``), the same for all slices.
    inverted : bool
        MONOCHROME1 inverted to MONOCHROME2 (stored and display values).
    output_photometric : str
        ``"MONOCHROME2"`` or ``"RGB"``.
    stored_from_array : tuple of (dict or None)
        Per slice, ``{"scale": g, "offset": o}``: the stored value is
        ``g * a + o`` for array value ``a`` (None when not affine: colour
        conversions, palettes, modality and display values).
    modality_from_array : tuple of (dict or None)
        Per slice, ``{"scale": s, "offset": o}``: the modality (physical)
        value is ``s * a + o`` (None for display values, colour, or a
        Modality LUT Sequence). Compute both in a signed or float type.
    windows : tuple
        Per slice, the VOI window used (display values) or the first one the
        file offers (None when there is none).
    padding : tuple of (dict or None)
        Per slice, Pixel Padding Value / Range Limit as stored and in output
        values (see :func:`dicomnp.read`), None without padding.
    padding_mode : str
        ``"keep"``, ``"mask"`` (``Volume.mask`` is set) or ``"fill"``.
    lossy : tuple of bool
        Per slice, whether its pixel data are lossy (see ``allow_lossy``).
    transfer_syntax_uids : tuple of str
        Per slice, the transfer syntax of its file.
    """

    shape: tuple[int, ...]
    dtype: str
    values: str
    coordinate_system: str
    series_instance_uid: str
    modality: str
    photometric_interpretation: str
    bits_stored: int
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, ...]
    slice_thickness: float | None
    spacing_between_slices: float | None
    slice_spacing: float
    slice_spacing_source: str
    slice_step: tuple[float, float, float]
    gaps: tuple[float, ...]
    sheared: bool
    tilt_degrees: float
    files: tuple[str, ...]
    sop_instance_uids: tuple[str, ...]
    positions: tuple[tuple[float, ...], ...]
    frames: tuple[int, ...]
    instance_numbers: tuple[int | None, ...]
    rescale_slopes: tuple[float | None, ...]
    rescale_intercepts: tuple[float | None, ...]
    dropped: tuple[Dropped, ...]
    rescale_types: tuple[str | None, ...] = ()
    value_offset: int = 0
    inverted: bool = False
    output_photometric: str = "MONOCHROME2"
    stored_from_array: tuple[dict[str, Any] | None, ...] = ()
    modality_from_array: tuple[dict[str, Any] | None, ...] = ()
    windows: tuple[Any, ...] = ()
    padding: tuple[dict[str, Any] | None, ...] = ()
    padding_mode: str = "keep"
    lossy: tuple[bool, ...] = ()
    transfer_syntax_uids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The header as a JSON-serialisable dict (tuples become lists)."""
        return as_plain_dict(self)  # dataclasses.asdict, without its deep copies

    def __repr__(self) -> str:
        # Per-slice tuples would make it as long as the series: their length stands in.
        parts = []
        for item in fields(self):
            value = getattr(self, item.name)
            text = repr(value)
            if isinstance(value, tuple) and len(text) > 80:
                text = f"<{len(value)} items>"
            parts.append(f"{item.name}={text}")
        return f"VolumeHeader({', '.join(parts)})"


@dataclass(frozen=True, eq=False)
class Volume:
    """A stack of slices and where it lies in the patient.

    Attributes
    ----------
    array : numpy.ndarray
        Shape ``(slices, rows, columns, samples)``, samples 1 or 3.
    affine : numpy.ndarray
        4x4 float64 mapping ``(s, r, c, 1)`` to patient LPS mm.
    header : VolumeHeader
        Per-slice positions and UIDs in array order, spacing and how it was
        found, and how to get stored and physical values back per slice.
    mask : numpy.ndarray of bool or None
        With ``padding="mask"``: ``(slices, rows, columns)``, True at padding
        pixels. None otherwise.

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> volume = combine_series(ct_series(5, 32, 32, spacing=2.5))
    >>> volume.array.shape, volume.spacing
    ((5, 32, 32, 1), (2.5, 0.5, 0.5))
    >>> volume.affine[:3, 3].tolist()  # centre of the first voxel
    [-8.0, -8.0, 0.0]
    >>> volume.nifti_affine()[:3, 3].tolist()  # the same point in RAS
    [8.0, 8.0, 0.0]
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    header: VolumeHeader
    mask: NDArray[np.bool_] | None = None

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        """The array itself, for ``numpy.asarray(volume)``: no copy unless one is asked for.

        Examples
        --------
        >>> import numpy as np
        >>> from dicomnp.examples import ct_series
        >>> volume = combine_series(ct_series(3, 16, 16))
        >>> np.asarray(volume) is volume.array
        True
        >>> np.asarray(volume, dtype=np.float64).dtype
        dtype('float64')
        """
        return array_for_numpy(self.array, dtype, copy)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(slice, row, column)`` in mm: the lengths of the affine's columns."""
        lengths = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(lengths[0]), float(lengths[1]), float(lengths[2]))

    @property
    def ras_affine(self) -> NDArray[np.float64]:
        """The affine for the same ``(s, r, c)`` index order, to RAS instead of LPS mm."""
        return _LPS_TO_RAS @ self.affine

    def nifti_affine(self) -> NDArray[np.float64]:
        """The RAS affine for index order ``(c, r, s)``, as nibabel and NIfTI expect.

        Use with :meth:`nifti_array`:
        ``nibabel.Nifti1Image(volume.nifti_array(), volume.nifti_affine())``.
        """
        return self.ras_affine[:, [2, 1, 0, 3]]

    def nifti_array(self) -> NDArray[Any]:
        """A view of the array in ``(c, r, s)`` order; ``(c, r, s, 3)`` for colour."""
        view: NDArray[Any] = self.array.transpose(2, 1, 0, 3)
        return view[..., 0] if view.shape[3] == 1 else view

    def __repr__(self) -> str:
        spacing = ", ".join(f"{value:g}" for value in self.spacing)
        origin = ", ".join(f"{value:g}" for value in self.affine[:3, 3])
        mask = "None" if self.mask is None else f"<{self.mask.shape} bool>"
        return (
            f"Volume(array=<{self.array.shape} {self.array.dtype}>, spacing=({spacing}) mm, "
            f"origin=({origin}) mm, values={self.header.values!r}, "
            f"modality={self.header.modality!r}, series={self.header.series_instance_uid!r}, "
            f"mask={mask})"
        )

    def _repr_html_(self) -> str:
        """Three orthogonal middle slices and the key header fields, for Jupyter."""
        from .._display import volume_html

        return volume_html(self)


@dataclass(frozen=True)
class _Listed:
    """Sources already resolved by :func:`_sources_of`: a folder is walked once per call."""

    items: list[SourceLike]
    walked: bool
    origin: SeriesSource


def _sources_of(sources: SeriesSource | _Listed) -> tuple[list[SourceLike], bool]:
    """The images to read, and whether they were found by walking a folder."""
    if isinstance(sources, _Listed):
        return sources.items, sources.walked
    if isinstance(sources, (str, os.PathLike)):
        if url_is_folder(sources) if is_url(sources) else os.path.isdir(sources):
            return list(iter_dicom_files(sources)), True
        return [sources], False
    if isinstance(sources, (bytes, bytearray, memoryview, Dataset)):
        return [sources], False
    if isinstance(sources, Iterable) and not hasattr(sources, "read"):
        return list(sources), False
    return [cast(SourceLike, sources)], False  # a file object


def collect_headers(sources: SeriesSource, workers: int | None = None) -> list[SliceHeader]:
    """Read the slice headers of every image in ``sources``, without pixel bytes.

    Files found by walking a folder that are not DICOM images are skipped
    (logged); one that looks like a DICOM image but cannot be read, and a
    listed source that cannot be read, raise. Each header keeps what was
    parsed of its file. The files of a large folder or list are read on
    every core (see :func:`~dicomnp.volume.series.scan_sources`; ``workers``
    as there).
    """
    if isinstance(sources, Stack):
        return list(sources.headers)
    items, walked = _sources_of(sources)
    headers: list[SliceHeader] = []
    unreadable: list[tuple[str, str]] = []
    for item, scanned in zip(items, scan_sources(items, workers, walked), strict=True):
        if scanned.headers is None:  # walked: not an image, or one that cannot be read
            note_left_out(item, scanned, None, unreadable)
            continue
        headers.extend(scanned.headers)  # each keeps what was parsed (see parse_sources)
    if unreadable:
        listed = "; ".join(f"{name}: {why}" for name, why in unreadable[:5])
        raise SeriesError(
            f"{len(unreadable)} file(s) in the folder look like DICOM images but cannot be "
            f"read, so slices may be missing ({listed}); pass the files to use, or a Stack "
            "from find_series, to go on without them",
            files=[name for name, _ in unreadable],
        )
    if not headers:
        folder = sources.origin if isinstance(sources, _Listed) else sources
        if walked and isinstance(folder, (str, os.PathLike)):
            held = f"{len(items)} file(s), none a DICOM image" if items else "no files"
            where = f" in {os.fspath(folder)} ({held})"
        else:
            where = "" if items else ": no sources given"
        raise SeriesError(f"no DICOM images found{where}", files=[str(i) for i in items[:5]])
    return headers


def combine_series(
    sources: SeriesSource,
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    workers: int | None = None,
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Volume:
    """Stack the slices of one series, or the frames of an enhanced image, into a Volume.

    Parameters
    ----------
    sources : folder, Stack, image, or sequence of images
        A folder or folder URL (walked, skipping DICOMDIR, non-DICOM and
        special files; a file that looks like a DICOM image but cannot be
        read raises), a :class:`Stack` from :func:`find_series`, one enhanced
        multi-frame image, or a sequence of paths, URLs, file objects, bytes
        or Datasets.
    rtol, atol : float
        Gap tolerance: each distance between neighbouring slices along the
        normal may differ from the median by ``atol + rtol * median`` mm.
        The defaults accept scanner rounding and a few per cent of jitter,
        and refuse a gap 20 % wider than the rest. ``atol`` (mm) is also how
        close two positions are to be the same, how far a position may lie
        off the line of the stack (at least 1 % of the step) and the in-plane
        step that counts as a tilt (at least 1e-3 of the step).
    allow_shear : bool
        Accept a gantry-tilted (sheared) stack, with a non-orthogonal affine
        whose first column is the actual step; ``header.sheared`` is set.
    check_instance_numbers : bool
        Also refuse slices missing at either end, found from Instance
        Numbers (which must then run from 1 along the stack) and Images in
        Acquisition. Positions alone cannot reveal missing end slices.
    workers : int or None
        Threads to decode with, this one included; compressed files on
        disk whose codec holds the GIL (pylibjpeg, without imagecodecs) go
        to this many processes instead. None (default) uses every core for
        at least 1 Mi compressed pixels on threads (8 Mi on processes), else
        decodes in this thread; 1 always decodes in this thread.
    values, allow_lossy, padding, voi, voi_index, window, display_bits
        As for :func:`dicomnp.read`: each slice is rendered exactly as
        :func:`dicomnp.to_array` renders it. With ``values="modality"`` and a
        rescale that differs per slice, the dtype holds every slice exactly
        (float32 as soon as one slope or intercept is not a whole number).
        ``padding="mask"`` sets ``Volume.mask``.
    max_bytes : int or None
        The largest array (plus mask), in bytes, to allocate (default
        ``2**34``, 16 GiB); None for no limit. Checked from the headers,
        before anything is decoded.

    Returns
    -------
    Volume
        ``array`` shaped ``(slices, rows, columns, samples)``, sorted along the
        slice normal; ``header`` says per slice how to get stored and
        physical values back.

    Raises
    ------
    LossyDataError
        A slice's header says its data are lossy and ``allow_lossy`` is
        false; raised before anything is decoded.
    InvalidOptionError
        An option is unknown or out of range.
    InconsistentSeriesError
        Mixed series, modality, SOP class, size, bits, spacing or thickness,
        or a localizer among the slices.
    GeometryError
        Missing or non-orthonormal orientation, differing orientations,
        positions off one line, irregular spacing.
    MissingSliceError, ShearedStackError, DuplicateSliceError, MultipleVolumesError
        As their names say; each message names the files and values.

    Examples
    --------
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(4, 16, 16)
    >>> volume = combine_series(slices[::-1])
    >>> [round(position[2], 1) for position in volume.header.positions]
    [0.0, 2.0, 4.0, 6.0]
    >>> combine_series(slices[:2] + slices[3:])
    Traceback (most recent call last):
    ...
    dicomnp.errors.MissingSliceError: 1 slice missing after index 1: ...
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
    workers = check_workers(workers)
    if not isinstance(sources, Stack):  # walked or listed once: the pool looks first
        sources = cast(SeriesSource, _Listed(*_sources_of(sources), origin=sources))
    pool = _start_pool_early(sources, workers)
    try:
        return _combine(
            sources,
            options,
            pool,
            rtol=rtol,
            atol=atol,
            allow_shear=allow_shear,
            check_instance_numbers=check_instance_numbers,
            workers=workers,
            max_bytes=max_bytes,
        )
    finally:
        if pool is not None:
            pool.close()


def _start_pool_early(sources: SeriesSource, workers: int | None) -> WorkerPool | None:
    """Workers started before the header pass when the first file says they will be needed."""
    if isinstance(sources, Stack) or workers == 1:
        return None
    items, _ = _sources_of(sources)
    paths = [os.fspath(item) for item in items[:4] if isinstance(item, (str, os.PathLike))]
    return start_pool_early(paths, len(items), workers)


def _combine(
    sources: SeriesSource,
    options: RenderOptions,
    pool: WorkerPool | None,
    *,
    rtol: float,
    atol: float,
    allow_shear: bool,
    check_instance_numbers: bool,
    workers: int | None,
    max_bytes: int | None,
) -> Volume:
    plan = plan_series(
        sources,
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
        allow_lossy=options.allow_lossy,
        workers=workers,
    )
    dtype = series_output_dtype(plan.jobs, options)
    check_before_allocating(
        plan.headers, dtype, check_max_bytes(max_bytes), mask=options.padding is Padding.MASK
    )
    first = plan.headers[0]
    array = np.empty(
        (len(plan.headers), first.rows, first.columns, 1 if first.samples_per_pixel == 1 else 3),
        dtype=dtype,
    )
    mask = np.zeros(array.shape[:3], dtype=bool) if options.padding is Padding.MASK else None
    rendered = render_plan(plan, array, mask, options, workers, pool)
    described = describe_volume(
        plan,
        shape=tuple(array.shape),
        dtype=array.dtype.str,
        values=options.values.value,
        rendered=rendered,
        padding_mode=options.padding.value,
    )
    return Volume(array=array, affine=plan.geometry.affine, header=described, mask=mask)


def render_plan(
    plan: SeriesPlan,
    array: NDArray[Any],
    mask: NDArray[np.bool_] | None,
    options: RenderOptions,
    workers: int | None,
    pool: WorkerPool | None = None,
) -> list[RenderingDescription]:
    """Render the plan's slices into ``array`` (``(slices, rows, columns, samples)``).

    The slices of mosaics (``plan.tiles``) are rendered one whole mosaic
    image at a time, by the same rules, and cut into their slots.
    """
    if not plan.tiles:
        return render_series(plan.jobs, array, mask, options, workers, pool)
    first = plan.jobs[0].headers[0]
    scratch = np.empty(
        (sum(len(job.slots) for job in plan.jobs), first.rows, first.columns, array.shape[3]),
        dtype=array.dtype,
    )
    scratch_mask = None if mask is None else np.zeros(scratch.shape[:3], dtype=bool)
    rendered = render_series(plan.jobs, scratch, scratch_mask, options, workers, pool)
    rows, columns = array.shape[1:3]
    for slot, (index, row, column) in enumerate(plan.tiles):
        array[slot] = scratch[index, row : row + rows, column : column + columns]
        if mask is not None and scratch_mask is not None:
            mask[slot] = scratch_mask[index, row : row + rows, column : column + columns]
    return rendered


@dataclass(frozen=True)
class SeriesPlan:
    """The header-only pass of :func:`combine_series`: what to stack, in which order, where.

    Attributes
    ----------
    headers : tuple of SliceHeader
        The slices in array order (sorted along the normal, duplicates left out).
    geometry : StackGeometry
        The validated geometry; ``geometry.affine`` is the volume's affine.
    dropped : tuple of Dropped
        Exact duplicates left out.
    jobs : tuple of SourceJob
        The slices grouped by source file, each with its parsed header, the
        lossy assessment and the slots its frames fill. For mosaics, one job
        per mosaic image, whose slots number the mosaics.
    tiles : tuple of (int, int, int)
        For mosaics, per slice: the mosaic's number among the jobs' slots
        and the (row, column) of the slice's first pixel in it; empty
        otherwise.
    """

    headers: tuple[SliceHeader, ...]
    geometry: StackGeometry
    dropped: tuple[Dropped, ...]
    jobs: tuple[SourceJob, ...] = ()
    tiles: tuple[tuple[int, int, int], ...] = ()


def plan_series(
    sources: SeriesSource,
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    allow_lossy: bool = False,
    jobs: bool = True,
    workers: int | None = None,
) -> SeriesPlan:
    """Read, sort and validate the slice headers of ``sources``; no pixel is decoded.

    Takes the arguments of :func:`combine_series` and raises its errors.
    Lossy data are refused first, from the headers, unless ``allow_lossy``.
    Nothing is decoded: repeats of one SOP Instance are left out (and
    reported); distinct images at one position are refused. With
    ``jobs=False`` the plan is for reporting only (``dicomnp info``): a
    :class:`Stack`'s files are not read again, and the plan has no jobs.
    """
    return plan_headers(
        collect_headers(sources, workers),
        {},
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
        allow_lossy=allow_lossy,
        jobs=jobs,
    )


def plan_headers(
    headers: Sequence[SliceHeader],
    parsed: dict[int, ParsedSource],
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    allow_lossy: bool = False,
    jobs: bool = True,
) -> SeriesPlan:
    """:func:`plan_series` for headers already read (``parsed`` holds what was parsed).

    With ``jobs=False``, lossy data are refused from the assessment each
    header carries, and no source is read again to make jobs.
    """
    if not jobs and all(header.lossy is not None for header in headers):
        if not allow_lossy:
            refuse_lossy_headers(headers)
        lossy: dict[int, LossyAssessment] = {}
    else:
        lossy = refuse_lossy_sources(
            parse_sources(headers, parsed),
            RenderOptions(allow_lossy=allow_lossy),
            carried_lossy(headers),  # assessed from the same headers when they were read
        )
        jobs = True
    for header in headers:
        if header.number_of_frames > 1 and not header.enhanced:
            raise GeometryError(
                f"a multi-frame image without functional groups "
                f"({header.number_of_frames} frames) has no per-frame geometry",
                files=[header.name],
                path=header.name,
            )
    check_consistent(headers)
    _cosines(headers[0])
    check_orientations(headers)
    ordered = sort_slices(headers)
    _, _, normal = _cosines(ordered[0])
    distances = slice_positions(ordered, normal)
    kept, dropped = resolve_duplicates(ordered, distances, atol=atol, same_pixels=None)
    ordered = [ordered[index] for index in kept]
    geometry = plan_geometry(ordered, rtol=rtol, atol=atol, allow_shear=allow_shear)
    if check_instance_numbers:
        check_ends(ordered)
    made, tiles = _jobs_and_tiles(ordered, parsed, lossy) if jobs else ((), ())
    return SeriesPlan(
        headers=tuple(ordered),
        geometry=geometry,
        dropped=tuple(dropped),
        jobs=made,
        tiles=tiles,
    )


def _jobs_and_tiles(
    ordered: Sequence[SliceHeader],
    parsed: dict[int, ParsedSource],
    lossy: dict[int, LossyAssessment],
) -> tuple[tuple[SourceJob, ...], tuple[tuple[int, int, int], ...]]:
    """The jobs of the ordered slices; for mosaics, one per mosaic image and the tiles."""
    tiled = [header.tile is not None for header in ordered]
    if not any(tiled):
        return tuple(source_jobs(ordered, parsed, lossy)), ()
    if not all(tiled):
        mosaic = ordered[tiled.index(True)]
        other = ordered[tiled.index(False)]
        raise InconsistentSeriesError(
            f"mosaic and plain images in one volume: {mosaic.name} is a Siemens mosaic, "
            f"{other.label} is not",
            files=[mosaic.name, other.name],
        )
    images: dict[int, SliceHeader] = {}
    tiles = []
    for header in ordered:
        tile = header.tile
        assert tile is not None
        whole = images.setdefault(
            id(header.source), replace(header, rows=tile.rows, columns=tile.columns, tile=None)
        )
        number = list(images).index(id(whole.source))
        tiles.append((number, *tile.origin))
    return tuple(source_jobs(list(images.values()), parsed, lossy)), tuple(tiles)


def _per_slot(plan: SeriesPlan, rendered: Sequence[RenderingDescription]) -> dict[str, Any]:
    """The rendering fields of the volume header, per slice, from each source's description.

    A :class:`~dicomnp.normalize.RenderingDescription` field per frame
    (``window``, ``rescale_type``, ``modality_from_array``) or per source
    becomes a tuple per slice, named as :class:`VolumeHeader` names it.
    """
    count = len(plan.headers)
    source_of: list[tuple[int, int]] = [(0, 0)] * sum(len(job.slots) for job in plan.jobs)
    for number, job in enumerate(plan.jobs):
        for position, slot in enumerate(job.slots):
            source_of[slot] = (number, position)
    if plan.tiles:
        source_of = [source_of[index] for index, _, _ in plan.tiles]
    names = (
        "modality_from_array",
        "rescale_types",
        "windows",
        "stored_from_array",
        "padding",
        "lossy",
        "transfer_syntax_uids",
    )
    slots: dict[str, list[Any]] = {name: [None] * count for name in names}
    for slot, (number, position) in enumerate(source_of):
        job, described = plan.jobs[number], rendered[number]
        slots["modality_from_array"][slot] = described.modality_from_array[position]
        slots["rescale_types"][slot] = described.rescale_type[position]
        slots["windows"][slot] = described.window[position]
        slots["stored_from_array"][slot] = described.stored_from_array
        slots["padding"][slot] = described.padding
        slots["lossy"][slot] = job.lossy.lossy
        slots["transfer_syntax_uids"][slot] = job.parsed.syntax.uid
    first = rendered[0]
    for described, job in zip(rendered, plan.jobs, strict=True):
        for key in ("value_offset", "inverted", "output_photometric"):
            if getattr(described, key) != getattr(first, key):
                raise InconsistentSeriesError(
                    f"{key} differs between slices: {getattr(first, key)!r} in "
                    f"{plan.jobs[0].name}, {getattr(described, key)!r} in {job.name}",
                    files=[plan.jobs[0].name, job.name],
                )
    result: dict[str, Any] = {name: tuple(items) for name, items in slots.items()}
    result.update(
        value_offset=first.value_offset,
        inverted=first.inverted,
        output_photometric=first.output_photometric,
    )
    return result


def describe_volume(
    plan: SeriesPlan,
    *,
    shape: tuple[int, ...],
    dtype: str,
    values: str,
    rendered: Sequence[RenderingDescription] | None = None,
    padding_mode: str = "keep",
) -> VolumeHeader:
    """The header of the volume that ``plan`` stacks into an array of ``shape`` and ``dtype``.

    ``rendered`` holds how each of ``plan.jobs`` was rendered, as
    :func:`~dicomnp.volume.jobs.render_series` returns it: the
    rendering fields come from there.
    """
    rendering = _per_slot(plan, rendered) if rendered else {}
    ordered = plan.headers
    geometry = plan.geometry
    dropped = plan.dropped
    first = ordered[0]
    return VolumeHeader(
        shape=shape,
        dtype=dtype,
        values=values,
        coordinate_system="LPS",
        series_instance_uid=first.series_instance_uid,
        modality=first.modality,
        photometric_interpretation=first.photometric_interpretation,
        bits_stored=first.bits_stored,
        orientation=first.orientation or (),
        pixel_spacing=first.pixel_spacing or (),
        slice_thickness=first.slice_thickness,
        spacing_between_slices=first.spacing_between_slices,
        slice_spacing=geometry.slice_spacing,
        slice_spacing_source=geometry.slice_spacing_source,
        slice_step=geometry.step,
        gaps=geometry.gaps,
        sheared=geometry.sheared,
        tilt_degrees=geometry.tilt_degrees,
        files=tuple(h.label for h in ordered),
        sop_instance_uids=tuple(h.sop_instance_uid for h in ordered),
        positions=tuple(h.position or () for h in ordered),
        frames=tuple(h.frame for h in ordered),
        instance_numbers=tuple(h.instance_number for h in ordered),
        rescale_slopes=tuple(h.rescale_slope for h in ordered),
        rescale_intercepts=tuple(h.rescale_intercept for h in ordered),
        dropped=tuple(dropped),
        padding_mode=padding_mode,
        **rendering,
    )
