"""Batch conversion of a folder tree: one output per stack, in-process or on a Dask cluster.

:func:`convert_tree` finds the series once (:func:`dicomnp.find_series`, headers
only), then writes one output per stack: an NPY array with a JSON header
beside it, or a Zarr array for volumes larger than memory. With a
``dask.distributed`` client the stacks are converted on its workers (NPY: one
task per stack; Zarr: one task per slice); without one, in this process.

The files are named and written as ``dicomnp convert`` writes them
(:mod:`dicomnp._writer`): under unique temporary names, renamed into place
together once complete, the JSON header last. The conversion is therefore
resumable: a stack whose JSON header exists is skipped. A stack that fails
is reported (error type and message) and the others go on.

Run it from the command line::

    python -m dicomnp.batch ROOT OUT [--scheduler ADDRESS | --workers N] [--format zarr]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
from numpy.typing import NDArray

from ._writer import (
    Converted,
    Format,
    header_json,
    mask_path,
    output_names,
    replacing,
    sidecar_path,
    stack_label,
    write,
)
from .dask_io import combine_series_dask, require
from .errors import InvalidOptionError
from .normalize import PaddingLike, RenderOptions, ValuesLike, VoiLike
from .volume import (
    Stack,
    Volume4DHeader,
    VolumeHeader,
    combine_series,
    combine_volumes,
    find_series,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["BatchReport", "OutputFormat", "StackJob", "StackResult", "convert_tree", "main"]

logger = logging.getLogger(__name__)


class OutputFormat(str, Enum):
    """How each stack is written."""

    NPY = Format.NPY.value
    """``NAME.npy`` (and ``NAME.mask.npy`` with ``padding="mask"``): one task per stack."""
    ZARR = Format.ZARR.value
    """``NAME.zarr`` (and ``NAME.mask.zarr``), a chunk per slice: volumes larger than memory."""


FormatLike = Union[OutputFormat, Literal["npy", "zarr"]]


@dataclass(frozen=True)
class StackJob:
    """One stack to convert: what a worker needs, headers and paths but no pixels.

    Attributes
    ----------
    name : str
        The outputs' base name in ``out``: the Series Instance UID, plus what
        sets the stack apart when the series has several.
    stack : Stack
        The stack's slice headers, as :func:`dicomnp.find_series` found them.
    out : str
        The output folder.
    output : OutputFormat
        NPY or Zarr.
    options : RenderOptions
        How the slices are rendered.
    """

    name: str
    stack: Stack = field(repr=False)
    out: str
    output: OutputFormat
    options: RenderOptions

    @property
    def header_path(self) -> Path:
        """The JSON header, written last: its presence means the stack is done."""
        return sidecar_path(self.array_path(), self.output.value)

    def array_path(self, mask: bool = False) -> Path:
        """Where the array (or the padding mask) goes."""
        path = Path(self.out) / f"{self.name}.{self.output.value}"
        return mask_path(path, self.output.value) if mask else path


@dataclass(frozen=True)
class StackResult:
    """What happened to one stack.

    Attributes
    ----------
    name : str
        The outputs' base name.
    status : {"converted", "done before", "failed"}
        Converted now, skipped because its output was already complete, or failed.
    outputs : tuple of str
        The files written (or found complete).
    files : int
        How many source files the stack has.
    first_file : str
        One of them, to find the stack again.
    error : str or None
        For a failure: the error's type and message.
    nbytes : int
        Bytes of array written now.
    seconds : float
        Time spent on the stack.
    """

    name: str
    status: str
    outputs: tuple[str, ...] = ()
    files: int = 0
    first_file: str = ""
    error: str | None = None
    nbytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchReport:
    """The result of :func:`convert_tree`: one :class:`StackResult` per stack.

    Attributes
    ----------
    root, out : str
        The folders read and written.
    results : tuple of StackResult
        In the order :func:`dicomnp.find_series` found the stacks.
    skipped_files : tuple of (str, str)
        Files under ``root`` that are not DICOM images, and why.
    unreadable_files : tuple of (str, str)
        Those of them that look like DICOM images but cannot be read (cut
        short, not permitted), and why: stacks may be missing slices, so
        the batch is not :attr:`ok`.

    Examples
    --------
    >>> import tempfile, os
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as out:
    ...     _ = write_ct_series(os.path.join(root, "ct"), 3, 8, 8)
    ...     report = convert_tree(root, out)
    ...     len(report.converted), len(report.failed), len(convert_tree(root, out).converted)
    (1, 0, 0)
    """

    root: str
    out: str
    results: tuple[StackResult, ...]
    skipped_files: tuple[tuple[str, str], ...] = ()
    unreadable_files: tuple[tuple[str, str], ...] = ()

    def _with(self, status: str) -> tuple[StackResult, ...]:
        return tuple(result for result in self.results if result.status == status)

    @property
    def converted(self) -> tuple[StackResult, ...]:
        """Stacks converted by this run."""
        return self._with("converted")

    @property
    def done_before(self) -> tuple[StackResult, ...]:
        """Stacks skipped because a previous run finished them."""
        return self._with("done before")

    @property
    def failed(self) -> tuple[StackResult, ...]:
        """Stacks that could not be converted; each says why."""
        return self._with("failed")

    @property
    def ok(self) -> bool:
        """True when no stack failed and every file that looks like a DICOM image was read."""
        return not self.failed and not self.unreadable_files

    @property
    def nbytes(self) -> int:
        """Bytes of arrays written by this run."""
        return sum(result.nbytes for result in self.results)

    def summary(self) -> str:
        """A readable account: counts, then each failure with its error."""
        lines = [
            f"{len(self.results)} stack(s) under {self.root}: {len(self.converted)} converted, "
            f"{len(self.done_before)} done before, {len(self.failed)} failed; "
            f"{self.nbytes / 2**20:.1f} MiB written to {self.out}"
        ]
        for result in self.failed:
            lines.append(
                f"FAILED {result.name} ({result.files} file(s), e.g. {result.first_file}): "
                f"{result.error}"
            )
        if self.unreadable_files:
            lines.append(
                f"UNREADABLE {len(self.unreadable_files)} file(s) look like DICOM images but "
                "cannot be read; their stacks may be missing slices:"
            )
            lines.extend(f"   - {name}: {why}" for name, why in self.unreadable_files)
        if self.skipped_files:
            lines.append(f"{len(self.skipped_files)} file(s) skipped as not DICOM images")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON types."""
        return {
            "root": self.root,
            "out": self.out,
            "results": [
                vars(result) | {"outputs": list(result.outputs)} for result in self.results
            ],
            "skipped_files": [list(item) for item in self.skipped_files],
            "unreadable_files": [list(item) for item in self.unreadable_files],
        }


