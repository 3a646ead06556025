"""Run dicomnp on synthetic example data: ``python -m dicomnp.demo [FOLDER]``.

Writes a small CT series with :mod:`dicomnp.examples` (into FOLDER, or a
temporary folder), stacks it with :func:`dicomnp.combine_series` and prints
what a user wants to see: shape, dtype, spacing, affine and the header.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import combine_series
from .examples import write_ct_series


def run(folder: Path) -> str:
    """Write the example series into ``folder``, combine it and describe the result.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(run(Path(folder)).splitlines()[1])
    shape: (20, 128, 128, 1)  (slices, rows, columns, samples)
    """
    paths = write_ct_series(folder, slices=20, rows=128, columns=128)
    volume = combine_series(folder)
    hu = combine_series(folder, values="modality").array
    header = volume.header.as_dict()
    keys = ("modality", "values", "value_offset", "inverted", "photometric_interpretation",
            "pixel_spacing", "slice_thickness", "slice_spacing", "slice_spacing_source",
            "sheared", "gaps")  # fmt: skip
    first = {"stored_from_array": header["stored_from_array"][0],
             "modality_from_array": header["modality_from_array"][0]}  # fmt: skip
    lines = [
        f"wrote {len(paths)} CT slices (shuffled file names) to {folder}",
        f"shape: {volume.array.shape}  (slices, rows, columns, samples)",
        f"dtype: {volume.array.dtype}",
        f"spacing (slice, row, column): {tuple(round(v, 4) for v in volume.spacing)} mm",
        "affine (s, r, c, 1) -> patient LPS mm:",
        *(f"  {row}" for row in np.array2string(volume.affine, precision=3).splitlines()),
        f"Hounsfield units (values='modality'): min {hu.min()}, max {hu.max()}",
        f"header ({len(header)} fields; some of them):",
        *(f"  {key}: {json.dumps(header[key], default=str)}" for key in keys),
        *(f"  {key} (first slice): {json.dumps(value)}" for key, value in first.items()),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(run(Path(args[0])))
    else:
        with tempfile.TemporaryDirectory(prefix="dicomnp-demo-") as folder:
            print(run(Path(folder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
