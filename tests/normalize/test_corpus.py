"""Every corpus file through to_array / read, against the decode layer and pydicom.

The expectations follow whatever :func:`dicomnp.decode_pixels` does for a
file: where it raises a dicomnp error, rendering must raise one too, so these
tests stay valid as decoders are added.
"""

from __future__ import annotations

import io
import json
import warnings
from typing import Any, Literal

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi,
    apply_windowing,
    convert_color_space,
)

import dicomnp
from dicomnp.decode import StoredPixels
from support.corpus import (
    Entry,
    as_oracle_shape,
    assert_matches_oracle,
    digest,
    file_params,
    path_of,
    reference,
)

ALL = file_params(lambda entry: True)
LOSSY = file_params(lambda entry: bool(entry["lossy"]["value"]))
LOSSLESS = file_params(lambda entry: not entry["lossy"]["value"])
GREY = ("MONOCHROME1", "MONOCHROME2")


def _stored(entry: Entry) -> StoredPixels | None:
    """What the decode layer gives for the file, or None when it raises a dicomnp error."""
    try:
        return dicomnp.decode_pixels(path_of(entry))
    except dicomnp.DicomNumpyError:
        return None


def _unreadable(entry: Entry) -> bool:
    """True when the source layer cannot read the header at all (nothing to decide on)."""
    try:
        dicomnp.decode_pixels(path_of(entry), frames=[])
    except dicomnp.NotDicomError:
        return True
    except dicomnp.DicomNumpyError:
        return False
    return False


def _dataset(entry: Entry) -> Dataset:
    """The header as pydicom reads it, without the empty LUT items pydicom cannot use.

    dicomnp takes an item whose LUT Descriptor and LUT Data are both empty as
    no LUT; pydicom would fail on it, so the reference drops it too.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(path_of(entry), stop_before_pixels=True, force=True)
    if "TransferSyntaxUID" not in dataset.file_meta:
        dataset.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    for keyword in ("ModalityLUTSequence", "VOILUTSequence"):
        items = dataset.get(keyword)
        if items and all(item.get("LUTDescriptor") is None for item in items):
            del dataset[keyword]
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        if keyword in dataset and dataset[keyword].value is None:
            del dataset[keyword]
    return dataset


def _frames_first(array: NDArray[Any], header: dict[str, Any]) -> NDArray[Any]:
    return array if header["frame_axis"] else array[np.newaxis]


def _stored_from(image: dicomnp.Image) -> NDArray[np.int64]:
    """Stored values recovered from the array with the header alone."""
    header = image.header
    recipe = header["stored_from_array"]
    values = image.array.astype(np.int64)
    recovered = recipe["scale"] * values + recipe["offset"]
    # The same by the header's recipe (docs/rendering.rst): undo the inversion, subtract the offset.
    undone = ((1 << header["bits_stored"]) - 1 - values) if header["inverted"] else values
    assert np.array_equal(undone - header["value_offset"], recovered)
    return np.asarray(recovered, dtype=np.int64)


@pytest.mark.parametrize("entry", ALL)
def test_to_array_follows_the_rules(entry: Entry) -> None:
    stored = _stored(entry)
    path = path_of(entry)
    if stored is None:
        with pytest.raises(dicomnp.DicomNumpyError):
            dicomnp.to_array(path, allow_lossy=True)
        return
    array = dicomnp.to_array(path, allow_lossy=True)
    frames, rows, columns, _ = stored.array.shape
    samples = 3 if stored.description.photometric_interpretation == "PALETTE COLOR" else None
    samples = samples or stored.array.shape[3]
    expected_shape = (rows, columns, samples) if frames == 1 else (frames, rows, columns, samples)
    assert array.shape == expected_shape
    assert array.flags.c_contiguous
    assert array.flags.writeable
    assert array.dtype.byteorder in "<=|"
    if stored.description.float_data:
        assert array.dtype == stored.array.dtype
    else:
        assert array.dtype.kind == "u"
        if samples == 1:
            bits = stored.description.bits_stored
            assert array.dtype.itemsize == (1 if bits <= 8 else 2 if bits <= 16 else 4)


def _expected_rgb(entry: Entry, stored: StoredPixels) -> tuple[NDArray[Any], int]:
    """pydicom's RGB for the decoded values, and the tolerance that applies."""
    decoded = stored.array
    model = stored.description.photometric_interpretation
    if model == "PALETTE COLOR":
        return apply_color_lut(decoded[..., 0], _dataset(entry)), 0
    if model in ("YBR_FULL", "YBR_FULL_422"):
        return convert_color_space(decoded, "YBR_FULL", "RGB"), 1
    assert model in ("RGB", "YBR_ICT", "YBR_RCT"), model
    return decoded, 0


