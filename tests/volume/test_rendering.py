"""combine_series renders every slice by the rules and options of to_array."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from openjpeg.utils import encode_array
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID

import dicomnp
from dicomnp import LossyDataError, combine_series
from dicomnp.normalize import SliceOutput, series_dtype
from support.build import to_bytes
from support.corpus import CORPUS, Entry, series_params
from support.series_build import enhanced_image, geometry_series, pattern, rgb_series

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

RNG = np.random.default_rng(23)


def stacked(datasets: list[Dataset], volume: dicomnp.Volume, **options: Any) -> NDArray[Any]:
    """to_array of each slice, in the volume's order."""
    by_uid = {str(ds.SOPInstanceUID): ds for ds in datasets}
    return np.stack(
        [dicomnp.to_array(by_uid[uid], **options) for uid in volume.header.sop_instance_uids]
    )


def shuffled(datasets: list[Dataset]) -> list[Dataset]:
    return [datasets[index] for index in RNG.permutation(len(datasets))]


def test_stored_values_equal_to_array_of_each_slice() -> None:
    datasets = geometry_series(7)
    volume = combine_series(shuffled(datasets))
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume))
    assert volume.header.values == "stored"
    assert volume.header.output_photometric == "MONOCHROME2"
    assert not volume.header.inverted
    assert volume.mask is None


def test_signed_series_is_offset_and_the_header_undoes_it() -> None:
    datasets = geometry_series(4)
    volume = combine_series(datasets)
    assert volume.array.dtype == np.uint16
    assert volume.header.value_offset == 32768
    assert volume.header.stored_from_array == ({"scale": 1, "offset": -32768},) * 4
    for slot, recipe in enumerate(volume.header.stored_from_array):
        assert recipe is not None
        stored = recipe["scale"] * volume.array[slot].astype(np.int64) + recipe["offset"]
        np.testing.assert_array_equal(stored[..., 0], pattern(slot, 8, 5) + 1024)
    for slot, modality in enumerate(volume.header.modality_from_array):
        assert modality is not None
        hu = modality["scale"] * volume.array[slot].astype(np.int64) + modality["offset"]
        np.testing.assert_array_equal(hu[..., 0], pattern(slot, 8, 5))


def test_per_slice_non_integral_rescale_gives_float32_that_holds_each_slice() -> None:
    datasets = geometry_series(5)
    for k, ds in enumerate(datasets):
        ds.RescaleSlope = ["1", "0.5", "2", "1.25", "3"][k]
    volume = combine_series(shuffled(datasets), values="modality")
    assert volume.array.dtype == np.float32
    assert volume.header.dtype == "<f4"
    by_uid = {str(ds.SOPInstanceUID): ds for ds in datasets}
    for slot, uid in enumerate(volume.header.sop_instance_uids):
        alone = dicomnp.to_array(by_uid[uid], values="modality")
        np.testing.assert_array_equal(volume.array[slot], alone.astype(np.float32))
    assert volume.header.rescale_slopes == (1.0, 0.5, 2.0, 1.25, 3.0)
    assert volume.header.modality_from_array == ({"scale": 1, "offset": 0},) * 5
    assert volume.header.rescale_types == ("HU",) * 5


def test_integral_rescale_differing_per_slice_keeps_an_exact_integer_dtype() -> None:
    datasets = geometry_series(3)
    datasets[1].RescaleIntercept = "0"
    volume = combine_series(datasets, values="modality")
    assert volume.array.dtype.kind == "i"
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume, values="modality"))


def test_display_values_equal_to_array_of_each_slice() -> None:
    datasets = geometry_series(4)
    for k, ds in enumerate(datasets):
        ds.WindowCenter = str(100 + 50 * k)
        ds.WindowWidth = "400"
    volume = combine_series(datasets, values="display")
    assert volume.array.dtype == np.uint8
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume, values="display"))
    centres = [window["center"] for window in volume.header.windows]
    assert centres == [100.0, 150.0, 200.0, 250.0]
    wide = combine_series(datasets, values="display", window=(0.0, 1000.0), display_bits=12)
    assert wide.array.dtype == np.uint16
    np.testing.assert_array_equal(
        wide.array, stacked(datasets, wide, values="display", window=(0.0, 1000.0), display_bits=12)
    )


