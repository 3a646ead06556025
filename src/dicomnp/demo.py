"""Run dicomnp on synthetic example data: ``python -m dicomnp.demo [FOLDER]``.

Writes a small CT series with :mod:`dicomnp.examples` (into FOLDER, or a
temporary folder), reads it back with dicomnp and prints what came out.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pydicom

from . import decode_pixels
from .examples import write_ct_series


def run(folder: Path) -> str:
    """Write the example series into ``folder``, decode it and describe the result."""
    paths = write_ct_series(folder, slices=20, rows=128, columns=128)
    decoded = [decode_pixels(path) for path in sorted(folder.glob("*.dcm"))]
    headers = [
        pydicom.dcmread(path, stop_before_pixels=True) for path in sorted(folder.glob("*.dcm"))
    ]
    order = np.argsort([float(header.ImagePositionPatient[2]) for header in headers])
    volume = np.concatenate([decoded[i].array for i in order])
    first = headers[order[0]]
    z = [float(headers[i].ImagePositionPatient[2]) for i in order[:2]]
    lines = [
        f"wrote {len(paths)} CT slices to {folder}",
        f"shape: {volume.shape}  (slices, rows, columns, samples)",
        f"dtype: {volume.dtype}",
        f"pixel spacing (row, column): {[float(v) for v in first.PixelSpacing]} mm",
        f"slice spacing: {z[1] - z[0]} mm",
        f"stored values: min {volume.min()}, max {volume.max()}",
        "description of the first slice:",
        *(f"  {key}: {value}" for key, value in asdict(decoded[order[0]].description).items()),
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