def stack_jobs(
    stacks: Sequence[Stack], out: str, output: OutputFormat, options: RenderOptions
) -> list[StackJob]:
    """One job per stack, each with a distinct, stable output name.

    The name is the stack's :func:`~dicomnp._writer.stack_label` (its Series
    Instance UID, plus its key when the series has several stacks), made
    distinct by :func:`~dicomnp._writer.output_names`.
    """
    counts: dict[str, int] = {}
    for stack in stacks:
        counts[stack.series_instance_uid] = counts.get(stack.series_instance_uid, 0) + 1
    labels = [
        stack_label(
            stack.series_instance_uid, stack.key if counts[stack.series_instance_uid] > 1 else ()
        )
        for stack in stacks
    ]
    names = output_names(labels)
    return [
        StackJob(name, stack, out, output, options)
        for name, stack in zip(names, stacks, strict=True)
    ]


def _document(
    job: StackJob,
    outputs: Sequence[Path],
    *,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    affine: NDArray[np.float64],
    header: VolumeHeader | Volume4DHeader,
) -> dict[str, Any]:
    lengths = np.linalg.norm(affine[:3, :3], axis=0)
    axes = ["slice", "row", "column", "sample"]
    return {
        "name": job.name,
        "format": job.output.value,
        "array": outputs[0].name,
        "mask": outputs[1].name if len(outputs) > 1 else None,
        "axes": ["volume", *axes] if len(shape) == 5 else axes,
        "shape": list(shape),
        "dtype": dtype.str,
        "affine": affine.tolist(),
        "spacing": [float(length) for length in lengths],
        "series_instance_uid": job.stack.series_instance_uid,
        "stack_key": [[name, value] for name, value in job.stack.key],
        "files": list(job.stack.files),
        "options": {
            "values": job.options.values.value,
            "allow_lossy": job.options.allow_lossy,
            "padding": job.options.padding.value,
            "voi": job.options.voi.value,
            "voi_index": job.options.voi_index,
            "window": job.options.window,
            "display_bits": job.options.display_bits,
        },
        "header": header.as_dict(),
    }


def _failed(job: StackJob, error: BaseException, started: float) -> StackResult:
    logger.warning("%s failed: %s: %s", job.name, type(error).__name__, error)
    return StackResult(
        name=job.name,
        status="failed",
        files=len(job.stack.files),
        first_file=job.stack.files[0] if job.stack.files else "",
        error=f"{type(error).__name__}: {error}",
        seconds=time.perf_counter() - started,
    )


def _outputs(job: StackJob, mask: bool) -> list[Path]:
    """The array (and the padding mask) of ``job``, without its header."""
    return [job.array_path()] + ([job.array_path(mask=True)] if mask else [])


