"""Property: for any integer grey image, the header gives back the stored values exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import dicomnp
from support.build import image_dataset


@dataclass(frozen=True)
class GreyCase:
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str
    stored: NDArray[np.int64]


@st.composite
def grey_images(draw: st.DrawFn) -> GreyCase:
    allocated = draw(st.sampled_from([8, 16, 32]))
    stored_bits = draw(st.integers(1, allocated))
    signed = draw(st.booleans())
    low = -(1 << (stored_bits - 1)) if signed else 0
    high = (1 << (stored_bits - 1)) - 1 if signed else (1 << stored_bits) - 1
    rows, columns = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    size = rows * columns
    values = draw(st.lists(st.integers(low, high), min_size=size, max_size=size))
    return GreyCase(
        bits_allocated=allocated,
        bits_stored=stored_bits,
        signed=signed,
        photometric=draw(st.sampled_from(["MONOCHROME1", "MONOCHROME2"])),
        stored=np.array(values, dtype=np.int64).reshape(rows, columns),
    )


@settings(max_examples=150, deadline=None)
@given(grey_images())
def test_stored_values_come_back_from_any_grey_image(case: GreyCase) -> None:
    kind = "i" if case.signed else "u"
    dataset = image_dataset(
        case.stored.astype(f"<{kind}{case.bits_allocated // 8}").tobytes(),
        rows=case.stored.shape[0],
        columns=case.stored.shape[1],
        bits_allocated=case.bits_allocated,
        bits_stored=case.bits_stored,
        pixel_representation=int(case.signed),
        photometric=case.photometric,
    )
    image = dicomnp.read(dataset)
    header = image.header
    assert image.array.dtype.kind == "u"
    assert image.array.dtype.itemsize * 8 >= header["bits_stored"]
    assert int(image.array.max()) < 1 << header["bits_stored"]
    values = image.array[..., 0].astype(np.int64)
    if header["inverted"]:
        values = (1 << header["bits_stored"]) - 1 - values
    assert (values - header["value_offset"]).tolist() == case.stored.tolist()
