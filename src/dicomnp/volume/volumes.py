"""Several volumes of one acquisition as one 4D result: :func:`combine_volumes`.

fMRI runs, diffusion series, multi-phase, multi-echo and field-map series
store several images at every slice position. :func:`combine_volumes` finds
what separates them (:mod:`.grouping`: mosaic images, temporal position,
diffusion, acquisition, trigger time, echo, image type, a vendor's image
kind, else instance order), plans each volume as :func:`combine_series`
plans one (sorting, every geometry check and refusal), requires all volumes
to lie on the same grid, and renders every slice into one array of shape
``(volumes, slices, rows, columns, samples)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..decode.limits import DEFAULT_MAX_BYTES, check_max_bytes
from ..errors import GeometryError
from ..normalize import (
    Padding,
    PaddingLike,
    RenderOptions,
    ValuesLike,
    VoiLike,
    check_workers,
)
from .bids import bids_fields, slice_times
from .consistency import Dropped
from .grouping import VolumeSplit, split_volumes
from .headers import ParsedSource, text_of
from .jobs import series_output_dtype
from .plain import as_plain_dict
from .preflight import check_before_allocating
from .volume import (
    SeriesPlan,
    SeriesSource,
    Volume,
    VolumeHeader,
    collect_headers,
    describe_volume,
    plan_headers,
    render_plan,
)

__all__ = ["Volume4D", "Volume4DHeader", "VolumesPlan", "combine_volumes", "plan_volumes"]

logger = logging.getLogger(__name__)

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class VolumesPlan:
    """The header-only pass of :func:`combine_volumes`.

    Attributes
    ----------
    split : VolumeSplit
        The volumes found and what separated them.
    plans : tuple of SeriesPlan
        One per volume, in volume order, each as :func:`plan_series` makes it.
    """

    split: VolumeSplit
    plans: tuple[SeriesPlan, ...]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(volumes, slices, rows, columns)."""
        first = self.plans[0].headers[0]
        return (len(self.plans), len(self.plans[0].headers), first.rows, first.columns)


def plan_volumes(
    sources: SeriesSource,
    *,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    allow_lossy: bool = False,
    jobs: bool = True,
) -> VolumesPlan:
    """Find the volumes of ``sources`` and plan each one; no pixel is decoded.

    Takes the arguments of :func:`combine_volumes` and raises its errors;
    ``jobs=False`` plans for reporting only, as :func:`plan_series` does.
    """
    parsed: dict[int, ParsedSource] = {}
    headers = collect_headers(sources)
    split = split_volumes(headers, atol=atol)
    plans: list[SeriesPlan] = []
    for number, members in enumerate(split.volumes):
        plan = plan_headers(
            members,
            parsed,
            rtol=rtol,
            atol=atol,
            allow_shear=allow_shear,
            check_instance_numbers=check_instance_numbers,
            allow_lossy=allow_lossy,
            jobs=jobs,
        )
        if plans:
            _check_same_grid(plans[0], plan, number, split, atol)
        plans.append(plan)
    return VolumesPlan(split=split, plans=tuple(plans))


def _check_same_grid(
    first: SeriesPlan, other: SeriesPlan, number: int, split: VolumeSplit, atol: float
) -> None:
    a, b = first.headers, other.headers
    if len(a) != len(b) or (a[0].rows, a[0].columns) != (b[0].rows, b[0].columns):
        raise GeometryError(
            f"volume {number} ({split.words} of {b[0].label}) has {len(b)} slices of "
            f"{b[0].rows}x{b[0].columns}, volume 0 has {len(a)} of {a[0].rows}x{a[0].columns}",
            files=[a[0].name, b[0].name],
        )
    difference = float(np.max(np.abs(first.geometry.affine - other.geometry.affine)))
    if difference > atol:
        raise GeometryError(
            f"volume {number} ({split.words} of {b[0].label}) lies on another grid than "
            f"volume 0 ({a[0].label}): the affines differ by up to {difference:.4g} mm "
            f"(tolerance {atol:g} mm)",
            files=[a[0].name, b[0].name],
        )


