"""``numpy.asarray`` on an Image and a Volume: NumPy 2's ``__array__`` protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dicomnp
from dicomnp.examples import ct_series, ct_slice


def _image() -> Any:
    return dicomnp.read(ct_slice())


def _volume() -> Any:
    return dicomnp.combine_series(ct_series(3, 16, 16))


MAKERS = [pytest.param(_image, id="image"), pytest.param(_volume, id="volume")]


@pytest.mark.parametrize("make", MAKERS)
def test_asarray_is_the_array_without_a_copy(make: Any) -> None:
    value = make()
    array = np.asarray(value)
    assert array is value.array
    assert np.shares_memory(np.array(value, copy=False), value.array)


@pytest.mark.parametrize("make", MAKERS)
def test_copy_true_gives_a_new_array_with_the_same_values(make: Any) -> None:
    value = make()
    copied = np.array(value, copy=True)
    assert not np.shares_memory(copied, value.array)
    np.testing.assert_array_equal(copied, value.array)


@pytest.mark.parametrize("make", MAKERS)
def test_dtype_converts_the_values(make: Any) -> None:
    value = make()
    converted = np.asarray(value, dtype=np.float64)
    assert converted.dtype == np.float64
    np.testing.assert_array_equal(converted, value.array.astype(np.float64))
    assert np.asarray(value, dtype=value.array.dtype) is value.array


@pytest.mark.parametrize("make", MAKERS)
def test_copy_false_refuses_a_conversion(make: Any) -> None:
    value = make()
    with pytest.raises(ValueError, match="copy=False"):
        np.array(value, dtype=np.float64, copy=False)


@pytest.mark.parametrize("make", MAKERS)
def test_numpy_functions_take_the_value(make: Any) -> None:
    value = make()
    assert np.max(value) == value.array.max()
    assert np.mean(value) == pytest.approx(float(value.array.mean()))
