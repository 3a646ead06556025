"""Writing converted arrays: the output formats, their names, and one atomic write.

Used by ``dicomnp convert`` (:mod:`dicomnp.cli`) and by
:func:`dicomnp.convert_tree` (:mod:`dicomnp.batch`), so both name and write
their outputs the same way:

* :class:`Format` is the table of output formats: ``.npy`` with a ``.json``
  header beside it, ``.npz`` with the header inside, NIfTI (``.nii``,
  ``.nii.gz``) with a ``.json`` header beside it, and Zarr (a folder, written
  by Dask in :mod:`dicomnp.batch`) with a ``.json`` header beside it.
* :func:`output_names` gives every stack its base name.
* :func:`replacing` is the one way a file or folder is put in place: every
  output is written under a unique temporary name in its target folder, and
  the outputs of one stack are renamed into place together once all are
  complete, the ``.json`` header last. A failed or interrupted conversion
  leaves no half-written file under a final name, and never an array without
  its header.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._jsontext import indented_json
from .errors import OutputError

__all__ = [
    "FORMATS",
    "Converted",
    "Format",
    "format_of",
    "header_json",
    "mask_path",
    "nibabel_available",
    "output_names",
    "outputs_of",
    "replacing",
    "sidecar_path",
    "stack_label",
    "strip_format",
    "write",
]


class Format(str, Enum):
    """An output format, named by its file suffix (without the dot)."""

    NPY = "npy"
    """The array in NumPy's .npy format; the header in a .json file beside it."""
    NPZ = "npz"
    """A compressed NumPy archive holding the array, the affine and the header."""
    NII = "nii"
    """NIfTI-1 through nibabel; the header in a .json file beside it."""
    NII_GZ = "nii.gz"
    """Gzipped NIfTI-1 through nibabel; the header in a .json file beside it."""
    ZARR = "zarr"
    """A Zarr array (a folder) written by Dask, a chunk per slice; a .json header beside it."""

    @property
    def sidecar(self) -> bool:
        """True when the header is written to a ``.json`` file beside the array."""
        return self is not Format.NPZ

    @property
    def folder(self) -> bool:
        """True when the output is a folder rather than a file."""
        return self is Format.ZARR

    @property
    def nifti(self) -> bool:
        """True for the NIfTI formats."""
        return self in (Format.NII, Format.NII_GZ)