@dataclass(frozen=True)
class Volume4DHeader:
    """What is known about the volumes beyond the array and the affine.

    Per-volume tuples are in volume order. :meth:`as_dict` gives a
    JSON-serialisable mapping.

    Attributes
    ----------
    shape, dtype, values
        As the array has them; ``values`` as for :func:`combine_series`.
    volumes_by : str
        What separated the volumes: ``"mosaic image"``, a DICOM keyword
        (``"TemporalPositionIdentifier"``, ``"DiffusionBValue"``,
        ``"AcquisitionNumber"``, ...) or ``"InstanceNumber"`` (instance order);
        empty for one volume.
    volumes_by_words : str
        The same in words, e.g. ``"temporal position"``.
    volume_headers : tuple of VolumeHeader
        Each volume's header as :func:`combine_series` gives it (files,
        positions, rescales, ...).
    b_values : tuple of (float or None)
        Diffusion b-value per volume, s/mm2.
    gradients : tuple of (tuple of 3 float or None)
        Unit diffusion gradient direction per volume, in patient LPS.
    echo_times, repetition_times, trigger_times : tuple of (float or None)
        Per volume, from its first slice, in ms as DICOM gives them.
    acquisition_times : tuple of (str or None)
        Per volume, AcquisitionTime of its first slice (DICOM TM).
    stored_from_array, modality_from_array : tuple
        Per slice of every volume, volume by volume (``volumes * slices``
        entries): as in :class:`VolumeHeader`.
    dropped : tuple of Dropped
        Repeats of one SOP Instance left out.
    slice_times : tuple of float or None
        Per slice (array order), its acquisition time in seconds from the
        volume's start, where the data carry it (see
        :func:`~dicomnp.volume.bids.slice_times`).
    bids : dict
        The BIDS sidecar fields (seconds) that DICOM holds (see
        :mod:`dicomnp.volume.bids`).
    """

    shape: tuple[int, ...]
    dtype: str
    values: str
    volumes_by: str
    volumes_by_words: str
    volume_headers: tuple[VolumeHeader, ...]
    b_values: tuple[float | None, ...]
    gradients: tuple[tuple[float, ...] | None, ...]
    echo_times: tuple[float | None, ...]
    repetition_times: tuple[float | None, ...]
    trigger_times: tuple[float | None, ...]
    acquisition_times: tuple[str | None, ...]
    stored_from_array: tuple[dict[str, Any] | None, ...]
    modality_from_array: tuple[dict[str, Any] | None, ...]
    dropped: tuple[Dropped, ...]
    slice_times: tuple[float, ...] | None = None
    bids: dict[str, Any] = field(default_factory=dict)

    @property
    def is_diffusion(self) -> bool:
        """True when every volume has a b-value and one of them is not 0."""
        return all(b is not None for b in self.b_values) and any(self.b_values)

    def as_dict(self) -> dict[str, Any]:
        """The header as a JSON-serialisable dict (tuples become lists)."""
        return as_plain_dict(self)  # dataclasses.asdict, without its deep copies


