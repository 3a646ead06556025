"""The output size limit: checked before any output array is allocated.

Every call that returns pixels takes ``max_bytes``: the largest output, in
bytes, it will allocate. The header alone decides the output size, so a
header that claims more than the caller accepts is refused at once, before
anything is decoded. The default is generous (16 GiB); None means no limit.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ..errors import InvalidOptionError, OutputTooLargeError

__all__ = ["DEFAULT_MAX_BYTES", "allocate", "check_max_bytes", "check_output_size"]

DEFAULT_MAX_BYTES = 2**34
"""16 GiB: the default ``max_bytes`` of every call that returns pixels."""


def check_max_bytes(max_bytes: object) -> int | None:
    """Validate a ``max_bytes`` option: a non-negative integer, or None for no limit.

    Raises
    ------
    InvalidOptionError
        ``max_bytes`` is not None and not a non-negative integer.
    """
    if max_bytes is None:
        return None
    if isinstance(max_bytes, bool):
        raise InvalidOptionError(
            "max_bytes must be an integer or None, not a bool", option="max_bytes"
        )
    try:
        limit = operator.index(max_bytes)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidOptionError(
            f"max_bytes must be an integer or None, not {type(max_bytes).__name__}",
            option="max_bytes",
        ) from None
    if limit < 0:
        raise InvalidOptionError(f"max_bytes must not be negative, not {limit}", option="max_bytes")
    return int(limit)


def check_output_size(
    shape: Sequence[int], dtype: DTypeLike, max_bytes: int | None, name: str, *, extra: int = 0
) -> int:
    """Return the bytes an array of ``shape`` and ``dtype`` needs, refusing more than the limit.

    ``extra`` adds bytes allocated alongside (a mask, a scratch frame).

    Raises
    ------
    OutputTooLargeError
        The size exceeds ``max_bytes``.
    """
    size = math.prod(int(length) for length in shape) * np.dtype(dtype).itemsize + extra
    if max_bytes is not None and size > max_bytes:
        raise OutputTooLargeError(
            f"the output {tuple(int(length) for length in shape)} of {np.dtype(dtype).name} "
            f"needs {size} bytes, more than max_bytes={max_bytes}; "
            "pass a larger max_bytes (or None) to accept it",
            size=size,
            limit=max_bytes,
            path=name,
        )
    return size


def allocate(
    shape: Sequence[int], dtype: DTypeLike, name: str, *, zeros: bool = False
) -> NDArray[Any]:
    """``numpy.empty`` (or ``zeros``), turning a failed allocation into a dicomnp error.

    Raises
    ------
    OutputTooLargeError
        The memory cannot be allocated.
    """
    try:
        return np.zeros(shape, dtype=dtype) if zeros else np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError) as exc:
        size = math.prod(int(length) for length in shape) * np.dtype(dtype).itemsize
        raise OutputTooLargeError(
            f"cannot allocate the output {tuple(int(n) for n in shape)} "
            f"of {np.dtype(dtype).name} ({size} bytes): {exc}",
            size=size,
            path=name,
        ) from exc
