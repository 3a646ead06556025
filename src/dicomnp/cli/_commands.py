"""The ``info`` and ``convert`` commands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .. import __version__
from .._api import read
from .._writer import (
    Converted,
    format_of,
    nibabel_available,
    output_names,
    strip_format,
    write,
)
from ..errors import DicomNumpyError, OutputError
from ..volume import Stack, combine_series
from ..volume.series import SeriesCatalog
from ._catalog import (
    StackInfo,
    catalog_of,
    describe_stacks,
    numbered_stacks,
    refuse_lossy_stack,
)
from ._common import (
    EXIT_OK,
    UsageError,
    emit,
    existing_path,
    exit_code_of,
    one_line,
    print_json,
    progress_bar,
    report_error,
)

__all__ = ["run_convert", "run_info"]

_AXES = ["slice", "row", "column", "sample"]


def _catalog(path: Path) -> SeriesCatalog:
    catalog = catalog_of(path)
    if not len(catalog):
        raise DicomNumpyError(f"no DICOM images found under {path}", path=None)
    return catalog


def run_info(args: argparse.Namespace) -> int:
    """``dicomnp info PATH``: list the series and stacks, decoding no pixels."""
    path = existing_path(args.path)
    catalog = _catalog(path)
    infos = describe_stacks(
        catalog,
        allow_shear=args.allow_shear,
        progress=progress_bar(args.quiet, "checking stacks"),
    )
    if args.json:
        print_json(
            {
                "path": os.fspath(path),
                "series": len(catalog),
                "stacks": [info.as_dict() for info in infos],
                "skipped": [{"file": name, "reason": why} for name, why in catalog.skipped],
            }
        )
    else:
        emit(info_text(catalog, infos) + "\n")
    return EXIT_OK


def info_text(catalog: SeriesCatalog, infos: list[StackInfo]) -> str:
    """The text ``dicomnp info`` prints."""
    files = sum(len(info.stack.files) for info in infos)
    lines = [
        f"{catalog.folder}: {len(catalog)} series (one per Series Instance UID), "
        f"{len(infos)} stack(s), {files} image file(s)"
        + (f", {len(catalog.skipped)} other file(s) skipped" if catalog.skipped else "")
    ]
    by_series: dict[str, list[StackInfo]] = {}
    for info in infos:
        by_series.setdefault(info.series.series_instance_uid, []).append(info)
    for number, series in enumerate(catalog, 1):
        described = f' "{series.description}"' if series.description else ""
        split = (
            f", split by {', '.join(series.split_by)}"
            if series.split_by
            else (", one stack" if len(series.stacks) == 1 else "")
        )
        lines.append(
            f"series {number}: {series.modality or '?'}{described} {series.series_instance_uid}"
            f" - {len(series.stacks)} stack(s){split}"
        )
        for info in by_series.get(series.series_instance_uid, []):
            key = ", ".join(f"{name}={_show(value)}" for name, value in info.stack.key)
            first = info.stack.headers[0]
            shape = " x ".join(str(size) for size in info.shape)
            lines.append(
                f"  stack {info.number}{f' [{key}]' if key else ''}: {shape} "
                f"(slices, rows, columns, samples), {first.photometric_interpretation} "
                f"{first.bits_stored}-bit, {len(info.stack.files)} file(s)"
            )
            lines.append(
                f"    transfer syntax: {'; '.join(info.transfer_syntaxes)} | "
                f"lossy: {info.lossy} | geometry: {info.geometry}"
            )
    if catalog.skipped:
        lines.append(f"skipped {len(catalog.skipped)} file(s) that are not DICOM images:")
        lines.extend(f"  {name}: {one_line(why, 200)}" for name, why in catalog.skipped)
    return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "/".join(_show(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _targets(
    output: Path, fmt: str, folder: bool, numbers: list[int], force: bool
) -> dict[int, Path]:
    """Each stack's output, named by its number as ``info`` shows it; existing ones refused.

    The header beside each output is checked when it is written (``write``),
    after the stack is read, so that a stack that cannot be written in the
    format says why first.
    """
    labels = [str(number) for number in numbers]
    if folder:
        names = output_names(labels, base="stack")
        paths = [output / f"{name}.{fmt}" for name in names]
    else:
        stem = strip_format(output, fmt)
        names = output_names(labels, base=stem.name, label_one=False)
        # A lone stack keeps the output name as given; several get their numbers.
        paths = [output if name == stem.name else stem.with_name(f"{name}.{fmt}") for name in names]
    targets = dict(zip(numbers, paths, strict=True))
    if not force:
        for target in targets.values():
            if target.exists():
                raise OutputError(f"{target} exists; pass --force to replace it")
    return targets


def run_convert(args: argparse.Namespace) -> int:
    """``dicomnp convert PATH -o OUT``: write each stack; return the first failure's code."""
    path = existing_path(args.path)
    output = Path(args.output)
    named = format_of(output)
    if args.format and named and args.format != named:
        raise UsageError(f"--format {args.format} contradicts the output name {output}")
    fmt = args.format or named or "npy"
    folder = named is None
    if fmt.startswith("nii") and not nibabel_available():
        raise OutputError(
            'NIfTI output needs nibabel: pip install "dicomnp[nifti]"', missing_package=True
        )
    catalog = _catalog(path)
    stacks = {number: stack for number, _, stack in numbered_stacks(catalog)}
    wanted = args.stack or sorted(stacks)
    for number in wanted:
        if number not in stacks:
            raise UsageError(f"there is no stack {number}: {path} holds {len(stacks)} stack(s)")
    (output if folder else output.parent).mkdir(parents=True, exist_ok=True)
    targets = _targets(output, fmt, folder, list(dict.fromkeys(wanted)), args.force)
    bar = progress_bar(args.quiet, "converting")
    code = EXIT_OK
    items = list(targets.items())
    for number, target in bar(items) if bar else items:
        try:
            converted = convert_stack(stacks[number], number, path, args)
            written = write(converted, target, fmt, force=args.force)
        except (DicomNumpyError, OutputError, OSError) as exc:
            message = str(exc) if not isinstance(exc, OSError) else f"{exc.filename}: {exc}"
            report_error(f"stack {number}: {message}" if len(targets) > 1 else message)
            code = code or exit_code_of(exc)
            continue
        if not args.quiet:
            array = converted.array
            emit(
                f"wrote {written[0]} {tuple(array.shape)} {array.dtype}"
                + (f" (+ {written[1].name})" if len(written) > 1 else "")
                + "\n"
            )
    return code


