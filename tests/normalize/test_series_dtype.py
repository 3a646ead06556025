"""slice_output agrees with the rendering plan; series_dtype combines slices exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

import dicomnp
from dicomnp._source import open_source
from dicomnp.examples import ct_slice
from dicomnp.normalize import RenderOptions, SliceOutput, series_dtype, slice_output
from support.build import image_dataset

ALL_OPTIONS = [
    pytest.param({}, id="stored"),
    pytest.param({"values": "modality"}, id="modality"),
    pytest.param({"values": "display"}, id="display"),
    pytest.param({"values": "display", "display_bits": 12}, id="display12"),
]


def with_slope(slope: str) -> Dataset:
    ds = ct_slice()
    ds.RescaleSlope = slope
    return ds


def palette(bits: int) -> Dataset:
    ds = image_dataset(
        bytes([0, 1, 2, 3]), rows=1, columns=4, bits_allocated=8, photometric="PALETTE COLOR"
    )
    table = np.arange(12).reshape(4, 3) * 20
    for index in range(3):
        ds.add_new(0x00281101 + index, "US", [4, 0, bits])
        data = table[:, index].astype("<u2" if bits == 16 else "u1").tobytes()
        ds.add_new(0x00281201 + index, "OW", data)
    return ds


def rgb() -> Dataset:
    return image_dataset(bytes(range(24)), rows=2, columns=4, bits_allocated=8, samples=3)


def modality_lut() -> Dataset:
    ds = ct_slice()
    del ds.RescaleSlope, ds.RescaleIntercept
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "HU"
    item.LUTData = list(range(4096))
    ds.ModalityLUTSequence = [item]
    ds.PixelRepresentation = 0
    ds.BitsStored = 12
    ds.HighBit = 11
    return ds


@pytest.mark.parametrize("options", ALL_OPTIONS)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(ct_slice, id="ct"),
        pytest.param(lambda: with_slope("0.25"), id="fractional-slope"),
        pytest.param(lambda: palette(8), id="palette8"),
        pytest.param(lambda: palette(16), id="palette16"),
        pytest.param(rgb, id="rgb"),
        pytest.param(modality_lut, id="modality-lut"),
    ],
)
def test_slice_output_is_the_dtype_read_renders(make: Any, options: dict[str, Any]) -> None:
    dataset = make()
    rendered = dicomnp.read(dataset, **options).array
    with open_source(dataset) as opened:
        info = dicomnp.decode.PixelInfo.from_dataset(opened.dataset, opened.pixel, opened.name)
        found = slice_output(
            opened.dataset,
            info,
            RenderOptions.create(**options),
            frames=(0,),
            little_endian=True,
            name=opened.name,
        )
    assert found.dtype == rendered.dtype
    if found.value_range is not None:
        assert found.value_range[0] <= float(rendered.min())
        assert float(rendered.max()) <= found.value_range[1]


def grey_modality(*outputs: SliceOutput) -> np.dtype[Any] | None:
    return series_dtype(outputs, values="modality", photometric="MONOCHROME2")


def test_integer_slices_share_the_smallest_integer_dtype_holding_all() -> None:
    low = SliceOutput(np.dtype(np.int16), (-1024.0, 3071.0))
    high = SliceOutput(np.dtype(np.uint16), (0.0, 60000.0))
    assert grey_modality(low, high) == np.int32
    assert grey_modality(low, low) == np.int16


def test_a_float_slice_makes_the_series_float32_when_float32_holds_the_integers() -> None:
    hu = SliceOutput(np.dtype(np.int32), (-33792.0, 31743.0))
    pet = SliceOutput(np.dtype(np.float32), (0.0, 8000.0))
    assert grey_modality(hu, pet) == np.float32
    huge = SliceOutput(np.dtype(np.int32), (-(2.0**25), 2.0**25))
    assert grey_modality(huge, pet) == np.float64
    assert grey_modality(hu, SliceOutput(np.dtype(np.float64), None)) == np.float64


def test_other_modes_and_colour_must_agree() -> None:
    small, large = SliceOutput(np.dtype(np.uint8)), SliceOutput(np.dtype(np.uint16))
    assert series_dtype([small, large], values="stored", photometric="MONOCHROME2") is None
    assert series_dtype([small, large], values="modality", photometric="PALETTE COLOR") is None
    assert series_dtype([small, small], values="display", photometric="RGB") == np.uint8
    with pytest.raises(ValueError, match="no slices"):
        series_dtype([], values="stored", photometric="MONOCHROME2")
