"""A private Orthanc for the DICOMweb tests, and series generated and uploaded to it.

The server is the one named by ``DICOMNP_ORTHANC_URL`` (``.ci/run`` starts
it), else one started here for the session by :mod:`support.orthanc`; the
tests skip, saying so, only when Orthanc is not installed. Each series is
written by dicomnp's own example code with fresh UIDs, encoded by the codec
packages, and uploaded through Orthanc's REST API (``POST /instances``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from pydicom.dataset import Dataset
from pydicom.uid import JPEG2000Lossless, RLELossless

from dicomnp.examples import ct_series
from support import orthanc
from support.series_build import enhanced_image


@dataclass(frozen=True)
class Uploaded:
    """A series on the server and the same files on disk."""

    study: str
    series: str
    instances: tuple[str, ...]
    folder: Path
    files: tuple[Path, ...]


@pytest.fixture(scope="session")
def orthanc_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DICOMweb base URL of a loopback-only Orthanc."""
    given = os.environ.get("DICOMNP_ORTHANC_URL")
    if given:
        yield given.rstrip("/")
        return
    if orthanc.orthanc_binary() is None or orthanc.dicomweb_plugin() is None:
        pytest.skip("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    state = tmp_path_factory.mktemp("orthanc")
    try:
        started = orthanc.start(state)
    except RuntimeError as exc:
        pytest.skip(f"Orthanc could not be started: {exc}")
    try:
        yield started.url
    finally:
        orthanc.stop(state, started)


def _upload(url: str, datasets: list[Dataset], folder: Path) -> Uploaded:
    folder.mkdir(parents=True, exist_ok=True)
    rest = url.rsplit("/dicom-web", 1)[0]
    files = []
    for index, dataset in enumerate(datasets):
        path = folder / f"IM{(index * 7919) % 10007:05d}.dcm"  # names not in slice order
        dataset.save_as(path, enforce_file_format=True)
        answer = requests.post(f"{rest}/instances", data=path.read_bytes(), timeout=30)
        answer.raise_for_status()
        files.append(path)
    first = datasets[0]
    return Uploaded(
        study=str(first.StudyInstanceUID),
        series=str(first.SeriesInstanceUID),
        instances=tuple(str(dataset.SOPInstanceUID) for dataset in datasets),
        folder=folder,
        files=tuple(files),
    )


def _compressed(datasets: list[Dataset], syntax: str) -> list[Dataset]:
    for dataset in datasets:
        dataset.compress(syntax, encoding_plugin="pylibjpeg", generate_instance_uid=False)
        dataset.LossyImageCompression = "00"
    return datasets


def _lossy(datasets: list[Dataset]) -> list[Dataset]:
    for dataset in datasets:
        dataset.LossyImageCompression = "01"
        dataset.LossyImageCompressionMethod = "ISO_10918_1"
    return datasets


def _enhanced() -> list[Dataset]:
    image = enhanced_image([(0.0, 0.0, 2.0 * k) for k in range(12)], rows=32, columns=24)
    return [image]


def _enhanced_rle() -> list[Dataset]:
    return _compressed(_enhanced(), RLELossless)


SERIES: dict[str, Callable[[], list[Dataset]]] = {
    "native": lambda: ct_series(40, 64, 64),
    "jpeg2000": lambda: _compressed(ct_series(10, 64, 64), JPEG2000Lossless),
    "rle": lambda: _compressed(ct_series(10, 64, 64), RLELossless),
    "lossy": lambda: _lossy(ct_series(4, 32, 32)),
    "enhanced": _enhanced,
    "enhanced-rle": _enhanced_rle,
}
"""The generated series by name; each call makes fresh UIDs."""


@pytest.fixture(scope="session")
def uploaded(orthanc_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Uploaded]:
    """Every series of :data:`SERIES`, on the server and on disk."""
    root = tmp_path_factory.mktemp("series")
    return {name: _upload(orthanc_url, make(), root / name) for name, make in SERIES.items()}


class Recorder:
    """A requests session that records the URL of every request it sends."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.urls: list[str] = []
        self.session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.urls.append(str(response.request.url))

    def matching(self, part: str) -> list[str]:
        return [url for url in self.urls if part in url]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.session.close()
