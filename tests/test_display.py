"""Notebook display: Image and Volume show a picture and a table in Jupyter (_repr_html_)."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import dicomnp
from dicomnp._display import encode_png, to_uint8
from dicomnp.examples import ct_slice, write_ct_series

_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _unfilter(rows: NDArray[np.uint8], samples: int) -> NDArray[np.uint8]:
    """Undo the PNG row filters (PNG spec 9.2: None, Sub, Up, Average, Paeth), row by row."""
    out = np.zeros((rows.shape[0], rows.shape[1] - 1), dtype=np.int64)
    for index, row in enumerate(rows):
        kind, line = int(row[0]), row[1:].astype(np.int64)
        above = out[index - 1] if index else np.zeros_like(line)
        current = np.zeros_like(line)
        for position in range(len(line)):
            left = current[position - samples] if position >= samples else 0
            upper_left = above[position - samples] if position >= samples and index else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = above[position]
            elif kind == 3:
                predictor = (left + above[position]) // 2
            else:
                assert kind == 4, f"unknown PNG filter {kind}"
                estimate = left + above[position] - upper_left
                distances = (
                    abs(estimate - left),
                    abs(estimate - above[position]),
                    abs(estimate - upper_left),
                )
                predictor = (left, above[position], upper_left)[distances.index(min(distances))]
            current[position] = (line[position] + predictor) % 256
        out[index] = current
    return out.astype(np.uint8)


def decode_png(data: bytes) -> NDArray[np.uint8]:
    """Read back an 8-bit greyscale or RGB PNG file, written by any encoder."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position = 8
    chunks: dict[bytes, bytes] = {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8
    assert interlace == 0
    samples = 3 if colour == 2 else 1
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    pixels = _unfilter(raw.reshape(height, width * samples + 1), samples)
    pixels = pixels.reshape(height, width, samples)
    return pixels[..., 0] if samples == 1 else pixels


def pictures(text: str) -> list[NDArray[np.uint8]]:
    return [decode_png(base64.b64decode(match)) for match in _PNG.findall(text)]


def table(text: str) -> dict[str, str]:
    return dict(re.findall(r"<th[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>", text))


def test_png_round_trip_grey_and_colour() -> None:
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    colour = rng.integers(0, 256, (4, 3, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(grey)), grey)
    assert np.array_equal(decode_png(encode_png(colour)), colour)
    noise = rng.integers(0, 256, (97, 131), dtype=np.uint8)  # incompressible
    assert np.array_equal(decode_png(encode_png(noise)), noise)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(grey.astype(np.uint16))


def test_to_uint8_scales_and_survives_constant_and_nan() -> None:
    assert to_uint8(np.full((2, 2), 7, dtype=np.uint16)).tolist() == [[0, 0], [0, 0]]
    scaled = to_uint8(np.array([np.nan, 0.0, 1.0]))
    assert scaled.dtype == np.uint8
    assert scaled.tolist() == [0, 0, 255]


def test_volume_from_a_folder_displays_as_three_pictures_and_a_table(tmp_path: Path) -> None:
    write_ct_series(tmp_path, slices=8, rows=32, columns=24)
    volume = dicomnp.combine_series(tmp_path)
    text = volume._repr_html_()
    images = pictures(text)
    assert len(images) == 3
    assert all(image.dtype == np.uint8 and image.ndim == 2 for image in images)
    assert all(int(image.max()) > int(image.min()) for image in images)  # not blank
    # Square pixels in mm: 32 rows x 24 columns of 0.5 mm, 8 slices of 2 mm.
    axial, coronal, sagittal = images
    assert axial.shape[0] / axial.shape[1] == pytest.approx(32 / 24, rel=0.05)
    assert coronal.shape[0] / coronal.shape[1] == pytest.approx(16 / 12, rel=0.05)
    assert sagittal.shape[0] / sagittal.shape[1] == pytest.approx(16 / 16, rel=0.05)
    assert "(axial)" in text
    assert "(coronal)" in text
    assert "(sagittal)" in text
    fields = table(text)
    assert fields["shape"] == "(8, 32, 24, 1)"
    assert fields["modality"] == "CT"
    assert fields["spacing (s, r, c) mm"] == "(2, 0.5, 0.5)"
    assert fields["first voxel (LPS mm)"] == "(-6, -8, 0)"
    assert fields["lossy"] == "False (all 8 slices)"
    assert fields["rescale_intercepts"] == "-1024 (all 8 slices)"


def test_image_displays_its_middle_frame_and_header() -> None:
    image = dicomnp.read(ct_slice())
    text = image._repr_html_()
    (picture,) = pictures(text)
    assert picture.ndim == 2
    assert picture.shape[0] == picture.shape[1]
    fields = table(text)
    assert fields["shape"] == "(64, 64, 1)"
    assert fields["value_offset"] == "32768"
    assert fields["values"] == "stored"
    # The file's Rescale Intercept first; the one that applies to the array under its own name.
    assert fields["rescale_intercept"] == "-1024"
    assert fields["rescale_intercept_from_array"] == "-33792"
    names = list(fields)
    assert names.index("rescale_intercept") < names.index("rescale_intercept_from_array")


def test_multi_frame_and_colour_images_display() -> None:
    colour = np.zeros((3, 10, 20, 3), dtype=np.uint8)
    colour[1, ..., 0] = 255
    image = dicomnp.Image(array=colour, header={"pixel_spacing": [1.0, 1.0]})
    text = image._repr_html_()
    (picture,) = pictures(text)
    assert picture.shape[2] == 3
    assert (picture[..., 0] == 255).all()  # the middle frame, red
    assert "frame 1 of 3" in text
    assert table(text)["shape"] == "(3, 10, 20, 3)"


def test_html_escapes_header_text() -> None:
    image = dicomnp.Image(array=np.zeros((2, 2, 1), dtype=np.uint8), header={"photometric": "<b>&"})
    text = image._repr_html_()
    assert "<b>&" not in text
    assert "&lt;b&gt;&amp;" in text
