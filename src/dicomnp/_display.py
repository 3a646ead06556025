"""Notebook display: thumbnails and a table of key header fields as HTML.

:class:`~dicomnp.Image` and :class:`~dicomnp.Volume` call :func:`image_html`
and :func:`volume_html` from their ``_repr_html_``, so that Jupyter shows a
picture and a table instead of a long ``repr``. A volume shows three planes
in radiological convention, found from its affine (:func:`radiological_planes`):
axial seen from the feet and coronal from the front (the patient's right on
the screen's left), sagittal with anterior on the left, superior up in both,
each side labelled with the patient direction it points to. Thumbnails are
PNG images encoded by imagecodecs, scaled to 8 bits from the shown pixels'
own 0.5th to 99.5th percentiles (or shown as they are when already 8-bit
display values). Nothing here changes the data.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Plane",
    "direction_label",
    "encode_png",
    "image_html",
    "radiological_planes",
    "to_uint8",
    "volume_html",
]

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
    """Encode 8-bit pixels ``(rows, columns)`` or ``(rows, columns, 3)`` as PNG (imagecodecs).

    Examples
    --------
    >>> import numpy as np
    >>> png = encode_png(np.zeros((2, 3), dtype=np.uint8))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if (
        pixels.dtype != np.uint8
        or pixels.ndim not in (2, 3)
        or (pixels.ndim == 3 and pixels.shape[2] != 3)
    ):
        raise ValueError(f"PNG needs uint8 (rows, columns[, 3]) pixels, not {pixels.shape}")
    from imagecodecs import png_encode

    raw = pixels.size + pixels.shape[0]  # a filter byte before each row
    # imagecodecs guesses the output's size; incompressible pixels can outgrow the
    # guess, so give room for deflate's worst case and PNG's chunks.
    encoded = png_encode(np.ascontiguousarray(pixels), level=9, out=raw + raw // 64 + 1024)
    return bytes(encoded)


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


def _panel(plane: NDArray[np.uint8], caption: str, labels: Sequence[str] | None = None) -> str:
    """A figure: the picture, the patient direction at each side (top, right, bottom, left)."""
    pixels = plane[..., 0] if plane.shape[-1] == 1 else plane
    data = base64.b64encode(encode_png(np.ascontiguousarray(pixels))).decode("ascii")
    image = (
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(caption)}" '
        'style="image-rendering:pixelated"/>'
    )
    caption_html = (
        f'<figcaption style="font-size:smaller{";grid-column:1 / 4" if labels else ""}">'
        f"{html.escape(caption)}</figcaption>"
    )
    if not labels:
        return (
            '<figure style="display:inline-block;margin:0 8px 4px 0;text-align:center">'
            f"{image}{caption_html}</figure>"
        )
    top, right, bottom, left = (html.escape(label) for label in labels)
    style = 'style="font-size:smaller;font-weight:bold;padding:0 3px"'
    return (
        '<figure class="dicomnp-plane" '
        f'data-orientation="top:{top} right:{right} bottom:{bottom} left:{left}" '
        'style="display:inline-grid;grid-template-columns:auto auto auto;align-items:center;'
        'justify-items:center;margin:0 8px 4px 0">'
        f"<span></span><span {style}>{top}</span><span></span>"
        f"<span {style}>{left}</span>{image}<span {style}>{right}</span>"
        f"<span></span><span {style}>{bottom}</span><span></span>"
        f"{caption_html}</figure>"
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


_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))
"""The patient direction of -x, +x; -y, +y; -z, +z in DICOM's LPS coordinates."""

_LABEL_SHARE = 0.25
"""A direction's component that a label names, as a share of its length."""


def direction_label(direction: Sequence[float] | NDArray[np.float64]) -> str:
    """The patient direction a vector in LPS points to: ``"L"``, or ``"LA"`` when oblique.

    The letters of the components at least a quarter of the vector's
    length, the largest first.

    Examples
    --------
    >>> direction_label([1.0, 0.0, 0.0]), direction_label([0.0, -1.0, 0.02])
    ('L', 'A')
    >>> direction_label([0.0, 0.6, -0.8])
    'IP'
    """
    vector = np.asarray(direction, dtype=np.float64)
    vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
    order = np.argsort(-np.abs(vector), kind="stable")
    return "".join(
        _LETTERS[axis][int(vector[axis] > 0)] for axis in order if abs(vector[axis]) >= _LABEL_SHARE
    )


@dataclass(frozen=True)
class Plane:
    """One of a volume's three display planes.

    Attributes
    ----------
    name : str
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    pixels : numpy.ndarray
        ``(rows, columns, samples)`` as shown: row 0 at the top, column 0 on the left.
    labels : tuple of 4 str
        The patient direction at the top, right, bottom and left of the picture.
    pixel_mm : tuple of 2 float
        The height and width of a pixel in mm.
    index : tuple of (int, int)
        The array axis the plane cuts (0 slice, 1 row, 2 column) and where.
    """

    name: str
    pixels: NDArray[Any]
    labels: tuple[str, str, str, str]
    pixel_mm: tuple[float, float]
    index: tuple[int, int]


