"""The series/numpy and image/numpy server over real HTTP: serving a folder, proxying Orthanc."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the dicomweb extra is not installed")
pytest.importorskip("uvicorn", reason="the dicomweb extra is not installed")

import requests

import dicomnp
from dicomnp.server import serving

from .conftest import Uploaded

SERIES_ACCEPT = {"Accept": "series/numpy"}


@pytest.fixture(scope="module", params=["folder", "proxy"])
def server(
    request: pytest.FixtureRequest,
    orthanc_url: str,
    uploaded: dict[str, Uploaded],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The base URL of a server of every uploaded series: their folders, or Orthanc proxied."""
    if request.param == "proxy":
        source = orthanc_url
    else:
        source = str(next(iter(uploaded.values())).folder.parent)
    with serving(source) as base:
        yield base


def _series_url(base: str, series: Uploaded) -> str:
    return f"{base}/studies/{series.study}/series/{series.series}/rendered"


@pytest.mark.parametrize("name", ["native", "jpeg2000", "rle"])
def test_series_numpy_equals_the_local_array(
    server: str, uploaded: dict[str, Uploaded], name: str
) -> None:
    series = uploaded[name]
    answer = requests.get(_series_url(server, series), headers=SERIES_ACCEPT, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "series/numpy"
    array = np.load(io.BytesIO(answer.content))
    local = dicomnp.combine_series(series.folder)
    assert array.dtype == local.array.dtype
    np.testing.assert_array_equal(array, local.array)


def test_the_header_is_at_the_linked_url(server: str, uploaded: dict[str, Uploaded]) -> None:
    series = uploaded["native"]
    url = _series_url(server, series) + "?values=modality"
    answer = requests.get(url, headers=SERIES_ACCEPT, timeout=60)
    link = answer.headers["link"]
    assert link.endswith('; rel="describedby"; type="application/json"')
    target = link[1 : link.index(">")]
    header = requests.get(server + target, timeout=60)
    assert header.status_code == 200
    assert header.headers["content-type"] == "application/json"
    document = header.json()
    local = dicomnp.combine_series(series.folder, values="modality")
    assert document["media_type"] == "series/numpy"
    assert document["values"] == "modality"
    assert document["dtype"] == local.array.dtype.str
    np.testing.assert_array_equal(np.array(document["affine"]), local.affine)
    assert document["sop_instance_uids"] == list(local.header.sop_instance_uids)
    np.testing.assert_array_equal(np.load(io.BytesIO(answer.content)), local.array)


def test_a_lossy_series_is_406_with_the_message(server: str, uploaded: dict[str, Uploaded]) -> None:
    series = uploaded["lossy"]
    answer = requests.get(_series_url(server, series), headers=SERIES_ACCEPT, timeout=60)
    assert answer.status_code == 406
    assert "cannot be provided as image/numpy: its pixel data are lossy" in answer.text
    assert "Lossy Image Compression (0028,2110) is 01" in answer.text
    allowed = requests.get(
        _series_url(server, series) + "?allow_lossy=true", headers=SERIES_ACCEPT, timeout=60
    )
    assert allowed.status_code == 200
    local = dicomnp.combine_series(series.folder, allow_lossy=True)
    np.testing.assert_array_equal(np.load(io.BytesIO(allowed.content)), local.array)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("values=bogus", "values must be one of"),
        ("padding=nothing", "padding"),
        ("allow_lossy=maybe", "allow_lossy must be true or false"),
        ("colour=red", "unknown query parameter 'colour'"),
        ("frames=1", "unknown query parameter 'frames'"),
    ],
)
def test_a_bad_option_is_400(
    server: str, uploaded: dict[str, Uploaded], query: str, message: str
) -> None:
    url = _series_url(server, uploaded["native"]) + f"?{query}"
    answer = requests.get(url, headers=SERIES_ACCEPT, timeout=60)
    assert answer.status_code == 400
    assert message in answer.text


def test_an_unknown_series_is_404(server: str, uploaded: dict[str, Uploaded]) -> None:
    url = f"{server}/studies/{uploaded['native'].study}/series/1.2.3.4/rendered"
    answer = requests.get(url, headers=SERIES_ACCEPT, timeout=60)
    assert answer.status_code == 404
    assert "1.2.3.4" in answer.text


def test_an_unacceptable_accept_is_406(server: str, uploaded: dict[str, Uploaded]) -> None:
    url = _series_url(server, uploaded["native"])
    answer = requests.get(url, headers={"Accept": "image/png"}, timeout=60)
    assert answer.status_code == 406
    assert "series/numpy" in answer.text


@pytest.mark.parametrize(
    ("path", "frames"), [("/rendered?frames=3,1", [2, 0]), ("/frames/4/rendered", [3])]
)
def test_image_numpy_of_an_instance_and_its_frames(
    server: str, uploaded: dict[str, Uploaded], path: str, frames: list[int]
) -> None:
    series = uploaded["enhanced"]
    url = f"{server}/studies/{series.study}/series/{series.series}/instances/{series.instances[0]}"
    answer = requests.get(url + path, headers={"Accept": "image/numpy"}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/numpy"
    local = dicomnp.read(series.files[0], frames=frames)
    np.testing.assert_array_equal(np.load(io.BytesIO(answer.content)), local.array)
