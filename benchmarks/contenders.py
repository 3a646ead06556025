"""What each contender runs for each workload.

A contender is a function ``(folder) -> job`` doing all preparation (imports,
listing files, locating offsets) outside the timing; ``job()`` is what is
timed and returns the array it produced. Contenders whose package is missing
raise :class:`Unavailable` with the reason.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Job = Callable[[], Any]
Contender = Callable[[Path], Job]


class Unavailable(RuntimeError):
    """The contender cannot run here (package missing, API absent)."""


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Unavailable(f"{module} is not installed")


def _peer(module: str) -> Any:
    """Import a peer package, untyped: its API is used only as its docs describe it."""
    _need(module)
    return importlib.import_module(module)


def _need_plugin(path: Path, plugin: str) -> None:
    """Refuse a pydicom decoding plugin that cannot decode this file's syntax."""
    if not plugin:
        return
    import pydicom
    from pydicom.pixels.decoders.base import get_decoder

    syntax = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
    try:
        available = get_decoder(syntax).available_plugins
    except NotImplementedError as exc:
        raise Unavailable(str(exc)) from exc
    if plugin not in available:
        raise Unavailable(f"pydicom has no {plugin} decoder for {syntax.name} here")


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.dcm"))


def _one_file(folder: Path) -> Path:
    (path,) = _files(folder)
    return path


# dicomnp ------------------------------------------------------------------------------


def _dicomnp_api(name: str) -> Any:
    import dicomnp

    function = getattr(dicomnp, name, None)
    if function is None:
        raise Unavailable(f"dicomnp.{name} does not exist yet")
    return function


def dicomnp_series(workers: int | None = None) -> Contender:
    def prepare(folder: Path) -> Job:
        combine_series = _dicomnp_api("combine_series")
        options = {} if workers is None else {"workers": workers}
        return lambda: combine_series(folder, **options).array

    return prepare


def _middle_frame(path: Path) -> int:
    import pydicom

    return int(pydicom.dcmread(path, stop_before_pixels=True).NumberOfFrames) // 2


def dicomnp_file(*, one_frame: bool = False, **options: Any) -> Contender:
    def prepare(folder: Path) -> Job:
        to_array = _dicomnp_api("to_array")
        path = _one_file(folder)
        arguments = dict(options)
        if one_frame:
            arguments["frames"] = _middle_frame(path)
        return lambda: to_array(path, **arguments)

    return prepare


def dicomnp_batch(workers: int | None = None) -> Contender:
    """convert_tree of every series in the folder: in this process, or on a local cluster.

    The cluster is started, and every process has converted one series once
    (imports, codecs), before the timing; each job writes to a new folder.
    """

    def prepare(folder: Path) -> Job:
        import atexit

        _batch_api()  # raises Unavailable before a cluster is started
        first = next(path for path in sorted(folder.iterdir()) if path.is_dir())
        client = None
        if workers is not None:
            _need("distributed")
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # never 8787
            )
            client = Client(cluster)
            atexit.register(cluster.close)
            atexit.register(client.close)
            client.run(_convert_once, first)
        _convert_once(first)
        return lambda: _convert_once(folder, client)

    return prepare


def _batch_api() -> Any:
    try:
        from dicomnp.batch import convert_tree
    except ImportError as exc:
        raise Unavailable(f"dicomnp.batch is missing: {exc}") from exc
    return convert_tree


def _convert_once(folder: Path, client: Any = None) -> Any:
    """Convert ``folder`` into a new temporary folder, removed afterwards; return the report."""
    import shutil
    import tempfile

    out = tempfile.mkdtemp()
    try:
        report = _batch_api()(folder, out, client=client)
    finally:
        shutil.rmtree(out)
    if not report.ok or not report.converted:
        raise RuntimeError(report.summary())
    return report


# study scale: scanning a folder and converting it ----------------------------------------


def _study_folder(folder: Path) -> Path:
    if not folder.is_dir():
        raise Unavailable(f"{folder.name.removesuffix('-absent')} data are not here")
    return folder


