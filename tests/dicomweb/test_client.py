"""dicomnp.dicomweb against a real Orthanc: the same arrays, affines and headers as local reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dicomweb_client", reason="the dicomweb extra is not installed")

import dicomnp
from dicomnp import dicomweb
from dicomnp.errors import DicomwebError, LossyDataError

from .conftest import Recorder, Uploaded


def _without_files(header: Any) -> dict[str, Any]:
    described: dict[str, Any] = header.as_dict()
    described.pop("files")
    return described


@pytest.mark.parametrize("name", ["native", "jpeg2000", "rle"])
@pytest.mark.parametrize("options", [{}, {"values": "modality"}, {"values": "display"}])
def test_combine_series_equals_the_local_read(
    orthanc_url: str,
    uploaded: dict[str, Uploaded],
    recorder: Recorder,
    name: str,
    options: dict[str, Any],
) -> None:
    series = uploaded[name]
    local = dicomnp.combine_series(series.folder, **options)
    remote = dicomweb.combine_series(
        orthanc_url, series.study, series.series, session=recorder.session, **options
    )
    assert remote.array.dtype == local.array.dtype
    np.testing.assert_array_equal(remote.array, local.array)
    np.testing.assert_array_equal(remote.affine, local.affine)
    assert _without_files(remote.header) == _without_files(local.header)
    assert all(url.startswith(orthanc_url) for url in remote.header.files)
    assert len(recorder.matching("/frames/")) == len(series.instances)


def test_stored_syntax_is_fetched_as_stored(
    orthanc_url: str, uploaded: dict[str, Uploaded]
) -> None:
    series = uploaded["jpeg2000"]
    remote = dicomweb.combine_series(orthanc_url, series.study, series.series)
    assert set(remote.header.transfer_syntax_uids) == {"1.2.840.10008.1.2.4.90"}


@pytest.mark.parametrize("name", ["enhanced", "enhanced-rle"])
@pytest.mark.parametrize("frame", [0, 5, 11])
def test_read_of_one_frame_fetches_that_frame_only(
    orthanc_url: str, uploaded: dict[str, Uploaded], recorder: Recorder, frame: int, name: str
) -> None:
    series = uploaded[name]
    image = dicomweb.read(
        orthanc_url,
        series.study,
        series.series,
        series.instances[0],
        frames=[frame],
        session=recorder.session,
    )
    local = dicomnp.read(series.files[0], frames=[frame])
    np.testing.assert_array_equal(image.array, local.array)
    fetched = recorder.matching("/frames/")
    assert [url.rsplit("/frames/", 1)[1] for url in fetched] == [str(frame + 1)]
    assert len(recorder.urls) == 2  # the instance's metadata, then the one frame


@pytest.mark.parametrize("name", ["enhanced", "enhanced-rle"])
def test_read_of_every_frame_equals_the_local_read(
    orthanc_url: str, uploaded: dict[str, Uploaded], name: str
) -> None:
    series = uploaded[name]
    image = dicomweb.read(
        orthanc_url, series.study, series.series, series.instances[0], values="modality"
    )
    local = dicomnp.read(series.files[0], values="modality")
    np.testing.assert_array_equal(image.array, local.array)
    assert image.header["frames"] == local.header["frames"]


@pytest.mark.parametrize("name", ["enhanced", "enhanced-rle"])
def test_the_enhanced_volume_equals_the_local_one(
    orthanc_url: str, uploaded: dict[str, Uploaded], name: str
) -> None:
    series = uploaded[name]
    remote = dicomweb.combine_series(orthanc_url, series.study, series.series, fetches=4)
    local = dicomnp.combine_series(series.files[0])
    np.testing.assert_array_equal(remote.array, local.array)
    np.testing.assert_array_equal(remote.affine, local.affine)
    assert _without_files(remote.header) == _without_files(local.header)


def test_planning_reads_metadata_only(
    orthanc_url: str, uploaded: dict[str, Uploaded], recorder: Recorder
) -> None:
    series = uploaded["native"]
    planned = dicomweb.plan_series(
        orthanc_url, series.study, series.series, session=recorder.session
    )
    assert recorder.urls
    assert all(url.endswith("/metadata") for url in recorder.urls)
    assert not recorder.matching("/frames/")
    assert not recorder.matching("/bulk/")
    local = dicomnp.combine_series(series.folder)
    np.testing.assert_array_equal(planned.plan.geometry.affine, local.affine)
    assert len(planned.plan.headers) == local.array.shape[0]
    assert planned.nbytes == 40 * 64 * 64 * 2


def test_a_lossy_series_is_refused_before_any_frame_is_fetched(
    orthanc_url: str, uploaded: dict[str, Uploaded], recorder: Recorder
) -> None:
    series = uploaded["lossy"]
    with pytest.raises(LossyDataError, match="Lossy Image Compression") as caught:
        dicomweb.combine_series(orthanc_url, series.study, series.series, session=recorder.session)
    assert caught.value.path is not None
    assert caught.value.path.startswith(orthanc_url)
    assert not recorder.matching("/frames/")
    assert not recorder.matching("/bulk/")
    with pytest.raises(LossyDataError):
        dicomnp.combine_series(series.folder)


def test_a_lossy_series_is_read_when_allowed(
    orthanc_url: str, uploaded: dict[str, Uploaded]
) -> None:
    series = uploaded["lossy"]
    remote = dicomweb.combine_series(orthanc_url, series.study, series.series, allow_lossy=True)
    local = dicomnp.combine_series(series.folder, allow_lossy=True)
    np.testing.assert_array_equal(remote.array, local.array)


def test_find_series_lists_the_uploaded_series(
    orthanc_url: str, uploaded: dict[str, Uploaded]
) -> None:
    series = uploaded["native"]
    found = dicomweb.find_series(orthanc_url, series.study)
    assert [(item.series, item.modality, item.instances) for item in found] == [
        (series.series, "CT", 40)
    ]


def test_an_unknown_series_is_a_404(orthanc_url: str, uploaded: dict[str, Uploaded]) -> None:
    with pytest.raises(DicomwebError) as caught:
        dicomweb.combine_series(orthanc_url, uploaded["native"].study, "1.2.3.4")
    assert caught.value.status == 404


def test_headers_are_sent_with_every_request(
    orthanc_url: str, uploaded: dict[str, Uploaded], recorder: Recorder
) -> None:
    series = uploaded["rle"]
    sent: list[str | None] = []
    recorder.session.hooks["response"].append(
        lambda response, *args, **kwargs: sent.append(response.request.headers.get("X-Token"))
    )
    dicomweb.combine_series(
        orthanc_url,
        series.study,
        series.series,
        session=recorder.session,
        headers={"X-Token": "secret"},
    )
    assert sent
    assert set(sent) == {"secret"}


@pytest.mark.parametrize(
    ("options", "error"),
    [({"values": "bogus"}, dicomnp.InvalidOptionError), ({"colour": "red"}, TypeError)],
)
def test_bad_options_are_refused_before_any_request(
    orthanc_url: str,
    uploaded: dict[str, Uploaded],
    recorder: Recorder,
    options: dict[str, Any],
    error: type[Exception],
) -> None:
    series = uploaded["native"]
    with pytest.raises(error):
        dicomweb.combine_series(
            orthanc_url, series.study, series.series, session=recorder.session, **options
        )
    with pytest.raises(error):
        dicomweb.read(
            orthanc_url,
            series.study,
            series.series,
            series.instances[0],
            session=recorder.session,
            **options,
        )
    assert recorder.urls == []
