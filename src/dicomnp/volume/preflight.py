"""Checks made before a volume's array is allocated: its size, and headers that lie.

A series whose headers claim more pixels than its files hold must be
refused before the output is allocated, not after. The headers alone give
the output size: more than ``max_bytes`` is refused at once. Where the
output is also larger than the inputs could plausibly fill (64 MiB plus 16
times their size), every file is opened once more and its frames located
before anything is allocated: native data must hold every frame, and
encapsulated frames must be found and their first codestream must declare
the size of the header. Honest series of native data never pay for this.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._source import open_source
from ..decode.frames import locate_frames, open_frames
from ..decode.limits import check_output_size
from .headers import SliceHeader

__all__ = ["check_before_allocating"]

_PLAUSIBLE_BASE = 64 * 2**20
_PLAUSIBLE_FACTOR = 16


def _input_size(source: object) -> int | None:
    """Bytes of a source, when cheap to learn; None when unknown."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            return os.path.getsize(source)
        except OSError:
            return None
    return None


def check_before_allocating(
    headers: Sequence[SliceHeader], dtype: np.dtype[Any], max_bytes: int | None, *, mask: bool
) -> None:
    """Refuse a volume larger than ``max_bytes``, or one its files cannot fill.

    ``headers`` are the slices in array order, ``dtype`` the output's;
    ``mask`` says whether a boolean padding mask is allocated alongside.

    Raises
    ------
    OutputTooLargeError
        The array would be larger than ``max_bytes``.
    TruncatedPixelDataError, CorruptEncapsulationError, CorruptPixelDataError
        A file holds fewer frames or pixels than its header declares.
    """
    first = headers[0]
    sources = {id(header.source): header.source for header in headers}
    name = first.name if len(sources) == 1 else f"{first.name} and {len(sources) - 1} other(s)"
    shape = (len(headers), first.rows, first.columns, 1 if first.samples_per_pixel == 1 else 3)
    extra = len(headers) * first.rows * first.columns if mask else 0
    size = check_output_size(shape, dtype, max_bytes, name, extra=extra)
    sizes = [_input_size(source) for source in sources.values()]
    if all(known is not None for known in sizes):
        plausible = _PLAUSIBLE_BASE + _PLAUSIBLE_FACTOR * sum(known or 0 for known in sizes)
        if size <= plausible:
            return
    frames: dict[int, list[int]] = {}
    for header in headers:
        frames.setdefault(id(header.source), []).append(header.frame)
    for key, source in sources.items():
        with open_source(source) as opened:
            locate_frames(open_frames(opened), frames[key])
