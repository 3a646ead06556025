"""The ``dicomnp`` command: ``info`` on what a folder holds, ``convert`` to .npy, .npz or NIfTI.

Run it as ``dicomnp`` (the console script) or ``python -m dicomnp``.

Exit codes, for scripts:

== ==========================================================================
0  success
1  the DICOM data cannot be read or stacked (every failing stack is reported)
2  usage: unknown option, missing argument, PATH not found, bad option value
3  lossy data refused (rule R6); pass ``--allow-lossy`` to convert it
4  an optional package is missing (nibabel for NIfTI)
5  the output cannot be written (exists without ``--force``, no such folder)
70 an unexpected internal error (a bug: please report it; ``--debug`` shows
   the traceback)
== ==========================================================================

Errors are written to standard error as one line, ``dicomnp: error: ...``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from .._writer import FORMATS
from ._common import (
    EXIT_DATA,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOSSY,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    UsageError,
    emit,
    exit_code_of,
    message_of,
    report_error,
)
from ._common import EXIT_MISSING as EXIT_MISSING
from ._common import existing_path as existing_path
from ._common import print_json as print_json
from ._common import progress_bar as progress_bar

__all__ = ["EXIT_DATA", "EXIT_LOSSY", "EXIT_OK", "EXIT_OUTPUT", "EXIT_USAGE", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        emit(f"{self.prog}: error: {message} (see {self.prog} --help)\n", sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _stack_number(text: str) -> int:
    return _workers(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dicomnp`` command."""
    parser = _Parser(
        prog="dicomnp",
        description="DICOM pixel data to NumPy arrays and volumes with trustworthy geometry.",
        epilog="Exit codes: 0 ok, 1 unreadable or unstackable data, 2 usage, 3 lossy data "
        "refused, 4 optional package missing, 5 output not written, 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"dicomnp {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    info = commands.add_parser(
        "info",
        help="list the series and stacks under PATH, from headers only",
        description="List the series and stacks found under PATH (a folder or a file): "
        "their shape, transfer syntaxes, whether they are lossy, any geometry problem and "
        "why a series was split. Reads headers only; decodes no pixels.",
    )
    info.add_argument("path", metavar="PATH", help="a folder (walked) or a DICOM file")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.add_argument(
        "--allow-shear", action="store_true", help="accept gantry-tilted stacks (sheared affine)"
    )
    _unreadable_option(info)
    _progress_options(info)

    convert = commands.add_parser(
        "convert",
        help="write each stack under PATH as .npy (+ .json), .npz or .nii/.nii.gz",
        description="Convert the stacks under PATH into volumes and write each one. "
        f"The format follows OUT's suffix ({', '.join('.' + name for name in FORMATS)}) "
        "or --format. "
        "With several stacks, each file is named after OUT with the stack number "
        "added (out-1.nii.gz, out-2.nii.gz; see 'dicomnp info'); when OUT is a folder, "
        "files are named stack-N. A .npy or NIfTI file gets a JSON header beside it.",
    )
    convert.add_argument("path", metavar="PATH", help="a folder (walked) or a DICOM file")
    convert.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="output file or folder"
    )
    convert.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from OUT's suffix, else npy)",
    )
    convert.add_argument(
        "--values",
        choices=("stored", "modality", "display"),
        default="stored",
        help="stored values by the rules (default), modality values (e.g. Hounsfield "
        "units) or display values (windowed, unsigned 8-bit)",
    )
    convert.add_argument(
        "--allow-lossy", action="store_true", help="convert lossy-compressed data (rule R6)"
    )
    convert.add_argument(
        "--workers", type=_workers, metavar="N", help="decode with N threads or processes"
    )
    convert.add_argument(
        "--stack",
        type=_stack_number,
        action="append",
        metavar="N",
        help="convert only stack N as numbered by 'dicomnp info' (repeatable)",
    )
    convert.add_argument(
        "--allow-shear", action="store_true", help="accept gantry-tilted stacks (sheared affine)"
    )
    convert.add_argument("--force", action="store_true", help="replace existing output files")
    _unreadable_option(convert)
    _progress_options(convert)

    serve = commands.add_parser(
        "serve",
        help="serve SOURCE's series as series/numpy and image/numpy over HTTP",
        description="Serve the rendered resources .../studies/S/series/SE/rendered "
        "(Accept: series/numpy) and .../instances/I/rendered (image/numpy) of SOURCE: "
        "a folder (walked once) or a DICOMweb base URL (proxied). Needs the dicomweb "
        "extra. Stop with Ctrl-C.",
    )
    serve.add_argument(
        "source", metavar="SOURCE", help="a folder, or a DICOMweb base URL (http://...)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    return parser


def _unreadable_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-unreadable",
        action="store_true",
        help="go on when files that look like DICOM images cannot be read (cut short, "
        "not permitted); they are still listed, but the exit code is 0",
    )


def _progress_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary lines"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dicomnp`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> import tempfile
    >>> from dicomnp.cli import main
    >>> from dicomnp.examples import write_ct_series
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_ct_series(folder, slices=4, rows=8, columns=8)
    ...     main(["convert", folder, "-o", f"{folder}/ct.npy", "--quiet"])
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not args.debug:  # pydicom's warnings about odd files are not errors here
                warnings.simplefilter("ignore")
            if args.command == "info":
                from ._commands import run_info

                return run_info(args)
            if args.command == "serve":
                from ..server import serve

                serve(args.source, host=args.host, port=args.port)
                return 0
            from ._commands import run_convert

            return run_convert(args)
    except KeyboardInterrupt:
        report_error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        from ..errors import DicomNumpyError

        known = (DicomNumpyError, UsageError, OSError)
        if isinstance(exc, known):
            report_error(message_of(exc))
            return exit_code_of(exc)
        if args.debug:
            raise
        report_error(f"internal error ({type(exc).__name__}: {exc}); run with --debug for details")
        return EXIT_INTERNAL