@pytest.mark.parametrize("entry", ALL)
def test_values_come_back_exactly(entry: Entry) -> None:
    stored = _stored(entry)
    if stored is None:
        pytest.skip("the decode layer refuses this file")
    image = dicomnp.read(path_of(entry), allow_lossy=True)
    array = _frames_first(image.array, image.header)
    ref = reference(entry)
    oracle_agrees = ref is not None and digest_matches(stored, entry, ref)
    if stored.description.photometric_interpretation in GREY:
        if stored.description.float_data:
            assert np.array_equal(array, stored.array, equal_nan=True)
            return
        recovered = _stored_from(image)
        recovered = _frames_first(recovered, image.header).astype(stored.array.dtype)
        assert np.array_equal(recovered, stored.array)
        if oracle_agrees:
            assert ref is not None
            assert_matches_oracle(recovered, entry, ref)
        return
    expected, tolerance = _expected_rgb(entry, stored)
    expected = expected.reshape(array.shape)
    difference = np.abs(array.astype(np.int64) - expected.astype(np.int64))
    assert int(difference.max()) <= tolerance


def digest_matches(stored: StoredPixels, entry: Entry, ref: dict[str, Any]) -> bool:
    """Whether the decode layer gives exactly the oracle's values for this file."""
    try:
        shaped = as_oracle_shape(stored.array, entry, ref)
    except ValueError:
        return False
    return bool(digest(shaped) == ref["sha256"])


@pytest.mark.parametrize("entry", LOSSY)
def test_lossy_file_is_refused_before_decoding(entry: Entry) -> None:
    path = path_of(entry)
    if _unreadable(entry):
        with pytest.raises(dicomnp.NotDicomError):
            dicomnp.to_array(path)
        return
    with pytest.raises(dicomnp.LossyDataError) as caught:
        dicomnp.to_array(path)
    error = caught.value
    assert error.http_status == 406
    assert "cannot be provided as image/numpy" in str(error)
    assert error.evidence
    assert str(path) in str(error)
    if _stored(entry) is None:
        with pytest.raises(dicomnp.DicomNumpyError):
            dicomnp.to_array(path, allow_lossy=True)
    else:
        image = dicomnp.read(path, allow_lossy=True)
        assert image.header["lossy"] is True
        assert image.header["lossy_evidence"]


@pytest.mark.parametrize("entry", LOSSLESS)
def test_lossless_file_is_never_refused(entry: Entry) -> None:
    try:
        image = dicomnp.read(path_of(entry))
    except dicomnp.LossyDataError as error:  # pragma: no cover - the failure itself
        pytest.fail(f"refused a lossless file: {error}")
    except dicomnp.DicomNumpyError:
        assert _stored(entry) is None
        return
    assert image.header["lossy"] is False


@pytest.mark.parametrize("entry", ALL)
def test_header_and_npy_round_trip(entry: Entry) -> None:
    if _stored(entry) is None:
        pytest.skip("the decode layer refuses this file")
    image = dicomnp.read(path_of(entry), allow_lossy=True)
    header = json.loads(json.dumps(image.header, allow_nan=False))
    assert header == image.header
    assert header["shape"] == list(image.array.shape)
    assert header["dtype"] == image.array.dtype.str
    assert header["size"] == image.array.size
    loaded = np.load(io.BytesIO(dicomnp.to_npy(image)), allow_pickle=False)
    assert loaded.dtype == image.array.dtype
    assert np.array_equal(loaded, image.array, equal_nan=True)


