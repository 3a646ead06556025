"""An imageio v3 plugin: ``iio.imread(path, plugin="dicomnp")`` gives :func:`dicomnp.to_array`.

imageio finds plugins by name in its ``imageio.config.known_plugins`` table
and has no entry-point discovery, so the name is registered by one call,
:func:`register`; the plugin class also works unregistered, passed as
``plugin=DicomnpPlugin``. Extra keyword arguments of ``imread``, ``imiter``,
``improps`` and ``immeta`` are the rendering options of
:func:`dicomnp.to_array` (``values=``, ``padding=``, ``voi=``, ...).

imageio is optional (``pip install 'dicomnp[imageio]'``): this module
imports without it; :func:`register` and the plugin raise
:class:`~dicomnp.errors.MissingDependencyError` saying what to install.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from types import EllipsisType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._api import iter_frames, to_array
from ._instance import PreparedInstance
from ._source import SourceLike, open_source
from .decode import FrameSelection
from .errors import DicomNumpyError, MissingDependencyError
from .normalize import RenderOptions

__all__ = ["PLUGIN_NAME", "DicomnpPlugin", "register"]

PLUGIN_NAME = "dicomnp"
"""The name :func:`register` gives the plugin: ``iio.imread(path, plugin="dicomnp")``."""

_RENDER_OPTIONS = frozenset(
    {"values", "allow_lossy", "padding", "voi", "voi_index", "window", "display_bits"}
)


def _require_imageio() -> None:
    if importlib.util.find_spec("imageio") is None:
        raise MissingDependencyError(
            "the imageio plugin needs imageio", packages=("imageio",), extra="imageio"
        )


def register() -> None:
    """Make ``plugin="dicomnp"`` name :class:`DicomnpPlugin` in imageio.

    Adds one entry to ``imageio.config.known_plugins`` (imageio's table of
    plugins by name); calling it again changes nothing. The plugin is not
    added to imageio's extension table, so imageio's own choice of plugin
    for a ``.dcm`` file stays as it was.

    Raises
    ------
    MissingDependencyError
        imageio is not installed.

    Examples
    --------
    >>> import imageio.v3 as iio
    >>> from dicomnp.imageio import register
    >>> register()
    >>> from imageio.config import known_plugins
    >>> known_plugins["dicomnp"].class_name
    'DicomnpPlugin'
    """
    _require_imageio()
    from imageio.config import known_plugins
    from imageio.config.plugins import PluginConfig

    known_plugins[PLUGIN_NAME] = PluginConfig(
        name=PLUGIN_NAME, class_name="DicomnpPlugin", module_name=__name__
    )


def _frames_of(index: int | EllipsisType | None) -> int | None:
    """imageio's ``index`` as dicomnp's ``frames``: None or ``...`` for every frame."""
    return None if index is None or isinstance(index, EllipsisType) else index


def _source_of(request: Any) -> SourceLike:
    """The path of a local file, else the file object imageio opened for the request."""
    raw = request.raw_uri
    if isinstance(raw, (str, os.PathLike)) and os.path.isfile(raw):
        return os.fspath(raw)
    file: SourceLike = request.get_file()
    return file


class DicomnpPlugin:
    """Reads a DICOM image for imageio v3 (its ``PluginV3`` interface).

    ``read()`` gives what :func:`dicomnp.to_array` gives: ``(rows, columns,
    1|3)`` for one frame, ``(frames, rows, columns, 1|3)`` for several;
    ``read(index=k)`` gives frame ``k``; ``iter()`` yields each frame.
    ``properties()`` and ``metadata()`` are found from the header, without
    decoding pixels; the metadata is the :class:`dicomnp.Image` header.

    Parameters
    ----------
    request : imageio.core.Request
        What imageio was asked to open; only reading is supported.
    **options
        Rendering options of :func:`dicomnp.to_array`, used by every call.

    Raises
    ------
    imageio.core.request.InitializationError
        The request is to write, or the resource is not a DICOM image
        (imageio then tries its other plugins when none was named).

    Examples
    --------
    >>> import imageio.v3 as iio
    >>> import numpy as np
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> from dicomnp.imageio import DicomnpPlugin
    >>> import io
    >>> dataset = ct_slice()
    >>> buffer = io.BytesIO()
    >>> dataset.save_as(buffer, enforce_file_format=True)
    >>> data = buffer.getvalue()
    >>> array = iio.imread(data, plugin=DicomnpPlugin)
    >>> np.array_equal(array, dicomnp.to_array(data))
    True
    """

    def __init__(self, request: Any, **options: Any) -> None:
        _require_imageio()
        from imageio.core.request import InitializationError

        unknown = set(options) - _RENDER_OPTIONS
        if unknown:
            raise TypeError(f"unknown rendering options: {', '.join(sorted(unknown))}")
        self._request = request
        self._options = options
        if request.mode.io_mode != "r":
            raise InitializationError("dicomnp reads DICOM images; it does not write them")
        self._source = _source_of(request)
        try:
            self._frame_count, self._shape, self._dtype, self._header = self._describe(None)
        except DicomNumpyError as exc:
            raise InitializationError(f"dicomnp cannot read this resource: {exc}") from exc

    @property
    def request(self) -> Any:
        """The imageio request this plugin serves."""
        return self._request

    def _rewind(self) -> None:
        if hasattr(self._source, "seek"):
            self._source.seek(0)

    def _describe(self, frames: FrameSelection) -> tuple[int, tuple[int, ...], np.dtype[Any], Any]:
        """Frame count, output shape, dtype and header of ``frames``, from the header alone."""
        options = RenderOptions.create(**self._options)
        self._rewind()
        with open_source(self._source) as opened:
            prepared = PreparedInstance(opened, frames, options, None)
            shape = tuple(prepared.plan.frame_shape)
            if prepared.frame_axis:
                shape = (len(prepared.indices), *shape)
            count = len(PreparedInstance(opened, None, options, None).indices)
            return count, shape, prepared.plan.dtype, prepared.header(shape)

    def read(self, *, index: int | EllipsisType | None = None, **options: Any) -> NDArray[Any]:
        """Frame ``index``, or every frame (``index=None`` or ``...``), as :func:`dicomnp.to_array`.

        Keyword arguments are rendering options; they override the plugin's.
        """
        frames = _frames_of(index)
        self._rewind()
        array: NDArray[Any] = to_array(self._source, frames=frames, **{**self._options, **options})
        return array

    def iter(self, **options: Any) -> Iterator[NDArray[Any]]:
        """Each frame, ``(rows, columns, 1|3)``, decoded when it is asked for."""
        self._rewind()
        frames: Iterator[NDArray[Any]] = iter_frames(self._source, **{**self._options, **options})
        yield from frames

    def properties(self, index: int | EllipsisType | None = None) -> Any:
        """Shape, dtype and frame count (``imageio.core.v3_plugin_api.ImageProperties``)."""
        from imageio.core.v3_plugin_api import ImageProperties

        frames = _frames_of(index)
        count, shape, dtype, _ = self._describe(frames)
        batch = frames is None and len(shape) == 4
        return ImageProperties(
            shape=shape, dtype=dtype, n_images=count if batch else None, is_batch=batch
        )

    def metadata(
        self, index: int | EllipsisType | None = None, exclude_applied: bool = True
    ) -> dict[str, Any]:
        """The :class:`dicomnp.Image` header of what :meth:`read` gives for ``index``."""
        frames = _frames_of(index)
        header: dict[str, Any] = self._describe(frames)[3]
        return header

    def close(self) -> None:
        """Let imageio release the resource."""
        self._request.finish()

    def __enter__(self) -> DicomnpPlugin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
