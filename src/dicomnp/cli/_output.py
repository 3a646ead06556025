"""Writing a converted volume or image: .npy with a JSON header beside it, .npz, NIfTI.

Every file is written under a temporary name in the target folder and
renamed into place when complete, so that a failed or interrupted
conversion never leaves a half-written file under the final name.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FORMATS", "Converted", "OutputError", "format_of", "write"]

FORMATS = ("npy", "npz", "nii", "nii.gz")
"""Output formats, named by their file suffix."""


class OutputError(Exception):
    """The output cannot be written: it exists, its folder is missing, or a package is."""

    def __init__(self, message: str, *, missing_package: bool = False) -> None:
        super().__init__(message)
        self.missing_package = missing_package


@dataclass(frozen=True)
class Converted:
    """What to write: an array, its affine (None for an image without geometry), its header.

    Attributes
    ----------
    array : numpy.ndarray
        ``(slices, rows, columns, samples)`` for a volume; as rendered for an image.
    affine : numpy.ndarray or None
        4x4, ``(s, r, c, 1)`` to patient LPS mm.
    header : dict
        JSON-serialisable description (written beside .npy and NIfTI, inside .npz).
    nifti_array, nifti_affine
        The array in ``(c, r, s)`` order and its RAS affine, for NIfTI.
    """

    array: NDArray[Any]
    affine: NDArray[np.float64] | None
    header: dict[str, Any]
    nifti_array: NDArray[Any] | None = None
    nifti_affine: NDArray[np.float64] | None = None


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The output format named by ``path``'s suffix, or None.

    Examples
    --------
    >>> format_of("out/brain.nii.gz"), format_of("a.npy"), format_of("folder")
    ('nii.gz', 'npy', None)
    """
    name = os.fspath(path).lower()
    for candidate in sorted(FORMATS, key=len, reverse=True):
        if name.endswith("." + candidate):
            return candidate
    return None


def strip_format(path: Path, fmt: str) -> Path:
    """``path`` without the suffix of ``fmt``."""
    return path.with_name(path.name[: -len(fmt) - 1])


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def header_json(header: dict[str, Any]) -> str:
    """``header`` as indented JSON; NumPy values become plain numbers and lists."""
    return json.dumps(header, indent=2, default=_jsonable) + "\n"


@contextmanager
def _replacing(target: Path, force: bool) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed to ``target`` when the block succeeds."""
    if target.exists() and not force:
        raise OutputError(f"{target} exists; pass --force to replace it")
    if not target.parent.is_dir():
        raise OutputError(f"{target.parent} is not an existing folder")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _write_text(target: Path, text: str, force: bool) -> None:
    with _replacing(target, force) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write(converted: Converted, target: Path, fmt: str, *, force: bool = False) -> list[Path]:
    """Write ``converted`` to ``target`` in ``fmt``; return the files written.

    .npy and NIfTI get a JSON header beside them (same name, ``.json``);
    .npz holds ``array``, ``affine`` (when known) and ``header`` (JSON text).
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    sidecar = strip_format(target, fmt).with_name(strip_format(target, fmt).name + ".json")
    if fmt == "npy":
        with _replacing(target, force) as temporary, temporary.open("wb") as handle:
            np.save(handle, np.ascontiguousarray(converted.array), allow_pickle=False)
        _write_text(sidecar, header_json(converted.header), force)
        return [target, sidecar]
    if fmt == "npz":
        arrays: dict[str, Any] = {"array": converted.array}
        if converted.affine is not None:
            arrays["affine"] = converted.affine
        arrays["header"] = np.array(header_json(converted.header))
        with _replacing(target, force) as temporary, temporary.open("wb") as handle:
            np.savez_compressed(handle, **arrays)
        return [target]
    _write_nifti(converted, target, fmt, force)
    _write_text(sidecar, header_json(converted.header), force)
    return [target, sidecar]


def nibabel_available() -> bool:
    """Whether nibabel can be imported, found without importing it."""
    return importlib.util.find_spec("nibabel") is not None


def _write_nifti(converted: Converted, target: Path, fmt: str, force: bool) -> None:
    if converted.nifti_array is None or converted.nifti_affine is None:
        raise OutputError(
            "NIfTI needs patient geometry (Image Position and Orientation (Patient)), "
            "which this image lacks; write .npy or .npz instead"
        )
    if not nibabel_available():
        raise OutputError(
            'NIfTI output needs nibabel: pip install "dicomnp[nifti]"', missing_package=True
        )
    nibabel: Any = importlib.import_module("nibabel")  # partly unannotated

    data = converted.nifti_array
    affine = converted.nifti_affine
    if data.ndim == 4:  # colour, (c, r, s, 3)
        if data.dtype == np.uint8:
            rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
            data = np.ascontiguousarray(data).view(rgb)[..., 0]
        else:
            data = data[:, :, :, np.newaxis, :]  # a vector per voxel (NIfTI dimension 5)
    image = nibabel.Nifti1Image(data, affine)
    header = image.header
    header.set_xyzt_units("mm")
    if data.ndim == 5:
        header.set_intent("vector")
    orthogonal = _is_orthogonal(affine)
    image.set_sform(affine, code=1)  # scanner coordinates, RAS
    image.set_qform(affine if orthogonal else None, code=1 if orthogonal else 0)
    scale = _scaling(converted.header)
    if scale is not None:
        header.set_slope_inter(*scale)
    extension = ".nii.gz" if fmt == "nii.gz" else ".nii"
    with _replacing(target, force) as temporary:
        # nibabel picks compression from the file name, so name the temporary file alike.
        named = temporary.with_name(temporary.name + extension)
        try:
            nibabel.save(image, named)
            os.replace(named, temporary)
        finally:
            named.unlink(missing_ok=True)


def _is_orthogonal(affine: NDArray[np.float64]) -> bool:
    """True when the affine's columns are perpendicular (no gantry-tilt shear)."""
    columns = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return bool(np.allclose(columns.T @ columns, np.eye(3), atol=1e-6))


def _scaling(header: dict[str, Any]) -> tuple[float, float] | None:
    """NIfTI scl_slope/scl_inter that give modality values from stored values, as dcm2niix does.

    Only for stored values with one Rescale Slope and Intercept for every slice.
    The intercept absorbs the unsigned offset of signed data (rule R2).
    """
    volume = header.get("header", {})
    if volume.get("values", header.get("values")) != "stored":
        return None
    per_slice = volume.get("modality_from_array")
    if per_slice:  # modality value = scale * array + offset, per slice
        pairs = {None if item is None else (item["scale"], item["offset"]) for item in per_slice}
        if len(pairs) != 1 or None in pairs:
            return None
        scale, offset = pairs.pop()  # type: ignore[misc]  # None excluded above
        if scale == 1 and offset == 0:
            return None
        return float(scale), float(offset)
    slopes = set(volume.get("rescale_slopes") or ())
    intercepts = set(volume.get("rescale_intercepts") or ())
    if len(slopes) != 1 or len(intercepts) != 1 or None in slopes or None in intercepts:
        return None
    slope, intercept = float(slopes.pop()), float(intercepts.pop())
    offset = float(volume.get("value_offset") or 0)
    if slope == 1.0 and intercept == 0.0 and offset == 0.0:
        return None
    return slope, intercept - slope * offset