def test_rgb_series_is_rendered() -> None:
    datasets = rgb_series(3)
    volume = combine_series(datasets[::-1])
    assert volume.array.shape == (3, 4, 6, 3)
    assert volume.header.output_photometric == "RGB"
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume))
    assert volume.header.modality_from_array == (None, None, None)


def test_ybr_full_series_becomes_rgb() -> None:
    datasets = rgb_series(3)
    for ds in datasets:
        ds.PhotometricInterpretation = "YBR_FULL"
    volume = combine_series(datasets)
    expected = stacked(datasets, volume)
    np.testing.assert_array_equal(volume.array, expected)
    assert volume.header.output_photometric == "RGB"
    assert volume.header.stored_from_array == (None, None, None)
    stored = np.stack([np.frombuffer(ds.PixelData, np.uint8).reshape(4, 6, 3) for ds in datasets])
    assert not np.array_equal(volume.array, stored)  # converted, not copied


def monochrome1(datasets: list[Dataset]) -> list[Dataset]:
    for ds in datasets:
        ds.PhotometricInterpretation = "MONOCHROME1"
    return datasets


def test_monochrome1_series_is_inverted() -> None:
    datasets = monochrome1(geometry_series(4))
    volume = combine_series(datasets)
    assert volume.header.inverted
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume))
    for slot, recipe in enumerate(volume.header.stored_from_array):
        assert recipe == {"scale": -1, "offset": 65535 - 32768}
        stored = recipe["scale"] * volume.array[slot].astype(np.int64) + recipe["offset"]
        np.testing.assert_array_equal(stored[..., 0], pattern(slot, 8, 5) + 1024)
    modality = combine_series(datasets, values="modality")
    assert not modality.header.inverted
    np.testing.assert_array_equal(
        modality.array[..., 0], np.stack([pattern(k, 8, 5) for k in range(4)])
    )


def padded(datasets: list[Dataset]) -> list[Dataset]:
    """Stored value 1027 (pixel 3 of slice 0) marks padding."""
    for ds in datasets:
        ds.PixelPaddingValue = 1024 + 3
    return datasets


def test_padding_mask_on_a_series() -> None:
    datasets = padded(geometry_series(3))
    volume = combine_series(shuffled(datasets), padding="mask")
    assert volume.mask is not None
    assert volume.mask.shape == (3, 8, 5)
    expected = np.stack([pattern(k, 8, 5) + 1024 == 1024 + 3 for k in range(3)])
    np.testing.assert_array_equal(volume.mask, expected)
    assert volume.header.padding_mode == "mask"
    for item in volume.header.padding:
        assert item is not None
        assert item["stored_value"] == 1027
        assert item["value"] == 1027 + 32768
    # modality float output: NaN at padding
    for k, ds in enumerate(datasets):
        ds.RescaleSlope = "0.5" if k == 1 else "1"
    modality = combine_series(datasets, values="modality", padding="mask")
    assert modality.array.dtype == np.float32
    assert modality.mask is not None
    np.testing.assert_array_equal(np.isnan(modality.array[..., 0]), modality.mask)
    for slot, ds in enumerate(datasets):
        alone, mask = dicomnp.to_array(ds, values="modality", padding="mask")
        np.testing.assert_array_equal(modality.mask[slot], mask)
        # float output: padding is NaN, also in slices to_array renders as integers
        expected = np.where(mask[..., None], np.nan, alone.astype(np.float32))
        np.testing.assert_array_equal(modality.array[slot], expected)


def test_padding_fill_on_a_series() -> None:
    datasets = padded(geometry_series(3))
    volume = combine_series(datasets, padding="fill")
    assert volume.mask is None
    np.testing.assert_array_equal(volume.array, stacked(datasets, volume, padding="fill"))
    assert volume.array.min() == 0


def j2k(datasets: list[Dataset], syntax: str = "1.2.840.10008.1.2.4.90") -> list[Dataset]:
    """The same slices, each compressed reversibly as JPEG 2000 in ``syntax``."""
    for ds in datasets:
        values = np.frombuffer(ds.PixelData, dtype="<i2").reshape(ds.Rows, ds.Columns)
        codestream = bytes(encode_array(values, bits_stored=16, lossless=True))
        ds.PixelData = encapsulate([codestream])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        ds.file_meta.TransferSyntaxUID = UID(syntax)
    return datasets


