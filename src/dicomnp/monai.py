"""A MONAI image reader: ``LoadImage(reader=DicomnpReader)`` reads DICOM series with dicomnp.

:class:`DicomnpReader` is a MONAI ``ImageReader``. It reads a folder, one
file (a slice, or an enhanced multi-frame image with its per-frame
geometry) or a :class:`~dicomnp.Stack` through :func:`dicomnp.combine_series`,
and gives what MONAI's ``NibabelReader`` gives for the NIfTI file dicomnp
writes of the same series: the array in ``(column, row, slice)`` order
(``(column, row, slice, 3)`` for colour) and its affine, to RAS by default
(``affine_lps_to_ras=False`` keeps LPS), with the metadata keys MONAI reads:
``affine``, ``original_affine``, ``spatial_shape``, ``space`` and
``original_channel_dim``.

Values are modality values by default (``values="modality"``: Hounsfield
units for CT), which is also what a NIfTI reader gets from the scaling
dicomnp writes. A folder holding several series is refused with
:class:`~dicomnp.errors.InconsistentSeriesError` naming them: choose one
with :func:`dicomnp.find_series` and pass its stack's files.

MONAI is optional (``pip install 'dicomnp[monai]'``, which needs PyTorch).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Union

import numpy as np
from monai.data.image_reader import ImageReader
from monai.utils.enums import MetaKeys, SpaceKeys
from monai.utils.misc import ensure_tuple
from numpy.typing import NDArray

from .volume import Stack, Volume, combine_series

__all__ = ["DicomnpReader"]

PathLike = Union[str, "os.PathLike[str]"]
"""A path as MONAI's readers take it."""

_SUFFIXES = (".dcm", ".dicom", ".ima")
_HEADER_FIELDS = (
    "series_instance_uid",
    "modality",
    "values",
    "slice_spacing",
    "sheared",
    "output_photometric",
)


def _column_row_slice(affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """An ``(s, r, c)`` affine reordered for index order ``(c, r, s)``."""
    reordered: NDArray[np.float64] = affine[:, [2, 1, 0, 3]]
    return reordered


class DicomnpReader(ImageReader):  # type: ignore[misc,unused-ignore]
    """Reads DICOM series and multi-frame images for MONAI's ``LoadImage``.

    Parameters
    ----------
    affine_lps_to_ras : bool, optional
        Give the affine to RAS (default, as NIfTI and MONAI's ``NibabelReader``),
        else to DICOM's LPS; ``space`` says which.
    values : {"modality", "stored", "display"}, optional
        What the array holds (see :func:`dicomnp.combine_series`); default
        ``"modality"``.
    **options
        Further options of :func:`dicomnp.combine_series` (``allow_shear=``,
        ``padding=``, ``allow_lossy=``, ...).

    Examples
    --------
    With MONAI: ``LoadImage(reader=DicomnpReader)(folder)``. The reader alone:

    >>> import tempfile
    >>> from dicomnp.examples import write_ct_series
    >>> from dicomnp.monai import DicomnpReader
    >>> reader = DicomnpReader()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, slices=4, rows=8, columns=6)
    ...     array, meta = reader.get_data(reader.read(folder))
    >>> array.shape, meta["space"] == "RAS", meta["spatial_shape"].tolist()
    ((6, 8, 4), True, [6, 8, 4])
    """

    def __init__(
        self, affine_lps_to_ras: bool = True, values: str = "modality", **options: Any
    ) -> None:
        super().__init__()
        self.affine_lps_to_ras = affine_lps_to_ras
        self.options: dict[str, Any] = {"values": values, **options}

    def verify_suffix(
        self, filename: Sequence[os.PathLike[str] | str] | os.PathLike[str] | str
    ) -> bool:
        """True for folders and for files named ``.dcm``, ``.dicom`` or ``.ima``.

        For a sequence, every item must be one.
        """
        for item in ensure_tuple(filename):
            if isinstance(item, Stack):
                continue
            name = os.fspath(item)
            if not (os.path.isdir(name) or name.lower().endswith(_SUFFIXES)):
                return False
        return True

    def read(self, data: Any, **kwargs: Any) -> Volume | list[Volume]:
        """Read each folder, file or stack of ``data`` as one volume.

        Keyword arguments are options of :func:`dicomnp.combine_series`;
        they override the reader's.

        Raises
        ------
        dicomnp.SeriesError
            A folder holding several series (``InconsistentSeriesError``),
            gaps, duplicates: the error names the files.
        """
        options = {**self.options, **kwargs}
        items = [data] if isinstance(data, Stack) else list(ensure_tuple(data))
        volumes = [combine_series(item, **options) for item in items]
        return volumes[0] if len(volumes) == 1 else volumes

    def get_data(self, img: Volume | Sequence[Volume]) -> tuple[NDArray[Any], dict[str, Any]]:
        """The array in ``(column, row, slice[, 3])`` order and its metadata.

        Several volumes (several items given to :meth:`read`) are stacked as
        channels on a new first axis; they must share their affine and shape.
        """
        volumes = [img] if isinstance(img, Volume) else list(img)
        arrays: list[NDArray[Any]] = []
        meta: dict[str, Any] = {}
        for volume in volumes:
            array = volume.nifti_array()
            affine = (
                volume.nifti_affine()
                if self.affine_lps_to_ras
                else _column_row_slice(volume.affine)
            )
            if meta:
                if (
                    not np.allclose(meta[MetaKeys.AFFINE], affine)
                    or tuple(meta[MetaKeys.SPATIAL_SHAPE]) != array.shape[:3]
                ):
                    raise ValueError(
                        "volumes stacked as channels must share their affine and shape: "
                        f"{volume.header.files[0]} differs from the first"
                    )
            else:
                meta = self._meta(volume, array, affine)
            arrays.append(array)
        if len(arrays) == 1:
            return arrays[0], meta
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = 0
        return np.stack(arrays, axis=0), meta

    def _meta(
        self, volume: Volume, array: NDArray[Any], affine: NDArray[np.float64]
    ) -> dict[str, Any]:
        header = volume.header.as_dict()
        meta: dict[str, Any] = {name: header[name] for name in _HEADER_FIELDS}
        meta[MetaKeys.AFFINE] = affine.copy()
        meta[MetaKeys.ORIGINAL_AFFINE] = affine.copy()
        meta[MetaKeys.SPATIAL_SHAPE] = np.asarray(array.shape[:3])
        meta[MetaKeys.SPACE] = SpaceKeys.RAS if self.affine_lps_to_ras else SpaceKeys.LPS
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = -1 if array.ndim == 4 else float("nan")
        return meta
