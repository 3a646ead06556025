"""The dicomnp exception hierarchy.

Every error raised on purpose by dicomnp derives from :class:`DicomNumpyError`,
which is also a :class:`ValueError`, so code that already catches
``ValueError`` keeps working. Each error carries the file, frame and tag it is
about as attributes, and names them in its message.

A subclass that carries more declares each extra attribute as an annotated
class attribute with its default (``expected: int | None = None``); the root's
``__init__`` accepts it as a keyword argument and stores it, and the root's
``__reduce__`` keeps it when the error is pickled to or from a worker process.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import ClassVar, cast

__all__ = [
    "CorruptEncapsulationError",
    "CorruptPixelDataError",
    "DicomImportException",
    "DicomNumpyError",
    "DicomwebError",
    "DuplicateSliceError",
    "FrameIndexError",
    "GeometryError",
    "InconsistentSeriesError",
    "InvalidLutError",
    "InvalidOptionError",
    "InvalidPixelMetadataError",
    "LossyDataError",
    "MissingCodecError",
    "MissingDependencyError",
    "MissingInstanceNumberException",
    "MissingSliceError",
    "MultipleVolumesError",
    "NoPixelDataError",
    "NotDicomError",
    "OutputError",
    "OutputTooLargeError",
    "SeriesError",
    "ShearedStackError",
    "SourceNotFoundError",
    "TruncatedPixelDataError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
    "WorkerDied",
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
    **extra
        The attributes the subclass declares (see its Attributes section); each
        one left out takes the class's default. A value whose default is a
        tuple is stored as a tuple.

    Attributes
    ----------
    path, frame, tag
        As given; ``None`` when not applicable.
    detail : str
        ``message`` alone, without the path, frame and tag prefix.

    Raises
    ------
    TypeError
        For a keyword argument that the class does not declare.

    Examples
    --------
    >>> import dicomnp
    >>> try:
    ...     dicomnp.read(b"hello")
    ... except dicomnp.DicomNumpyError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    NotDicomError True
    >>> str(dicomnp.DicomNumpyError("bad value", path="a.dcm", frame=2, tag=0x00280010))
    'a.dcm: frame 2: (0028,0010): bad value'
    """

    _fields: ClassVar[tuple[tuple[str, object], ...]] = ()
    """The extra attributes of this class and its bases, with their defaults."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, object] = {}
        for base in reversed(cls.__mro__):
            if issubclass(base, DicomNumpyError) and base is not DicomNumpyError:
                for name in getattr(base, "__annotations__", {}):
                    fields[name] = vars(base)[name]
        cls._fields = tuple(fields.items())

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        frame: int | None = None,
        tag: int | None = None,
        **extra: object,
    ) -> None:
        for name, default in self._fields:
            value = extra.pop(name, default)
            if isinstance(default, tuple):
                value = tuple(cast("Iterable[object]", value))
            setattr(self, name, value)
        if extra:
            unknown = next(iter(extra))
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument {unknown!r}"
            )
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
        # Rebuilt without running __init__ again, which would take the composed
        # message for the detail. ``path`` is named apart from the instance
        # dictionary: on an ImportError subclass it lives in ImportError's slot.
        return (_rebuild, (type(self), self.args), {**vars(self), "path": self.path})


def _rebuild(cls: type[DicomNumpyError], args: tuple[object, ...]) -> DicomNumpyError:
    # The state (third item of __reduce__) is restored by BaseException.__setstate__.
    return cls.__new__(cls, *args)


class NotDicomError(DicomNumpyError):
    """The source is not a DICOM data set dicomnp can read.

    Examples
    --------
    >>> import dicomnp
    >>> dicomnp.read(b"hello")
    Traceback (most recent call last):
    ...
    dicomnp.errors.NotDicomError: <bytes>: not a DICOM file (no preamble, no image attributes)
    """


class SourceNotFoundError(NotDicomError, FileNotFoundError):
    """The file or folder to read does not exist.

    Also a :class:`FileNotFoundError`, so ``except FileNotFoundError`` (or
    ``OSError``) catches it; ``errno`` is ``ENOENT`` and ``filename`` the path.

    Examples
    --------
    >>> import dicomnp
    >>> try:
    ...     dicomnp.read("no/such/file.dcm")
    ... except FileNotFoundError as error:
    ...     print(type(error).__name__, error.filename)
    SourceNotFoundError no/such/file.dcm
    """

    def __new__(cls, *args: object, **extra: object) -> SourceNotFoundError:
        # OSError's layout: the first __new__ in the method order (ValueError's) cannot build it.
        return OSError.__new__(cls, *args)

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        frame: int | None = None,
        tag: int | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message, path=path, frame=frame, tag=tag, **extra)
        self.errno = errno.ENOENT
        self.strerror = message
        self.filename = path

    def __str__(self) -> str:
        # OSError's would prefix "[Errno 2]" and repeat the path; the message already says it.
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[object, ...]:
        cls, args, state = super().__reduce__()
        assert isinstance(state, dict)
        fields = {"errno": self.errno, "strerror": self.strerror, "filename": self.filename}
        return (cls, args, {**state, **fields})


class NoPixelDataError(DicomNumpyError):
    """The data set holds no Pixel Data, Float Pixel Data or Double Float Pixel Data.

    The message names the SOP Class when the data set has one (an RT Plan,
    a structure set, ...), and says when it is a DICOMDIR.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> del dataset.PixelData
    >>> dicomnp.read(dataset)
    Traceback (most recent call last):
    ...
    dicomnp.errors.NoPixelDataError: <Dataset>: the data set has no pixel data element (CT Image ...
    """


class InvalidPixelMetadataError(DicomNumpyError):
    """A group 0028 attribute is missing, malformed or contradicts another one.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> dataset.BitsStored = 20
    >>> dicomnp.read(dataset)
    Traceback (most recent call last):
    ...
    dicomnp.errors.InvalidPixelMetadataError: <Dataset>: (0028,0101): BitsStored 20 must be ...
    """


class UnsupportedPixelDataError(DicomNumpyError):
    """Valid DICOM pixel data of a kind dicomnp does not decode.

    Examples
    --------
    >>> import dicomnp
    >>> issubclass(dicomnp.UnsupportedTransferSyntaxError, dicomnp.UnsupportedPixelDataError)
    True
    >>> issubclass(dicomnp.MissingCodecError, dicomnp.UnsupportedPixelDataError)
    True
    """


class UnsupportedTransferSyntaxError(UnsupportedPixelDataError):
    """The transfer syntax is unknown to dicomnp or has no decoder.

    Attributes
    ----------
    http_status : int
        406, the status a DICOMweb server gives when it cannot provide the
        requested representation.

    Examples
    --------
    >>> import pydicom
    >>> import dicomnp
    >>> try:
    ...     dicomnp.read(pydicom.Dataset())
    ... except dicomnp.UnsupportedTransferSyntaxError as error:
    ...     print(error.http_status, error.tag == 0x00020010)
    406 True
    """

    http_status = 406


class MissingDependencyError(DicomNumpyError, ImportError):
    """An optional package that the call needs is not installed; the message says what to install.

    Attributes
    ----------
    packages : tuple of str
        The missing packages (import names).
    extra : str or None
        The dicomnp extra that installs them, e.g. ``"dask"`` for
        ``pip install 'dicomnp[dask]'``.

    Examples
    --------
    >>> import dicomnp
    >>> error = dicomnp.MissingDependencyError(
    ...     "NIfTI output needs nibabel", packages=("nibabel",), extra="nifti"
    ... )
    >>> isinstance(error, ImportError), error.extra
    (True, 'nifti')
    """

    packages: tuple[str, ...] = ()
    extra: str | None = None


class MissingCodecError(UnsupportedPixelDataError, MissingDependencyError):
    """The codec package needed for this transfer syntax is not installed.

    Examples
    --------
    >>> import dicomnp
    >>> issubclass(dicomnp.MissingCodecError, ImportError)  # also caught as an ImportError
    True
    """


class CorruptPixelDataError(DicomNumpyError):
    """The pixel bytes cannot be decoded as the header describes them.

    Examples
    --------
    >>> import dicomnp
    >>> issubclass(dicomnp.TruncatedPixelDataError, dicomnp.CorruptPixelDataError)
    True
    >>> issubclass(dicomnp.CorruptEncapsulationError, dicomnp.CorruptPixelDataError)
    True
    """


class TruncatedPixelDataError(CorruptPixelDataError):
    """The pixel data hold fewer bytes than the header implies.

    Attributes
    ----------
    expected : int or None
        The number of bytes the header implies.
    actual : int or None
        The number of bytes present.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> dataset.PixelData = dataset.PixelData[:100]
    >>> try:
    ...     dicomnp.read(dataset)
    ... except dicomnp.TruncatedPixelDataError as error:
    ...     print(error.detail)
    PixelData holds 100 bytes but 1 frame(s) of 64x64x1 at 16 bits need 8192
    """

    expected: int | None = None
    actual: int | None = None


class CorruptEncapsulationError(CorruptPixelDataError):
    """Encapsulated pixel data whose items or offset tables are malformed.

    Examples
    --------
    >>> import dicomnp
    >>> error = dicomnp.CorruptEncapsulationError("item tag expected", path="a.dcm", frame=0)
    >>> str(error), isinstance(error, dicomnp.CorruptPixelDataError)
    ('a.dcm: frame 0: item tag expected', True)
    """


class OutputTooLargeError(DicomNumpyError):
    """The output array would exceed the caller's ``max_bytes`` limit, or cannot be allocated.

    Raised before anything is allocated. Pass a larger ``max_bytes`` (or
    None for no limit) to accept the output.

    Attributes
    ----------
    size : int or None
        Bytes the output needs.
    limit : int or None
        The limit in force; None when the allocation itself failed.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> try:
    ...     dicomnp.read(ct_slice(), max_bytes=100)
    ... except dicomnp.OutputTooLargeError as error:
    ...     print(error.size, error.limit)
    8192 100
    """

    size: int | None = None
    limit: int | None = None


class LossyDataError(DicomNumpyError):
    """Lossy-compressed pixel data refused because ``allow_lossy`` is false.

    Attributes
    ----------
    http_status : int
        406: the instance cannot be provided in the requested format.
    evidence : tuple of str
        Each fact of the header that makes the data lossy.
    transfer_syntax_uid : str or None
        The transfer syntax of the instance.
    lossy_image_compression : str or None
        The value of Lossy Image Compression (0028,2110), if present.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> dataset.LossyImageCompression = "01"
    >>> try:
    ...     dicomnp.read(dataset)
    ... except dicomnp.LossyDataError as error:
    ...     print(error.http_status, error.evidence)
    406 ('Lossy Image Compression (0028,2110) is 01',)
    >>> dicomnp.read(dataset, allow_lossy=True).header["lossy"]
    True
    """

    http_status = 406
    evidence: tuple[str, ...] = ()
    transfer_syntax_uid: str | None = None
    lossy_image_compression: str | None = None


class InvalidOptionError(DicomNumpyError):
    """An option passed to a dicomnp call has an unknown or out-of-range value.

    Attributes
    ----------
    option : str or None
        The name of the keyword argument at fault.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> try:
    ...     dicomnp.read(ct_slice(), values="raw")
    ... except dicomnp.InvalidOptionError as error:
    ...     print(error.option)
    values
    """

    option: str | None = None


class InvalidLutError(InvalidPixelMetadataError):
    """A lookup table (palette, Modality LUT, VOI LUT) is malformed or inconsistent.

    Examples
    --------
    >>> import dicomnp
    >>> issubclass(dicomnp.InvalidLutError, dicomnp.InvalidPixelMetadataError)
    True
    """


class FrameIndexError(DicomNumpyError, IndexError):
    """A requested frame does not exist in the object.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_slice
    >>> try:
    ...     dicomnp.read(ct_slice(), frames=3)
    ... except IndexError as error:  # a FrameIndexError is also an IndexError
    ...     print(type(error).__name__, error.frame)
    FrameIndexError 3
    """


class SeriesError(DicomNumpyError):
    """Slices or frames that cannot be stacked into one volume.

    The message names the files and the values involved.

    Attributes
    ----------
    files : tuple of str
        The files (or in-memory source descriptions) involved.

    Examples
    --------
    >>> import dicomnp
    >>> dicomnp.combine_series([])
    Traceback (most recent call last):
    ...
    dicomnp.errors.SeriesError: no DICOM images found: no sources given
    """

    files: tuple[str, ...] = ()


class InconsistentSeriesError(SeriesError):
    """An attribute that must be equal in every slice differs (Rows, Pixel Spacing, ...).

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> dicomnp.combine_series(ct_series(2, 8, 8) + ct_series(2, 8, 8))
    Traceback (most recent call last):
    ...
    dicomnp.errors.InconsistentSeriesError: SeriesInstanceUID differs between slices: ...
    """


DicomImportException = SeriesError
"""dicom_numpy's name for a refusal of :func:`~dicomnp.combine_slices`: :class:`SeriesError`.

Every refusal of a series is a :class:`SeriesError` subclass, so code written
for dicom_numpy that catches ``DicomImportException`` keeps catching them.
"""


class MissingInstanceNumberException(InconsistentSeriesError):
    """Sorting by Instance Number was asked for and a slice has none (dicom_numpy's name).

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> del slices[1].InstanceNumber
    >>> dicomnp.sort_by_instance_number(slices)
    Traceback (most recent call last):
    ...
    dicomnp.errors.MissingInstanceNumberException: InstanceNumber is missing in 1 of 3 slices ...
    """


class GeometryError(SeriesError):
    """Orientation or positions that do not describe one regular grid.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> del slices[1].ImageOrientationPatient
    >>> dicomnp.combine_series(slices)
    Traceback (most recent call last):
    ...
    dicomnp.errors.GeometryError: <Dataset>: ImageOrientationPatient is missing, ...
    """


class MissingSliceError(GeometryError):
    """The slice positions leave a gap larger than the slice spacing allows.

    Attributes
    ----------
    gaps : tuple of (int, float)
        For each gap, the array index of the slice before it and the number of
        slices that fit into it (not always a whole number).

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(5, 8, 8)
    >>> try:
    ...     dicomnp.combine_series(slices[:2] + slices[3:])
    ... except dicomnp.MissingSliceError as error:
    ...     print(error.gaps)
    ((1, 1.0),)
    """

    gaps: tuple[tuple[int, float], ...] = ()


class ShearedStackError(GeometryError):
    """The slice positions step out of the slice normal (gantry tilt or shear).

    Attributes
    ----------
    angle : float
        Degrees between the step from slice to slice and the slice normal.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> for k, dataset in enumerate(slices):  # each slice 1 mm further back: a tilt
    ...     dataset.ImagePositionPatient = [-4, -4 + k, 2 * k]
    >>> try:
    ...     dicomnp.combine_series(slices)
    ... except dicomnp.ShearedStackError as error:
    ...     print(round(error.angle, 2))
    26.57
    >>> dicomnp.combine_series(slices, allow_shear=True).header.sheared
    True
    """

    angle: float = 0.0


class DuplicateSliceError(SeriesError):
    """Two different images share one slice position.

    Examples
    --------
    >>> import dicomnp
    >>> from dicomnp.examples import ct_series
    >>> slices = ct_series(3, 8, 8)
    >>> slices[1].ImagePositionPatient = slices[0].ImagePositionPatient
    >>> slices[1].InstanceNumber = slices[0].InstanceNumber
    >>> dicomnp.combine_series(slices)
    Traceback (most recent call last):
    ...
    dicomnp.errors.DuplicateSliceError: 2 different images at position 0.0000 mm: ...
    """


class MultipleVolumesError(DuplicateSliceError):
    """Slices at the same positions belong to several volumes (echoes, phases, ...).

    Attributes
    ----------
    keys : tuple of str
        The attributes whose values separate the volumes, e.g. ``("EchoNumbers",)``.

    Examples
    --------
    >>> import copy
    >>> import dicomnp
    >>> from pydicom.uid import generate_uid
    >>> from dicomnp.examples import ct_series
    >>> first = ct_series(3, 8, 8)
    >>> second = [copy.deepcopy(dataset) for dataset in first]
    >>> for echo, datasets in ((1, first), (2, second)):
    ...     for dataset in datasets:
    ...         dataset.EchoNumbers = echo
    ...         dataset.SOPInstanceUID = generate_uid()
    >>> try:
    ...     dicomnp.combine_series(first + second)
    ... except dicomnp.DuplicateSliceError as error:  # MultipleVolumesError is one
    ...     print(type(error).__name__)
    MultipleVolumesError
    """

    keys: tuple[str, ...] = ()


class WorkerDied(DicomNumpyError):
    """A worker process ended while it held a task (e.g. a codec crashed it).

    Examples
    --------
    >>> from dicomnp.errors import WorkerDied
    >>> str(WorkerDied("a decoding process ended unexpectedly (exit code -11)", path="a.dcm"))
    'a.dcm: a decoding process ended unexpectedly (exit code -11)'
    """


class OutputError(DicomNumpyError):
    """An output cannot be written: it exists, its folder is missing, or a package it needs is.

    Raised by the writer of ``dicomnp convert`` and :func:`dicomnp.convert_tree`.

    Attributes
    ----------
    missing_package : bool
        The output needs a package that is not installed (nibabel for NIfTI).

    Examples
    --------
    >>> from dicomnp.errors import OutputError
    >>> error = OutputError("out/ct.npy exists; pass --force to replace it")
    >>> str(error), error.missing_package
    ('out/ct.npy exists; pass --force to replace it', False)
    """

    missing_package: bool = False


class DicomwebError(DicomNumpyError):
    """A DICOMweb server refused a request or answered with something unreadable.

    Attributes
    ----------
    url : str or None
        The request's URL.
    status : int or None
        The HTTP status the server answered with (None when no answer came).

    Examples
    --------
    >>> from dicomnp.errors import DicomwebError
    >>> error = DicomwebError("the series is not on the server", url="http://pacs/x", status=404)
    >>> str(error), error.status
    ('http://pacs/x: the series is not on the server', 404)
    """

    url: str | None = None
    status: int | None = None

    def _compose(self) -> str:
        message = super()._compose()
        url = getattr(self, "url", None)
        return f"{url}: {message}" if url and self.path is None else message
