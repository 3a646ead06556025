"""Benchmark workloads, generated here: pydicom writes them, the codec packages encode.

Every workload is a folder below the data directory, made once and reused:

* ``ct`` - an axial CT series of 512x512 signed 16-bit slices, Explicit VR
  Little Endian, file names shuffled against slice order;
* ``ct-rle``, ``ct-j2k``, ``ct-jls``, ``ct-jpegll`` - the first slices of that
  content in RLE Lossless, JPEG 2000 Lossless, JPEG-LS Lossless and JPEG
  Lossless SV1;
* ``mf`` - one multi-frame file of 512x512 unsigned 16-bit frames;
* ``rgb0``, ``rgb1`` - one multi-frame 480x640 RGB file, planar 0 and 1;
* ``us`` - one multi-frame 480x640 ultrasound-like YBR_FULL_422 JPEG
  Baseline file;
* ``dicomweb``, ``dicomweb-j2k`` - a fresh 100-slice series of the ``ct``
  content, Explicit VR Little Endian and JPEG 2000 Lossless, read from a
  local Orthanc over DICOMweb (see :mod:`benchmarks.contenders`);
* ``batch`` - a folder of CT series in JPEG 2000 Lossless, one subfolder each,
  for batch conversion (one process against a two-worker Dask cluster).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

from dicomnp.examples import ct_phantom_slice, ct_slice


@dataclass(frozen=True)
class Sizes:
    """How big each workload is."""

    ct_slices: int = 300
    codec_slices: int = 100
    size: int = 512
    mf_frames: int = 200
    rgb_frames: int = 120
    rgb_rows: int = 480
    rgb_columns: int = 640
    us_frames: int = 120
    batch_series: int = 8
    batch_slices: int = 40
    batch_size: int = 512


FULL = Sizes()
SMOKE = Sizes(
    ct_slices=4, codec_slices=3, size=32, mf_frames=5, rgb_frames=3, rgb_rows=16,
    rgb_columns=24, us_frames=3, batch_series=2, batch_slices=3, batch_size=64,
)  # fmt: skip

CODEC_SYNTAXES = {
    "ct-rle": (RLELossless, "pylibjpeg"),
    "ct-j2k": (JPEG2000Lossless, "pylibjpeg"),
    "ct-jls": (JPEGLSLossless, "pyjpegls"),
    "ct-jpegll": (JPEGLosslessSV1, "gdcm"),
}


def noisy_ct(count: int, size: int) -> Iterator[tuple[int, NDArray[np.int16]]]:
    """CT slices in HU with scanner-like noise, so codecs meet realistic entropy."""
    rng = np.random.default_rng(7)
    z_values = np.linspace(-1, 1, count) if count > 1 else np.zeros(1)
    for k, z in enumerate(z_values):
        hu = ct_phantom_slice(float(z), size, size).astype(np.int32)
        hu += rng.normal(0, 12, hu.shape).astype(np.int32)
        yield k, np.clip(hu, -1024, 3071).astype(np.int16)


def ct_datasets(count: int, size: int) -> Iterator[Dataset]:
    """The CT series as data sets, in slice order."""
    series, study, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    for k, hu in noisy_ct(count, size):
        yield ct_slice(
            hu,
            position=(-0.25 * size, -0.25 * size, 1.25 * k),
            instance_number=k + 1,
            series_uid=series,
            study_uid=study,
            frame_of_reference_uid=frame_of_reference,
            slice_thickness=1.25,
            pixel_spacing=(0.5, 0.5),
        )


def _write_series(folder: Path, datasets: Iterator[Dataset], count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    names = np.random.default_rng(1).permutation(count)
    for dataset, number in zip(datasets, names, strict=True):
        dataset.save_as(folder / f"IM{number:05d}.dcm", enforce_file_format=True)


def _compressed(datasets: Iterator[Dataset], syntax: str, plugin: str) -> Iterator[Dataset]:
    for dataset in datasets:
        if plugin == "gdcm":
            yield _gdcm_transcode(dataset, syntax)
        else:
            dataset.compress(syntax, encoding_plugin=plugin, generate_instance_uid=False)
            yield dataset


def _gdcm_transcode(dataset: Dataset, syntax: str) -> Dataset:
    """Re-encode through GDCM, the one installed encoder of JPEG Lossless SV1."""
    import importlib
    import tempfile

    import pydicom

    gdcm: Any = importlib.import_module("gdcm")

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.dcm", Path(folder) / "out.dcm"
        dataset.save_as(source, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(source))
        if not reader.Read():
            raise RuntimeError("GDCM cannot read the slice it is to encode")
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise RuntimeError("GDCM cannot encode JPEG Lossless SV1")
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(target))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise RuntimeError("GDCM cannot write the encoded slice")
        encoded = pydicom.dcmread(target)
    if str(encoded.file_meta.TransferSyntaxUID) != syntax:
        raise RuntimeError(f"GDCM wrote {encoded.file_meta.TransferSyntaxUID}, not {syntax}")
    return encoded


def _multiframe(
    frames: NDArray[Any], *, photometric: str, planar: int | None, sop_class: str
) -> Dataset:
    template = ct_slice(np.zeros((frames.shape[1], frames.shape[2]), dtype=np.int16))
    ds = Dataset()
    ds.file_meta = template.file_meta
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID"):
        setattr(ds, keyword, getattr(template, keyword))
    ds.SOPClassUID = sop_class
    ds.Modality = "US" if sop_class == UltrasoundMultiFrameImageStorage else "OT"
    ds.NumberOfFrames = frames.shape[0]
    ds.Rows, ds.Columns = frames.shape[1:3]
    samples = frames.shape[3] if frames.ndim == 4 else 1
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if planar is not None:
        ds.PlanarConfiguration = planar
    bits = frames.dtype.itemsize * 8
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if planar == 1:
        frames = np.ascontiguousarray(frames.transpose(0, 3, 1, 2))
    ds.PixelData = frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    return ds


def _mf(sizes: Sizes) -> Dataset:
    frames = np.empty((sizes.mf_frames, sizes.size, sizes.size), dtype=np.uint16)
    for k, hu in noisy_ct(sizes.mf_frames, sizes.size):
        frames[k] = (hu.astype(np.int32) + 1024).astype(np.uint16)
    return _multiframe(frames, photometric="MONOCHROME2", planar=None, sop_class=_MF_SOP)


_MF_SOP = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word Secondary Capture
_RGB_SOP = "1.2.840.10008.5.1.4.1.1.7.4"  # Multi-frame True Color Secondary Capture


def _rgb_frames(sizes: Sizes) -> NDArray[np.uint8]:
    rows, columns = sizes.rgb_rows, sizes.rgb_columns
    y, x = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
    rng = np.random.default_rng(3)
    frames = np.empty((sizes.rgb_frames, rows, columns, 3), dtype=np.uint8)
    for k in range(sizes.rgb_frames):
        frames[k, ..., 0] = (x + 3 * k) % 256
        frames[k, ..., 1] = (y * 2 + k) % 256
        frames[k, ..., 2] = 128 + 100 * np.sin((x + y + 5 * k) / 40.0)
        frames[k] = np.clip(frames[k] + rng.integers(-4, 5, frames[k].shape), 0, 255)
    return frames


def _rgb(sizes: Sizes, planar: int) -> Dataset:
    return _multiframe(_rgb_frames(sizes), photometric="RGB", planar=planar, sop_class=_RGB_SOP)


def _us(sizes: Sizes) -> Dataset:
    """YBR_FULL_422 JPEG Baseline frames, encoded by Pillow with 4:2:2 subsampling."""
    from PIL import Image

    encoded = []
    for frame in _rgb_frames(Sizes(rgb_frames=sizes.us_frames, rgb_rows=sizes.rgb_rows,
                                   rgb_columns=sizes.rgb_columns)):  # fmt: skip
        buffer = io.BytesIO()
        Image.fromarray(frame, "RGB").save(buffer, format="JPEG", quality=90, subsampling=1)
        encoded.append(buffer.getvalue())
    ds = _multiframe(
        _rgb_frames(Sizes(rgb_frames=1, rgb_rows=sizes.rgb_rows, rgb_columns=sizes.rgb_columns)),
        photometric="YBR_FULL_422",
        planar=0,
        sop_class=UltrasoundMultiFrameImageStorage,
    )
    ds.NumberOfFrames = sizes.us_frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.file_meta.TransferSyntaxUID = UID(JPEGBaseline8Bit)
    ds.PixelData = encapsulate(encoded, has_bot=True)
    ds["PixelData"].VR = "OB"
    return ds


def _single(name: str, make: Callable[[Sizes], Dataset]) -> Callable[[Path, Sizes], None]:
    def write(folder: Path, sizes: Sizes) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        make(sizes).save_as(folder / f"{name}.dcm", enforce_file_format=True)

    return write


def _ct(folder: Path, sizes: Sizes) -> None:
    _write_series(folder, ct_datasets(sizes.ct_slices, sizes.size), sizes.ct_slices)


def _codec(name: str) -> Callable[[Path, Sizes], None]:
    syntax, plugin = CODEC_SYNTAXES[name]

    def write(folder: Path, sizes: Sizes) -> None:
        datasets = _compressed(ct_datasets(sizes.codec_slices, sizes.size), syntax, plugin)
        _write_series(folder, datasets, sizes.codec_slices)

    return write


def _dicomweb(folder: Path, sizes: Sizes) -> None:
    _write_series(folder, ct_datasets(sizes.codec_slices, sizes.size), sizes.codec_slices)


def _dicomweb_j2k(folder: Path, sizes: Sizes) -> None:
    datasets = ct_datasets(sizes.codec_slices, sizes.size)
    compressed = _compressed(datasets, JPEG2000Lossless, "pylibjpeg")
    _write_series(folder, compressed, sizes.codec_slices)


def _batch(folder: Path, sizes: Sizes) -> None:
    for number in range(sizes.batch_series):
        datasets = ct_datasets(sizes.batch_slices, sizes.batch_size)
        compressed = _compressed(datasets, JPEG2000Lossless, "pylibjpeg")
        _write_series(folder / f"series{number:02d}", compressed, sizes.batch_slices)


WORKLOADS: dict[str, Callable[[Path, Sizes], None]] = {
    "ct": _ct,
    **{name: _codec(name) for name in CODEC_SYNTAXES},
    "mf": _single("mf", _mf),
    "rgb0": _single("rgb0", lambda sizes: _rgb(sizes, 0)),
    "rgb1": _single("rgb1", lambda sizes: _rgb(sizes, 1)),
    "us": _single("us", _us),
    "batch": _batch,
    "dicomweb": _dicomweb,
    "dicomweb-j2k": _dicomweb_j2k,
}


def ensure(root: Path, names: list[str], sizes: Sizes) -> dict[str, Path]:
    """Make each named workload below ``root`` unless it is already there."""
    folders = {}
    for name in names:
        folder = root / name
        done = folder / ".complete"
        if not done.exists():
            for stale in folder.glob("*.dcm"):
                stale.unlink()
            WORKLOADS[name](folder, sizes)
            done.write_text("ok\n")
        folders[name] = folder
    return folders