def _needs_image(stack: Stack) -> bool:
    """A lone file without the geometry of a volume is written as an image."""
    first = stack.headers[0]
    if len(stack.files) != 1:
        return False
    no_place = first.orientation is None or first.position is None
    return no_place or (first.number_of_frames > 1 and not first.enhanced)


def convert_stack(stack: Stack, number: int, path: Path, args: argparse.Namespace) -> Converted:
    """Read one stack as a Volume (or a lone image without geometry as an Image)."""
    if not args.allow_lossy:
        refuse_lossy_stack(stack)
    common: dict[str, Any] = {
        "dicomnp_version": __version__,
        "source": os.fspath(path),
        "stack": number,
    }
    if _needs_image(stack):
        image = read(
            stack.headers[0].source,
            values=args.values,
            allow_lossy=args.allow_lossy,
            workers=args.workers,
        )
        axes = _AXES[1:] if image.array.ndim == 3 else ["frame", *_AXES[1:]]
        header = {**common, "kind": "image", "axes": axes, "header": image.header}
        return Converted(array=image.array, affine=None, header=header)
    options: dict[str, Any] = {
        "workers": args.workers,
        "allow_shear": args.allow_shear,
        "values": args.values,
    }
    volume = combine_series(stack, allow_lossy=args.allow_lossy, **options)
    header = {
        **common,
        "kind": "volume",
        "axes": _AXES,
        "shape": list(volume.array.shape),
        "dtype": volume.array.dtype.str,
        "spacing": list(volume.spacing),
        "affine_lps": volume.affine.tolist(),
        "affine_ras": volume.ras_affine.tolist(),
        "nifti": {"axes": ["column", "row", "slice"], "affine": volume.nifti_affine().tolist()},
        "header": volume.header.as_dict(),
    }
    return Converted(
        array=volume.array,
        affine=volume.affine,
        header=header,
        nifti_array=volume.nifti_array(),
        nifti_affine=volume.nifti_affine(),
    )
