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
  for batch conversion (one process against a two-worker Dask cluster);
* ``study`` - a study folder as scanners write them: several MR series of
  some hundred files each, every file carrying vendor private headers of
  tens of KB (a Philips-like private sequence, or a Siemens-like CSA
  header pair), for scanning a folder and converting it to NIfTI;
* ``realworld`` - not generated: the real MR series of
  ``../shared/realworld`` (or ``$DICOMNP_REALWORLD``) when present.
"""

from __future__ import annotations

import io
import os
import struct
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
    study_series: int = 6
    study_files: int = 250
    study_size: int = 128


FULL = Sizes()
SMOKE = Sizes(
    ct_slices=4, codec_slices=3, size=32, mf_frames=5, rgb_frames=3, rgb_rows=16,
    rgb_columns=24, us_frames=3, batch_series=2, batch_slices=3, batch_size=64,
    study_series=2, study_files=3, study_size=16,
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


_MR_SOP = "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage


def _philips_private(ds: Dataset, rng: np.random.Generator, index: int) -> None:
    """Private groups shaped like a Philips MR file's: a long private sequence (about 30 KB).

    As the scanner writes it, of undefined length, as are its items and the
    sequences nested in them: a reader must walk every element to find where
    it ends.
    """
    ds.add_new(0x20010010, "LO", "Philips Imaging DD 001")
    ds.add_new(0x20050010, "LO", "Philips MR Imaging DD 001")
    ds.add_new(0x20011008, "IS", str(index + 1))
    ds.add_new(0x2005100E, "FL", float(rng.random()))
    items = []
    for k in range(60):  # a copy of many standard attributes per item, as the scanner writes
        item = Dataset()
        item.add_new(0x00080008, "CS", ["ORIGINAL", "PRIMARY", "M_SE", "M", "SE"])
        item.add_new(0x00180081, "DS", f"{80 + k % 5}")
        item.add_new(0x00180080, "DS", "3000")
        item.add_new(0x00181310, "US", [0, 256, 256, 0])
        item.add_new(0x0020000D, "UI", ds.StudyInstanceUID)
        item.add_new(0x20051011, "CS", "M")
        item.add_new(0x20051054, "FL", [float(value) for value in rng.random(24)])
        item.add_new(0x20051080, "LO", "ACQ" * 20)
        item.add_new(0x20051071, "FD", [float(value) for value in rng.random(16)])
        reference = Dataset()
        reference.add_new(0x00081150, "UI", _MR_SOP)
        reference.add_new(0x00081155, "UI", ds.SOPInstanceUID)
        reference.is_undefined_length_sequence_item = True
        item.add_new(0x00081140, "SQ", [reference])
        item[0x00081140].is_undefined_length = True
        item.is_undefined_length_sequence_item = True
        items.append(item)
    ds.add_new(0x2005140F, "SQ", items)
    ds[0x2005140F].is_undefined_length = True


def csa2(tags: list[tuple[str, str, list[str]]]) -> bytes:
    """A Siemens CSA2 header (``SV10``): each tag a name, a VR and its items as text.

    The layout nibabel's ``nicom.csareader`` documents: the signature, the
    number of tags, then per tag a 64-byte name, VM, VR, SyngoDT, item count,
    and per item four integers (the second its length) and the padded value.
    """
    out = [b"SV10\x04\x03\x02\x01", struct.pack("<2I", len(tags), 77)]
    for name, vr, items in tags:
        out.append(name.encode().ljust(64, b"\0"))
        out.append(
            struct.pack("<i4siii", len(items), vr.encode().ljust(4, b"\0"), 3, len(items), 77)
        )
        for item in items:
            value = item.encode() + b"\0"
            out.append(struct.pack("<4i", len(value), len(value), 77, len(value)))
            out.append(value.ljust(-(-len(value) // 4) * 4, b"\0"))
    return b"".join(out)


def _siemens_private(ds: Dataset, rng: np.random.Generator) -> None:
    """Private groups shaped like a Siemens MR file's: the CSA image and series headers."""
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291008, "CS", "IMAGE NUM 4")
    ds.add_new(0x00291018, "CS", "MR")
    image = [
        ("EchoLinePosition", "IS", ["64"]),
        ("SliceNormalVector", "FD", ["0.0", "0.0", "1.0"]),
        ("ImaCoilString", "LO", ["HEA;HEP"]),
        ("ImaAbsTablePosition", "SL", ["0", "0", "-1400"]),
        ("RealDwellTime", "IS", ["3100"]),
    ]
    image += [(f"UnusedTag{k:03d}", "LO", []) for k in range(90)]  # most tags carry no item
    image += [(f"CoilElement{k:02d}", "DS", [f"{value:.6f}" for value in rng.random(8)])
              for k in range(24)]  # fmt: skip
    protocol = (
        "### ASCCONV BEGIN ###\n"
        + "".join(
            f"sKSpace.asParameter[{k}].lValue\t = {int(value)}\n"
            for k, value in enumerate(rng.integers(0, 1000, 1_000))
        )
        + "### ASCCONV END ###\n"
    )
    series = [("MrPhoenixProtocol", "UN", [protocol]), ("GradientMode", "ST", ["Fast"])]
    ds.add_new(0x00291010, "OB", csa2(image))
    ds.add_new(0x00291020, "OB", csa2(series))


