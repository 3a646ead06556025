"""An xarray backend: ``xr.open_dataset(folder, engine="dicomnp")`` gives a series as a Dataset.

The Dataset holds what :func:`dicomnp.combine_series` gives, named:

- ``image``: the array, dims ``("slice", "row", "column", "channel")``;
  ``mask`` beside it with ``padding="mask"``;
- the dimension coordinates ``slice``, ``row`` and ``column``: each voxel's
  position in mm along that axis's direction in patient space (the
  projection of the voxel centre, in LPS mm, on the unit vector of the
  affine's column for that axis; for an axial series these are z, y and x);
  each says its direction in ``attrs["direction_lps"]``;
- ``position`` ``(slice, xyz)``: Image Position (Patient) of each slice, the
  patient LPS mm of its first voxel; with the affine
  (``attrs["affine_lps"]``, mapping ``(slice, row, column, 1)``) every
  voxel's position is known;
- ``channel``: ``["grey"]`` or ``["R", "G", "B"]``;
- the volume header (:class:`dicomnp.volume.VolumeHeader`) as the Dataset's
  attributes.

When Dask is installed and the series is on disk, ``image`` is read lazily:
its values are decoded, slice by slice, when they are first used, and
``chunks={}`` gives a dask array of one slice per chunk. Without Dask the
series is decoded when the Dataset is opened.

xarray finds the backend by the ``xarray.backends`` entry point ``dicomnp``
that dicomnp's installation declares; :class:`DicomnpBackendEntrypoint` can
also be passed as the engine itself.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> import xarray as xr
>>> import dicomnp
>>> from dicomnp.examples import write_ct_series
>>> from dicomnp.xarray import DicomnpBackendEntrypoint
>>> with tempfile.TemporaryDirectory() as folder:
...     _ = write_ct_series(folder, slices=3, rows=8, columns=8)
...     dataset = xr.open_dataset(folder, engine=DicomnpBackendEntrypoint)
...     volume = dicomnp.combine_series(folder)
...     np.array_equal(dataset["image"].values, volume.array)
True
>>> dataset["image"].dims
('slice', 'row', 'column', 'channel')
>>> dataset["slice"].values.tolist()
[0.0, 2.0, 4.0]
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

from ._remote import is_url

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["DIMS", "DicomnpBackendEntrypoint", "axis_coordinates", "open_series"]

DIMS = ("slice", "row", "column", "channel")
"""The names of the image's dimensions, in array order."""

_AXIS_NAMES = ("slice", "row", "column")
_SUFFIXES = (".dcm", ".dicom", ".ima")
_OPTIONS = (
    "values",
    "allow_lossy",
    "padding",
    "voi",
    "voi_index",
    "window",
    "display_bits",
    "rtol",
    "atol",
    "allow_shear",
    "check_instance_numbers",
)


def axis_coordinates(
    affine: NDArray[np.float64], shape: tuple[int, ...]
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Per axis of ``(slice, row, column)``: voxel positions in mm along it, and its direction.

    The position of index ``i`` along axis ``k`` is the projection of the
    voxel centre ``affine @ (.., i, ..)`` on the unit vector of the affine's
    column ``k``; the direction is that unit vector, in the affine's
    coordinates (LPS).

    Examples
    --------
    >>> import numpy as np
    >>> affine = np.array([[0, 0, 0.5, -10], [0, 0.5, 0, -20], [2.0, 0, 0, 30], [0, 0, 0, 1]])
    >>> [values.tolist() for values, _ in axis_coordinates(affine, (2, 2, 3))]
    [[30.0, 32.0], [-20.0, -19.5], [-10.0, -9.5, -9.0]]
    """
    columns = affine[:3, :3]
    origin = affine[:3, 3]
    result = []
    for axis, count in enumerate(shape[:3]):
        length = float(np.linalg.norm(columns[:, axis]))
        direction = columns[:, axis] / length
        start = float(origin @ direction)
        result.append((start + length * np.arange(count, dtype=np.float64), direction))
    return result


class _LazyArray(BackendArray):  # type: ignore[misc,unused-ignore]
    """A dask array as xarray's lazily indexed array: only the slices indexed are computed."""

    def __init__(self, array: Any) -> None:
        self._array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, key: Any) -> Any:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._raw
        )

    def _raw(self, key: tuple[Any, ...]) -> NDArray[Any]:
        return np.asarray(self._array[key].compute())


