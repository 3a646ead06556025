"""URLs as sources: fsspec's ``memory://`` and a local HTTP server that counts requests."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dicomnp
from dicomnp.examples import write_ct_series
from support.build import image_dataset, to_bytes
from support.corpus import CORPUS, Entry, file_params, path_of, series_params
from support.http_server import serving

fsspec = pytest.importorskip("fsspec", reason="fsspec is not installed (extra 'cloud')")

FRAMES, ROWS, COLUMNS = 200, 256, 256
FRAME_BYTES = ROWS * COLUMNS * 2


@pytest.fixture(scope="module")
def many_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A native file of 200 frames of 256 x 256 16-bit values, each frame its own values."""
    values = np.arange(FRAMES * ROWS * COLUMNS, dtype=np.uint32).reshape(FRAMES, ROWS, COLUMNS)
    values = (values * 2654435761 % 65521).astype("<u2")
    folder = tmp_path_factory.mktemp("served")
    path = folder / "frames.dcm"
    path.write_bytes(
        to_bytes(
            image_dataset(
                values.tobytes(), rows=ROWS, columns=COLUMNS, bits_allocated=16, frames=FRAMES
            )
        )
    )
    return path


@pytest.fixture
def memory() -> Iterator[Any]:
    """fsspec's in-memory file system, emptied after the test."""
    fs = fsspec.filesystem("memory")
    yield fs
    if fs.exists("/dicomnp-test"):
        fs.rm("/dicomnp-test", recursive=True)


def _http_available() -> bool:
    try:
        fsspec.filesystem("http")
    except ImportError:
        return False
    return True


needs_http = pytest.mark.skipif(
    not _http_available(), reason="fsspec's HTTP file system needs aiohttp (extra 'cloud')"
)


@needs_http
def test_one_frame_of_200_over_http_is_few_small_requests(many_frames: Path) -> None:
    expected = dicomnp.to_array(many_frames, frames=137)
    with serving(many_frames.parent) as served:
        url = served.url + many_frames.name
        array = dicomnp.to_array(url, frames=137)
        requests = list(served.requests)
        sent = served.bytes_sent
    np.testing.assert_array_equal(array, expected)
    assert len(requests) <= 4, requests
    assert sent < 3 * FRAME_BYTES, (sent, requests)
    assert many_frames.stat().st_size > 150 * FRAME_BYTES  # the file is not what was sent


@needs_http
def test_one_frame_of_200_over_http_is_the_size_then_two_ranged_reads(many_frames: Path) -> None:
    # the size, the header (its first 64 KiB), then the frame
    with serving(many_frames.parent) as served:
        image = dicomnp.read(served.url + many_frames.name, frames=0)
        assert [request.method for request in served.requests] == ["HEAD", "GET", "GET"]
        assert served.requests[1].range == "bytes=0-65535"
    assert image.header["shape"] == [ROWS, COLUMNS, 1]


def _series_entries(entry: Entry) -> bool:
    return (
        entry["kind"] == "slices"
        and bool(entry["dicom_numpy"]["ok"])
        and not entry.get("edge_case_flags")
    )


@needs_http
@pytest.mark.parametrize("entry", series_params(_series_entries))
def test_combine_series_over_a_folder_of_urls_equals_local(entry: Entry) -> None:
    folder = CORPUS / str(entry["path"])
    local = dicomnp.combine_series(folder)
    with serving(folder) as served:
        remote = dicomnp.combine_series(served.url)
        catalog = dicomnp.find_series(served.url)
    np.testing.assert_array_equal(remote.array, local.array)
    np.testing.assert_array_equal(remote.affine, local.affine)
    assert remote.header.sop_instance_uids == local.header.sop_instance_uids
    assert len(catalog) == 1
    assert catalog.folder == served.url
    assert all(name.startswith(served.url) for name in remote.header.files)


def test_combine_series_over_memory_equals_local(tmp_path: Path, memory: Any) -> None:
    paths = write_ct_series(tmp_path, slices=5, rows=16, columns=16)
    for path in paths:
        memory.pipe(f"/dicomnp-test/ct/{path.name}", path.read_bytes())
    memory.pipe("/dicomnp-test/ct/DICOMDIR", b"not an image")
    local = dicomnp.combine_series(tmp_path)
    remote = dicomnp.combine_series("memory://dicomnp-test/ct")
    np.testing.assert_array_equal(remote.array, local.array)
    np.testing.assert_array_equal(remote.affine, local.affine)
    urls = [f"memory:///dicomnp-test/ct/{path.name}" for path in paths]
    listed = dicomnp.combine_series(urls)
    np.testing.assert_array_equal(listed.array, local.array)