def _in_new_folder(run: Callable[[Path], Any]) -> Job:
    """A job that runs ``run(out)`` with a new, empty output folder each time, removed after."""
    import shutil
    import tempfile

    def job() -> Any:
        out = Path(tempfile.mkdtemp(prefix="dicomnp-bench-out-"))
        try:
            return run(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    return job


def dicomnp_find_series(folder: Path) -> Job:
    find_series = _dicomnp_api("find_series")
    folder = _study_folder(folder)
    return lambda: find_series(folder)


def _cli(arguments: list[str], accept: tuple[int, ...] = (0,)) -> int:
    """``dicomnp ARGUMENTS`` in this process, its output discarded; another exit code raises."""
    import contextlib
    import io

    from dicomnp.cli import main

    errors = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
        code = main(arguments)
    if code not in accept:
        raise RuntimeError(f"dicomnp {arguments[0]} exited {code}: {errors.getvalue()[-500:]}")
    return code


def dicomnp_info(folder: Path) -> Job:
    folder = _study_folder(folder)
    return lambda: _cli(["info", str(folder)])


def dicomnp_convert(*, refusals: bool = False) -> Contender:
    """``dicomnp convert FOLDER -o OUT/x.nii``: every stack to an uncompressed NIfTI.

    With ``refusals``, exit code 1 (some stacks refused, said on standard
    error) counts as done: real folders hold series dicomnp refuses.
    """

    def prepare(folder: Path) -> Job:
        _need("nibabel")
        folder = _study_folder(folder)
        accept = (0, 1) if refusals else (0,)
        arguments = ["convert", str(folder), "-o"]
        return _in_new_folder(lambda out: _cli([*arguments, str(out / "x.nii")], accept))

    return prepare


def pydicom_headers(folder: Path) -> Job:
    """The plain pydicom loop: ``dcmread(stop_before_pixels=True)`` on every file of the tree."""
    import pydicom

    folder = _study_folder(folder)
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]

    def job() -> int:
        read = 0
        for path in files:
            try:
                pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # text files, references: what a folder scan meets
                continue
            read += 1
        return read

    return job


def dcm2niix(folder: Path) -> Job:
    """``dcm2niix -z n -o OUT FOLDER``: every series to NIfTI (C; benchmark only)."""
    import shutil
    import subprocess

    program = shutil.which("dcm2niix")
    if program is None:
        raise Unavailable("dcm2niix is not installed (Debian package dcm2niix)")
    folder = _study_folder(folder)

    def run(out: Path) -> int:
        command = [program, "-z", "n", "-o", str(out), str(folder)]
        done = subprocess.run(command, capture_output=True, check=False)
        if done.returncode:
            raise RuntimeError(f"dcm2niix exited {done.returncode}: {done.stderr[-500:]!r}")
        return len(list(out.glob("*.nii")))

    return _in_new_folder(run)


STUDY: dict[str, Contender] = {
    "dcm2niix": dcm2niix,
    "dicomnp convert": dicomnp_convert(),
    "dicomnp info": dicomnp_info,
    "dicomnp find_series": dicomnp_find_series,
    "pydicom stop_before_pixels": pydicom_headers,
}


# pydicom --------------------------------------------------------------------------------


def _normal(dataset: Any) -> NDArray[np.float64]:
    cosines = np.array([float(v) for v in dataset.ImageOrientationPatient])
    return np.cross(cosines[:3], cosines[3:])


def pydicom_series(plugin: str = "") -> Contender:
    """dcmread every file, sort along the slice normal, decode each into a preallocated array."""

    def prepare(folder: Path) -> Job:
        import pydicom
        from pydicom.pixels.utils import pixel_array

        files = _files(folder)
        _need_plugin(files[0], plugin)

        def job() -> NDArray[Any]:
            datasets = [pydicom.dcmread(path) for path in files]
            normal = _normal(datasets[0])
            datasets.sort(
                key=lambda ds: float(normal @ [float(v) for v in ds.ImagePositionPatient])
            )
            first = pixel_array(datasets[0], decoding_plugin=plugin)
            out = np.empty((len(datasets), *first.shape), dtype=first.dtype)
            out[0] = first
            for k, ds in enumerate(datasets[1:], 1):
                out[k] = pixel_array(ds, decoding_plugin=plugin)
            return out

        return job

    return prepare