def convert_stack(job: StackJob) -> StackResult:
    """Convert one stack to NPY in this process; a failure becomes a failed result.

    The stack is combined by :func:`dicomnp.combine_series` (in this
    process: ``workers=1``), so the array is exactly what it returns; a stack
    of several volumes (:attr:`Stack.volumes`) by :func:`dicomnp.combine_volumes`,
    into one ``(volumes, slices, rows, columns, samples)`` array. The
    array, mask and JSON header are written as ``dicomnp convert`` writes
    them: under temporary names, renamed into place together when all are
    complete, the JSON header last.
    """
    started = time.perf_counter()
    options = job.options
    combine = combine_volumes if job.stack.volumes > 1 else combine_series
    try:
        volume = combine(
            job.stack,
            workers=1,
            values=options.values,
            allow_lossy=options.allow_lossy,
            padding=options.padding,
            voi=options.voi,
            voi_index=options.voi_index,
            window=options.window,
            display_bits=options.display_bits,
        )
        outputs = _outputs(job, volume.mask is not None)
        document = _document(
            job,
            outputs,
            shape=volume.array.shape,
            dtype=volume.array.dtype,
            affine=volume.affine,
            header=volume.header,
        )
        converted = Converted(
            array=volume.array, affine=volume.affine, header=document, mask=volume.mask
        )
        write(converted, job.array_path(), Format.NPY, force=True)
    except Exception as error:  # reported per stack; the batch goes on
        return _failed(job, error, started)
    return _converted(job, outputs, int(volume.array.nbytes), started)


def _convert_zarr(job: StackJob, client: Client | None) -> StackResult:
    """Convert one stack to Zarr with one task per slice, on ``client`` or in this process."""
    import dask.array as da
    from dask.base import compute

    started = time.perf_counter()
    try:
        options = job.options
        lazy = combine_series_dask(
            job.stack,
            values=options.values,
            allow_lossy=options.allow_lossy,
            padding=options.padding,
            voi=options.voi,
            voi_index=options.voi_index,
            window=options.window,
            display_bits=options.display_bits,
        )
        outputs = _outputs(job, lazy.mask is not None)
        document = _document(
            job,
            outputs,
            shape=tuple(lazy.array.shape),
            dtype=lazy.array.dtype,
            affine=lazy.affine,
            header=lazy.header,
        )
        with replacing([*outputs, job.header_path], force=True, folders=outputs) as temporaries:
            stores = [da.to_zarr(lazy.array, str(temporaries[0]), compute=False)]
            if lazy.mask is not None:
                stores.append(da.to_zarr(lazy.mask, str(temporaries[1]), compute=False))
            if client is not None:
                client.compute(stores, sync=True)
            else:
                compute(*stores, scheduler="threads")
            temporaries[-1].write_text(header_json(document), encoding="utf-8")
    except Exception as error:  # reported per stack; the batch goes on
        return _failed(job, error, started)
    return _converted(job, outputs, int(lazy.array.nbytes), started)


def _converted(job: StackJob, outputs: list[Path], nbytes: int, started: float) -> StackResult:
    """The result of a stack written to ``outputs``, its header file last."""
    return StackResult(
        name=job.name,
        status="converted",
        outputs=tuple(str(path) for path in [*outputs, job.header_path]),
        files=len(job.stack.files),
        first_file=job.stack.files[0],
        nbytes=nbytes,
        seconds=time.perf_counter() - started,
    )


