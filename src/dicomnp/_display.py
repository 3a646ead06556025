"""Notebook display: a thumbnail and a table of key header fields as HTML.

:class:`~dicomnp.Image` and :class:`~dicomnp.Volume` call :func:`image_html`
and :func:`volume_html` from their ``_repr_html_``, so that Jupyter shows a
picture and a table instead of a long ``repr``. The thumbnails are PNG
images written here with :mod:`zlib` (no imaging package needed), scaled to
8 bits from the shown pixels' own 0.5th to 99.5th percentiles (or shown as
they are when already 8-bit display values). Nothing here changes the data.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["encode_png", "image_html", "to_uint8", "volume_html"]

THUMBNAIL = 256
"""Longest side of a thumbnail panel, in pixels."""

_IMAGE_FIELDS = (
    "shape",
    "dtype",
    "values",
    "photometric",
    "bits_stored",
    "value_offset",
    "inverted",
    "rescale_slope",
    "rescale_intercept",
    "rescale_slope_from_array",
    "rescale_intercept_from_array",
    "window",
    "pixel_spacing",
    "slice_thickness",
    "lossy",
    "transfer_syntax",
)
_VOLUME_FIELDS = (
    "shape",
    "dtype",
    "values",
    "modality",
    "photometric_interpretation",
    "bits_stored",
    "value_offset",
    "inverted",
    "rescale_slopes",
    "rescale_intercepts",
    "pixel_spacing",
    "slice_spacing",
    "slice_thickness",
    "orientation",
    "sheared",
    "lossy",
    "transfer_syntax_uids",
    "series_instance_uid",
)
_PER_SLICE = frozenset({"rescale_slopes", "rescale_intercepts", "lossy", "transfer_syntax_uids"})
"""Volume header fields with one value per slice: shown once when all slices agree."""


class _ImageLike(Protocol):
    @property
    def array(self) -> NDArray[Any]: ...
    @property
    def header(self) -> dict[str, Any]: ...


class _VolumeLike(Protocol):
    @property
    def array(self) -> NDArray[Any]: ...
    @property
    def affine(self) -> NDArray[np.float64]: ...
    @property
    def spacing(self) -> tuple[float, float, float]: ...
    @property
    def header(self) -> Any: ...


def encode_png(pixels: NDArray[np.uint8]) -> bytes:
    """Encode 8-bit pixels ``(rows, columns)`` or ``(rows, columns, 3)`` as PNG.

    Examples
    --------
    >>> import numpy as np
    >>> png = encode_png(np.zeros((2, 3), dtype=np.uint8))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"PNG needs uint8 (rows, columns[, 3]) pixels, not {pixels.shape}")
    rows, columns = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0  # PNG colour type: 2 truecolour, 0 greyscale
    body = np.ascontiguousarray(pixels).reshape(rows, -1)
    raw = np.zeros((rows, body.shape[1] + 1), dtype=np.uint8)  # filter byte 0 on each row
    raw[:, 1:] = body

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", columns, rows, 8, colour, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            chunk(b"IEND", b""),
        )
    )


def to_uint8(pixels: NDArray[Any]) -> NDArray[np.uint8]:
    """Scale pixels to uint8 for viewing: 0.5th to 99.5th percentile of the finite values.

    uint8 input is returned unchanged. Constant or empty input gives zeros.

    Examples
    --------
    >>> import numpy as np
    >>> to_uint8(np.array([[0.0, 50.0, 100.0]])).tolist()
    [[0, 128, 255]]
    """
    if pixels.dtype == np.uint8:
        return pixels
    values = pixels.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(pixels.shape, dtype=np.uint8)
    low, high = np.percentile(finite, [0.5, 99.5])
    if high <= low:
        low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.zeros(pixels.shape, dtype=np.uint8)
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0.0, 1.0)
    result: NDArray[np.uint8] = np.rint(scaled * 255).astype(np.uint8)
    return result


def _resize(plane: NDArray[Any], height: float, width: float) -> NDArray[Any]:
    """Nearest-neighbour resampling of ``plane`` to about ``height`` x ``width`` pixels."""
    rows = max(1, round(height))
    columns = max(1, round(width))
    pick_rows = np.minimum((np.arange(rows) + 0.5) * plane.shape[0] / rows, plane.shape[0] - 1)
    pick_columns = np.minimum(
        (np.arange(columns) + 0.5) * plane.shape[1] / columns, plane.shape[1] - 1
    )
    resized: NDArray[Any] = plane[pick_rows.astype(np.intp)][:, pick_columns.astype(np.intp)]
    return resized


def _fit(plane: NDArray[Any], row_mm: float, column_mm: float) -> NDArray[Any]:
    """Resample so that pixels are square in mm and the longest side is at most THUMBNAIL."""
    height = plane.shape[0] * max(row_mm, 1e-6)
    width = plane.shape[1] * max(column_mm, 1e-6)
    scale = THUMBNAIL / max(height, width)
    return _resize(plane, height * scale, width * scale)