@dataclass(frozen=True, eq=False)
class Volume4D:
    """Volumes of one acquisition on one grid: an fMRI run, a diffusion series, echoes.

    Attributes
    ----------
    array : numpy.ndarray
        Shape ``(volumes, slices, rows, columns, samples)``, samples 1 or 3.
    affine : numpy.ndarray
        4x4 float64 mapping ``(s, r, c, 1)`` to patient LPS mm, for every volume.
    header : Volume4DHeader
        What separated the volumes, per-volume timing and diffusion, and
        each volume's own header.
    mask : numpy.ndarray of bool or None
        With ``padding="mask"``: ``(volumes, slices, rows, columns)``.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> first, second = ct_series(4, 16, 16), ct_series(4, 16, 16)
    >>> for k, ds in enumerate(second):
    ...     ds.SeriesInstanceUID = first[0].SeriesInstanceUID
    ...     ds.FrameOfReferenceUID = first[0].FrameOfReferenceUID
    ...     ds.InstanceNumber = 5 + k
    >>> volumes = dicomnp.combine_volumes(first + second)
    >>> volumes.array.shape, volumes.header.volumes_by_words
    ((2, 4, 16, 16, 1), 'instance order')
    >>> volumes.nifti_array().shape
    (16, 16, 4, 2)
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    header: Volume4DHeader
    mask: NDArray[np.bool_] | None = None

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(slice, row, column)`` in mm."""
        lengths = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(lengths[0]), float(lengths[1]), float(lengths[2]))

    def nifti_affine(self) -> NDArray[np.float64]:
        """The RAS affine for index order ``(c, r, s)``, as nibabel and NIfTI expect."""
        result: NDArray[np.float64] = (_LPS_TO_RAS @ self.affine)[:, [2, 1, 0, 3]]
        return result

    def nifti_array(self) -> NDArray[Any]:
        """A view in ``(c, r, s, volumes)`` order; ``(c, r, s, volumes, 3)`` for colour."""
        view: NDArray[Any] = self.array.transpose(3, 2, 1, 0, 4)
        return view[..., 0] if view.shape[4] == 1 else view

    def volume(self, index: int) -> Volume:
        """Volume ``index`` as a 3D :class:`Volume` (a view of the array)."""
        mask = None if self.mask is None else self.mask[index]
        return Volume(
            array=self.array[index],
            affine=self.affine,
            header=self.header.volume_headers[index],
            mask=mask,
        )

    def fsl_bvecs(self) -> NDArray[np.float64]:
        """Gradient directions as FSL's ``.bvec`` wants them: ``(3, volumes)``.

        In the axes of :meth:`nifti_array` (columns, rows, slices): the row
        and column direction cosines and the slice normal, the first negated
        when the NIfTI affine's determinant is positive (FSL's convention);
        zeros for a volume without a gradient.
        """
        affine = self.nifti_affine()[:3, :3]
        first = self.header.volume_headers[0]
        x = np.asarray(first.orientation[:3], dtype=np.float64)
        y = np.asarray(first.orientation[3:], dtype=np.float64)
        normal = np.cross(x, y)
        if float(np.dot(normal, self.affine[:3, 0])) < 0:
            normal = -normal
        # the image axes themselves: a slice step slightly off the normal does not turn them
        axes = np.diag([-1.0, -1.0, 1.0]) @ np.column_stack([x, y, normal])
        flip = np.diag([-1.0, 1.0, 1.0]) if np.linalg.det(affine) > 0 else np.eye(3)
        out = np.zeros((3, len(self.header.gradients)), dtype=np.float64)
        for index, gradient in enumerate(self.header.gradients):
            if gradient is None:
                continue
            ras = np.array([-gradient[0], -gradient[1], gradient[2]], dtype=np.float64)
            out[:, index] = flip @ np.linalg.solve(axes, ras)
        out[np.abs(out) < 1e-12] = 0.0
        return out

    def _repr_html_(self) -> str:
        """The first volume's three middle slices, with the 4D shape, for Jupyter."""
        from .._display import volume_html

        header = self.header
        shape = "x".join(str(n) for n in self.nifti_array().shape[:4])
        note = f"{shape} (4D: {self.array.shape[0]} volumes by {header.volumes_by_words})"
        return f"<div><b>{note}</b></div>" + volume_html(self.volume(0))


