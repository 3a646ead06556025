"""Building DICOM data sets in memory for tests: every variation written by pydicom."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)


def image_dataset(
    pixel_bytes: bytes,
    *,
    rows: int,
    columns: int,
    bits_allocated: int,
    bits_stored: int | None = None,
    high_bit: int | None = None,
    pixel_representation: int = 0,
    samples: int = 1,
    photometric: str | None = None,
    planar: int | None = None,
    frames: int | str | None = None,
    syntax: str = ExplicitVRLittleEndian,
    vr: str | None = None,
    keyword: str = "PixelData",
) -> Dataset:
    """Return a Secondary Capture data set holding ``pixel_bytes`` as given.

    The bytes are stored verbatim: the caller lays them out (byte order,
    planes, packing), so tests state exactly what the file holds.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = UID(syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric or ("MONOCHROME2" if samples == 1 else "RGB")
    if planar is not None:
        ds.PlanarConfiguration = planar
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = bits_allocated
    if keyword == "PixelData":
        ds.BitsStored = bits_allocated if bits_stored is None else bits_stored
        ds.HighBit = ds.BitsStored - 1 if high_bit is None else high_bit
        ds.PixelRepresentation = pixel_representation
    default_vr = {"PixelData": "OB" if bits_allocated <= 8 else "OW"}.get(keyword)
    ds.add_new(
        {"PixelData": 0x7FE00010, "FloatPixelData": 0x7FE00008, "DoubleFloatPixelData": 0x7FE00009}[
            keyword
        ],
        vr or default_vr or {"FloatPixelData": "OF", "DoubleFloatPixelData": "OD"}[keyword],
        pixel_bytes,
    )
    return ds


def to_bytes(ds: Dataset) -> bytes:
    """Encode ``ds`` as a DICOM file in its file meta's transfer syntax."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def swap_words(data: bytes) -> bytes:
    """Swap the bytes of each 16-bit word, padding to even length first (OW, big endian)."""
    padded = data + b"\0" * (len(data) % 2)
    return bytes(np.frombuffer(padded, dtype="<u2").byteswap().tobytes())


def pack_bits(bits: NDArray[Any]) -> bytes:
    """Pack 0/1 values eight to a byte, first pixel in the least significant bit."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8).reshape(-1), bitorder="little")
    return packed.tobytes()