def _panel(plane: NDArray[np.uint8], caption: str) -> str:
    pixels = plane[..., 0] if plane.shape[-1] == 1 else plane
    data = base64.b64encode(encode_png(np.ascontiguousarray(pixels))).decode("ascii")
    return (
        '<figure style="display:inline-block;margin:0 8px 4px 0;text-align:center">'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}" '
        'style="image-rendering:pixelated"/>'
        f'<figcaption style="font-size:smaller">{html.escape(caption)}</figcaption></figure>'
    )


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        if len(value) > 8:
            return f"{len(value)} values: " + ", ".join(_show(item) for item in value[:3]) + ", …"
        return "(" + ", ".join(_show(item) for item in value) + ")"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_show(item)}" for key, item in value.items())
    return str(value)


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(
        f'<tr><th style="text-align:left">{html.escape(name)}</th>'
        f'<td style="text-align:left">{html.escape(_show(value))}</td></tr>'
        for name, value in rows
    )
    return f"<table>{body}</table>"


def _scaled_planes(planes: Sequence[NDArray[Any]]) -> list[NDArray[np.uint8]]:
    """Scale several planes to uint8 with one shared range, so their brightness agrees."""
    if all(plane.dtype == np.uint8 for plane in planes):
        return [plane.astype(np.uint8, copy=False) for plane in planes]
    joined = np.concatenate([plane.reshape(-1, plane.shape[-1]) for plane in planes])
    scaled = to_uint8(joined)
    out: list[NDArray[np.uint8]] = []
    start = 0
    for plane in planes:
        count = plane.shape[0] * plane.shape[1]
        out.append(scaled[start : start + count].reshape(plane.shape))
        start += count
    return out


def _wrap(kind: str, panels: Sequence[str], table: str) -> str:
    return (
        f'<div class="dicomnp-{kind}" style="display:flex;flex-wrap:wrap;align-items:flex-start">'
        f"<div>{''.join(panels)}</div><div>{table}</div></div>"
    )


def image_html(image: _ImageLike) -> str:
    """HTML for one rendered instance: the middle frame and the key header fields.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> text = image_html(dicomnp.read(ct_slice()))
    >>> "<img" in text and "<table>" in text
    True
    """
    array = image.array
    header = image.header
    frames = array.shape[0] if array.ndim == 4 else 1
    plane = array[frames // 2] if array.ndim == 4 else array
    spacing = header.get("pixel_spacing") or (1.0, 1.0)
    (scaled,) = _scaled_planes([plane])
    shown = _fit(scaled, float(spacing[0]), float(spacing[1]))
    caption = f"frame {frames // 2} of {frames}" if array.ndim == 4 else "image"
    rows = [(name, header[name]) for name in _IMAGE_FIELDS if name in header]
    if "shape" not in header:
        rows.insert(0, ("shape", tuple(array.shape)))
    return _wrap("image", [_panel(shown, caption)], _table(rows))


def _plane_name(direction: NDArray[np.float64]) -> str:
    """The anatomical plane perpendicular to ``direction`` (LPS), by its largest component."""
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(direction)))]


def volume_html(volume: _VolumeLike) -> str:
    """HTML for a volume: three orthogonal middle slices and the key header fields.

    The panels cut the array along its own axes (slice, row, column), each
    named by the anatomical plane nearest to it; slice index grows upwards
    in the two reformatted panels. Pixels are made square in mm.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> text = volume_html(dicomnp.combine_series(ct_series(6, 16, 16)))
    >>> text.count("<img"), "<table>" in text
    (3, True)
    """
    array = volume.array
    slices, rows, columns = array.shape[:3]
    ds, dr, dc = volume.spacing
    affine = np.asarray(volume.affine, dtype=np.float64)
    planes = [
        array[slices // 2],  # (rows, columns)
        array[::-1, rows // 2],  # (slices, columns), slice index growing upwards
        array[::-1, :, columns // 2],  # (slices, rows)
    ]
    scaled = _scaled_planes(planes)
    sizes = [(dr, dc), (ds, dc), (ds, dr)]
    normals = [affine[:3, 0], affine[:3, 1], affine[:3, 2]]
    captions = [
        f"slice {slices // 2} ({_plane_name(normals[0])})",
        f"row {rows // 2} ({_plane_name(normals[1])})",
        f"column {columns // 2} ({_plane_name(normals[2])})",
    ]
    panels = [
        _panel(_fit(plane, *size), caption)
        for plane, size, caption in zip(scaled, sizes, captions, strict=True)
    ]
    described = _header_dict(volume.header)
    fields = [
        (name, _per_slice(described[name]) if name in _PER_SLICE else described[name])
        for name in _VOLUME_FIELDS
        if name in described
    ]
    fields.insert(
        1 if fields and fields[0][0] == "shape" else 0, ("spacing (s, r, c) mm", (ds, dr, dc))
    )
    origin = affine[:3, 3]
    fields.append(("first voxel (LPS mm)", tuple(float(value) for value in origin)))
    return _wrap("volume", panels, _table(fields))


def _per_slice(values: Any) -> Any:
    """One value when every slice has the same, else the values as they are."""
    if isinstance(values, (list, tuple)) and values:
        first = values[0]
        if all(value == first for value in values):
            return f"{_show(first)} (all {len(values)} slices)"
    return values


def _header_dict(header: Any) -> dict[str, Any]:
    if isinstance(header, Mapping):
        return dict(header)
    as_dict = getattr(header, "as_dict", None)
    if callable(as_dict):
        result: dict[str, Any] = as_dict()
        return result
    return {}
