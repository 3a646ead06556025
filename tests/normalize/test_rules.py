"""One test per rendering rule, on data sets built in memory; each fails when its rule breaks."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

import dicomnp
from support.build import image_dataset, pack_bits, to_bytes


def grey(
    values: NDArray[Any],
    *,
    bits_allocated: int,
    bits_stored: int | None = None,
    signed: bool = False,
    photometric: str = "MONOCHROME2",
    frames: int | None = None,
    syntax: str = ExplicitVRLittleEndian,
) -> Dataset:
    """A one-sample data set of ``values``: ``(rows, columns)`` or ``(frames, rows, columns)``."""
    array = np.asarray(values)
    kind = "i" if signed else "u"
    cells = array.astype(f"<{kind}{bits_allocated // 8}")
    rows, columns = array.shape[-2:]
    count = frames if frames is not None else (array.shape[0] if array.ndim == 3 else None)
    return image_dataset(
        cells.tobytes(),
        rows=rows,
        columns=columns,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=int(signed),
        photometric=photometric,
        frames=count,
        syntax=syntax,
    )


# --- R2: signed stored values are offset by 2^(BitsStored-1) ------------------------------


@pytest.mark.parametrize(
    ("bits_allocated", "bits_stored", "dtype"),
    [(8, 8, np.uint8), (16, 12, np.uint16), (16, 16, np.uint16), (32, 32, np.uint32)],
)
def test_signed_values_are_offset_to_unsigned(
    bits_allocated: int, bits_stored: int, dtype: type[np.unsignedinteger[Any]]
) -> None:
    low, high = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    stored = np.array([[low, -1, 0, high]], dtype=np.int64)
    dataset = grey(stored, bits_allocated=bits_allocated, bits_stored=bits_stored, signed=True)
    image = dicomnp.read(dataset)
    assert image.array.dtype == dtype
    assert image.array[..., 0].tolist() == (stored + (1 << (bits_stored - 1))).tolist()
    assert image.header["value_offset"] == 1 << (bits_stored - 1)
    assert image.header["stored_from_array"] == {"scale": 1, "offset": -(1 << (bits_stored - 1))}


def test_signed_values_without_sign_extension_in_the_cell_give_the_same_array() -> None:
    extended = grey(np.array([[-1, -2000]]), bits_allocated=16, bits_stored=12, signed=True)
    masked = grey(np.array([[0x0FFF, 0x0830]]), bits_allocated=16, bits_stored=12, signed=False)
    masked.PixelRepresentation = 1
    assert dicomnp.to_array(extended).tolist() == dicomnp.to_array(masked).tolist()
    assert dicomnp.to_array(extended)[..., 0].tolist() == [[2047, 48]]


def test_dtype_follows_bits_stored_not_bits_allocated() -> None:
    dataset = grey(np.array([[0, 255]]), bits_allocated=16, bits_stored=8)
    array = dicomnp.to_array(dataset)
    assert array.dtype == np.uint8
    assert array[..., 0].tolist() == [[0, 255]]


# --- R3: MONOCHROME1 is inverted to MONOCHROME2 --------------------------------------------


def test_monochrome1_unsigned_is_inverted() -> None:
    dataset = grey(np.array([[10, 0, 255]]), bits_allocated=8, photometric="MONOCHROME1")
    image = dicomnp.read(dataset)
    assert image.array[..., 0].tolist() == [[245, 255, 0]]
    assert image.header["inverted"] is True
    assert image.header["stored_from_array"] == {"scale": -1, "offset": 255}


def test_monochrome1_signed_is_inverted_after_the_offset() -> None:
    dataset = grey(
        np.array([[-2048, 2047, 0]]),
        bits_allocated=16,
        bits_stored=12,
        signed=True,
        photometric="MONOCHROME1",
    )
    image = dicomnp.read(dataset)
    assert image.array[..., 0].tolist() == [[4095, 0, 2047]]
    recipe = image.header["stored_from_array"]
    values = image.array[..., 0].astype(np.int64)
    assert (recipe["scale"] * values + recipe["offset"]).tolist() == [[-2048, 2047, 0]]


def test_monochrome1_rescale_still_gives_modality_values_from_the_array() -> None:
    stored = np.array([[0, 100, 4095]])
    dataset = grey(stored, bits_allocated=16, bits_stored=12, photometric="MONOCHROME1")
    dataset.RescaleSlope, dataset.RescaleIntercept = "2", "-100"
    image = dicomnp.read(dataset)
    assert (image.header["rescale_slope"], image.header["rescale_intercept"]) == (2, -100)
    slope = image.header["rescale_slope_from_array"]
    intercept = image.header["rescale_intercept_from_array"]
    assert (slope, intercept) == (-2, 8090)
    values = image.array[..., 0].astype(np.int64)
    assert (slope * values + intercept).tolist() == (2 * stored - 100).tolist()
    modality = dicomnp.to_array(dataset, values="modality")
    assert modality[..., 0].tolist() == (2 * stored - 100).tolist()  # never inverted


def test_a_stored_ct_header_gives_the_files_intercept_and_the_one_for_the_array() -> None:
    dataset = grey(np.array([[-1024, 0, 1000]]), bits_allocated=16, signed=True)
    dataset.RescaleSlope, dataset.RescaleIntercept = "1", "-1024"
    image = dicomnp.read(dataset)
    assert (image.header["rescale_slope"], image.header["rescale_intercept"]) == (1, -1024)
    assert image.header["value_offset"] == 32768
    assert image.header["rescale_intercept_from_array"] == -1024 - 32768
    values = image.array[..., 0].astype(np.int64) + image.header["rescale_intercept_from_array"]
    assert values.tolist() == [[-2048, -1024, -24]]


def test_monochrome1_display_is_inverted_after_the_window() -> None:
    dataset = grey(np.array([[0, 255]]), bits_allocated=8, photometric="MONOCHROME1")
    dataset.WindowCenter, dataset.WindowWidth = "128", "256"
    assert dicomnp.to_array(dataset, values="display")[..., 0].tolist() == [[255, 0]]


def test_monochrome2_is_not_inverted() -> None:
    dataset = grey(np.array([[10]]), bits_allocated=8)
    image = dicomnp.read(dataset)
    assert image.array.item() == 10
    assert image.header["inverted"] is False


# --- BitsAllocated 1 ---------------------------------------------------------------------


def test_single_bit_frames_unpack_to_zero_and_one() -> None:
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(3, 10, 10), dtype=np.uint8)  # frame 1 starts mid-byte
    dataset = image_dataset(pack_bits(bits), rows=10, columns=10, bits_allocated=1, frames=3)
    array = dicomnp.to_array(dataset)
    assert array.shape == (3, 10, 10, 1)
    assert array.dtype == np.uint8
    assert np.array_equal(array[..., 0], bits)
    inverted = image_dataset(
        pack_bits(bits), rows=10, columns=10, bits_allocated=1, frames=3, photometric="MONOCHROME1"
    )
    assert np.array_equal(dicomnp.to_array(inverted)[..., 0], 1 - bits)


# --- excess frames -----------------------------------------------------------------------


def test_excess_frames_are_not_returned() -> None:
    frames = np.arange(3 * 4 * 4, dtype=np.uint16).reshape(3, 4, 4)
    dataset = grey(frames, bits_allocated=16, frames=2)
    array = dicomnp.to_array(dataset)
    assert array.shape == (2, 4, 4, 1)
    assert np.array_equal(array[..., 0], frames[:2])
    with pytest.raises(dicomnp.FrameIndexError):
        dicomnp.to_array(dataset, frames=2)


# --- R9: pixel padding -------------------------------------------------------------------


def padded_ct(syntax: str = ExplicitVRLittleEndian) -> tuple[Dataset, NDArray[np.int64]]:
    stored = np.array([[-2000, -1024, 0], [1000, -2000, 3071]], dtype=np.int64)
    dataset = grey(stored, bits_allocated=16, signed=True, syntax=syntax)
    dataset.RescaleSlope, dataset.RescaleIntercept = "1", "-1024"
    dataset.add_new(0x00280120, "US", 63536)  # -2000 written as US, as some writers do
    return dataset, stored


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_padding_on_signed_data_is_found_on_stored_values(syntax: str) -> None:
    dataset, stored = padded_ct(syntax)
    source = to_bytes(dataset) if syntax == ImplicitVRLittleEndian else dataset
    image = dicomnp.read(source, padding="mask")
    assert image.mask is not None
    assert image.mask.tolist() == (stored == -2000).tolist()
    padding = image.header["padding"]
    assert padding["stored_value"] == -2000
    assert padding["value"] == -2000 + 32768
    assert image.array[image.mask][:, 0].tolist() == [30768, 30768]


def test_padding_keep_fill_and_float_mask() -> None:
    dataset, stored = padded_ct()
    kept = dicomnp.to_array(dataset)
    assert kept[0, 0, 0] == -2000 + 32768
    filled = dicomnp.to_array(dataset, padding="fill")
    assert filled[..., 0].tolist() == np.where(stored == -2000, 0, stored + 32768).tolist()
    modality = dicomnp.read(dataset, values="modality", padding="fill")
    assert modality.header["padding"]["value"] == -3024
    assert modality.array[0, 0, 0] == modality.header["padding"]["fill_value"] == -32768 - 1024
    dataset.RescaleSlope = "0.5"
    floats, mask = dicomnp.to_array(dataset, values="modality", padding="mask")
    assert floats.dtype == np.float32
    assert np.isnan(floats[..., 0][stored == -2000]).all()
    assert not np.isnan(floats[..., 0][stored != -2000]).any()
    assert mask.tolist() == (stored == -2000).tolist()


def test_padding_range_limit_marks_the_inclusive_range() -> None:
    dataset = grey(np.array([[0, 5, 10, 11]]), bits_allocated=8)
    dataset.PixelPaddingValue = 0
    dataset.PixelPaddingRangeLimit = 10
    _, mask = dicomnp.to_array(dataset, padding="mask")
    assert mask.tolist() == [[True, True, True, False]]


def test_padding_of_a_monochrome1_image_is_reported_in_output_values() -> None:
    dataset = grey(np.array([[255, 3]]), bits_allocated=8, photometric="MONOCHROME1")
    dataset.PixelPaddingValue = 255
    image = dicomnp.read(dataset, padding="mask")
    assert image.header["padding"]["value"] == 0
    assert image.mask is not None
    assert image.mask.tolist() == [[True, False]]


# --- R4: palette colour ------------------------------------------------------------------


def palette_dataset(table: NDArray[Any], *, first: int = 0, bits: int = 16) -> Dataset:
    indices = np.array([[0, 1, 2, 3]], dtype=np.uint8)
    dataset = grey(indices, bits_allocated=8, photometric="PALETTE COLOR")
    entries = table.shape[0]
    for index in range(3):
        dataset.add_new(0x00281101 + index, "US", [entries % 65536, first, bits])
        data = table[:, index].astype("<u2" if bits == 16 else "u1").tobytes()
        dataset.add_new(0x00281201 + index, "OW", data)
    return dataset


def test_palette_maps_through_its_lut_with_first_mapped_value() -> None:
    table = np.array([[0, 0, 0], [65535, 0, 0], [0, 65535, 0], [0, 0, 65535]])
    image = dicomnp.read(palette_dataset(table[1:], first=1))
    assert image.array.dtype == np.uint16
    assert image.array.shape == (1, 4, 3)
    # index 0 is below the first mapped value: it takes the first entry
    assert image.array[0].tolist() == [table[1].tolist(), *table[1:].tolist()]
    assert image.header["colour_conversion"] == "palette_lut"
    assert image.header["palette"] == {
        "entries": 3,
        "first_mapped": 1,
        "bits": 16,
        "segmented": False,
    }


def test_palette_entry_size_comes_from_the_data() -> None:
    table = np.array([[0, 0, 0], [255, 128, 1], [1, 2, 3], [9, 9, 9]])
    image = dicomnp.read(palette_dataset(table, bits=8))
    assert image.array.dtype == np.uint8
    assert image.array[0].tolist() == table.tolist()
    declared_16 = palette_dataset(table, bits=8)
    for index in range(3):
        declared_16[0x00281101 + index].value = [4, 0, 16]
    assert dicomnp.to_array(declared_16).tolist() == image.array.tolist()


def test_segmented_palette_expands_like_its_plain_table() -> None:
    # discrete 0, 100; linear 4 steps to 500; indirect copy of segment 0; linear to 0 in 2
    segments = [0, 2, 0, 100, 1, 4, 500, 2, 1, 0, 0, 1, 2, 0]
    expected = [0, 100, 200, 300, 400, 500, 0, 100, 50, 0]
    indices = np.arange(10, dtype=np.uint8).reshape(1, 10)
    dataset = grey(indices, bits_allocated=8, photometric="PALETTE COLOR")
    for index in range(3):
        dataset.add_new(0x00281101 + index, "US", [10, 0, 16])
        dataset.add_new(0x00281221 + index, "OW", np.array(segments, "<u2").tobytes())
    image = dicomnp.read(dataset)
    assert image.array[0, :, 0].tolist() == expected
    assert image.header["palette"]["segmented"] is True


def test_palette_with_zero_entries_means_65536() -> None:
    values = np.array([[0, 40000, 65535]], dtype=np.uint16)
    dataset = grey(values, bits_allocated=16, photometric="PALETTE COLOR")
    ramp = np.arange(65536, dtype="<u2")
    for index in range(3):
        dataset.add_new(0x00281101 + index, "US", [0, 0, 16])
        dataset.add_new(0x00281201 + index, "OW", (ramp if index == 0 else 65535 - ramp).tobytes())
    array = dicomnp.to_array(dataset)
    assert array[0, :, 0].tolist() == [0, 40000, 65535]
    assert array[0, :, 1].tolist() == [65535, 25535, 0]


# --- R4: YBR and planar colour -----------------------------------------------------------


def colour(pixels: NDArray[Any], photometric: str, *, planar: int = 0) -> Dataset:
    array = np.asarray(pixels, dtype=np.uint8)
    data = array.transpose(2, 0, 1) if planar else array
    return image_dataset(
        np.ascontiguousarray(data).tobytes(),
        rows=array.shape[0],
        columns=array.shape[1],
        bits_allocated=8,
        samples=3,
        photometric=photometric,
        planar=planar,
    )


def test_ybr_full_becomes_rgb_once() -> None:
    image = dicomnp.read(colour(np.array([[[76, 85, 255], [255, 128, 128]]]), "YBR_FULL"))
    assert image.array.tolist() == [[[254, 0, 0], [255, 255, 255]]]
    assert image.header["colour_converted_from"] == "YBR_FULL"
    assert image.header["output_photometric"] == "RGB"


def test_native_ybr_full_422_is_upsampled_then_converted() -> None:
    pairs = np.array([[76, 150, 85, 255]], dtype=np.uint8)  # Y1 Y2 Cb Cr for two pixels
    dataset = image_dataset(
        pairs.tobytes(), rows=1, columns=2, bits_allocated=8, samples=3, photometric="YBR_FULL_422"
    )
    full = colour(np.array([[[76, 85, 255], [150, 85, 255]]]), "YBR_FULL")
    image = dicomnp.read(dataset)
    assert image.array.tolist() == dicomnp.to_array(full).tolist()
    assert image.header["colour_conversion"] == "ybr_full_to_rgb"


def test_ybr_partial_uses_the_studio_range() -> None:
    image = dicomnp.to_array(colour(np.array([[[16, 128, 128], [235, 128, 128]]]), "YBR_FULL"))
    partial = dicomnp.to_array(
        colour(np.array([[[16, 128, 128], [235, 128, 128]]]), "YBR_PARTIAL_420")
    )
    assert image.tolist() == [[[16, 16, 16], [235, 235, 235]]]
    assert partial.tolist() == [[[0, 0, 0], [255, 255, 255]]]


def test_planar_configuration_1_gives_the_same_interleaved_rgb() -> None:
    pixels = np.random.default_rng(2).integers(0, 256, size=(3, 5, 3))
    by_pixel = dicomnp.to_array(colour(pixels, "RGB"))
    by_plane = dicomnp.to_array(colour(pixels, "RGB", planar=1))
    assert by_pixel.tolist() == pixels.tolist()
    assert np.array_equal(by_plane, by_pixel)


# --- R2: float data stay float -----------------------------------------------------------


def test_float_pixel_data_stay_float() -> None:
    values = np.array([[-1.5, 0.0, 2.25]], dtype="<f4")
    dataset = image_dataset(
        values.tobytes(), rows=1, columns=3, bits_allocated=32, keyword="FloatPixelData"
    )
    image = dicomnp.read(dataset)
    assert image.array.dtype == np.float32
    assert image.array[..., 0].tolist() == values.tolist()
    assert image.header["float_data"] is True
    assert image.header["stored_from_array"] == {"scale": 1, "offset": 0}


# --- R8: modality and display values -----------------------------------------------------


def test_modality_is_exact_integer_when_rescale_is_integral() -> None:
    dataset = grey(np.array([[0, 4095]]), bits_allocated=16, bits_stored=12)
    dataset.RescaleSlope, dataset.RescaleIntercept = "1", "-1024"
    array = dicomnp.to_array(dataset, values="modality")
    assert array.dtype == np.int16
    assert array[..., 0].tolist() == [[-1024, 3071]]


def test_modality_is_float32_for_a_fractional_slope() -> None:
    dataset = grey(np.array([[0, 1000]]), bits_allocated=16)
    dataset.RescaleSlope, dataset.RescaleIntercept = "0.0345", "0"
    array = dicomnp.to_array(dataset, values="modality")
    assert array.dtype == np.float32
    assert array[..., 0].tolist() == [[0.0, np.float32(34.5)]]


def test_modality_lut_sequence_is_applied() -> None:
    dataset = grey(np.array([[-2048, 0, 2047]]), bits_allocated=16, bits_stored=12, signed=True)
    item = Dataset()
    item.add_new(0x00283002, "SS", [4096, -2048, 16])
    item.add_new(0x00283006, "US", list(range(0, 4096 * 16, 16)))
    dataset.ModalityLUTSequence = [item]
    image = dicomnp.read(dataset, values="modality")
    assert image.array.dtype == np.uint16
    assert image.array[..., 0].tolist() == [[0, 2048 * 16, 4095 * 16]]
    assert image.header["modality_lut"]["first_mapped"] == -2048


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("LINEAR", [0, 0, 129, 255, 255]),
        ("LINEAR_EXACT", [0, 0, 128, 255, 255]),
        ("SIGMOID", [5, 21, 128, 234, 250]),
    ],
)
def test_display_window_functions(function: str, expected: list[int]) -> None:
    dataset = grey(np.array([[0, 40, 100, 160, 200]]), bits_allocated=8)
    dataset.WindowCenter, dataset.WindowWidth, dataset.VOILUTFunction = "100", "100", function
    array = dicomnp.to_array(dataset, values="display")
    assert array.dtype == np.uint8
    assert array[..., 0].tolist() == [expected]


def test_display_picks_the_window_asked_for() -> None:
    dataset = grey(np.array([[0, 100, 200]]), bits_allocated=8)
    dataset.WindowCenter, dataset.WindowWidth = ["100", "50"], ["201", "101"]
    first = dicomnp.read(dataset, values="display")
    second = dicomnp.read(dataset, values="display", voi_index=1)
    explicit = dicomnp.to_array(dataset, values="display", window=(50, 101))
    assert first.header["window"]["index"] == 0
    assert second.header["window"]["center"] == 50.0
    assert np.array_equal(second.array, explicit)
    assert not np.array_equal(first.array, second.array)
    with pytest.raises(dicomnp.InvalidOptionError):
        dicomnp.to_array(dataset, values="display", voi_index=2)


def test_display_without_voi_spans_the_stored_range() -> None:
    dataset = grey(np.array([[0, 2048, 4095]]), bits_allocated=16, bits_stored=12)
    image = dicomnp.read(dataset, values="display", display_bits=12)
    assert image.array.dtype == np.uint16
    assert image.array[..., 0].tolist() == [[0, 2048, 4095]]
    assert image.header["window"]["source"] == "range"


def test_display_colour_is_scaled_to_display_bits() -> None:
    pixels = np.array([[[0, 65535, 32768]]], dtype="<u2")
    dataset = image_dataset(
        pixels.tobytes(), rows=1, columns=1, bits_allocated=16, samples=3, photometric="RGB"
    )
    assert dicomnp.to_array(dataset, values="display").tolist() == [[[0, 255, 128]]]


# --- R6: lossy data ----------------------------------------------------------------------


def test_lossy_flag_on_native_data_is_refused_before_decoding() -> None:
    dataset = grey(np.zeros((4, 4)), bits_allocated=8)
    dataset.LossyImageCompression = "01"
    dataset.PixelData = b"\0"  # truncated: decoding would fail differently
    with pytest.raises(dicomnp.LossyDataError) as caught:
        dicomnp.to_array(dataset)
    assert caught.value.http_status == 406
    assert "cannot be provided as image/numpy" in str(caught.value)
    assert caught.value.evidence == ("Lossy Image Compression (0028,2110) is 01",)
    with pytest.raises(dicomnp.TruncatedPixelDataError):
        dicomnp.to_array(dataset, allow_lossy=True)


# --- the header --------------------------------------------------------------------------


def test_header_is_json_and_npy_round_trips() -> None:
    dataset, _ = padded_ct()
    dataset.PixelSpacing = ["0.5", "0.75"]
    dataset.SliceThickness = "2.5"
    image = dicomnp.read(dataset, padding="mask")
    text = image.header_json()
    header = json.loads(text)
    assert header == image.header
    for field in (
        "shape",
        "dtype",
        "itemsize",
        "ndim",
        "size",
        "bits_stored",
        "value_offset",
        "inverted",
        "photometric",
        "values",
        "rescale_slope",
        "rescale_intercept",
        "window",
        "padding",
        "lossy",
        "transfer_syntax",
        "pixel_spacing",
        "slice_thickness",
        "spacing_between_slices",
        "sop_instance_uids",
    ):
        assert field in header, field
    assert header["pixel_spacing"] == [0.5, 0.75]
    assert header["sop_instance_uids"] == [dataset.SOPInstanceUID]
    loaded = np.load(io.BytesIO(dicomnp.to_npy(image)))
    assert np.array_equal(loaded, image.array)
    assert loaded.dtype.str == header["dtype"]


def test_enhanced_per_frame_rescale_and_window_are_used() -> None:
    stored = np.array([[[0, 100]], [[0, 100]]], dtype=np.int64)
    dataset = grey(stored, bits_allocated=16, bits_stored=12)
    shared = Dataset()
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = "50", "100"
    shared.FrameVOILUTSequence = [voi]
    dataset.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for slope in ("1", "2"):
        transformation = Dataset()
        transformation.RescaleSlope, transformation.RescaleIntercept = slope, "-10"
        group = Dataset()
        group.PixelValueTransformationSequence = [transformation]
        per_frame.append(group)
    dataset.PerFrameFunctionalGroupsSequence = per_frame
    image = dicomnp.read(dataset, values="modality")
    assert image.array.dtype == np.int16
    assert image.array[..., 0].tolist() == [[[-10, 90]], [[-10, 190]]]
    stored_image = dicomnp.read(dataset)
    assert stored_image.header["rescale_slope"] == [1, 2]
    assert stored_image.header["source_rescale_intercept"] == -10
    display = dicomnp.read(dataset, values="display", frames=1)
    assert display.header["window"]["center"] == 50.0
    assert display.array[..., 0].tolist() == [[0, 255]]