def _has_modality(entry: Entry) -> bool:
    return entry["photometric_interpretation"] in GREY and (
        entry["rescale_slope"] is not None or "modality_lut_sequence" in entry["features"]
    )


@pytest.mark.parametrize("entry", file_params(_has_modality))
def test_modality_values_equal_pydicom(entry: Entry) -> None:
    stored = _stored(entry)
    if stored is None:
        pytest.skip("the decode layer refuses this file")
    dataset = _dataset(entry)
    array = dicomnp.to_array(path_of(entry), values="modality", allow_lossy=True)
    expected = np.stack([apply_modality_lut(frame[..., 0], dataset) for frame in stored.array])
    mine = array.reshape(expected.shape)
    if mine.dtype.kind == "f":
        assert np.array_equal(mine, expected.astype(mine.dtype))
    else:
        assert np.array_equal(mine.astype(np.float64), expected.astype(np.float64))


def _has_voi(entry: Entry) -> bool:
    return entry["photometric_interpretation"] in GREY and (
        entry["window_center"] is not None or "voi_lut_sequence" in entry["features"]
    )


def _windowing_range(dataset: Dataset) -> tuple[float, float]:
    """The output range pydicom's apply_windowing maps to (its own documented rule)."""
    if dataset.get("ModalityLUTSequence"):
        bits = int(dataset.ModalityLUTSequence[0].LUTDescriptor[2])
        low, high = 0.0, float(2**bits - 1)
    elif int(dataset.PixelRepresentation) == 0:
        low, high = 0.0, float(2 ** int(dataset.BitsStored) - 1)
    else:
        low, high = (
            -float(2 ** (int(dataset.BitsStored) - 1)),
            float(2 ** (int(dataset.BitsStored) - 1) - 1),
        )
    if "RescaleSlope" in dataset and "RescaleIntercept" in dataset:
        slope, intercept = float(dataset.RescaleSlope), float(dataset.RescaleIntercept)
        low, high = low * slope + intercept, high * slope + intercept
    return low, high


@pytest.mark.parametrize("entry", file_params(_has_voi))
@pytest.mark.parametrize("voi", ["window", "lut"])
def test_display_values_match_pydicom(entry: Entry, voi: Literal["window", "lut"]) -> None:
    stored = _stored(entry)
    if stored is None:
        pytest.skip("the decode layer refuses this file")
    dataset = _dataset(entry)
    has_lut = bool(dataset.get("VOILUTSequence"))
    use_lut = has_lut and (voi == "lut" or "WindowCenter" not in dataset)
    if voi == "lut" and not has_lut:
        pytest.skip("no VOI LUT Sequence")
    array = dicomnp.to_array(path_of(entry), values="display", voi=voi, allow_lossy=True)
    assert array.dtype == np.uint8
    modality = [apply_modality_lut(frame[..., 0], dataset) for frame in stored.array]
    if not has_lut and "WindowCenter" not in dataset:  # no VOI: the whole modality range
        low, high = _windowing_range(dataset)
        scaled = [(values - low) / (high - low) for values in modality]
    elif use_lut:
        bits = int(dataset.VOILUTSequence[0].LUTDescriptor[2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns on float input to a LUT
            scaled = [apply_voi(values, dataset) / (2**bits - 1) for values in modality]
    else:
        low, high = _windowing_range(dataset)
        scaled = [(apply_windowing(values, dataset) - low) / (high - low) for values in modality]
    expected = np.stack(scaled) * 255
    if stored.description.photometric_interpretation == "MONOCHROME1":
        expected = 255 - expected
    difference = np.abs(array.reshape(expected.shape).astype(np.float64) - expected)
    assert float(difference.max()) <= 1.0