def write(folder: Path, datasets: list[Dataset]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, ds in enumerate(datasets):
        path = folder / f"slice{number:03d}.dcm"
        path.write_bytes(to_bytes(ds))
        paths.append(path)
    return paths


def test_lossy_series_is_refused_before_decoding(tmp_path: Path) -> None:
    datasets = j2k(geometry_series(4, 40, 33), syntax="1.2.840.10008.1.2.4.91")
    paths = write(tmp_path, datasets)
    with pytest.raises(LossyDataError, match="cannot be provided as image/numpy") as caught:
        combine_series(tmp_path)
    assert caught.value.http_status == 406
    allowed = combine_series(tmp_path, allow_lossy=True)
    assert allowed.header.lossy == (True,) * 4
    np.testing.assert_array_equal(
        allowed.array,
        np.stack(
            [dicomnp.to_array(str(tmp_path / name), allow_lossy=True) for name in _names(allowed)]
        ),
    )
    # Refused from the headers alone: a slice whose codestream is garbage changes nothing.
    paths[2].write_bytes(paths[2].read_bytes().replace(b"\xff\x4f\xff\x51", b"\x00\x00\x00\x00"))
    with pytest.raises(LossyDataError):
        combine_series(tmp_path)
    # Lossy Image Compression "00" says the .91 data are lossless.
    for ds in datasets:
        ds.LossyImageCompression = "00"
    write(tmp_path / "marked", datasets)
    assert combine_series(tmp_path / "marked").header.lossy == (False,) * 4


def test_a_lossy_flag_on_one_native_slice_refuses_the_series() -> None:
    datasets = geometry_series(4)
    datasets[2].LossyImageCompression = "01"
    with pytest.raises(LossyDataError, match=str(datasets[2].SOPInstanceUID)):
        combine_series(datasets)
    assert combine_series(datasets, allow_lossy=True).header.lossy == (False, False, True, False)


def _names(volume: dicomnp.Volume) -> list[str]:
    return [Path(label).name for label in volume.header.files]


@pytest.fixture
def j2k_series(tmp_path: Path) -> tuple[Path, Path]:
    """The same shuffled series twice: native in ``native/``, JPEG 2000 in ``j2k/``."""
    datasets = geometry_series(9, 40, 33)
    for k, ds in enumerate(datasets):
        values = RNG.integers(-2000, 3000, size=(40, 33), dtype=np.int16)
        ds.PixelData = values.astype("<i2").tobytes()
        ds.RescaleSlope = "0.25" if k % 3 else "1"
        ds.PixelPaddingValue = int(values[0, 0])
    datasets = shuffled(datasets)
    write(tmp_path / "native", datasets)
    write(tmp_path / "j2k", j2k(datasets))
    return tmp_path / "native", tmp_path / "j2k"


@pytest.fixture(params=["threads", "processes"])
def spread(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """JPEG 2000 slices on threads (imagecodecs) or on processes (without it)."""
    import dicomnp._execute as execute
    from dicomnp._execute import run_tasks as real

    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(execute, "run_tasks", counted)
    if request.param == "processes":
        monkeypatch.setitem(sys.modules, "imagecodecs", None)  # makes importing it fail
    yield request.param
    assert bool(calls) == (request.param == "processes")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="stored"),
        pytest.param({"values": "modality", "padding": "mask"}, id="modality-mask"),
        pytest.param({"values": "display"}, id="display"),
    ],
)
def test_two_threads_or_processes_equal_one_on_a_j2k_series(
    j2k_series: tuple[Path, Path], options: dict[str, Any], spread: str
) -> None:
    native_folder, j2k_folder = j2k_series
    one = combine_series(j2k_folder, workers=1, **options)
    two = combine_series(j2k_folder, workers=2, **options)
    np.testing.assert_array_equal(one.array, two.array)
    assert one.header == two.header
    if one.mask is not None:
        assert two.mask is not None
        np.testing.assert_array_equal(one.mask, two.mask)
    for slot, name in enumerate(_names(one)):
        alone = dicomnp.read(j2k_folder / name, **options)
        expected = alone.array.astype(one.array.dtype)
        if alone.mask is not None:
            assert one.mask is not None
            np.testing.assert_array_equal(one.mask[slot], alone.mask)
            expected[alone.mask] = np.nan  # float output: padding is NaN in every slice
        np.testing.assert_array_equal(one.array[slot], expected)
    native = combine_series(native_folder, **options)
    np.testing.assert_array_equal(native.array, one.array)
    assert native.header.transfer_syntax_uids == ("1.2.840.10008.1.2.1",) * 9
    assert one.header.transfer_syntax_uids == ("1.2.840.10008.1.2.4.90",) * 9


