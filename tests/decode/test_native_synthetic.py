"""Native pixel data variations built in memory, each checked against values the test chose."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

import dicomnp
from dicomnp.decode import decode_pixels
from support.build import image_dataset, pack_bits, swap_words, to_bytes

RNG = np.random.default_rng(20261121)


def _decode(data: bytes, **options: Any) -> NDArray[Any]:
    return decode_pixels(data, **options).array


@pytest.mark.parametrize(
    ("dtype", "representation"), [(">u2", 0), (">i2", 1), (">u4", 0), (">i4", 1)]
)
def test_big_endian_words_are_swapped_to_native_order(dtype: str, representation: int) -> None:
    info = np.iinfo(np.dtype(dtype))
    values = RNG.integers(info.min, info.max, size=(2, 5, 7), endpoint=True).astype(dtype)
    bits = values.dtype.itemsize * 8
    ds = image_dataset(
        values.tobytes(),
        rows=5,
        columns=7,
        bits_allocated=bits,
        pixel_representation=representation,
        frames=2,
        syntax=ExplicitVRBigEndian,
    )
    decoded = _decode(to_bytes(ds))
    assert decoded.dtype.isnative
    assert decoded.dtype == values.dtype.newbyteorder("=")
    np.testing.assert_array_equal(decoded[..., 0], values)


def test_big_endian_8_bit_ow_with_odd_length_unswaps_bytes() -> None:
    values = RNG.integers(0, 255, size=(3, 3, 3), dtype=np.uint8)
    ds = image_dataset(
        swap_words(values.tobytes()),
        rows=3,
        columns=3,
        bits_allocated=8,
        samples=3,
        planar=0,
        syntax=ExplicitVRBigEndian,
        vr="OW",
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0], values)


def test_big_endian_8_bit_ob_is_not_swapped() -> None:
    values = RNG.integers(0, 255, size=(4, 6), dtype=np.uint8)
    ds = image_dataset(
        values.tobytes(), rows=4, columns=6, bits_allocated=8, syntax=ExplicitVRBigEndian, vr="OB"
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], values)


def test_big_endian_8_bit_ow_second_frame_of_odd_size() -> None:
    values = RNG.integers(0, 255, size=(3, 3, 3), dtype=np.uint8)  # 27 bytes a frame
    ds = image_dataset(
        swap_words(values.tobytes()),
        rows=3,
        columns=3,
        bits_allocated=8,
        frames=3,
        syntax=ExplicitVRBigEndian,
        vr="OW",
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds), frames=[1])[0, ..., 0], values[1])


def test_single_bit_frames_that_start_inside_a_byte() -> None:
    bits = RNG.integers(0, 1, size=(3, 10, 10), endpoint=True, dtype=np.uint8)
    ds = image_dataset(pack_bits(bits), rows=10, columns=10, bits_allocated=1, frames=3)
    data = to_bytes(ds)
    decoded = _decode(data)
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded[..., 0], bits)
    # frame 1 starts at bit 100, in the middle of byte 12
    np.testing.assert_array_equal(_decode(data, frames=1)[0, ..., 0], bits[1])
    np.testing.assert_array_equal(_decode(data, frames=[2, 0])[..., 0], bits[[2, 0]])


@pytest.mark.parametrize("vr", ["OB", "OW"])
def test_single_bit_big_endian_equals_pydicom(vr: str) -> None:
    bits = RNG.integers(0, 1, size=(3, 10, 13), endpoint=True, dtype=np.uint8)
    ds = image_dataset(
        pack_bits(bits),
        rows=10,
        columns=13,
        bits_allocated=1,
        frames=3,
        syntax=ExplicitVRBigEndian,
        vr=vr,
    )
    data = to_bytes(ds)
    expected = pydicom.dcmread(io.BytesIO(data)).pixel_array
    np.testing.assert_array_equal(expected, bits)  # the file holds what the test chose
    np.testing.assert_array_equal(_decode(data)[..., 0], expected)
    np.testing.assert_array_equal(_decode(data, frames=1)[0, ..., 0], expected[1])


def test_single_bit_odd_byte_count_ignores_the_pad_byte() -> None:
    bits = RNG.integers(0, 1, size=(5, 8), endpoint=True, dtype=np.uint8)  # 40 bits: 5 bytes
    packed = pack_bits(bits) + b"\xff"  # padded to even length with a byte of ones
    ds = image_dataset(packed, rows=5, columns=8, bits_allocated=1)
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], bits)


def test_signed_12_in_16_ignores_garbage_above_bits_stored() -> None:
    values = RNG.integers(-2048, 2047, size=(6, 8), endpoint=True).astype(np.int16)
    cells = (values.astype(np.uint16) & 0x0FFF) | np.uint16(0xA000)
    ds = image_dataset(
        cells.astype("<u2").tobytes(),
        rows=6,
        columns=8,
        bits_allocated=16,
        bits_stored=12,
        pixel_representation=1,
    )
    decoded = _decode(to_bytes(ds))
    assert decoded.dtype == np.int16
    np.testing.assert_array_equal(decoded[0, ..., 0], values)


def test_unsigned_12_in_16_masks_garbage() -> None:
    values = RNG.integers(0, 4095, size=(6, 8), endpoint=True).astype(np.uint16)
    ds = image_dataset(
        (values | np.uint16(0xF000)).astype("<u2").tobytes(),
        rows=6,
        columns=8,
        bits_allocated=16,
        bits_stored=12,
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], values)


def test_high_bit_above_bits_stored_shifts_the_sample_down() -> None:
    values = RNG.integers(-2048, 2047, size=(4, 4), endpoint=True).astype(np.int16)
    cells = ((values.astype(np.uint16) & 0x0FFF) << 4) | np.uint16(0x0005)
    ds = image_dataset(
        cells.astype("<u2").tobytes(),
        rows=4,
        columns=4,
        bits_allocated=16,
        bits_stored=12,
        high_bit=15,
        pixel_representation=1,
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], values)


@pytest.mark.parametrize("stored", [7, 8])
def test_signed_8_bit(stored: int) -> None:
    low, high = -(1 << (stored - 1)), (1 << (stored - 1)) - 1
    values = RNG.integers(low, high, size=(3, 5), endpoint=True).astype(np.int8)
    ds = image_dataset(
        values.tobytes(),
        rows=3,
        columns=5,
        bits_allocated=8,
        bits_stored=stored,
        pixel_representation=1,
    )
    decoded = _decode(to_bytes(ds))
    assert decoded.dtype == np.int8
    np.testing.assert_array_equal(decoded[0, ..., 0], values)


def test_64_bit_integer_cells() -> None:
    values = RNG.integers(0, 2**62, size=(2, 3), dtype=np.uint64)
    ds = image_dataset(values.astype("<u8").tobytes(), rows=2, columns=3, bits_allocated=64)
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], values)


def test_planar_configuration_1_is_interleaved_per_frame() -> None:
    frames = RNG.integers(0, 255, size=(2, 4, 5, 3), dtype=np.uint8)
    planes = np.ascontiguousarray(frames.transpose(0, 3, 1, 2))  # frame, sample, row, column
    ds = image_dataset(
        planes.tobytes(), rows=4, columns=5, bits_allocated=8, samples=3, planar=1, frames=2
    )
    stored = decode_pixels(to_bytes(ds))
    np.testing.assert_array_equal(stored.array, frames)
    assert stored.description.planar_configuration == 1


def test_planar_configuration_1_big_endian_16_bit() -> None:
    frame = RNG.integers(0, 65535, size=(4, 5, 3), dtype=np.uint16)
    planes = frame.transpose(2, 0, 1).astype(">u2")
    ds = image_dataset(
        planes.tobytes(),
        rows=4,
        columns=5,
        bits_allocated=16,
        samples=3,
        planar=1,
        syntax=ExplicitVRBigEndian,
    )
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0], frame)


@pytest.mark.parametrize(
    ("keyword", "dtype"), [("FloatPixelData", "<f4"), ("DoubleFloatPixelData", "<f8")]
)
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_float_and_double_float_pixel_data(keyword: str, dtype: str, syntax: str) -> None:
    values = RNG.normal(size=(2, 3, 4)).astype(dtype)
    order = "<" if syntax == ExplicitVRLittleEndian else ">"
    ds = image_dataset(
        values.astype(values.dtype.newbyteorder("<" if order == "<" else ">")).tobytes(),
        rows=3,
        columns=4,
        bits_allocated=values.dtype.itemsize * 8,
        frames=2,
        syntax=syntax,
        keyword=keyword,
    )
    stored = decode_pixels(to_bytes(ds))
    assert stored.description.float_data
    assert stored.array.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(stored.array[..., 0], values)


def test_odd_length_8_bit_value_is_padded_and_decodes() -> None:
    values = RNG.integers(0, 255, size=(3, 3), dtype=np.uint8)
    ds = image_dataset(values.tobytes() + b"\0", rows=3, columns=3, bits_allocated=8)
    np.testing.assert_array_equal(_decode(to_bytes(ds))[0, ..., 0], values)


def test_native_ybr_full_422_is_upsampled_by_replicating_chroma() -> None:
    # two rows of two pixel pairs: Y1 Y2 Cb Cr per pair
    pairs = np.array(
        [[[10, 20, 100, 200], [30, 40, 110, 210]], [[50, 60, 120, 220], [70, 80, 130, 230]]],
        dtype=np.uint8,
    )
    ds = image_dataset(
        pairs.tobytes(),
        rows=2,
        columns=4,
        bits_allocated=8,
        samples=3,
        planar=0,
        photometric="YBR_FULL_422",
    )
    stored = decode_pixels(to_bytes(ds))
    expected = np.array(
        [
            [[10, 100, 200], [20, 100, 200], [30, 110, 210], [40, 110, 210]],
            [[50, 120, 220], [60, 120, 220], [70, 130, 230], [80, 130, 230]],
        ],
        dtype=np.uint8,
    )
    np.testing.assert_array_equal(stored.array[0], expected)
    assert stored.description.photometric_interpretation == "YBR_FULL"
    assert stored.description.stored_photometric_interpretation == "YBR_FULL_422"


def test_excess_data_decodes_the_declared_frames_only() -> None:
    values = RNG.integers(0, 65535, size=(3, 4, 4), dtype=np.uint16)
    ds = image_dataset(values.tobytes(), rows=4, columns=4, bits_allocated=16, frames=2)
    decoded = _decode(to_bytes(ds))
    assert decoded.shape == (2, 4, 4, 1)
    np.testing.assert_array_equal(decoded[..., 0], values[:2])


def test_short_data_raises_with_expected_and_actual_lengths() -> None:
    values = RNG.integers(0, 65535, size=(2, 4, 4), dtype=np.uint16)
    ds = image_dataset(values.tobytes()[:-2], rows=4, columns=4, bits_allocated=16, frames=2)
    with pytest.raises(dicomnp.TruncatedPixelDataError) as caught:
        decode_pixels(to_bytes(ds))
    assert (caught.value.expected, caught.value.actual) == (64, 62)
    assert "(7FE0,0010)" in str(caught.value)
    assert "64" in str(caught.value)
    assert "62" in str(caught.value)


def test_file_cut_inside_the_pixel_value_raises_truncated() -> None:
    values = RNG.integers(0, 255, size=(8, 8), dtype=np.uint8)
    data = to_bytes(image_dataset(values.tobytes(), rows=8, columns=8, bits_allocated=8))
    with pytest.raises(dicomnp.TruncatedPixelDataError) as caught:
        decode_pixels(data[:-10])
    assert caught.value.actual == 54


def test_number_of_frames_absent_means_one() -> None:
    ds = image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8)
    assert "NumberOfFrames" not in ds
    assert _decode(to_bytes(ds)).shape == (1, 4, 4, 1)


@pytest.mark.parametrize("frames", [0, "0", "-2"])
def test_invalid_number_of_frames_raises(frames: int | str) -> None:
    ds = image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8, frames=frames)
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="NumberOfFrames"):
        decode_pixels(to_bytes(ds))


@pytest.mark.parametrize(
    "syntax", [ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian]
)
def test_little_endian_syntaxes_agree(syntax: str) -> None:
    values = RNG.integers(-32768, 32767, size=(2, 6, 5), endpoint=True).astype(np.int16)
    ds = image_dataset(
        values.tobytes(),
        rows=6,
        columns=5,
        bits_allocated=16,
        pixel_representation=1,
        frames=2,
        syntax=syntax,
    )
    stored = decode_pixels(to_bytes(ds))
    assert stored.description.transfer_syntax_uid == syntax
    np.testing.assert_array_equal(stored.array[..., 0], values)


def test_frame_selection_follows_numpy_indexing() -> None:
    values = RNG.integers(0, 255, size=(5, 2, 2), dtype=np.uint8)
    data = to_bytes(image_dataset(values.tobytes(), rows=2, columns=2, bits_allocated=8, frames=5))
    np.testing.assert_array_equal(_decode(data, frames=-1)[..., 0], values[[-1]])
    np.testing.assert_array_equal(_decode(data, frames=slice(None, None, 2))[..., 0], values[::2])
    np.testing.assert_array_equal(_decode(data, frames=[3, 1])[..., 0], values[[3, 1]])
    assert decode_pixels(data, frames=[3, 1]).description.frames == (3, 1)
    with pytest.raises(dicomnp.FrameIndexError) as caught:
        decode_pixels(data, frames=5)
    assert isinstance(caught.value, IndexError)
    assert caught.value.frame == 5


def test_two_pixel_elements_are_refused() -> None:
    ds = image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8)
    ds.FloatPixelData = bytes(64)
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="more than one"):
        decode_pixels(ds)
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="more than one"):
        decode_pixels(to_bytes(ds))


def test_samples_per_pixel_contradicting_photometric_is_refused() -> None:
    ds = image_dataset(bytes(48), rows=4, columns=4, bits_allocated=8, samples=3)
    ds.PhotometricInterpretation = "MONOCHROME2"
    with pytest.raises(dicomnp.InvalidPixelMetadataError, match="SamplesPerPixel 1"):
        decode_pixels(ds)


def test_not_dicom_and_no_pixel_data() -> None:
    with pytest.raises(dicomnp.NotDicomError):
        decode_pixels(b"this is not a DICOM file at all" * 10)
    ds = image_dataset(bytes(16), rows=4, columns=4, bits_allocated=8)
    del ds.PixelData
    with pytest.raises(dicomnp.NoPixelDataError):
        decode_pixels(to_bytes(ds))
    with pytest.raises(dicomnp.NoPixelDataError):
        decode_pixels(ds)


def test_missing_file_is_a_dicomnp_error(tmp_path: Any) -> None:
    with pytest.raises(dicomnp.NotDicomError, match=r"missing\.dcm"):
        decode_pixels(tmp_path / "missing.dcm")


@pytest.mark.parametrize("call", [decode_pixels, dicomnp.read, dicomnp.to_array])
def test_missing_file_is_also_a_file_not_found_error(tmp_path: Any, call: Any) -> None:
    missing = tmp_path / "missing.dcm"
    with pytest.raises(FileNotFoundError, match=r"missing\.dcm: no such file") as caught:
        call(missing)
    assert isinstance(caught.value, dicomnp.SourceNotFoundError)
    assert caught.value.filename == str(missing)
    assert caught.value.errno == 2


def test_file_object_is_left_open_and_unchanged(tmp_path: Any) -> None:
    values = RNG.integers(0, 255, size=(4, 4), dtype=np.uint8)
    data = to_bytes(image_dataset(values.tobytes(), rows=4, columns=4, bits_allocated=8))
    path = tmp_path / "image.dcm"
    path.write_bytes(data)
    with path.open("rb") as handle:
        np.testing.assert_array_equal(decode_pixels(handle).array[0, ..., 0], values)
        assert not handle.closed
    assert path.read_bytes() == data
    stream = io.BytesIO(data)
    decode_pixels(stream)
    assert not stream.closed
