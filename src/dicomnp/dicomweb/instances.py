"""Data sets built from DICOMweb metadata, and the frames fetched for them.

The series metadata (WADO-RS ``.../metadata``, DICOM JSON) carries every
attribute the rendering rules and the geometry read, but neither the pixel
bytes nor the transfer syntax. :func:`metadata_dataset` builds a pydicom
Dataset from it with a stand-in pixel element (zeros, never touched and
never read for a decision), so that the header layers of dicomnp read it
as they read a file; :func:`attach_frames` then puts the fetched frames and
their transfer syntax in place, and the data set is an ordinary source of
:func:`dicomnp.read` and :func:`dicomnp.combine_series`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID

from .._attributes import optional, required
from .._syntaxes import TransferSyntax, lookup
from ..errors import CorruptPixelDataError, InvalidPixelMetadataError
from .media import EXPLICIT_VR_LITTLE_ENDIAN

__all__ = [
    "PIXEL_TAGS",
    "StandIns",
    "attach_frames",
    "frame_count",
    "listed_frames",
    "lossy_evidence",
    "metadata_dataset",
    "native_frame_bytes",
    "stored_syntax",
]

PIXEL_TAGS = ("7FE00010", "7FE00008", "7FE00009")
"""Pixel Data, Float Pixel Data, Double Float Pixel Data, as DICOM JSON keys."""

_PLACEHOLDER = b"\0\0"
"""The value of a frame that was not fetched: never decoded, as no one asked for it."""


def frame_count(dataset: Dataset) -> int:
    """Number of Frames (1 when absent)."""
    count = optional(dataset, "NumberOfFrames", str(dataset.get("filename", "")), int)
    return max(count or 1, 1)


def native_frame_bytes(dataset: Dataset, name: str) -> int:
    """The bytes of one native frame: rows x columns x samples x bits allocated / 8.

    Raises
    ------
    InvalidPixelMetadataError
        Bits Allocated is not a whole number of bytes, or an attribute is
        missing or malformed.
    """
    rows = required(dataset, "Rows", name, int)
    columns = required(dataset, "Columns", name, int)
    samples = required(dataset, "SamplesPerPixel", name, int, default=1)
    bits = required(dataset, "BitsAllocated", name, int)
    if bits % 8:
        raise InvalidPixelMetadataError(
            f"BitsAllocated {bits}: frames that are not whole bytes cannot be fetched one by one",
            path=name,
            tag=0x00280100,
        )
    return rows * columns * samples * bits // 8


class StandIns:
    """Zeroed buffers that stand in for pixel data not yet fetched, one per size, shared.

    A stand-in is never written, and never read for a decision, so the data
    sets of one series share one buffer of each size.
    """

    def __init__(self) -> None:
        self._by_size: dict[int, memoryview] = {}

    def of(self, size: int) -> memoryview:
        """A zeroed buffer of ``size`` bytes (rounded up to even)."""
        size += size % 2
        if size not in self._by_size:
            self._by_size[size] = np.zeros(size, dtype=np.uint8).data
        return self._by_size[size]


def metadata_dataset(
    metadata: Mapping[str, Any],
    name: str,
    bulk: Callable[[str], bytes],
    stand_ins: StandIns | None = None,
) -> Dataset:
    """A Dataset from one instance's DICOM JSON metadata, with a stand-in pixel element.

    Bulk data other than the pixels (LUTs, overlays) are fetched with
    ``bulk(uri)``; the pixels are not. The stand-in is a native Explicit VR
    Little Endian pixel element of the right length whose pages are never
    written, so no memory is used for it; ``dataset.filename`` is ``name``,
    which errors then name.
    """
    pixel_key = next((key for key in PIXEL_TAGS if key in metadata), "7FE00010")
    trimmed = {key: value for key, value in metadata.items() if key not in PIXEL_TAGS}
    trimmed = {key: value for key, value in trimmed.items() if not key.startswith("0002")}

    def handler(tag: str, vr: str, uri: str) -> bytes:
        return bulk(uri)

    referenced = _refers_to_bulk(trimmed)
    # pydicom inspects the handler's signature for every element: pass it only when needed.
    dataset = Dataset.from_json(trimmed, bulk_data_uri_handler=handler if referenced else None)
    dataset.filename = name
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = UID(EXPLICIT_VR_LITTLE_ENDIAN)
    dataset.file_meta = meta
    size = native_frame_bytes(dataset, name) * frame_count(dataset)
    vr = "OW" if pixel_key == "7FE00010" and int(dataset.BitsAllocated) > 8 else "OB"
    if pixel_key == "7FE00008":
        vr = "OF"
    elif pixel_key == "7FE00009":
        vr = "OD"
    stand_in = (stand_ins or StandIns()).of(size)
    dataset[int(pixel_key, 16)] = _element(int(pixel_key, 16), vr, stand_in)
    return dataset


_LOSSY_KEYS = ("00080018", "00282110", "00282112", "00282114")
"""SOP Instance UID and the Lossy Image Compression attributes, as DICOM JSON keys."""


def lossy_evidence(metadata: Mapping[str, Any]) -> Dataset:
    """The attributes that say whether an instance is lossy, as a small Dataset.

    Lossy data are refused from these before any data set is built in full.
    """
    return Dataset.from_json({key: metadata[key] for key in _LOSSY_KEYS if key in metadata})


def listed_frames(metadata: Mapping[str, Any]) -> int:
    """Number of Frames (0028,0008) from DICOM JSON metadata (1 when absent or malformed)."""
    values = metadata.get("00280008", {}).get("Value") or [1]
    try:
        return max(int(str(values[0])), 1)
    except ValueError:
        return 1


def _refers_to_bulk(node: Any) -> bool:
    """Whether DICOM JSON ``node`` holds a BulkDataURI anywhere, sequences included."""
    if isinstance(node, Mapping):
        return "BulkDataURI" in node or any(_refers_to_bulk(value) for value in node.values())
    if isinstance(node, list):
        return any(_refers_to_bulk(item) for item in node)
    return False


def stored_syntax(metadata: Mapping[str, Any]) -> TransferSyntax | None:
    """The stored transfer syntax when the metadata say it, else None.

    Servers may give Transfer Syntax UID (0002,0010) or Available Transfer
    Syntax UID (0008,3002); Orthanc gives neither.
    """
    for key in ("00020010", "00083002"):
        values = metadata.get(key, {}).get("Value") or []
        if values:
            found = lookup(str(values[0]))
            if found is not None:
                return found
    return None


def attach_frames(dataset: Dataset, syntax_uid: str, frames: Mapping[int, memoryview]) -> None:
    """Put fetched frames (by 0-based index) and their transfer syntax into ``dataset``.

    Frames not given keep a stand-in that is never decoded.

    Raises
    ------
    CorruptPixelDataError
        A native frame is shorter than the metadata say it must be.
    """
    name = str(dataset.filename)
    syntax = lookup(syntax_uid)
    assert syntax is not None  # the connection only returns known syntaxes
    tag = next((tag for tag in (0x7FE00010, 0x7FE00008, 0x7FE00009) if tag in dataset), 0x7FE00010)
    count = frame_count(dataset)
    if syntax.encapsulated:
        values = [bytes(frames[k]) if k in frames else _PLACEHOLDER for k in range(count)]
        value: bytes | memoryview = encapsulate(values, has_bot=True)
        vr = "OB"
    else:
        size = native_frame_bytes(dataset, name)
        for index, body in frames.items():
            if len(body) < size:
                raise CorruptPixelDataError(
                    f"the server sent {len(body)} bytes for a frame of {size}",
                    path=name,
                    frame=index,
                    tag=tag,
                )
        value = _native_value(frames, size, count)
        vr = dataset[tag].VR
    dataset.file_meta.TransferSyntaxUID = UID(syntax.uid)
    dataset[tag] = _element(tag, vr, value)


def _native_value(frames: Mapping[int, memoryview], size: int, count: int) -> memoryview:
    """The native pixel value: the one frame as sent, or every frame in its place."""
    if count == 1 and 0 in frames and size % 2 == 0:
        return frames[0][:size]  # no copy
    buffer = np.zeros(size * count + (size * count) % 2, dtype=np.uint8)
    for index, body in frames.items():
        buffer[index * size : (index + 1) * size] = np.frombuffer(body[:size], np.uint8)
    return buffer.data


def _element(tag: int, vr: str, value: bytes | memoryview) -> DataElement:
    """A pixel element holding ``value`` as it is (pydicom would warn of a memoryview)."""
    return DataElement(tag, vr, value, validation_mode=config.IGNORE)
