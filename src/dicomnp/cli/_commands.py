"""The ``info`` and ``convert`` commands."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from .._api import read
from .._execute import forked_processes, map_forked
from .._writer import (
    Converted,
    format_of,
    nibabel_available,
    output_names,
    strip_format,
    write,
)
from ..errors import DicomNumpyError, OutputError, SeriesError
from ..volume import Stack, combine_series, combine_volumes
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
    message_of,
    one_line,
    print_json,
    progress_bar,
    report_error,
    say,
)

__all__ = ["run_convert", "run_info"]

_AXES = ["slice", "row", "column", "sample"]


def _catalog(path: Path, args: argparse.Namespace) -> SeriesCatalog:
    catalog = catalog_of(path, progress_bar(args.quiet, "reading headers", unit="file"))
    if not len(catalog):
        raise DicomNumpyError(f"no DICOM images found under {path}", path=None)
    return catalog


def _unreadable(catalog: SeriesCatalog, args: argparse.Namespace) -> int:
    """Report the files that look like DICOM images but cannot be read; the exit code they set.

    Slices may be missing from the stacks because of them, so they fail the
    command (exit code of a data error) unless ``--skip-unreadable`` is given.
    """
    if not catalog.unreadable:
        return EXIT_OK
    level = "warning" if args.skip_unreadable else "error"
    for name, why in catalog.unreadable:
        emit(
            f"dicomnp: {level}: {name}: looks like a DICOM image but cannot be read: "
            f"{one_line(why, 200)}\n",
            sys.stderr,
        )
    if args.skip_unreadable:
        return EXIT_OK
    problem = SeriesError(
        f"{len(catalog.unreadable)} file(s) look like DICOM images but cannot be read, so "
        "stacks may be missing slices; pass --skip-unreadable to go on without them"
    )
    report_error(str(problem))
    return exit_code_of(problem)


def run_info(args: argparse.Namespace) -> int:
    """``dicomnp info PATH``: list the series and stacks, decoding no pixels."""
    path = existing_path(args.path)
    catalog = _catalog(path, args)
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
                "unreadable": [{"file": name, "reason": why} for name, why in catalog.unreadable],
            }
        )
    else:
        say(info_text(catalog, infos) + "\n")
    return _unreadable(catalog, args)


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
            shape += " (slices, rows, columns, samples)"
            lines.append(
                f"  stack {info.number}{f' [{key}]' if key else ''}: {info.four_d or shape}, "
                f"{first.photometric_interpretation} "
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
    catalog = _catalog(path, args)
    refused = _unreadable(catalog, args)
    if refused:
        return refused
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
    files = sum(len(stacks[number].files) for number in targets)
    processes = forked_processes(len(items), args.workers, files=files)
    job = functools.partial(_convert_and_write, stacks=stacks, path=path, fmt=fmt, args=args)
    for (number, _), done in zip(items, map_forked(job, items, processes, bar), strict=True):
        if done.failure is not None:
            message, failed = done.failure
            report_error(f"stack {number}: {message}" if len(targets) > 1 else message)
            code = code or failed
            continue
        _warn_dropped(done.dropped, number if len(targets) > 1 else None)
        if not args.quiet:
            written = done.written
            say(
                f"wrote {written[0]} {done.shape} {done.dtype}"
                + (f" (+ {', '.join(p.name for p in written[1:])})" if len(written) > 1 else "")
                + "\n"
            )
    return code


class _Written(NamedTuple):
    """What converting one stack wrote, or why it failed (message, exit code)."""

    written: list[Path]
    shape: tuple[int, ...] = ()
    dtype: str = ""
    dropped: tuple[dict[str, Any], ...] = ()
    failure: tuple[str, int] | None = None


def _convert_and_write(
    item: tuple[int, Path],
    *,
    stacks: dict[int, Stack],
    path: Path,
    fmt: str,
    args: argparse.Namespace,
) -> _Written:
    """Convert stack ``number`` and write it to ``target``: in this process or a forked copy.

    What a copy sends back is small (names, shape, what was left out), never
    the array.
    """
    number, target = item
    try:
        converted = convert_stack(stacks[number], number, path, args)
        written = write(converted, target, fmt, force=args.force)
    except (DicomNumpyError, OutputError, OSError) as exc:
        return _Written([], failure=(message_of(exc), exit_code_of(exc)))
    dropped = (converted.header.get("header") or {}).get("dropped") or []
    array = converted.array
    return _Written(list(written), tuple(array.shape), str(array.dtype), tuple(dropped))


def _warn_dropped(dropped: Sequence[dict[str, Any]], number: int | None) -> None:
    """Say on standard error which repeated instances were left out (also with --quiet)."""
    if not dropped:
        return
    where = f"stack {number}: " if number is not None else ""
    listed = "; ".join(f"{item['label']} ({item['reason']})" for item in dropped[:5])
    more = f"; and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    emit(
        f"dicomnp: warning: {where}left out {len(dropped)} repeated instance(s): {listed}{more}\n",
        sys.stderr,
    )


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
    if stack.volumes > 1:
        return _convert_volumes(stack, common, args, options)
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


def _convert_volumes(
    stack: Stack, common: dict[str, Any], args: argparse.Namespace, options: dict[str, Any]
) -> Converted:
    """Read a stack of several volumes as one 4D array, with BIDS fields and gradients."""
    volumes = combine_volumes(stack, allow_lossy=args.allow_lossy, **options)
    found = volumes.header
    header = {
        **common,
        "kind": "volumes",
        "axes": ["volume", *_AXES],
        "shape": list(volumes.array.shape),
        "dtype": volumes.array.dtype.str,
        "spacing": list(volumes.spacing),
        "affine_lps": volumes.affine.tolist(),
        "nifti": {
            "axes": ["column", "row", "slice", "volume"],
            "affine": volumes.nifti_affine().tolist(),
        },
        "volumes_by": found.volumes_by,
        "header": found.as_dict(),
        **found.bids,
    }
    extras: tuple[tuple[str, str], ...] = ()
    if found.is_diffusion:
        bvals = " ".join(f"{b or 0:g}" for b in found.b_values) + "\n"
        bvecs = "".join(" ".join(f"{v:.6f}" for v in row) + "\n" for row in volumes.fsl_bvecs())
        extras = ((".bval", bvals), (".bvec", bvecs))
    repetition = found.repetition_times[0]
    return Converted(
        array=volumes.array,
        affine=volumes.affine,
        header=header,
        nifti_array=volumes.nifti_array(),
        nifti_affine=volumes.nifti_affine(),
        four_d=True,
        seconds_per_volume=None if repetition is None else repetition / 1000.0,
        extras=extras,
    )
