"""The public calls: frame selection and shapes, iter_frames, options, source kinds."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

import dicomnp
from dicomnp.normalize import RenderOptions, Values
from support.build import image_dataset, to_bytes

FRAMES = np.arange(4 * 3 * 5, dtype=np.uint16).reshape(4, 3, 5) * 100


def multiframe() -> Dataset:
    return image_dataset(
        FRAMES.astype("<u2").tobytes(), rows=3, columns=5, bits_allocated=16, frames=4
    )


def single() -> Dataset:
    return image_dataset(FRAMES[0].astype("<u2").tobytes(), rows=3, columns=5, bits_allocated=16)


@pytest.mark.parametrize(
    ("frames", "shape", "chosen"),
    [
        (None, (4, 3, 5, 1), [0, 1, 2, 3]),
        (2, (3, 5, 1), [2]),
        (-1, (3, 5, 1), [3]),
        (np.int64(1), (3, 5, 1), [1]),
        ([0], (1, 3, 5, 1), [0]),
        ([3, 1], (2, 3, 5, 1), [3, 1]),
        (slice(1, 3), (2, 3, 5, 1), [1, 2]),
        (slice(0, 1), (1, 3, 5, 1), [0]),
        ([], (0, 3, 5, 1), []),
    ],
)
def test_an_int_drops_the_frame_axis_a_list_or_slice_keeps_it(
    frames: Any, shape: tuple[int, ...], chosen: list[int]
) -> None:
    image = dicomnp.read(multiframe(), frames=frames)
    assert image.array.shape == shape
    assert image.header["frames"] == chosen
    assert image.header["frame_axis"] is (len(shape) == 4)
    expected = FRAMES[chosen] if len(shape) == 4 else FRAMES[chosen[0]]
    assert np.array_equal(image.array[..., 0], expected)


def test_single_frame_objects_have_no_frame_axis_unless_a_list_asks() -> None:
    assert dicomnp.to_array(single()).shape == (3, 5, 1)
    assert dicomnp.to_array(single(), frames=0).shape == (3, 5, 1)
    assert dicomnp.to_array(single(), frames=[0]).shape == (1, 3, 5, 1)
    with pytest.raises(dicomnp.FrameIndexError):
        dicomnp.to_array(single(), frames=1)


def test_iter_frames_yields_what_to_array_gives() -> None:
    whole = dicomnp.to_array(multiframe())
    frames = list(dicomnp.iter_frames(multiframe()))
    assert [frame.shape for frame in frames] == [(3, 5, 1)] * 4
    assert np.array_equal(np.stack(frames), whole)
    assert all(frame.flags.c_contiguous and frame.flags.writeable for frame in frames)
    picked = list(dicomnp.iter_frames(multiframe(), frames=[3, 0], values="display"))
    assert np.array_equal(
        np.stack(picked), dicomnp.to_array(multiframe(), frames=[3, 0], values="display")
    )


def test_iter_frames_checks_options_at_once_and_the_source_lazily() -> None:
    with pytest.raises(dicomnp.InvalidOptionError):
        dicomnp.iter_frames(multiframe(), values="raw")  # type: ignore[call-overload]
    lossy = multiframe()
    lossy.LossyImageCompression = "01"
    frames = dicomnp.iter_frames(lossy)
    with pytest.raises(dicomnp.LossyDataError):
        next(frames)


def test_iter_frames_with_a_mask_yields_pairs() -> None:
    dataset = multiframe()
    dataset.PixelPaddingValue = 0
    pairs = list(dicomnp.iter_frames(dataset, padding="mask"))
    assert len(pairs) == 4
    frame, mask = pairs[0]
    assert mask.shape == (3, 5)
    assert mask[0, 0]
    assert int(mask.sum()) == 1
    assert frame.shape == (3, 5, 1)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("values", "hounsfield"),
        ("padding", "blank"),
        ("voi", "preset"),
        ("voi_index", -1),
        ("voi_index", 1.5),
        ("display_bits", 0),
        ("display_bits", 17),
        ("allow_lossy", "yes"),
        ("window", (40,)),
        ("window", (40, 0)),
    ],
)
def test_invalid_options_are_refused_by_name(option: str, value: object) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(dicomnp.InvalidOptionError) as caught:
        dicomnp.read(single(), **options)
    assert caught.value.option == option
    assert option in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_options_are_one_frozen_value() -> None:
    options = RenderOptions.create(values="display", voi_index=1, window=(40, 400))
    assert options.values is Values.DISPLAY
    assert options.window == (40.0, 400.0)
    with pytest.raises(AttributeError):
        options.values = Values.STORED  # type: ignore[misc]


def test_every_source_kind_gives_the_same_array(tmp_path: Any) -> None:
    dataset = multiframe()
    data = to_bytes(dataset)
    path = tmp_path / "image.dcm"
    path.write_bytes(data)
    expected = dicomnp.to_array(dataset)
    with path.open("rb") as handle:
        from_handle = dicomnp.to_array(handle)
    for array in (
        dicomnp.to_array(path),
        dicomnp.to_array(str(path)),
        dicomnp.to_array(data),
        from_handle,
    ):
        assert np.array_equal(array, expected)


def test_output_is_native_little_endian_contiguous_and_writeable() -> None:
    array = dicomnp.to_array(multiframe(), frames=slice(None, None, -2))
    assert array.flags.c_contiguous
    assert array.flags.writeable
    assert array.dtype.byteorder in "<=|"
    array[0, 0, 0, 0] = 1


def test_to_npy_accepts_an_image_or_an_array() -> None:
    image = dicomnp.read(multiframe())
    assert dicomnp.to_npy(image) == dicomnp.to_npy(image.array)
    swapped = image.array.astype(">u2")
    loaded = np.load(io.BytesIO(dicomnp.to_npy(swapped)))
    assert loaded.dtype.str == "<u2"
    assert np.array_equal(loaded, image.array)
