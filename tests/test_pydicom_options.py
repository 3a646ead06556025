"""dicomnp's values do not depend on pydicom's global options.

``pydicom.config.DS_numpy``, ``DS_decimal`` and ``use_IS_numpy`` change the
type pydicom gives numbers (NumPy arrays, Decimals). Every source, read
from bytes (walked in memory or read by pydicom) or from a Dataset read
while the option is set, gives the image, header and volume it gives with
pydicom's defaults.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pydicom
import pydicom.config
import pytest
from pydicom.uid import ExplicitVRBigEndian

import dicomnp
from dicomnp.examples import ct_slice
from support.build import to_bytes
from support.series_build import enhanced_image, geometry_series

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _set_ds_numpy() -> None:
    pydicom.config.DS_numpy(True)


def _set_ds_decimal() -> None:
    pydicom.config.DS_decimal(True)


def _set_is_numpy() -> None:
    pydicom.config.use_IS_numpy = True


OPTIONS = {"DS_numpy": _set_ds_numpy, "DS_decimal": _set_ds_decimal, "use_IS_numpy": _set_is_numpy}


@pytest.fixture
def restored() -> Iterator[None]:
    """pydicom's options as they were before the test, whatever it sets."""
    saved = (
        pydicom.config.use_DS_numpy,
        pydicom.config.use_DS_decimal,
        pydicom.config.use_IS_numpy,
    )
    try:
        yield
    finally:
        pydicom.config.DS_numpy(False)
        pydicom.config.DS_decimal(False)
        pydicom.config.DS_numpy(saved[0])
        pydicom.config.DS_decimal(saved[1])
        pydicom.config.use_IS_numpy = saved[2]


def _ct(big_endian: bool) -> bytes:
    ds = ct_slice()
    ds.WindowCenter = ["40", "300"]
    ds.WindowWidth = ["400", "1500"]
    ds.PixelSpacing = ["0.5", "0.5"]
    ds.ImagePositionPatient = ["-100", "-100.5", "12.25"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    if big_endian:  # a header pydicom reads (not walked in memory), its values converted by pydicom
        ds = copy.deepcopy(ds)
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
        ds.PixelData = np.frombuffer(ds.PixelData, "<i2").astype(">i2").tobytes()
    return to_bytes(ds)


SOURCES: dict[str, Callable[[], bytes]] = {
    "ct walked": lambda: _ct(False),
    "ct big endian": lambda: _ct(True),
    "enhanced": lambda: to_bytes(enhanced_image([(0.0, 0.0, 2.5 * k) for k in range(3)])),
}


def _image(data: bytes, as_dataset: bool, values: Any, voi_index: int) -> tuple[bytes, str, str]:
    source: Any = pydicom.dcmread(io.BytesIO(data)) if as_dataset else data
    image = dicomnp.read(source, values=values, voi_index=voi_index)
    return image.array.tobytes(), str(image.array.dtype), json.dumps(image.header, sort_keys=True)


def _volume(files: list[bytes], as_dataset: bool) -> tuple[bytes, str, str]:
    sources: list[Any] = (
        [pydicom.dcmread(io.BytesIO(data)) for data in files] if as_dataset else files
    )
    volume = dicomnp.combine_series(sources, values="modality")
    return volume.array.tobytes(), str(np.round(volume.affine, 6).tolist()), str(volume.header)


@pytest.mark.usefixtures("restored")
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("as_dataset", [False, True], ids=["bytes", "dataset"])
@pytest.mark.parametrize("values", ["modality", "display"])
def test_an_image_is_the_same_whatever_pydicoms_options(
    option: str, source: str, as_dataset: bool, values: str
) -> None:
    data = SOURCES[source]()
    voi_index = 1 if source.startswith("ct") else 0  # the CT's second window: a list of DS
    expected = _image(data, as_dataset, values, voi_index)
    OPTIONS[option]()
    assert _image(data, as_dataset, values, voi_index) == expected


@pytest.mark.usefixtures("restored")
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("as_dataset", [False, True], ids=["bytes", "dataset"])
def test_a_volume_is_the_same_whatever_pydicoms_options(option: str, as_dataset: bool) -> None:
    files = [to_bytes(ds) for ds in geometry_series(4, rows=6, columns=5)]
    expected = _volume(files, as_dataset)
    OPTIONS[option]()
    assert _volume(files, as_dataset) == expected