def _readable(entry: Entry) -> bool:
    return True


@pytest.mark.parametrize("entry", file_params(_readable))
def test_every_corpus_file_reads_the_same_from_memory(entry: Entry, memory: Any) -> None:
    path = path_of(entry)
    url = f"memory://dicomnp-test/{entry['path']}"
    memory.pipe(url, path.read_bytes())
    try:
        expected = dicomnp.to_array(path, allow_lossy=True)
    except dicomnp.DicomNumpyError as exc:
        with pytest.raises(type(exc)):
            dicomnp.to_array(url, allow_lossy=True)
        return
    np.testing.assert_array_equal(dicomnp.to_array(url, allow_lossy=True), expected)


def test_iter_frames_and_read_take_urls(many_frames: Path, memory: Any) -> None:
    url = "memory://dicomnp-test/frames.dcm"
    memory.pipe(url, many_frames.read_bytes())
    frames = dicomnp.iter_frames(url, frames=[3, 199])
    expected = dicomnp.to_array(many_frames, frames=[3, 199])
    np.testing.assert_array_equal(np.stack(list(frames)), expected)
    assert dicomnp.read(url, frames=0).header == dicomnp.read(many_frames, frames=0).header


def test_a_missing_url_is_not_dicom(memory: Any) -> None:
    with pytest.raises(dicomnp.NotDicomError, match=r"memory://dicomnp-test/absent\.dcm"):
        dicomnp.to_array("memory://dicomnp-test/absent.dcm")


@needs_http
def test_a_server_that_ignores_ranges_is_refused(many_frames: Path, tmp_path: Path) -> None:
    shutil.copy(many_frames, tmp_path / "frames.dcm")
    with (
        serving(tmp_path, ranges=False) as served,
        pytest.raises(OSError, match="does not honour ranged reads"),
    ):
        dicomnp.to_array(served.url + "frames.dcm", frames=0)


def test_without_fsspec_a_url_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(dicomnp.MissingDependencyError, match="fsspec") as caught:
        dicomnp.to_array("s3://bucket/image.dcm")
    assert caught.value.extra == "cloud"


def test_remote_file_reads_what_it_is_asked(memory: Any) -> None:
    from dicomnp._remote import BLOCK_BYTES, RemoteFile

    data = np.random.default_rng(0).integers(0, 256, 5 * BLOCK_BYTES + 123, np.uint8).tobytes()
    memory.pipe("/dicomnp-test/raw.bin", data)
    file = RemoteFile(memory, "/dicomnp-test/raw.bin", len(data), "memory://raw.bin")
    rng = np.random.default_rng(1)
    for _ in range(200):
        start = int(rng.integers(0, len(data) + 10))
        size = int(rng.integers(0, 3 * BLOCK_BYTES))
        file.seek(start)
        assert file.read(size) == data[start : start + size]
    file.seek(-10, 2)
    assert file.read() == data[-10:]


def test_xarray_opens_a_folder_url(tmp_path: Path, memory: Any) -> None:
    xr = pytest.importorskip("xarray", reason="xarray is not installed (extra 'xarray')")
    from dicomnp.xarray import DicomnpBackendEntrypoint

    paths = write_ct_series(tmp_path, slices=3, rows=8, columns=8)
    for path in paths:
        memory.pipe(f"/dicomnp-test/xr/{path.name}", path.read_bytes())
    dataset = xr.open_dataset("memory://dicomnp-test/xr", engine=DicomnpBackendEntrypoint)
    np.testing.assert_array_equal(dataset["image"].values, dicomnp.combine_series(tmp_path).array)


def test_dask_refuses_a_url_by_name(memory: Any) -> None:
    pytest.importorskip("dask", reason="dask is not installed (extra 'dask')")
    with pytest.raises(dicomnp.InvalidOptionError, match="local path"):
        dicomnp.read_dask("memory://dicomnp-test/frames.dcm")