FORMATS = tuple(kind.value for kind in Format if not kind.folder)
"""The formats :func:`write` writes (one file each, plus the header), named by suffix."""


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
    mask : numpy.ndarray of bool or None
        A padding mask ``(slices, rows, columns)``: written beside a .npy as
        ``NAME.mask.npy``, inside a .npz as ``mask``. None: no mask.
    four_d : bool
        ``array`` is ``(volumes, slices, rows, columns, samples)`` and
        ``nifti_array`` ``(c, r, s, volumes)``: NIfTI gets a time axis.
    seconds_per_volume : float or None
        The NIfTI time step (``pixdim[4]``) of a 4D array: the repetition time.
    extras : tuple of (str, str)
        Text files written beside the array, as ``(suffix, text)``: e.g.
        ``(".bval", ...)`` and ``(".bvec", ...)`` for diffusion.
    """

    array: NDArray[Any]
    affine: NDArray[np.float64] | None
    header: dict[str, Any]
    nifti_array: NDArray[Any] | None = None
    nifti_affine: NDArray[np.float64] | None = None
    mask: NDArray[np.bool_] | None = None
    four_d: bool = False
    seconds_per_volume: float | None = None
    extras: tuple[tuple[str, str], ...] = ()


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The output format named by ``path``'s suffix, or None.

    Only the formats of :data:`FORMATS` count: a name ending in ``.zarr`` is
    not a file :func:`write` can write.

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
    """``path`` without the suffix of ``fmt``.

    Examples
    --------
    >>> strip_format(Path("out/ct.nii.gz"), "nii.gz").as_posix()
    'out/ct'
    """
    return path.with_name(path.name[: -len(fmt) - 1])


def sidecar_path(target: Path, fmt: str) -> Path:
    """The ``.json`` header beside ``target``, an output in format ``fmt``.

    Examples
    --------
    >>> sidecar_path(Path("out/ct.nii.gz"), "nii.gz").as_posix()
    'out/ct.json'
    """
    stem = strip_format(target, fmt)
    return stem.with_name(stem.name + ".json")


def mask_path(target: Path, fmt: str) -> Path:
    """The padding mask beside ``target``, an output in format ``fmt``.

    Examples
    --------
    >>> mask_path(Path("out/ct.npy"), "npy").as_posix()
    'out/ct.mask.npy'
    """
    stem = strip_format(target, fmt)
    return stem.with_name(f"{stem.name}.mask.{fmt}")


def outputs_of(
    target: Path, fmt: str, *, mask: bool = False, extras: Sequence[str] = ()
) -> list[Path]:
    """Every path :func:`write` writes for ``target``, in the order they are put in place.

    The array first, then the padding mask (``mask=True``, not for NIfTI),
    the text files named by the suffixes ``extras`` (``.bval``, ``.bvec``),
    then the ``.json`` header when the format has one beside the array.

    Examples
    --------
    >>> [path.name for path in outputs_of(Path("ct.npy"), "npy", mask=True)]
    ['ct.npy', 'ct.mask.npy', 'ct.json']
    >>> [path.name for path in outputs_of(Path("ct.npz"), "npz", mask=True)]
    ['ct.npz']
    """
    kind = Format(fmt)
    paths = [target]
    if mask and kind.sidecar and not kind.nifti:
        paths.append(mask_path(target, fmt))
    stem = strip_format(target, fmt)
    paths.extend(stem.with_name(stem.name + suffix) for suffix in extras)
    if kind.sidecar:
        paths.append(sidecar_path(target, fmt))
    return paths


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "stack"


def _key_text(key: Sequence[tuple[str, Any]]) -> str:
    parts = []
    for name, value in key:
        shown = "x".join(f"{item:g}" if isinstance(item, float) else str(item)
                         for item in (value if isinstance(value, tuple) else (value,)))  # fmt: skip
        parts.append(f"{name.split()[0]}-{shown}")
    return _safe("_".join(parts))


def stack_label(series_instance_uid: str, key: Sequence[tuple[str, Any]] = ()) -> str:
    """A stack's label from what identifies it: its series UID, and the key that splits it.

    Pass ``key`` only when the series has several stacks. The label holds
    only letters, digits, ``.``, ``_`` and ``-``.

    Examples
    --------
    >>> stack_label("1.2.840.99")
    '1.2.840.99'
    >>> stack_label("1.2.840.99", (("EchoTime", 2.5), ("ImageType LOCALIZER", True)))
    '1.2.840.99_EchoTime-2.5_ImageType-True'
    """
    label = _safe(series_instance_uid)
    if key:
        label += "_" + _key_text(key)
    return label


def output_names(
    labels: Sequence[str], *, base: str | None = None, label_one: bool = True
) -> list[str]:
    """The base name of each stack's outputs: ``BASE-LABEL``, or ``LABEL`` without a base.

    This is the one naming scheme of ``dicomnp convert`` and
    :func:`dicomnp.convert_tree`; each chooses its labels. The command labels
    stacks by the number ``dicomnp info`` shows (``stack-3`` in a folder,
    ``ct-3`` beside ``ct.npy``); the batch labels them by
    :func:`stack_label`, so a stack keeps its name when the tree grows and
    an interrupted batch resumes. A name met before gets ``_2``, ``_3``, ...

    Parameters
    ----------
    labels : sequence of str
        One label per stack.
    base : str or None, optional
        Put before each label with a ``-``. None (default): the label alone.
    label_one : bool, optional
        With ``False`` and a single stack, its name is ``base`` alone (a
        named output file keeps its name). Default True.

    Returns
    -------
    list of str
        Distinct names, in the order of ``labels``.

    Examples
    --------
    >>> output_names(["1", "3"], base="stack")
    ['stack-1', 'stack-3']
    >>> output_names(["2"], base="ct", label_one=False), output_names(["1", "2"], base="ct")
    (['ct'], ['ct-1', 'ct-2'])
    >>> output_names(["1.2.3", "1.2.3", "1.2.4"])
    ['1.2.3', '1.2.3_2', '1.2.4']
    """
    names: list[str] = []
    taken: set[str] = set()
    for label in labels:
        if base is None:
            name = label
        elif len(labels) == 1 and not label_one:
            name = base
        else:
            name = f"{base}-{label}"
        unique, number = name, 2
        while unique in taken:
            unique, number = f"{name}_{number}", number + 1
        taken.add(unique)
        names.append(unique)
    return names


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def header_json(header: dict[str, Any]) -> str:
    """``header`` as indented JSON; NumPy values become plain numbers and lists.

    Examples
    --------
    >>> print(header_json({"shape": np.array([2, 3]), "scale": np.float32(0.5)}), end="")
    {
      "shape": [
        2,
        3
      ],
      "scale": 0.5
    }
    """
    # json.dumps(header, indent=2, default=_jsonable), the same text, faster
    return indented_json(header, indent=2, default=_jsonable) + "\n"


def _exists_error(target: Path) -> OutputError:
    return OutputError(f"{target} exists; pass --force to replace it")


def _temporary(target: Path, folder: bool) -> Path:
    """Create and return an empty file (or folder) beside ``target`` under a name no one else has.

    The name holds the process id and random characters and is created
    exclusively, so concurrent writers in one folder never share one.
    """
    while True:
        path = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        try:
            if folder:
                path.mkdir()
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path


def _aside(target: Path) -> Path:
    """A new empty file (or folder) beside ``target`` to move its previous content to."""
    prefix, folder = f".{target.name}.", os.fspath(target.parent)
    if target.is_dir():
        return Path(tempfile.mkdtemp(suffix=".old", prefix=prefix, dir=folder))
    descriptor, name = tempfile.mkstemp(suffix=".old", prefix=prefix, dir=folder)
    os.close(descriptor)
    return Path(name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def replacing(
    targets: Sequence[Path], *, force: bool = False, folders: Collection[Path] = ()
) -> Iterator[list[Path]]:
    """Temporary paths for ``targets``, all renamed into place when the block succeeds.

    Each temporary is created empty beside its target, under a unique hidden
    name ending in ``.part``. When the block completes, the temporaries are
    renamed to their targets in order (put a header that marks the output as
    complete last); when it fails, they are removed and no target is
    touched. If a rename fails, the targets already renamed are removed
    again and the files they replaced (``force``) are put back, so the
    outputs appear all together or not at all.

    Parameters
    ----------
    targets : sequence of pathlib.Path
        The final paths, each in an existing folder.
    force : bool, optional
        Replace existing targets. Default False: an existing target is an
        error, checked before the block and again before renaming.
    folders : collection of pathlib.Path, optional
        Those of ``targets`` that are folders (a Zarr store): their
        temporary is an empty folder.

    Yields
    ------
    list of pathlib.Path
        The temporaries, in the order of ``targets``.

    Raises
    ------
    OutputError
        A target exists (without ``force``) or its folder does not.
    OSError
        Writing failed: raised again, of the same class, naming the target
        (not its temporary) and saying "disk full" when the disk is.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pair = [Path(folder, "a.npy"), Path(folder, "a.json")]
    ...     with replacing(pair) as (array, header):
    ...         _ = array.write_bytes(b"1"), header.write_text("{}")
    ...     sorted(path.name for path in Path(folder).iterdir())
    ['a.json', 'a.npy']
    """
    for target in targets:
        if target.exists() and not force:
            raise _exists_error(target)
        if not target.parent.is_dir():
            raise OutputError(f"{target.parent} is not an existing folder")
    temporaries: list[Path] = []
    placed: list[Path] = []
    saved: list[tuple[Path, Path]] = []  # (target, its previous content moved aside)
    try:
        for target in targets:
            temporaries.append(_temporary(target, folder=target in folders))
        yield list(temporaries)
        if not force:
            for target in targets:
                if target.exists():
                    raise _exists_error(target)
        for temporary, target in zip(temporaries, targets, strict=True):
            if target.exists():  # with force: kept aside until every output is in place
                aside = _aside(target)
                try:
                    os.replace(target, aside)
                except FileNotFoundError:  # another writer of the same target moved it first
                    _remove(aside)
                else:
                    saved.append((target, aside))
            os.replace(temporary, target)
            placed.append(target)
    except BaseException as exc:
        for target in placed:
            _remove(target)
        for target, aside in saved:  # what was there before comes back
            os.replace(aside, target)
        if isinstance(exc, OSError):
            raise _write_error(exc, targets, temporaries) from exc
        raise
    finally:
        for path in [*temporaries, *(aside for _, aside in saved)]:
            _remove(path)


def _write_error(error: OSError, targets: Sequence[Path], temporaries: Sequence[Path]) -> OSError:
    """``error`` again, naming the target it hit (never a temporary) and saying why in words.

    The target is the one whose temporary the error names; the first target
    when it names none. The error keeps its class and errno; a full disk is
    said as "disk full".
    """
    named = os.fsdecode(error.filename) if error.filename is not None else None
    target = targets[0]
    for temporary, candidate in zip(temporaries, targets, strict=False):
        if named is not None and named.startswith(os.fspath(temporary)):
            target = candidate
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = f"cannot write, disk full ({os.strerror(error.errno)}); nothing was written"
    else:
        reason = f"cannot write ({error.strerror or error}); nothing was written"
    return type(error)(error.errno, reason, os.fspath(target))


class _Writes:
    """A file seen only through ``write``: NumPy then writes with Python's I/O.

    Given a real file, NumPy writes with C ``fwrite`` and reports a full disk
    as a bare "N requested and M written"; Python's ``write`` raises an
    ``OSError`` with its errno (ENOSPC).
    """

    def __init__(self, handle: Any) -> None:
        self.write = handle.write


def _save_npy(path: Path, array: NDArray[Any]) -> None:
    with path.open("wb") as handle:
        np.save(_Writes(handle), np.ascontiguousarray(array), allow_pickle=False)


def write(
    converted: Converted, target: Path, fmt: str | Format, *, force: bool = False
) -> list[Path]:
    """Write ``converted`` to ``target`` in ``fmt``; return the files written.

    .npy and NIfTI get a JSON header beside them (same name, ``.json``), and
    .npy a padding mask (``NAME.mask.npy``) when ``converted.mask`` is set;
    .npz holds ``array``, ``affine`` (when known), ``mask`` (when set) and
    ``header`` (JSON text). All of a target's files are written through
    :func:`replacing`: they appear together, the header last.

    Parameters
    ----------
    converted : Converted
        The array, its geometry and its header.
    target : pathlib.Path
        The array's path; the other files go beside it.
    fmt : str or Format
        One of :data:`FORMATS`.
    force : bool, optional
        Replace existing files (default False: an existing file is an error).

    Returns
    -------
    list of pathlib.Path
        As :func:`outputs_of`: the array, the mask, the header.

    Raises
    ------
    OutputError
        An unknown format, a file that exists, a missing folder, NIfTI for
        an image without geometry or with a mask, or NIfTI without nibabel.
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    kind = Format(fmt)
    suffixes = [suffix for suffix, _ in converted.extras]
    outputs = outputs_of(target, kind.value, mask=converted.mask is not None, extras=suffixes)
    if kind is Format.NPZ:
        arrays: dict[str, Any] = {"array": converted.array}
        if converted.affine is not None:
            arrays["affine"] = converted.affine
        if converted.mask is not None:
            arrays["mask"] = converted.mask
        arrays["header"] = np.array(header_json(converted.header))
        with replacing(outputs, force=force) as temporaries:
            with temporaries[0].open("wb") as handle:
                np.savez_compressed(handle, **arrays)
            for temporary, (_, text) in zip(temporaries[1:], converted.extras, strict=True):
                temporary.write_text(text, encoding="utf-8")
        return outputs
    image = _nifti_image(converted) if kind.nifti else None
    with replacing(outputs, force=force) as temporaries:
        if image is not None:
            _save_nifti(image, temporaries[0], kind)
        else:
            _save_npy(temporaries[0], converted.array)
            if converted.mask is not None:
                _save_npy(temporaries[1], converted.mask)
        texts = temporaries[len(temporaries) - 1 - len(converted.extras) : -1]
        for temporary, (_, text) in zip(texts, converted.extras, strict=True):
            temporary.write_text(text, encoding="utf-8")
        temporaries[-1].write_text(header_json(converted.header), encoding="utf-8")
    return outputs


