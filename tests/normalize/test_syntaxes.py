"""One image written in every lossless encoding the test stack can write renders identically."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Literal

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

import dicomnp
from support.build import image_dataset, to_bytes

ENCAPSULATED_UNCOMPRESSED = UID("1.2.840.10008.1.2.1.98")


def _grey_frames() -> NDArray[np.int16]:
    """Two signed 12-bit frames with negative values and a gradient."""
    rows, columns = np.mgrid[0:40, 0:36]
    first = (rows * 150 - columns * 90 - 1000).clip(-2048, 2047)
    return np.stack([first, -first - 1]).astype(np.int16)


def _rgb_frames() -> NDArray[np.uint8]:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(2, 32, 34, 3), dtype=np.uint8)


def grey_dataset(syntax: str = ExplicitVRLittleEndian) -> Dataset:
    frames = _grey_frames()
    order = ">" if syntax == ExplicitVRBigEndian else "<"
    dataset = image_dataset(
        frames.astype(f"{order}i2").tobytes(),
        rows=frames.shape[1],
        columns=frames.shape[2],
        bits_allocated=16,
        bits_stored=12,
        pixel_representation=1,
        frames=2,
        syntax=syntax,
    )
    dataset.RescaleSlope, dataset.RescaleIntercept = "1", "-1024"
    dataset.WindowCenter, dataset.WindowWidth = "0", "2000"
    return dataset


def rgb_dataset(syntax: str = ExplicitVRLittleEndian, planar: int = 0) -> Dataset:
    frames = _rgb_frames()
    data = frames.transpose(0, 3, 1, 2) if planar else frames
    return image_dataset(
        np.ascontiguousarray(data).tobytes(),
        rows=frames.shape[1],
        columns=frames.shape[2],
        bits_allocated=8,
        samples=3,
        planar=planar,
        frames=2,
        syntax=syntax,
    )


Mode = Literal["stored", "modality", "display"]
MODES: tuple[Mode, ...] = ("stored", "modality", "display")


def _written(build: Callable[[str], Dataset], syntax: str) -> bytes:
    return to_bytes(build(syntax))


def _encapsulated_uncompressed(build: Callable[[str], Dataset]) -> Dataset:
    dataset = build(ExplicitVRLittleEndian)
    frame_bytes = len(dataset.PixelData) // 2
    frames = [dataset.PixelData[i * frame_bytes : (i + 1) * frame_bytes] for i in range(2)]
    dataset.PixelData = encapsulate(frames)
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = ENCAPSULATED_UNCOMPRESSED
    return dataset


def _compressed(build: Callable[[str], Dataset], syntax: str) -> Dataset:
    dataset = build(ExplicitVRLittleEndian)
    dataset.compress(syntax, encoding_plugin="pylibjpeg" if syntax == JPEG2000Lossless else "")
    return dataset


NATIVE: dict[str, Callable[[Callable[[str], Dataset]], Dataset | bytes]] = {
    "explicit-le": lambda build: _written(build, ExplicitVRLittleEndian),
    "implicit-le": lambda build: _written(build, ImplicitVRLittleEndian),
    "explicit-be": lambda build: _written(build, ExplicitVRBigEndian),
    "deflated": lambda build: _written(build, DeflatedExplicitVRLittleEndian),
    "encapsulated-uncompressed": _encapsulated_uncompressed,
}
BUILDERS = {"grey": grey_dataset, "rgb": rgb_dataset}


@functools.cache
def _decoder_missing(syntax: str) -> bool:
    """True while decode_pixels cannot decode ``syntax`` at all."""
    dataset = grey_dataset()
    if syntax == ENCAPSULATED_UNCOMPRESSED:
        dataset = _encapsulated_uncompressed(grey_dataset)
    elif syntax not in (ExplicitVRLittleEndian,):
        dataset = _compressed(grey_dataset, syntax)
    try:
        dicomnp.decode_pixels(dataset)
    except dicomnp.UnsupportedTransferSyntaxError:
        return True
    return False


def _reference(kind: str, values: Mode) -> NDArray[np.generic]:
    return dicomnp.to_array(BUILDERS[kind](), values=values)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("encoding", sorted(NATIVE))
@pytest.mark.parametrize("values", MODES)
def test_native_encodings_render_identically(kind: str, encoding: str, values: Mode) -> None:
    if encoding == "encapsulated-uncompressed" and _decoder_missing(ENCAPSULATED_UNCOMPRESSED):
        pytest.skip("the decode layer does not decode Encapsulated Uncompressed yet")
    source = NATIVE[encoding](BUILDERS[kind])
    array = dicomnp.to_array(source, values=values)
    expected = _reference(kind, values)
    assert array.dtype == expected.dtype
    assert np.array_equal(array, expected)


def test_planar_configuration_1_renders_identically() -> None:
    expected = dicomnp.to_array(rgb_dataset())
    assert expected.tolist() == _rgb_frames().tolist()
    for syntax in (ExplicitVRLittleEndian, ExplicitVRBigEndian):
        planar = to_bytes(rgb_dataset(syntax, planar=1))
        assert np.array_equal(dicomnp.to_array(planar), expected)


def test_stored_values_survive_every_native_encoding() -> None:
    array = dicomnp.to_array(grey_dataset())
    assert array.dtype == np.uint16
    assert (array[..., 0].astype(np.int64) - 2048).tolist() == _grey_frames().tolist()


COMPRESSED = [RLELossless, JPEG2000Lossless]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize(
    "syntax",
    [
        pytest.param(
            syntax,
            id=syntax.name,
            marks=pytest.mark.skipif(
                _decoder_missing(syntax),
                reason=f"decode_pixels raises UnsupportedTransferSyntaxError for {syntax.name}",
            ),
        )
        for syntax in COMPRESSED
    ],
)
def test_compressed_lossless_encodings_render_identically(kind: str, syntax: str) -> None:
    """Every lossless syntax pydicom can write here (RLE; J2K through pylibjpeg-openjpeg)."""
    dataset = _compressed(BUILDERS[kind], syntax)
    assert dataset.file_meta.TransferSyntaxUID == syntax
    written = to_bytes(dataset)
    for values in MODES:
        array = dicomnp.to_array(dataset, values=values)
        assert np.array_equal(array, _reference(kind, values)), values
        assert np.array_equal(dicomnp.to_array(written, values=values), array)
        assert np.array_equal(
            dicomnp.to_array(pydicom.dcmread(io.BytesIO(written))), _reference(kind, "stored")
        )


@pytest.mark.skipif(
    _decoder_missing(JPEG2000Lossless),
    reason="decode_pixels raises UnsupportedTransferSyntaxError for JPEG 2000",
)
def test_a_syntax_that_may_be_lossy_needs_the_file_to_say_00() -> None:
    dataset = _compressed(grey_dataset, JPEG2000Lossless)
    dataset.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.91")  # JPEG 2000, either
    with pytest.raises(dicomnp.LossyDataError) as caught:
        dicomnp.to_array(dataset)
    assert "may be lossy" in str(caught.value)
    dataset.LossyImageCompression = "00"
    image = dicomnp.read(dataset)
    assert image.header["lossy"] is False
    assert np.array_equal(image.array, _reference("grey", "stored"))