def _patient_axes(affine: NDArray[np.float64]) -> list[tuple[int, int]]:
    """For each patient axis x, y, z: the array axis nearest to it and its sign along it.

    Pairs are taken by the largest remaining cosine first, so each array axis
    serves one patient axis.
    """
    columns = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    pairs = sorted(((abs(columns[p, a]), p, a) for p in range(3) for a in range(3)), reverse=True)
    chosen: dict[int, tuple[int, int]] = {}
    used: set[int] = set()
    for _, patient, axis in pairs:
        if patient in chosen or axis in used:
            continue
        chosen[patient] = (axis, 1 if columns[patient, axis] >= 0 else -1)
        used.add(axis)
    return [chosen[patient] for patient in range(3)]


def radiological_planes(array: NDArray[Any], affine: NDArray[np.float64]) -> list[Plane]:
    """The axial, coronal and sagittal middle planes of a volume as a radiologist views them.

    The array's axes ``(slice, row, column[, samples])`` are matched to the
    patient axes they are nearest to (from the affine, which maps them to
    LPS mm) and flipped so that the planes show: axial from the feet
    (anterior up, the patient's right on the left), coronal from the front
    (superior up, right on the left), sagittal from the patient's left
    (superior up, anterior on the left). The labels are the directions the
    picture's sides point to, found from the affine; for an oblique volume
    they name each main direction and the next (``"LA"``).

    Examples
    --------
    >>> import numpy as np
    >>> affine = np.array([[0, 0, 0.5, 0], [0, 0.5, 0, 0], [2.0, 0, 0, 0], [0, 0, 0, 1]])
    >>> planes = radiological_planes(np.zeros((4, 6, 8, 1)), affine)  # an axial stack
    >>> [(plane.name, plane.labels, plane.pixels.shape) for plane in planes]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('axial', ('A', 'L', 'P', 'R'), (6, 8, 1)),
     ('coronal', ('S', 'L', 'I', 'R'), (4, 8, 1)),
     ('sagittal', ('S', 'P', 'I', 'A'), (4, 6, 1))]
    """
    volume = array if array.ndim == 4 else array[..., np.newaxis]
    axes = _patient_axes(affine)
    steps = affine[:3, :3]
    lengths = np.linalg.norm(steps, axis=0)
    # canon[x, y, z]: indices growing to the patient's left, posterior, superior.
    canon = volume.transpose(axes[0][0], axes[1][0], axes[2][0], 3)
    canon = canon[tuple(slice(None, None, -1) if sign < 0 else slice(None) for _, sign in axes)]
    toward = [steps[:, axis] * sign / lengths[axis] for axis, sign in axes]  # unit L, P, S
    mm = [float(lengths[axis]) for axis, _ in axes]
    middle = [canon.shape[k] // 2 for k in range(3)]

    def cut(patient: int) -> tuple[int, int]:
        axis, sign = axes[patient]
        count = canon.shape[patient]
        return axis, middle[patient] if sign > 0 else count - 1 - middle[patient]

    def label(vector: NDArray[np.float64]) -> str:
        return direction_label(vector) or "?"

    left, posterior, superior = toward
    return [
        Plane(  # rows: anterior to posterior; columns: right to left
            "axial",
            canon[:, :, middle[2]].transpose(1, 0, 2),
            (label(-posterior), label(left), label(posterior), label(-left)),
            (mm[1], mm[0]),
            cut(2),
        ),
        Plane(  # rows: superior to inferior; columns: right to left
            "coronal",
            canon[:, middle[1], ::-1].transpose(1, 0, 2),
            (label(superior), label(left), label(-superior), label(-left)),
            (mm[2], mm[0]),
            cut(1),
        ),
        Plane(  # rows: superior to inferior; columns: anterior to posterior
            "sagittal",
            canon[middle[0], :, ::-1].transpose(1, 0, 2),
            (label(superior), label(posterior), label(-superior), label(-posterior)),
            (mm[2], mm[1]),
            cut(0),
        ),
    ]


def volume_html(volume: _VolumeLike) -> str:
    """HTML for a volume: axial, coronal and sagittal middle planes and the key header fields.

    The planes are shown in radiological convention and labelled with the
    patient directions (see :func:`radiological_planes`). Pixels are made
    square in mm.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> text = volume_html(dicomnp.combine_series(ct_series(6, 16, 16)))
    >>> text.count("<img"), "<table>" in text
    (3, True)
    """
    affine = np.asarray(volume.affine, dtype=np.float64)
    ds, dr, dc = volume.spacing
    planes = radiological_planes(volume.array, affine)
    scaled = _scaled_planes([plane.pixels for plane in planes])
    names = ("slice", "row", "column")
    panels = [
        _panel(
            _fit(pixels, *plane.pixel_mm),
            f"{names[plane.index[0]]} {plane.index[1]} ({plane.name})",
            plane.labels,
        )
        for plane, pixels in zip(planes, scaled, strict=True)
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