def nibabel_available() -> bool:
    """Whether nibabel can be imported, found without importing it."""
    return importlib.util.find_spec("nibabel") is not None


def _nifti_image(converted: Converted) -> Any:
    """The nibabel image of ``converted``: RAS affine, units, intent and scaling set."""
    if converted.nifti_array is None or converted.nifti_affine is None:
        raise OutputError(
            "NIfTI needs patient geometry (Image Position and Orientation (Patient)), "
            "which this image lacks; write .npy or .npz instead"
        )
    if converted.mask is not None:
        raise OutputError("a padding mask is written with .npy or .npz, not with NIfTI")
    if not nibabel_available():
        raise OutputError(
            'NIfTI output needs nibabel: pip install "dicomnp[nifti]"', missing_package=True
        )
    nibabel: Any = importlib.import_module("nibabel")  # partly unannotated

    data = converted.nifti_array
    affine = converted.nifti_affine
    if converted.four_d and data.ndim != 4:
        raise OutputError("colour volumes over time are written with .npy or .npz, not NIfTI")
    if data.ndim == 4 and not converted.four_d:  # colour, (c, r, s, 3)
        if data.dtype == np.uint8:
            rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
            data = np.ascontiguousarray(data).view(rgb)[..., 0]
        else:
            data = data[:, :, :, np.newaxis, :]  # a vector per voxel (NIfTI dimension 5)
    image = nibabel.Nifti1Image(data, affine)
    header = image.header
    if converted.four_d:
        header.set_xyzt_units("mm", "sec")
        if converted.seconds_per_volume:
            header["pixdim"][4] = converted.seconds_per_volume
    else:
        header.set_xyzt_units("mm")
    if data.ndim == 5:
        header.set_intent("vector")
    orthogonal = _is_orthogonal(affine)
    image.set_sform(affine, code=1)  # scanner coordinates, RAS
    image.set_qform(affine if orthogonal else None, code=1 if orthogonal else 0)
    scale = _scaling(converted.header)
    if scale is not None:
        header.set_slope_inter(*scale)
    return image


def _save_nifti(image: Any, temporary: Path, kind: Format) -> None:
    nibabel: Any = importlib.import_module("nibabel")  # partly unannotated

    # nibabel picks compression from the file name, so name a file alike, then move it.
    named = temporary.with_name(f"{temporary.name}.{kind.value}")
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