def _study_series(number: int, sizes: Sizes) -> Iterator[Dataset]:
    """One MR series of the study, in slice order, with its vendor's private headers."""
    rng = np.random.default_rng(11 + number)
    series, study, frame_of_reference = generate_uid(), _STUDY_UID, generate_uid()
    for k, hu in noisy_ct(sizes.study_files, sizes.study_size):
        ds = ct_slice(
            (hu // 4 + 300).astype(np.int16),
            position=(-0.5 * sizes.study_size, -0.5 * sizes.study_size, 3.0 * k),
            instance_number=k + 1,
            series_uid=series,
            study_uid=study,
            frame_of_reference_uid=frame_of_reference,
            slice_thickness=3.0,
            pixel_spacing=(1.0, 1.0),
        )
        ds.Modality = "MR"
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UID(_MR_SOP)
        ds.SeriesNumber = number + 1
        ds.SeriesDescription = f"series {number + 1}"
        ds.EchoTime, ds.RepetitionTime, ds.FlipAngle = "80", "3000", "90"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = "20260101"
        ds.SeriesTime = f"1{number:01d}0000"
        ds.AcquisitionTime = f"1{number:01d}{k // 60 % 60:02d}{k % 60:02d}.500000"
        ds.AcquisitionNumber = 1
        ds.ProtocolName = ds.SeriesDescription
        ds.ScanningSequence, ds.SequenceVariant, ds.MRAcquisitionType = "SE", "SK", "2D"
        ds.MagneticFieldStrength, ds.ImagingFrequency = "3", "123.25"
        ds.SliceLocation = f"{3.0 * k:.1f}"
        ds.InPlanePhaseEncodingDirection = "ROW"
        ds.PercentPhaseFieldOfView, ds.PixelBandwidth = "100", "200"
        for keyword in ("RescaleSlope", "RescaleIntercept", "RescaleType"):
            if keyword in ds:
                delattr(ds, keyword)
        if number % 2:
            ds.Manufacturer = "SIEMENS"
            _siemens_private(ds, rng)
        else:
            ds.Manufacturer = "Philips Medical Systems"
            _philips_private(ds, rng, k)
        yield ds


_STUDY_UID = "1.2.826.0.1.3680043.8.498.17171717"


def _study(folder: Path, sizes: Sizes) -> None:
    for number in range(sizes.study_series):
        datasets = _study_series(number, sizes)
        _write_series(folder / f"series{number + 1:02d}", datasets, sizes.study_files)


def realworld_folder() -> Path | None:
    """The shared real-world MR series (``$DICOMNP_REALWORLD`` or ``../shared/realworld``)."""
    named = os.environ.get("DICOMNP_REALWORLD")
    folder = Path(named) if named else Path(__file__).resolve().parents[2] / "shared" / "realworld"
    return folder if folder.is_dir() else None


WORKLOADS: dict[str, Callable[[Path, Sizes], None]] = {
    "ct": _ct,
    **{name: _codec(name) for name in CODEC_SYNTAXES},
    "mf": _single("mf", _mf),
    "rgb0": _single("rgb0", lambda sizes: _rgb(sizes, 0)),
    "rgb1": _single("rgb1", lambda sizes: _rgb(sizes, 1)),
    "us": _single("us", _us),
    "batch": _batch,
    "study": _study,
    "dicomweb": _dicomweb,
    "dicomweb-j2k": _dicomweb_j2k,
}


def ensure(root: Path, names: list[str], sizes: Sizes) -> dict[str, Path]:
    """Make each named workload below ``root`` unless it is already there."""
    folders = {}
    for name in names:
        if name == "realworld":  # read where it lies, never copied
            folders[name] = realworld_folder() or root / "realworld-absent"
            continue
        folder = root / name
        done = folder / ".complete"
        if not done.exists():
            for stale in folder.glob("*.dcm"):
                stale.unlink()
            WORKLOADS[name](folder, sizes)
            done.write_text("ok\n")
        folders[name] = folder
    return folders