def combine_volumes(
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
) -> Volume4D:
    """Stack the volumes of one acquisition (fMRI, diffusion, echoes, phases) into one 4D array.

    Parameters
    ----------
    sources : folder, Stack, image, or sequence of images
        As for :func:`combine_series`: the images of one acquisition, e.g. a
        4D :class:`Stack` from :func:`find_series`. One size, orientation
        and series.
    rtol, atol, allow_shear, check_instance_numbers, workers, values, allow_lossy
        As for :func:`combine_series`, applied to every volume.
    padding, voi, voi_index, window, display_bits, max_bytes
        As for :func:`combine_series`; ``max_bytes`` bounds the whole 4D array.

    Returns
    -------
    Volume4D
        ``array`` shaped ``(volumes, slices, rows, columns, samples)``;
        ``header.volumes_by`` says what separated the volumes. One image
        per position gives one volume.

    Raises
    ------
    GeometryError
        A volume's slices lie on another grid than the first volume's, or
        any geometry error of :func:`combine_series`.
    MissingSliceError
        Positions hold different numbers of images, or a volume misses a slice.
    DuplicateSliceError
        Distinct images at one position that nothing tells apart, not even
        Instance Numbers.
    LossyDataError, InconsistentSeriesError, InvalidOptionError
        As for :func:`combine_series`.

    Examples
    --------
    Two volumes at the same four positions, told apart by Temporal Position
    Identifier:

    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> first, second = ct_series(4, 8, 8), ct_series(4, 8, 8)
    >>> for number, ds in enumerate(first + second):
    ...     ds.SeriesInstanceUID = first[0].SeriesInstanceUID
    ...     ds.FrameOfReferenceUID = first[0].FrameOfReferenceUID
    ...     ds.TemporalPositionIdentifier = 1 + number // 4
    >>> volumes = dicomnp.combine_volumes(second + first)
    >>> volumes.array.shape, volumes.header.volumes_by
    ((2, 4, 8, 8, 1), 'TemporalPositionIdentifier')
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
    planned = plan_volumes(
        sources,
        rtol=rtol,
        atol=atol,
        allow_shear=allow_shear,
        check_instance_numbers=check_instance_numbers,
        allow_lossy=options.allow_lossy,
    )
    plans = planned.plans
    jobs = [job for plan in plans for job in plan.jobs]
    dtype = series_output_dtype(jobs, options)
    every_slice = [header for plan in plans for header in plan.headers]
    masked = options.padding is Padding.MASK
    check_before_allocating(every_slice, dtype, check_max_bytes(max_bytes), mask=masked)
    first = plans[0].headers[0]
    samples = 1 if first.samples_per_pixel == 1 else 3
    array = np.empty((*planned.shape, samples), dtype=dtype)
    mask = np.zeros(planned.shape, dtype=bool) if masked else None
    headers = []
    for index, plan in enumerate(plans):
        part = None if mask is None else mask[index]
        rendered = render_plan(plan, array[index], part, options, workers)
        headers.append(
            describe_volume(
                plan,
                shape=tuple(array.shape[1:]),
                dtype=array.dtype.str,
                values=options.values.value,
                rendered=rendered,
                padding_mode=options.padding.value,
            )
        )
    header = _describe(planned, headers, tuple(array.shape), array.dtype.str, options)
    return Volume4D(array=array, affine=plans[0].geometry.affine, header=header, mask=mask)


def _describe(
    planned: VolumesPlan,
    headers: Sequence[VolumeHeader],
    shape: tuple[int, ...],
    dtype: str,
    options: RenderOptions,
) -> Volume4DHeader:
    firsts = [plan.headers[0] for plan in planned.plans]
    job = planned.plans[0].jobs[0]
    dropped = planned.split.dropped + tuple(d for plan in planned.plans for d in plan.dropped)
    return Volume4DHeader(
        shape=shape,
        dtype=dtype,
        values=options.values.value,
        volumes_by=planned.split.by,
        volumes_by_words=planned.split.words,
        volume_headers=tuple(headers),
        b_values=tuple(h.b_value for h in firsts),
        gradients=tuple(h.gradient for h in firsts),
        echo_times=tuple(h.echo_time for h in firsts),
        repetition_times=tuple(h.repetition_time for h in firsts),
        trigger_times=tuple(h.trigger_time for h in firsts),
        acquisition_times=tuple(_acquisition_time(plan) for plan in planned.plans),
        stored_from_array=tuple(m for h in headers for m in h.stored_from_array),
        modality_from_array=tuple(m for h in headers for m in h.modality_from_array),
        dropped=dropped,
        slice_times=slice_times(planned.plans[0].headers),
        bids=bids_fields(job.parsed.dataset, planned.plans[0].headers, job.name),
    )


def _acquisition_time(plan: SeriesPlan) -> str | None:
    """AcquisitionTime of the volume's first slice (read here: it is not in the slice header)."""
    first = plan.headers[0]
    for job in plan.jobs:
        if job.source is first.source:
            return text_of(job.parsed.dataset, "AcquisitionTime", job.name)
    return None
