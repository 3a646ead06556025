"""The Volume value and :func:`combine_series`.

``combine_series`` reads every header without pixel bytes, validates the
slices as one regular grid (see :mod:`.geometry` and :mod:`.consistency`),
allocates the output array once and decodes each slice straight into its
place, optionally with a pool of threads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Union, cast

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from .._source import SourceLike, open_source
from ..decode import FrameDecoder, open_frames
from ..errors import GeometryError, InconsistentSeriesError, SeriesError
from .consistency import Dropped, check_consistent, check_ends, resolve_duplicates
from .geometry import (
    StackGeometry,
    check_orientations,
    plan_geometry,
    slice_positions,
    sort_slices,
)
from .geometry import cosines as _cosines
from .headers import SliceHeader, read_headers
from .series import Stack, iter_dicom_files, try_read_headers

__all__ = [
    "SeriesPlan",
    "SeriesSource",
    "Volume",
    "VolumeHeader",
    "collect_headers",
    "combine_series",
    "describe_volume",
    "plan_series",
]

logger = logging.getLogger(__name__)

SeriesSource = Union[str, "os.PathLike[str]", Stack, Sequence[SourceLike], SourceLike]
"""A folder, a :class:`Stack` from :func:`find_series`, one image, or a sequence of images."""

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
        ``"stored"``: the array holds the stored values in their natural dtype.
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

    def as_dict(self) -> dict[str, Any]:
        """The header as a JSON-serialisable dict (tuples become lists)."""
        return asdict(self)


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
        Per-slice positions and UIDs in array order, spacing and how it was found.

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

    def _repr_html_(self) -> str:
        """Three orthogonal middle slices and the key header fields, for Jupyter."""
        from .._display import volume_html

        return volume_html(self)


def _sources_of(sources: SeriesSource) -> tuple[list[SourceLike], bool]:
    """The images to read, and whether they were found by walking a folder."""
    if isinstance(sources, (str, os.PathLike)):
        if os.path.isdir(sources):
            return list(iter_dicom_files(sources)), True
        return [sources], False
    if isinstance(sources, (bytes, bytearray, memoryview, Dataset)):
        return [sources], False
    if isinstance(sources, Iterable) and not hasattr(sources, "read"):
        return list(sources), False
    return [cast(SourceLike, sources)], False  # a file object


def collect_headers(sources: SeriesSource) -> list[SliceHeader]:
    """Read the slice headers of every image in ``sources``, without pixel bytes.

    Files found by walking a folder that are not DICOM images are skipped
    (logged); a listed source that cannot be read raises.
    """
    if isinstance(sources, Stack):
        return list(sources.headers)
    items, walked = _sources_of(sources)
    headers: list[SliceHeader] = []
    for item in items:
        if walked:
            found = try_read_headers(item)
            if found is None:
                continue
            headers.extend(found)
        else:
            headers.extend(read_headers(item))
    if not headers:
        raise SeriesError("no DICOM images found", files=[str(item) for item in items[:5]])
    return headers


def combine_series(
    sources: SeriesSource,
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    workers: int | None = None,
    values: str = "stored",
) -> Volume:
    """Stack the slices of one series, or the frames of an enhanced image, into a Volume.

    Parameters
    ----------
    sources : folder, Stack, image, or sequence of images
        A folder (walked, skipping DICOMDIR and non-DICOM files), a
        :class:`Stack` from :func:`find_series`, one enhanced multi-frame
        image, or a sequence of paths, file objects, bytes or Datasets.
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
        Decode with this many threads; None or 1 decodes in this thread.
    values : str
        ``"stored"``: stored values in their natural dtype.

    Returns
    -------
    Volume
        ``array`` shaped ``(slices, rows, columns, samples)``, sorted along the
        slice normal.

    Raises
    ------
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
    if values != "stored":
        raise ValueError(
            f"values={values!r} needs the normalize layer, which combine_series "
            "does not use yet; only values='stored' is available"
        )
    plan = plan_series(
        sources,
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
    )
    ordered = list(plan.headers)
    array = _allocate(ordered)
    _fill(ordered, array, workers)
    described = describe_volume(
        plan, shape=tuple(array.shape), dtype=array.dtype.str, values=values
    )
    return Volume(array=array, affine=plan.geometry.affine, header=described)


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
    """

    headers: tuple[SliceHeader, ...]
    geometry: StackGeometry
    dropped: tuple[Dropped, ...]


def plan_series(
    sources: SeriesSource,
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
) -> SeriesPlan:
    """Read, sort and validate the slice headers of ``sources``; no pixel is decoded.

    Takes the arguments of :func:`combine_series` and raises its errors.
    Only exact duplicates (same position) are decoded, to compare them.
    """
    headers = collect_headers(sources)
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
    kept, dropped = resolve_duplicates(ordered, distances, atol=atol, same_pixels=_same_pixels)
    ordered = [ordered[index] for index in kept]
    geometry = plan_geometry(ordered, rtol=rtol, atol=atol, allow_shear=allow_shear)
    if check_instance_numbers:
        check_ends(ordered)
    return SeriesPlan(headers=tuple(ordered), geometry=geometry, dropped=tuple(dropped))


def describe_volume(
    plan: SeriesPlan, *, shape: tuple[int, ...], dtype: str, values: str
) -> VolumeHeader:
    """The header of the volume that ``plan`` stacks into an array of ``shape`` and ``dtype``."""
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
    )


def _allocate(headers: Sequence[SliceHeader]) -> NDArray[Any]:
    first = headers[0]
    shape = (len(headers), first.rows, first.columns, first.samples_per_pixel)
    return np.empty(shape, dtype=np.dtype(first.dtype))


def _fill_slice(decoder: FrameDecoder, header: SliceHeader, out: NDArray[Any]) -> None:
    """Write one slice into ``out``, shaped ``(rows, columns, samples)``.

    The one place that turns a frame into output values: stored values
    for now; the normalize layer's renderer goes here.
    """
    decoder.decode_into(header.frame, out)


def _open_and_fill(source: SourceLike, jobs: Sequence[tuple[SliceHeader, NDArray[Any]]]) -> None:
    start = source.tell() if hasattr(source, "tell") and hasattr(source, "seek") else None
    with open_source(source) as opened:
        decoder = open_frames(opened)
        info = decoder.info
        for header, out in jobs:
            found = (info.rows, info.columns, info.samples_per_pixel, info.dtype.name)
            wanted = (header.rows, header.columns, header.samples_per_pixel, header.dtype)
            if found != wanted:
                raise InconsistentSeriesError(
                    f"the file changed since its header was read: {found} != {wanted}",
                    files=[header.name],
                    path=header.label,
                )
            _fill_slice(decoder, header, out)
    if start is not None:
        source.seek(start)  # type: ignore[union-attr]  # a file object can be read again


def _fill(headers: Sequence[SliceHeader], array: NDArray[Any], workers: int | None) -> None:
    """Decode every slice into its slot, one job per source file."""
    groups: dict[int, tuple[SourceLike, list[tuple[SliceHeader, NDArray[Any]]]]] = {}
    for slot, header in enumerate(headers):
        entry = groups.setdefault(id(header.source), (header.source, []))
        entry[1].append((header, array[slot]))
    jobs = list(groups.values())
    if workers is None or workers <= 1 or len(jobs) == 1:
        for source, items in jobs:
            _open_and_fill(source, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda job: _open_and_fill(*job), jobs):
            pass


def _same_pixels(a: SliceHeader, b: SliceHeader) -> bool:
    """True when two slices hold identical stored values."""
    if (a.rows, a.columns, a.samples_per_pixel, a.dtype) != (
        b.rows,
        b.columns,
        b.samples_per_pixel,
        b.dtype,
    ):
        return False
    buffers = [np.empty((h.rows, h.columns, h.samples_per_pixel), dtype=h.dtype) for h in (a, b)]
    for header, buffer in zip((a, b), buffers, strict=True):
        _open_and_fill(header.source, [(header, buffer)])
    return bool(np.array_equal(buffers[0], buffers[1]))