def test_a_corrupt_slice_in_a_worker_raises_and_leaves_no_process(
    tmp_path: Path, spread: str
) -> None:
    paths = write(tmp_path, j2k(geometry_series(6, 40, 33)))
    data = bytearray(paths[3].read_bytes())
    end = data.find(b"\xff\xd9")
    data[end : end + 2] = b"\x00\x00"
    paths[3].write_bytes(bytes(data))
    with pytest.raises(dicomnp.DicomNumpyError, match=paths[3].name):
        combine_series(tmp_path, workers=2)


def enhanced_j2k(image: Dataset) -> Dataset:
    frames = int(image.NumberOfFrames)
    values = np.frombuffer(image.PixelData, dtype="<i2").reshape(frames, image.Rows, image.Columns)
    image.PixelData = encapsulate(
        [bytes(encode_array(frame, bits_stored=16, lossless=True)) for frame in values]
    )
    image["PixelData"].VR = "OB"
    image["PixelData"].is_undefined_length = True
    image.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.90")
    return image


def test_enhanced_frames_render_with_per_frame_rescale(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * k) for k in range(8)]
    order = [int(k) for k in RNG.permutation(8)]
    slopes = [0.5 * (1 + k) for k in range(8)]
    image = enhanced_image([positions[k] for k in order], 40, 33, slopes=slopes)
    for keyword in ("RescaleSlope", "RescaleIntercept", "RescaleType"):
        delattr(image, keyword)  # per frame only, as an enhanced image has it
    native = combine_series(to_bytes(image), values="modality")
    assert native.array.dtype == np.float32
    expected = dicomnp.to_array(
        to_bytes(image), values="modality", frames=list(native.header.frames)
    )
    np.testing.assert_array_equal(native.array, expected.astype(np.float32))
    path = tmp_path / "enhanced.dcm"
    path.write_bytes(to_bytes(enhanced_j2k(image)))
    for workers in (1, 2):
        compressed = combine_series(path, values="modality", workers=workers)
        np.testing.assert_array_equal(compressed.array, native.array)
        assert compressed.header.frames == native.header.frames


def test_header_with_rendering_fields_is_json_serialisable() -> None:
    volume = combine_series(padded(geometry_series(3)), values="modality", padding="mask")
    loaded = json.loads(json.dumps(volume.header.as_dict(), allow_nan=False))
    assert loaded["values"] == "modality"
    assert loaded["padding_mode"] == "mask"
    assert len(loaded["modality_from_array"]) == 3
    assert loaded["lossy"] == [False] * 3


def test_palettes_of_different_sizes_cannot_share_a_dtype() -> None:
    palettes = [SliceOutput(np.dtype(np.uint8)), SliceOutput(np.dtype(np.uint16))]
    assert series_dtype(palettes, values="stored", photometric="PALETTE COLOR") is None


def stackable(entry: Entry) -> bool:
    flags = entry.get("edge_case_flags", [])
    return (
        entry["kind"] == "slices"
        and bool(entry["dicom_numpy"]["ok"])
        and "gantry_tilt_or_sheared_stack" not in flags
    )


@pytest.mark.parametrize("entry", series_params(stackable))
def test_corpus_series_equal_to_array_of_each_sorted_file(entry: Entry) -> None:
    folder = CORPUS / str(entry["path"])
    catalog = dicomnp.find_series(folder)
    for series in catalog:
        for stack in series.stacks:
            for values in ("stored", "modality"):
                volume = combine_series(stack, values=values)
                expected = [dicomnp.to_array(label, values=values) for label in volume.header.files]
                np.testing.assert_array_equal(
                    volume.array, np.stack(expected).astype(volume.array.dtype)
                )
