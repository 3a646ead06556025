"""The transfer syntaxes dicomnp knows: how each encodes pixel data.

One table, keyed by UID. The decode layer looks a syntax up here to learn
whether its pixel data are native or encapsulated, their byte order, whether
the syntax can carry lossy data, and which codec decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Codec", "Lossiness", "TransferSyntax", "lookup"]


class Codec(str, Enum):
    """How the pixel data of a transfer syntax are decoded."""

    NATIVE = "native"
    """Uncompressed pixel data, one contiguous value."""
    ENCAPSULATED_NATIVE = "encapsulated-native"
    """Uncompressed frames, each in its own fragment."""
    DEFLATE = "deflate"
    """Each frame deflated on its own (Deflated Image Frame Compression)."""
    RLE = "rle"
    JPEG = "jpeg"
    JPEG_LS = "jpeg-ls"
    JPEG_2000 = "jpeg-2000"
    NONE = "none"
    """Known to dicomnp, but no decoder: video, JPEG XL, JPIP, retired JPEG."""


class Lossiness(str, Enum):
    """Whether a transfer syntax can carry irreversibly compressed data."""

    LOSSLESS = "lossless"
    LOSSY = "lossy"
    EITHER = "either"
    """Lossless or lossy; only the data set or codestream can say which."""


@dataclass(frozen=True)
class TransferSyntax:
    """What dicomnp knows of one transfer syntax."""

    uid: str
    name: str
    codec: Codec
    lossiness: Lossiness
    little_endian: bool = True
    implicit_vr: bool = False
    deflated_dataset: bool = False
    """The whole data set after the file meta information is deflated."""
    no_pixel_data: bool = False
    """The pixel data are referenced (JPIP), not held in the object."""

    @property
    def encapsulated(self) -> bool:
        """True when Pixel Data is a sequence of fragments."""
        return self.codec is not Codec.NATIVE


_L, _Y, _E = Lossiness.LOSSLESS, Lossiness.LOSSY, Lossiness.EITHER

_TABLE: tuple[TransferSyntax, ...] = (
    TransferSyntax(
        "1.2.840.10008.1.2", "Implicit VR Little Endian", Codec.NATIVE, _L, implicit_vr=True
    ),
    TransferSyntax("1.2.840.10008.1.2.1", "Explicit VR Little Endian", Codec.NATIVE, _L),
    TransferSyntax(
        "1.2.840.10008.1.2.1.98",
        "Encapsulated Uncompressed Explicit VR Little Endian",
        Codec.ENCAPSULATED_NATIVE,
        _L,
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.1.99",
        "Deflated Explicit VR Little Endian",
        Codec.NATIVE,
        _L,
        deflated_dataset=True,
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.2", "Explicit VR Big Endian", Codec.NATIVE, _L, little_endian=False
    ),
    TransferSyntax("1.2.840.10008.1.2.5", "RLE Lossless", Codec.RLE, _L),
    TransferSyntax("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression", Codec.DEFLATE, _L),
    TransferSyntax("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", Codec.JPEG, _Y),
    TransferSyntax("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)", Codec.JPEG, _Y),
    *(
        TransferSyntax(
            f"1.2.840.10008.1.2.4.{n}", f"JPEG (retired process, .4.{n})", Codec.NONE, _Y
        )
        for n in (52, 53, 54, 55, 56, 59, 60, 61, 62, 63, 64)
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", Codec.JPEG, _L
    ),
    *(
        TransferSyntax(
            f"1.2.840.10008.1.2.4.{n}", f"JPEG Lossless (retired process, .4.{n})", Codec.NONE, _L
        )
        for n in (58, 65, 66)
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.4.70",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        Codec.JPEG,
        _L,
    ),
    TransferSyntax("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", Codec.JPEG_LS, _L),
    TransferSyntax("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)", Codec.JPEG_LS, _E),
    TransferSyntax("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)", Codec.JPEG_2000, _L),
    TransferSyntax("1.2.840.10008.1.2.4.91", "JPEG 2000", Codec.JPEG_2000, _E),
    TransferSyntax(
        "1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)", Codec.NONE, _L
    ),
    TransferSyntax("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component", Codec.NONE, _E),
    TransferSyntax("1.2.840.10008.1.2.4.94", "JPIP Referenced", Codec.NONE, _E, no_pixel_data=True),
    TransferSyntax(
        "1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", Codec.NONE, _E, no_pixel_data=True
    ),
    *(
        TransferSyntax(uid, name, Codec.NONE, _Y)
        for uid, name in (
            ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
            ("1.2.840.10008.1.2.4.100.1", "Fragmentable MPEG2 Main Profile / Main Level"),
            ("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
            ("1.2.840.10008.1.2.4.101.1", "Fragmentable MPEG2 Main Profile / High Level"),
            ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
            ("1.2.840.10008.1.2.4.102.1", "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1"),
            ("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
            (
                "1.2.840.10008.1.2.4.103.1",
                "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
            ),
            ("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile For 2D Video"),
            (
                "1.2.840.10008.1.2.4.104.1",
                "Fragmentable MPEG-4 AVC/H.264 High Profile For 2D Video",
            ),
            ("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile For 3D Video"),
            (
                "1.2.840.10008.1.2.4.105.1",
                "Fragmentable MPEG-4 AVC/H.264 High Profile For 3D Video",
            ),
            ("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile"),
            ("1.2.840.10008.1.2.4.106.1", "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile"),
            ("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"),
            ("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1"),
            ("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
        )
    ),
    TransferSyntax("1.2.840.10008.1.2.4.110", "JPEG XL Lossless", Codec.NONE, _L),
    TransferSyntax("1.2.840.10008.1.2.4.112", "JPEG XL", Codec.NONE, _E),
    TransferSyntax(
        "1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)", Codec.JPEG_2000, _L
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.4.202",
        "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)",
        Codec.JPEG_2000,
        _L,
    ),
    TransferSyntax("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000", Codec.JPEG_2000, _E),
    TransferSyntax(
        "1.2.840.10008.1.2.4.204", "JPIP HTJ2K Referenced", Codec.NONE, _E, no_pixel_data=True
    ),
    TransferSyntax(
        "1.2.840.10008.1.2.4.205",
        "JPIP HTJ2K Referenced Deflate",
        Codec.NONE,
        _E,
        no_pixel_data=True,
    ),
)

_BY_UID = {syntax.uid: syntax for syntax in _TABLE}


def lookup(uid: str) -> TransferSyntax | None:
    """Return what dicomnp knows of transfer syntax ``uid``, or None if unknown."""
    return _BY_UID.get(uid.strip().rstrip("\0"))
