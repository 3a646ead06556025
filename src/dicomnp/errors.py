"""The dicomnp exception hierarchy.

Every error raised on purpose by dicomnp derives from :class:`DicomNumpyError`,
which is also a :class:`ValueError`, so code that already catches
``ValueError`` keeps working. Each error carries the file, frame and tag it is
about as attributes, and names them in its message.
"""

from __future__ import annotations

__all__ = [
    "CorruptEncapsulationError",
    "CorruptPixelDataError",
    "DicomNumpyError",
    "FrameIndexError",
    "InvalidPixelMetadataError",
    "LossyDataError",
    "MissingCodecError",
    "NoPixelDataError",
    "NotDicomError",
    "TruncatedPixelDataError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
]


def format_tag(tag: int) -> str:
    """Return ``tag`` as DICOM writes it, e.g. ``(7FE0,0010)``."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class DicomNumpyError(ValueError):
    """Root of every error dicomnp raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in words a user can act on.
    path : str or None, optional
        The file (or a description of the in-memory source) involved.
    frame : int or None, optional
        The 0-based frame index involved, if the error concerns one frame.
    tag : int or None, optional
        The DICOM tag involved, as an integer such as ``0x7FE00010``.

    Attributes
    ----------
    path, frame, tag
        As given; ``None`` when not applicable.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        frame: int | None = None,
        tag: int | None = None,
    ) -> None:
        self.path = path
        self.frame = frame
        self.tag = tag
        self.detail = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if self.frame is not None:
            parts.append(f"frame {self.frame}")
        if self.tag is not None:
            parts.append(format_tag(self.tag))
        prefix = ": ".join(parts)
        return f"{prefix}: {self.detail}" if prefix else self.detail

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword-only attributes when errors cross process boundaries.
        return (
            _rebuild,
            (type(self), self.detail, self.path, self.frame, self.tag, self.__dict__),
        )


def _rebuild(
    cls: type[DicomNumpyError],
    message: str,
    path: str | None,
    frame: int | None,
    tag: int | None,
    state: dict[str, object],
) -> DicomNumpyError:
    error = cls.__new__(cls)
    DicomNumpyError.__init__(error, message, path=path, frame=frame, tag=tag)
    error.__dict__.update(state)
    return error


class NotDicomError(DicomNumpyError):
    """The source is not a DICOM data set dicomnp can read."""


class NoPixelDataError(DicomNumpyError):
    """The data set holds no Pixel Data, Float Pixel Data or Double Float Pixel Data."""


class InvalidPixelMetadataError(DicomNumpyError):
    """A group 0028 attribute is missing, malformed or contradicts another one."""


class UnsupportedPixelDataError(DicomNumpyError):
    """Valid DICOM pixel data of a kind dicomnp does not decode."""


class UnsupportedTransferSyntaxError(UnsupportedPixelDataError):
    """The transfer syntax is unknown to dicomnp or has no decoder.

    Attributes
    ----------
    http_status : int
        406, the status a DICOMweb server gives when it cannot provide the
        requested representation.
    """

    http_status = 406


class MissingCodecError(UnsupportedPixelDataError, ImportError):
    """The codec package needed for this transfer syntax is not installed."""


class CorruptPixelDataError(DicomNumpyError):
    """The pixel bytes cannot be decoded as the header describes them."""


class TruncatedPixelDataError(CorruptPixelDataError):
    """The pixel data hold fewer bytes than the header implies.

    Attributes
    ----------
    expected : int or None
        The number of bytes the header implies.
    actual : int or None
        The number of bytes present.
    """

    def __init__(
        self,
        message: str,
        *,
        expected: int | None = None,
        actual: int | None = None,
        path: str | None = None,
        frame: int | None = None,
        tag: int | None = None,
    ) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(message, path=path, frame=frame, tag=tag)


class CorruptEncapsulationError(CorruptPixelDataError):
    """Encapsulated pixel data whose items or offset tables are malformed."""


class LossyDataError(DicomNumpyError):
    """Lossy-compressed pixel data refused because ``allow_lossy`` is false.

    Attributes
    ----------
    http_status : int
        406: the instance cannot be provided in the requested format.
    """

    http_status = 406


class FrameIndexError(DicomNumpyError, IndexError):
    """A requested frame does not exist in the object."""
