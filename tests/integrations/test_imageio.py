"""The imageio v3 plugin: ``iio.imread(path, plugin="dicomnp")`` equals ``dicomnp.to_array``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dicomnp
from dicomnp.examples import ct_slice
from support.corpus import Entry, file_params, path_of

iio = pytest.importorskip("imageio.v3", reason="imageio is not installed (extra 'imageio')")

from dicomnp.imageio import DicomnpPlugin, register  # noqa: E402


def _readable(entry: Entry) -> bool:
    """Files dicomnp reads with its defaults: not lossy."""
    return not entry["lossy"]["value"] and entry["oracle"].get("ok", False)


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    register()


@pytest.mark.parametrize("entry", file_params(_readable))
def test_imread_by_name_equals_to_array(entry: Entry) -> None:
    path = path_of(entry)
    try:
        expected = dicomnp.to_array(path)
    except dicomnp.DicomNumpyError as exc:
        pytest.skip(f"dicomnp refuses this file by itself: {type(exc).__name__}")
    array = iio.imread(path, plugin="dicomnp")
    assert array.dtype == expected.dtype
    np.testing.assert_array_equal(array, expected)


def _multiframe() -> Path:
    loaded = file_params(lambda entry: entry["path"].endswith("RLELossless/emri_small_RLE.dcm"))
    entry = loaded[0].values[0]
    if entry is None:
        pytest.skip("corpus absent")
    return path_of(entry)


def test_index_reads_one_frame_and_iter_yields_each() -> None:
    path = _multiframe()
    whole = dicomnp.to_array(path)
    assert whole.shape[0] == 10
    np.testing.assert_array_equal(iio.imread(path, plugin="dicomnp", index=3), whole[3])
    frames = list(iio.imiter(path, plugin="dicomnp"))
    assert len(frames) == 10
    np.testing.assert_array_equal(np.stack(frames), whole)


def test_properties_and_metadata_come_from_the_header() -> None:
    path = _multiframe()
    whole = dicomnp.read(path)
    props = iio.improps(path, plugin="dicomnp")
    assert props.shape == whole.array.shape
    assert props.dtype == whole.array.dtype
    assert props.n_images == 10
    assert props.is_batch
    one = iio.improps(path, plugin="dicomnp", index=0)
    assert one.shape == whole.array.shape[1:]
    assert not one.is_batch
    assert iio.immeta(path, plugin="dicomnp") == whole.header


def test_options_are_rendering_options(tmp_path: Path) -> None:
    path = tmp_path / "ct.dcm"
    ct_slice().save_as(path, enforce_file_format=True)
    array = iio.imread(path, plugin="dicomnp", values="modality")
    np.testing.assert_array_equal(array, dicomnp.to_array(path, values="modality"))
    assert array.dtype.kind == "i"


def test_bytes_and_the_class_itself() -> None:
    buffer = io.BytesIO()
    ct_slice().save_as(buffer, enforce_file_format=True)
    data = buffer.getvalue()
    array = iio.imread(data, plugin=DicomnpPlugin)
    np.testing.assert_array_equal(array, dicomnp.to_array(data))


def test_a_file_that_is_not_dicom_is_refused_by_imageio(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    iio.imwrite(path, np.zeros((4, 4), np.uint8))
    with pytest.raises(OSError, match="can not handle") as caught:
        iio.imread(path, plugin="dicomnp")
    assert "dicomnp cannot read this resource" in str(caught.value.__cause__)


def test_writing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="can not handle") as caught:
        iio.imwrite(tmp_path / "out.dcm", np.zeros((4, 4), np.uint8), plugin="dicomnp")
    assert "does not write" in str(caught.value.__cause__)


def test_unknown_options_are_named() -> None:
    path = _multiframe()
    with pytest.raises(TypeError, match="colour"):
        iio.imread(path, plugin="dicomnp", colour="rgb")


def test_register_is_idempotent() -> None:
    from imageio.config import known_plugins

    register()
    register()
    config: Any = known_plugins["dicomnp"]
    assert config.plugin_class is DicomnpPlugin
