"""The rendered image, and its ``image/numpy`` body.

:class:`Image` holds the array, its header and, when padding is masked,
the padding mask. :func:`to_npy` gives the NPY bytes of the array (what
``numpy.load`` reads); the header travels beside it as JSON.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["HasArray", "Image", "array_for_numpy", "to_npy"]


def array_for_numpy(
    array: NDArray[Any], dtype: Any = None, copy: bool | None = None
) -> NDArray[Any]:
    """Give ``array`` to NumPy's ``__array__`` protocol, with its ``dtype`` and ``copy``.

    ``copy=None`` (the default) returns ``array`` itself when no dtype is
    asked for or it already has the dtype asked for; ``copy=True`` always
    returns a new array; ``copy=False`` refuses a conversion that would copy,
    as NumPy 2 specifies.

    Raises
    ------
    ValueError
        ``copy=False`` and ``dtype`` is not the array's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(4, dtype=np.uint16)
    >>> array_for_numpy(values) is values
    True
    >>> array_for_numpy(values, np.float32).dtype
    dtype('float32')
    """
    wanted = array.dtype if dtype is None else np.dtype(dtype)
    if wanted == array.dtype:
        return array.copy() if copy else array
    if copy is False:
        raise ValueError(
            f"a {wanted} array of {array.dtype} values needs a copy, and copy=False was given"
        )
    return array.astype(wanted)


@dataclass(frozen=True, eq=False)
class Image:
    """A rendered instance.

    Attributes
    ----------
    array : numpy.ndarray
        ``(rows, columns, 1|3)`` for one frame, ``(frames, rows, columns, 1|3)``
        for several; unsigned (or float), native little-endian, C-contiguous,
        writeable.
    header : dict
        What the array holds and how to undo each step; plain JSON types.
    mask : numpy.ndarray of bool or None
        With ``padding="mask"``: True where a pixel is padding, shaped like
        ``array`` without its last (sample) axis, so ``array[mask]`` gives
        the padding pixels. None otherwise.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> image = dicomnp.read(ct_slice(), padding="mask")
    >>> image.array.shape, image.header["values"], image.mask.shape
    ((64, 64, 1), 'stored', (64, 64))
    """

    array: NDArray[Any]
    header: dict[str, Any]
    mask: NDArray[np.bool_] | None = None

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        """The array itself, for ``numpy.asarray(image)``: no copy unless one is asked for.

        Examples
        --------
        >>> import numpy as np
        >>> import dicomnp
        >>> from dicomnp.examples import ct_slice
        >>> image = dicomnp.read(ct_slice())
        >>> np.asarray(image) is image.array
        True
        >>> np.asarray(image, dtype=np.float32).dtype
        dtype('float32')
        """
        return array_for_numpy(self.array, dtype, copy)

    def header_json(self, **kwargs: Any) -> str:
        """The header as JSON text; keyword arguments go to :func:`json.dumps`.

        Examples
        --------
        >>> import json
        >>> import dicomnp
        >>> from dicomnp.examples import ct_slice
        >>> image = dicomnp.read(ct_slice())
        >>> json.loads(image.header_json())["shape"]
        [64, 64, 1]
        """
        options: dict[str, Any] = {"sort_keys": True, "allow_nan": False}
        options.update(kwargs)
        return json.dumps(self.header, **options)

    def _repr_html_(self) -> str:
        """The middle frame and the key header fields, for Jupyter."""
        from .._display import image_html

        return image_html(self)


class HasArray(Protocol):
    """Anything with an ``array`` attribute: an :class:`Image`, a volume."""

    @property
    def array(self) -> NDArray[Any]:
        """The array to write."""
        ...


def to_npy(image: HasArray | NDArray[Any]) -> bytes:
    """The NPY bytes of an image's array: the ``image/numpy`` body.

    The header is not inside the NPY data; send :meth:`Image.header_json`
    beside it.

    Parameters
    ----------
    image : Image, object with ``.array``, or numpy.ndarray
        What to write.

    Returns
    -------
    bytes
        NPY format, little-endian, C order; ``numpy.load`` reads it back.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> image = dicomnp.read(ct_slice())
    >>> body = dicomnp.to_npy(image)
    >>> np.array_equal(np.load(io.BytesIO(body)), image.array)
    True
    """
    array = image if isinstance(image, np.ndarray) else image.array
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()