def convert_tree(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    client: Client | None = None,
    output: FormatLike = "npy",
    values: ValuesLike = "stored",
    allow_lossy: bool = False,
    padding: PaddingLike = "keep",
    voi: VoiLike = "window",
    voi_index: int = 0,
    window: tuple[float, float] | None = None,
    display_bits: int = 8,
) -> BatchReport:
    """Convert every stack of every series under ``root`` into ``out``, skipping finished ones.

    Parameters
    ----------
    root : str or os.PathLike
        The folder tree to read; walked once by :func:`dicomnp.find_series`.
    out : str or os.PathLike
        The output folder (created). Per stack: ``NAME.npy`` or ``NAME.zarr``
        and ``NAME.json`` (the affine, spacing, options and the volume
        header, written last), where NAME is the Series Instance UID, plus
        what sets the stack apart when the series has several.
    client : distributed.Client or None, optional
        Convert on this cluster (every worker must see ``root`` and ``out``
        at the same paths). None (default): in this process, one stack after
        another.
    output : {"npy", "zarr"}, optional
        ``"npy"`` (default): one task per stack runs
        :func:`dicomnp.combine_series` and saves the volume, so a worker
        holds one volume at a time. ``"zarr"``: one task per slice writes
        its chunk (needs Dask and zarr), for volumes larger than memory.
    values, allow_lossy, padding, voi, voi_index, window, display_bits
        Rendering, as :func:`dicomnp.to_array`.

    Returns
    -------
    BatchReport
        A result per stack: converted now, done before, or failed with the error.

    Raises
    ------
    InvalidOptionError
        An option is out of range.
    MissingDependencyError
        ``output="zarr"`` without Dask or zarr installed.

    Examples
    --------
    >>> import tempfile, os
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(os.path.join(folder, "in", "a"), 4, 16, 16)
    ...     _ = write_ct_series(os.path.join(folder, "in", "b"), 3, 16, 16)
    ...     first = convert_tree(os.path.join(folder, "in"), os.path.join(folder, "out"))
    ...     again = convert_tree(os.path.join(folder, "in"), os.path.join(folder, "out"))
    >>> len(first.converted), len(again.converted), len(again.done_before)
    (2, 0, 2)
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
    try:
        kind = OutputFormat(output)
    except ValueError:
        raise InvalidOptionError(
            f"output must be 'npy' or 'zarr', not {output!r}", option="output"
        ) from None
    if kind is OutputFormat.ZARR:
        require("convert_tree(output='zarr')", ("dask", "zarr"))
    target = os.path.abspath(os.fspath(out))
    os.makedirs(target, exist_ok=True)
    catalog = find_series(root)
    stacks = [stack for series in catalog for stack in series.stacks]
    jobs = stack_jobs(stacks, target, kind, options)
    results: dict[str, StackResult] = {}
    todo: list[StackJob] = []
    for job in jobs:
        if job.header_path.exists():
            results[job.name] = StackResult(
                name=job.name,
                status="done before",
                outputs=(str(job.header_path),),
                files=len(job.stack.files),
                first_file=job.stack.files[0],
            )
        else:
            todo.append(job)
    logger.info("%d stack(s) to convert, %d done before", len(todo), len(jobs) - len(todo))
    for result in _run(todo, client):
        results[result.name] = result
    return BatchReport(
        root=catalog.folder,
        out=target,
        results=tuple(results[job.name] for job in jobs),
        skipped_files=catalog.skipped,
        unreadable_files=catalog.unreadable,
    )


def _run(jobs: Sequence[StackJob], client: Client | None) -> list[StackResult]:
    if not jobs:
        return []
    if jobs[0].output is OutputFormat.ZARR:
        return [_convert_zarr(job, client) for job in jobs]
    if client is None:
        return [convert_stack(job) for job in jobs]
    started = time.perf_counter()
    futures = client.map(convert_stack, list(jobs), pure=False)
    results = []
    for job, future in zip(jobs, futures, strict=True):
        try:
            results.append(future.result())
        except Exception as error:  # a lost worker, not an error in the stack itself
            results.append(_failed(job, error, started))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dicomnp.batch ROOT OUT``: convert a folder tree; exit 1 if a stack failed."""
    parser = argparse.ArgumentParser(
        prog="python -m dicomnp.batch",
        description="Convert every DICOM series under ROOT to NPY + JSON (or Zarr) in OUT; "
        "stacks already converted are skipped.",
    )
    parser.add_argument("root", help="folder tree to read")
    parser.add_argument("out", help="output folder")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="a dask.distributed scheduler, e.g. tcp://host:8786"
    )
    where.add_argument("--workers", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")  # fmt: skip
    parser.add_argument("--format", choices=["npy", "zarr"], default="npy")
    parser.add_argument("--values", choices=["stored", "modality", "display"], default="stored")
    parser.add_argument("--allow-lossy", action="store_true")
    parser.add_argument("--padding", choices=["keep", "mask", "fill"], default="keep")
    parser.add_argument("--voi", choices=["window", "lut"], default="window")
    parser.add_argument("--display-bits", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    options: dict[str, Any] = {
        "output": args.format,
        "values": args.values,
        "allow_lossy": args.allow_lossy,
        "padding": args.padding,
        "voi": args.voi,
        "display_bits": args.display_bits,
    }
    if args.scheduler or args.workers:
        require("--scheduler and --workers", ("dask", "distributed"))
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.WARNING)  # no start-up chatter

        if args.scheduler:
            with Client(args.scheduler) as client:
                report = convert_tree(args.root, args.out, client=client, **options)
        else:
            with (
                LocalCluster(n_workers=args.workers, threads_per_worker=1) as cluster,
                Client(cluster) as client,
            ):
                report = convert_tree(args.root, args.out, client=client, **options)
    else:
        report = convert_tree(args.root, args.out, **options)
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=1))
    print(report.summary(), file=sys.stdout)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