def pydicom_file(plugin: str = "", *, one_frame: bool = False) -> Contender:
    def prepare(folder: Path) -> Job:
        from pydicom.pixels.utils import pixel_array

        path = _one_file(folder)
        _need_plugin(path, plugin)
        index = _middle_frame(path) if one_frame else None
        return lambda: pixel_array(path, decoding_plugin=plugin, index=index)

    return prepare


# dicom_numpy and SimpleITK --------------------------------------------------------------


def dicom_numpy_series(folder: Path) -> Job:
    import pydicom

    dicom_numpy = _peer("dicom_numpy")

    files = _files(folder)

    def job() -> Any:
        return dicom_numpy.combine_slices([pydicom.dcmread(path) for path in files])[0]

    return job


def simpleitk_series(folder: Path) -> Job:
    sitk = _peer("SimpleITK")

    def job() -> Any:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        return sitk.GetArrayViewFromImage(reader.Execute())

    return job


def simpleitk_file(folder: Path) -> Job:
    sitk = _peer("SimpleITK")
    path = str(_one_file(folder))
    return lambda: sitk.GetArrayViewFromImage(sitk.ReadImage(path))


def highdicom_series(folder: Path) -> Job:
    import pydicom

    highdicom = _peer("highdicom")

    get_volume = getattr(highdicom, "get_volume_from_series", None)
    if get_volume is None:
        raise Unavailable("highdicom has no get_volume_from_series")
    files = _files(folder)
    return lambda: get_volume([pydicom.dcmread(path) for path in files]).array


# physical limits ------------------------------------------------------------------------


def read_bytes(folder: Path) -> Job:
    """Read every file's bytes: what any reader must at least do."""
    files = _files(folder)
    return lambda: [path.read_bytes() for path in files]


def readinto_pixels(folder: Path) -> Job:
    """Read only the pixel bytes, straight into one preallocated array."""
    from dicomnp._source import open_source

    files = _files(folder)
    spans = []
    for path in files:
        with open_source(path) as opened:
            spans.append((path, opened.pixel.value_offset, opened.pixel.available))
    total = sum(size for _, _, size in spans)

    def job() -> NDArray[np.uint8]:
        out = np.empty(total, dtype=np.uint8)
        position = 0
        for path, offset, size in spans:
            with path.open("rb", buffering=0) as handle:
                handle.seek(offset)
                handle.readinto(out[position : position + size].data)
            position += size
        return out

    return job


# DICOMweb -------------------------------------------------------------------------------
# The ``dicomweb`` workload's series is uploaded once, outside the timing, to the
# Orthanc that DICOMNP_ORTHANC_URL names (start a private one with
# ``python3 tests/support/orthanc.py start DIR``); without it these contenders are
# unavailable, saying so.

ORTHANC_VARIABLE = "DICOMNP_ORTHANC_URL"


def _uploaded(folder: Path) -> tuple[str, str, str]:
    """The base URL, study and series of ``folder``'s series on the server, uploading it once."""
    url = os.environ.get(ORTHANC_VARIABLE)
    if not url:
        raise Unavailable(
            f"no DICOMweb server: set {ORTHANC_VARIABLE} (e.g. start a private Orthanc "
            "with python3 tests/support/orthanc.py start DIR)"
        )
    _need("dicomweb_client")
    import pydicom
    import requests

    files = _files(folder)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    study, series = str(first.StudyInstanceUID), str(first.SeriesInstanceUID)
    url = url.rstrip("/")
    found = requests.get(
        f"{url}/studies/{study}/series/{series}/instances",
        headers={"Accept": "application/dicom+json"},
        timeout=60,
    )
    have = len(found.json()) if found.status_code == 200 and found.content else 0
    if have != len(files):
        rest = url.rsplit("/dicom-web", 1)[0]
        for path in files:
            answer = requests.post(f"{rest}/instances", data=path.read_bytes(), timeout=60)
            answer.raise_for_status()
    return url, study, series


