"""Finding the shared conformance corpus and comparing arrays with its oracle.

The corpus lives at ``../shared/corpus`` beside the project, or wherever
``DICOMNP_CORPUS`` points. When it is absent, every corpus test is collected
once and skipped with the reason.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

Entry = dict[str, Any]

CORPUS = Path(
    os.environ.get(
        "DICOMNP_CORPUS", Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    )
).resolve()
MANIFEST = CORPUS / "manifest.json"
ABSENT_REASON = f"corpus not found at {CORPUS} (set DICOMNP_CORPUS to its folder)"

NATIVE_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.2",
    }
)
DCT_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"})
"""JPEG's lossy DCT processes: conforming decoders may differ by one in a sample (ITU-T T.83)."""


@functools.cache
def manifest() -> dict[str, Any] | None:
    """The parsed manifest, or None when the corpus is absent."""
    if not MANIFEST.is_file():
        return None
    with MANIFEST.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def entry_id(entry: Entry) -> str:
    """A readable test id: the file's path below files/ or series/, without .dcm."""
    path = str(entry["path"])
    for prefix in ("files/", "series/"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
    return path.removesuffix(".dcm")


def file_params(predicate: Callable[[Entry], bool]) -> list[Any]:
    """``pytest.param`` per manifest file entry matching ``predicate``, with readable ids."""
    loaded = manifest()
    if loaded is None:
        return [
            pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=ABSENT_REASON))
        ]
    return [
        pytest.param(entry, id=entry_id(entry)) for entry in loaded["files"] if predicate(entry)
    ]


def path_of(entry: Entry) -> Path:
    """The absolute path of a manifest entry's file."""
    return CORPUS / str(entry["path"])


def reference(entry: Entry) -> dict[str, Any] | None:
    """The oracle result that holds for this file, or None if pydicom failed on it.

    Where ``pixel_array(path)`` failed but the same call on the data set read
    with ``dcmread`` succeeded, that second result is the reference.
    """
    oracle: dict[str, Any] = entry["oracle"]
    if oracle.get("ok"):
        return oracle
    fallback = oracle.get("fallback_dataset")
    if isinstance(fallback, dict) and fallback.get("ok"):
        return fallback
    return None


def as_oracle_shape(array: NDArray[Any], entry: Entry, ref: dict[str, Any]) -> NDArray[Any]:
    """Reshape a ``(frames, rows, cols, samples)`` array to the oracle's shape.

    pydicom drops the frame axis for one frame and the sample axis for one
    sample; only those axes are dropped, so any other difference still shows.
    """
    target = tuple(ref["shape"])
    frames, rows, columns, samples = array.shape
    shape: tuple[int, ...] = (rows, columns)
    if len(target) == 4 or (len(target) == 3 and samples == 1):
        shape = (frames, *shape)
    if samples > 1:
        shape = (*shape, samples)
    return array.reshape(shape)


def digest(array: NDArray[Any]) -> str:
    """SHA-256 of the little-endian C-contiguous bytes, as the manifest computes it."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<")))
    return hashlib.sha256(little.tobytes()).hexdigest()


def assert_matches_oracle(array: NDArray[Any], entry: Entry, ref: dict[str, Any]) -> None:
    """Assert that ``array`` equals the oracle: shape, dtype, samples and digest."""
    shaped = as_oracle_shape(array, entry, ref)
    assert list(shaped.shape) == ref["shape"]
    assert shaped.dtype.newbyteorder("<").str == ref["dtype"]
    for sample in ref.get("samples", []):
        assert shaped[tuple(sample["index"])].tolist() == sample["value"], sample["index"]
    assert int(shaped.min()) == ref["min"] if shaped.dtype.kind in "iu" else True
    assert digest(shaped) == ref["sha256"]


def series_params(predicate: Callable[[Entry], bool] = lambda entry: True) -> list[Any]:
    """``pytest.param`` per manifest series entry matching ``predicate``, with readable ids."""
    loaded = manifest()
    if loaded is None:
        return [
            pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=ABSENT_REASON))
        ]
    return [
        pytest.param(entry, id=entry_id(entry)) for entry in loaded["series"] if predicate(entry)
    ]


def assert_close_to_oracle(array: NDArray[Any], entry: Entry, ref: dict[str, Any]) -> None:
    """Assert that ``array`` is within 1 of the oracle in every sample, for lossy DCT JPEG.

    The whole reference array is decoded again here, the way the manifest
    was made (pydicom with pylibjpeg, ``raw=True``, from the path or else
    from the data set), and must hash to the oracle's digest before it is
    compared.
    """
    import pydicom
    from pydicom.pixels.utils import pixel_array

    source: Any = str(path_of(entry))
    if not entry["oracle"].get("ok"):  # the reference came from the data set read first
        source = pydicom.dcmread(source, force=True)
    expected = pixel_array(source, raw=True, decoding_plugin="pylibjpeg")
    assert digest(expected) == ref["sha256"], "pydicom's decode is no longer the oracle's"
    shaped = as_oracle_shape(array, entry, ref)
    assert list(shaped.shape) == ref["shape"]
    assert shaped.dtype.newbyteorder("<").str == ref["dtype"]
    difference = np.abs(shaped.astype(np.int64) - expected.astype(np.int64))
    assert int(difference.max()) <= 1