def _on_disk(source: Any) -> bool:
    """Whether ``source`` is a local path or a sequence of them (not URLs, not in memory)."""

    def local(item: Any) -> bool:
        return isinstance(item, (str, os.PathLike)) and not is_url(item)

    if isinstance(source, (str, os.PathLike)):
        return local(source)
    if isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray, memoryview)):
        items = list(source) if not hasattr(source, "read") else []
        return bool(items) and all(local(item) for item in items)
    return False


def open_series(
    source: Any, *, drop_variables: Iterable[str] = (), lazy: bool | None = None, **options: Any
) -> xr.Dataset:
    """The series ``source`` as a Dataset; what the backend's ``open_dataset`` gives.

    ``lazy`` None reads lazily when Dask is installed and the series is on disk.
    """
    import xarray as xr

    from .dask_io import combine_series_dask
    from .volume import combine_series

    if lazy is None:
        lazy = importlib.util.find_spec("dask") is not None and _on_disk(source)
    if lazy:
        volume: Any = combine_series_dask(source, **options)
        image: Any = indexing.LazilyIndexedArray(_LazyArray(volume.array))
        mask: Any = (
            None if volume.mask is None else indexing.LazilyIndexedArray(_LazyArray(volume.mask))
        )
    else:
        volume = combine_series(source, **options)
        image, mask = volume.array, volume.mask
    shape = tuple(volume.array.shape)
    header = volume.header.as_dict()
    affine = np.asarray(volume.affine, dtype=np.float64)
    coords: dict[str, Any] = {}
    for name, (values, direction) in zip(_AXIS_NAMES, axis_coordinates(affine, shape), strict=True):
        coords[name] = (
            name,
            values,
            {
                "units": "mm",
                "long_name": f"position along the {name} axis in patient space",
                "direction_lps": direction.tolist(),
            },
        )
    coords["channel"] = ("channel", ["R", "G", "B"] if shape[3] == 3 else ["grey"])
    coords["xyz"] = ("xyz", ["x", "y", "z"])
    positions = affine[:3, 3] + np.arange(shape[0])[:, None] * affine[:3, 0]
    coords["position"] = (
        ("slice", "xyz"),
        positions,
        {"units": "mm", "long_name": "Image Position (Patient), LPS"},
    )
    variables: dict[str, Any] = {"image": xr.Variable(DIMS, image, {"long_name": header["values"]})}
    if mask is not None:
        variables["mask"] = xr.Variable(DIMS[:3], mask, {"long_name": "padding"})
    if lazy:
        for variable in variables.values():
            variable.encoding["preferred_chunks"] = {"slice": 1}
    for name in drop_variables:
        variables.pop(name, None)
    attrs = dict(header)
    attrs["affine_lps"] = affine.ravel().tolist()
    return xr.Dataset(variables, coords=coords, attrs=attrs)


class DicomnpBackendEntrypoint(BackendEntrypoint):  # type: ignore[misc,unused-ignore]
    """Opens a DICOM series (a folder, a file or a list of files) for xarray.

    ``xr.open_dataset(folder, engine="dicomnp", **options)``: the options are
    those of :func:`dicomnp.combine_series` (``values=``, ``padding=``,
    ``allow_shear=``, ...). Errors are dicomnp's: a folder holding several
    series raises :class:`~dicomnp.errors.MultipleVolumesError` or
    :class:`~dicomnp.errors.InconsistentSeriesError` naming them.
    """

    description = "DICOM series as a Dataset with patient coordinates, by dicomnp"
    url = "https://github.com/dicomnp/dicomnp"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "lazy", *_OPTIONS)

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        lazy: bool | None = None,
        **options: Any,
    ) -> xr.Dataset:
        """Open ``filename_or_obj`` as :func:`dicomnp.combine_series` reads it."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"unknown options for dicomnp: {', '.join(sorted(unknown))}")
        dropped = [drop_variables] if isinstance(drop_variables, str) else drop_variables or []
        return open_series(filename_or_obj, drop_variables=dropped, lazy=lazy, **options)

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Files named ``.dcm``, ``.dicom`` or ``.ima``; folders need ``engine="dicomnp"``."""
        if isinstance(filename_or_obj, (str, os.PathLike)):
            return os.fspath(filename_or_obj).lower().endswith(_SUFFIXES)
        return False