def dicomnp_dicomweb(folder: Path) -> Job:
    """dicomnp.dicomweb.combine_series: metadata, then frames in parallel as stored."""
    url, study, series = _uploaded(folder)
    from dicomnp import dicomweb

    connection = dicomweb.Connection(url)
    return lambda: dicomweb.combine_series(connection, study, series).array


def dicomweb_client_pydicom(folder: Path) -> Job:
    """dicomweb-client retrieve_series (instances as stored), pydicom decodes, sort, stack."""
    url, study, series = _uploaded(folder)
    from dicomweb_client import DICOMwebClient
    from pydicom.pixels.utils import pixel_array

    client: Any = DICOMwebClient(url)

    def job() -> NDArray[Any]:
        # As stored: Orthanc cannot transcode JPEG 2000 to the default syntax.
        datasets = client.retrieve_series(study, series, media_types=(("application/dicom", "*"),))
        normal = _normal(datasets[0])
        datasets.sort(key=lambda ds: float(normal @ [float(v) for v in ds.ImagePositionPatient]))
        return np.stack([pixel_array(ds) for ds in datasets])

    return job


CODEC_PEERS: dict[str, Contender] = {
    "dicomnp": dicomnp_series(),
    "dicomnp workers=1": dicomnp_series(workers=1),
    "dicomnp workers=2": dicomnp_series(workers=2),
    "pydicom+pylibjpeg": pydicom_series("pylibjpeg"),
    "pydicom+gdcm": pydicom_series("gdcm"),
    "dicom_numpy": dicom_numpy_series,
    "SimpleITK": simpleitk_series,
}

CONTENDERS: dict[str, dict[str, Contender]] = {
    "ct": {
        "dicomnp": dicomnp_series(),
        "pydicom": pydicom_series(),
        "dicom_numpy": dicom_numpy_series,
        "SimpleITK": simpleitk_series,
        "highdicom": highdicom_series,
        "read files (limit)": read_bytes,
        "readinto pixels (limit)": readinto_pixels,
    },
    "ct-rle": {**CODEC_PEERS, "pydicom (own RLE)": pydicom_series("pydicom")},
    "ct-j2k": CODEC_PEERS,
    "ct-jls": {**CODEC_PEERS, "pydicom+pyjpegls": pydicom_series("pyjpegls")},
    "ct-jpegll": CODEC_PEERS,
    "mf": {
        "dicomnp": dicomnp_file(),
        "pydicom": pydicom_file(),
        "SimpleITK": simpleitk_file,
        "readinto pixels (limit)": readinto_pixels,
    },
    "mf-one-frame": {
        "dicomnp": dicomnp_file(one_frame=True),
        "pydicom": pydicom_file(one_frame=True),
    },
    "rgb0": {"dicomnp": dicomnp_file(), "pydicom": pydicom_file(), "SimpleITK": simpleitk_file},
    "rgb1": {"dicomnp": dicomnp_file(), "pydicom": pydicom_file(), "SimpleITK": simpleitk_file},
    "us": {
        "dicomnp": dicomnp_file(allow_lossy=True),
        "pydicom+pylibjpeg": pydicom_file("pylibjpeg"),
        "pydicom+gdcm": pydicom_file("gdcm"),
        "pydicom+pillow": pydicom_file("pillow"),
        "SimpleITK": simpleitk_file,
    },
    "batch": {
        "dicomnp": dicomnp_batch(),
        "dicomnp dask 2 workers": dicomnp_batch(workers=2),
    },
    "study": STUDY,
    "realworld": {**STUDY, "dicomnp convert": dicomnp_convert(refusals=True)},
    "dicomweb": {
        "dicomnp": dicomnp_dicomweb,
        "dicomweb-client+pydicom": dicomweb_client_pydicom,
    },
    "dicomweb-j2k": {
        "dicomnp": dicomnp_dicomweb,
        "dicomweb-client+pydicom": dicomweb_client_pydicom,
    },
}

REFERENCE_OF = {"study": "dcm2niix", "realworld": "dcm2niix"}
"""The contender each workload's times are divided by, where it is not ``dicomnp``."""

DATA_OF = {"mf-one-frame": "mf"}
"""Workloads that run on another workload's files."""
