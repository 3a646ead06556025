"""Series and instances of a DICOMweb origin as Volumes and Images.

The calls mirror the local ones. :func:`plan_series` reads the series
metadata alone (one request, no pixel byte) into data sets that the volume
layer plans as it plans files: geometry, sizes and the lossy evidence the
metadata hold, refusing a lossy series before any frame is fetched.
:func:`combine_series` and :func:`read` then fetch only the frames they need,
in parallel, put them into those data sets (:mod:`.instances`) and hand them
to :func:`dicomnp.combine_series` and :func:`dicomnp.read`: the same rendering
rules, options and errors as a local read.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from .._api import read as read_local
from .._syntaxes import lookup
from ..decode.frames import FrameSelection, select_frames
from ..errors import DicomwebError
from ..normalize import RenderOptions
from ..normalize.image import Image
from ..normalize.lossy import assess_lossy, refuse_lossy
from ..volume.volume import SeriesPlan, Volume
from ..volume.volume import combine_series as combine_local
from ..volume.volume import plan_series as plan_local
from .connection import Connection, FetchedFrames, connect
from .instances import (
    StandIns,
    attach_frames,
    frame_count,
    listed_frames,
    lossy_evidence,
    metadata_dataset,
    stored_syntax,
)
from .media import EXPLICIT_VR_LITTLE_ENDIAN

if TYPE_CHECKING:
    import requests

__all__ = [
    "RemoteInstance",
    "RemoteSeriesPlan",
    "SeriesInfo",
    "combine_series",
    "find_series",
    "plan_series",
    "read",
]

DEFAULT_FETCHES = 8
"""Requests in flight at once by default."""

_RENDERING = ("values", "allow_lossy", "padding", "voi", "voi_index", "window", "display_bits")
"""The options of :class:`~dicomnp.normalize.RenderOptions`."""


@dataclass(frozen=True)
class SeriesInfo:
    """One series found by :func:`find_series` (QIDO-RS).

    Attributes
    ----------
    study, series : str
        Study and Series Instance UIDs.
    modality, description : str
        Modality and Series Description ("" when the server gives none).
    number : int or None
        Series Number.
    instances : int or None
        Number of Series Related Instances, when the server gives it.
    """

    study: str
    series: str
    modality: str
    description: str
    number: int | None
    instances: int | None


@dataclass(frozen=True)
class RemoteInstance:
    """One instance of a planned series: where it is and its data set (no pixels yet)."""

    uid: str
    url: str
    frames: int
    dataset: Dataset


@dataclass(frozen=True)
class RemoteSeriesPlan:
    """A series planned from its metadata alone.

    Attributes
    ----------
    connection : Connection
        Where the series is.
    study, series : str
        Its UIDs.
    instances : tuple of RemoteInstance
        Every instance of the series, in the order the server listed them.
    plan : SeriesPlan
        The volume layer's plan: slices in array order, the geometry (its
        ``affine`` is the volume's), and each instance's lossy assessment from
        the metadata. Exact duplicates (same position) are compared, and left
        out or refused, only once their frames are fetched.
    nbytes : int
        Bytes of native frames the series holds (what a decompressed
        transfer would send).
    """

    connection: Connection
    study: str
    series: str
    instances: tuple[RemoteInstance, ...]
    plan: SeriesPlan
    nbytes: int


def _value(item: Mapping[str, Any], key: str) -> Any:
    values = item.get(key, {}).get("Value") or [None]
    return values[0]


def find_series(
    url: str | Connection,
    study: str | None = None,
    *,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
    **filters: str,
) -> list[SeriesInfo]:
    """Search the origin for series (QIDO-RS), in one study or in all.

    Parameters
    ----------
    url : str or Connection
        The DICOMweb base URL.
    study : str, optional
        A Study Instance UID to search within.
    session, headers
        Authentication: a ``requests.Session`` or headers sent with each request.
    **filters : str
        QIDO-RS matching keys, e.g. ``Modality="CT"``.

    Returns
    -------
    list of SeriesInfo
    """
    connection = connect(url, session, headers)
    client = connection.client()
    found = connection.call(
        "the series search",
        connection.url,
        client.search_for_series,
        study_instance_uid=study,
        search_filters=dict(filters) or None,
        get_remaining=True,
        fields=["SeriesDescription", "NumberOfSeriesRelatedInstances", "SeriesNumber"],
    )
    result = []
    for item in found:
        number = _value(item, "00200011")
        count = _value(item, "00201209")
        result.append(
            SeriesInfo(
                study=str(_value(item, "0020000D") or study or ""),
                series=str(_value(item, "0020000E") or ""),
                modality=str(_value(item, "00080060") or ""),
                description=str(_value(item, "0008103E") or ""),
                number=int(number) if number is not None else None,
                instances=int(count) if count is not None else None,
            )
        )
    return result


def _check_options(local: Any, options: Mapping[str, Any]) -> None:
    """Refuse unknown or malformed rendering options before anything is asked of the server.

    Raises
    ------
    TypeError
        An option the local call does not take.
    InvalidOptionError
        A rendering option out of range.
    """
    inspect.signature(local).bind(None, **options)
    RenderOptions.create(**{key: options[key] for key in _RENDERING if key in options})


def _refuse_lossy_by_metadata(metadata: Mapping[str, Any], name: str, allow_lossy: bool) -> None:
    """Refuse lossy data by the metadata, before any frame is fetched.

    The evidence is Lossy Image Compression (0028,2110) and, where the
    server names it (0002,0010 or 0008,3002), the stored transfer syntax.
    """
    if allow_lossy:
        return
    syntax = stored_syntax(metadata) or lookup(EXPLICIT_VR_LITTLE_ENDIAN)
    assert syntax is not None
    evidence = lossy_evidence(metadata)
    refuse_lossy(assess_lossy(evidence, syntax), evidence, syntax, name)


@dataclass(frozen=True)
class _Listed:
    """One instance as the series metadata list it."""

    uid: str
    url: str
    frames: int
    metadata: Mapping[str, Any]


def _list_series(
    connection: Connection, study: str, series: str, allow_lossy: bool
) -> list[_Listed]:
    """The series' instances from one metadata request, lossy data refused."""
    series_url = f"{connection.url}/studies/{study}/series/{series}"
    metadata = connection.call(
        "the series metadata request",
        series_url,
        connection.client().retrieve_series_metadata,
        study,
        series,
    )
    if not metadata:
        raise DicomwebError("the series has no instances", url=series_url, status=404)
    listed = []
    for item in metadata:
        uid = str(_value(item, "00080018") or "")
        if not uid:
            raise DicomwebError("an instance's metadata lack its SOP Instance UID", url=series_url)
        name = connection.instance_url(study, series, uid)
        _refuse_lossy_by_metadata(item, name, allow_lossy)
        listed.append(_Listed(uid, name, listed_frames(item), item))
    return listed


def _instances(connection: Connection, listed: Sequence[_Listed]) -> tuple[RemoteInstance, ...]:
    """Each listed instance with its data set built from the metadata (no pixels yet)."""
    stand_ins = StandIns()
    return tuple(
        RemoteInstance(
            uid=item.uid,
            url=item.url,
            frames=item.frames,
            dataset=metadata_dataset(item.metadata, item.url, connection.bulk, stand_ins),
        )
        for item in listed
    )


def _plan(
    connection: Connection,
    study: str,
    series: str,
    listed: Sequence[_Listed],
    options: Mapping[str, Any],
) -> RemoteSeriesPlan:
    instances = _instances(connection, listed)
    plan = plan_local([instance.dataset for instance in instances], **options)
    nbytes = sum(len(instance.dataset.PixelData) for instance in instances if _native(instance))
    return RemoteSeriesPlan(connection, study, series, instances, plan, nbytes)


def plan_series(
    url: str | Connection,
    study: str,
    series: str,
    *,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
    rtol: float = 0.1,
    atol: float = 0.01,
    allow_shear: bool = False,
    check_instance_numbers: bool = False,
    allow_lossy: bool = False,
) -> RemoteSeriesPlan:
    """Plan a series from its metadata alone: one request, no pixel data.

    Takes the geometry options of :func:`dicomnp.combine_series` and raises
    its errors (naming each instance by its URL). Lossy data are refused
    from the metadata: Lossy Image Compression (0028,2110) "01", or a lossy
    stored transfer syntax where the server names it (Orthanc does not; a
    lossy syntax is then refused when the frames arrive, before decoding).

    Raises
    ------
    DicomwebError
        The server refused the request (``status`` 404 for an unknown series).
    LossyDataError, GeometryError, InconsistentSeriesError, ...
        As :func:`dicomnp.combine_series`.
    """
    connection = connect(url, session, headers)
    listed = _list_series(connection, study, series, allow_lossy)
    options = {
        "rtol": rtol,
        "atol": atol,
        "allow_shear": allow_shear,
        "check_instance_numbers": check_instance_numbers,
        "allow_lossy": allow_lossy,
    }
    return _plan(connection, study, series, listed, options)


def _native(instance: RemoteInstance) -> bool:
    return "PixelData" in instance.dataset


def _chunks(numbers: Sequence[int], pieces: int) -> list[list[int]]:
    size = max(1, math.ceil(len(numbers) / max(1, pieces)))
    return [list(numbers[start : start + size]) for start in range(0, len(numbers), size)]


class _Fetching:
    """Frame requests in flight: ``fetches`` at a time, from threads.

    An instance's frames are asked for in one request, or split across
    requests when there are fewer instances than requests in flight.
    """

    def __init__(
        self,
        connection: Connection,
        wanted: Sequence[tuple[str, Sequence[int]]],
        fetches: int | None,
    ) -> None:
        count = DEFAULT_FETCHES if fetches is None else max(1, fetches)
        per_instance = max(1, count // max(1, len(wanted)))
        self.connection = connection
        self.tasks = [
            (url, chunk)
            for url, frames in wanted
            for chunk in _chunks([k + 1 for k in frames], per_instance)
        ]
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(count, len(self.tasks))))
        self.futures = [
            self.pool.submit(connection.frames, url, numbers) for url, numbers in self.tasks
        ]

    def cancel(self) -> None:
        """Ask for nothing more; wait for the requests already sent."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def frames_by_url(self) -> dict[str, tuple[str, dict[int, memoryview]]]:
        """Each instance's transfer syntax and frames (0-based), once all have come."""
        try:
            results = [future.result() for future in self.futures]
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        grouped: dict[str, list[FetchedFrames]] = {}
        for (url, _), fetched in zip(self.tasks, results, strict=True):
            grouped.setdefault(url, []).append(fetched)
        found: dict[str, tuple[str, dict[int, memoryview]]] = {}
        for url, fetched_list in grouped.items():
            if len({fetched.syntax_uid for fetched in fetched_list}) > 1:
                # The server sent one request's frames as stored, another's not.
                fetched_list = [self.connection.frames(url, _numbers_of(fetched_list))]
            frames = {
                number - 1: body
                for fetched in fetched_list
                for number, body in zip(fetched.numbers, fetched.bodies, strict=True)
            }
            found[url] = (fetched_list[0].syntax_uid, frames)
        return found


def fetch_frames(
    connection: Connection,
    wanted: Sequence[tuple[RemoteInstance, Sequence[int]]],
    fetches: int | None = None,
) -> None:
    """Fetch the 0-based frames each instance wants, in parallel, into its data set."""
    urls = [(instance.url, frames) for instance, frames in wanted]
    fetching = _Fetching(connection, urls, fetches)
    _attach(fetching, [instance for instance, _ in wanted])


def _attach(fetching: _Fetching, instances: Sequence[RemoteInstance]) -> None:
    found = fetching.frames_by_url()
    for instance in instances:
        if instance.url in found:
            syntax_uid, frames = found[instance.url]
            attach_frames(instance.dataset, syntax_uid, frames)


def _numbers_of(fetched_list: Sequence[FetchedFrames]) -> list[int]:
    return [number for fetched in fetched_list for number in fetched.numbers]


def combine_series(
    url: str | Connection,
    study: str,
    series: str,
    *,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
    fetches: int | None = None,
    **options: Any,
) -> Volume:
    """Stack a series of a DICOMweb origin into a Volume, as :func:`dicomnp.combine_series` does.

    Reads the series metadata and refuses lossy data from them before any
    frame is fetched; then fetches every frame of every instance, as stored
    where the server allows, ``fetches`` requests at a time (default 8),
    while data sets are built from the metadata, and stacks them by the
    rules of :func:`dicomnp.combine_series`, which takes the same
    ``options`` and checks the geometry before decoding anything (to check
    it before fetching, call :func:`plan_series` first). The
    array, affine and header equal those of the same files read locally,
    except ``header.files``, which holds the instances' URLs, and
    ``header.transfer_syntax_uids``, which says what was fetched (Explicit
    VR Little Endian where the server decompressed).

    Parameters
    ----------
    url : str or Connection
        The DICOMweb base URL.
    study, series : str
        Study and Series Instance UIDs.
    session, headers
        Authentication: a ``requests.Session`` or headers sent with each request.
    fetches : int, optional
        Requests in flight at once.
    **options
        Any option of :func:`dicomnp.combine_series`.
    """
    _check_options(combine_local, options)
    connection = connect(url, session, headers)
    allow_lossy = bool(options.get("allow_lossy", False))
    listed = _list_series(connection, study, series, allow_lossy)
    fetching = _Fetching(connection, [(item.url, range(item.frames)) for item in listed], fetches)
    try:
        instances = _instances(connection, listed)
    except BaseException:
        fetching.cancel()
        raise
    _attach(fetching, instances)
    return combine_local([instance.dataset for instance in instances], **options)


def read(
    url: str | Connection,
    study: str,
    series: str,
    instance: str,
    *,
    frames: FrameSelection = None,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
    fetches: int | None = None,
    **options: Any,
) -> Image:
    """Read one instance of a DICOMweb origin, as :func:`dicomnp.read` reads a file.

    Fetches the instance's metadata, refuses lossy data from them (unless
    ``allow_lossy=True``), then fetches only the frames asked for (0-based,
    as for :func:`dicomnp.read`), ``fetches`` requests at a time.

    Parameters
    ----------
    url : str or Connection
        The DICOMweb base URL.
    study, series, instance : str
        Study, Series and SOP Instance UIDs.
    frames : int, slice, sequence of int or None
        As for :func:`dicomnp.read`.
    session, headers
        Authentication: a ``requests.Session`` or headers sent with each request.
    fetches : int, optional
        Requests in flight at once.
    **options
        Any option of :func:`dicomnp.read`.
    """
    _check_options(read_local, {"frames": frames, **options})
    connection = connect(url, session, headers)
    name = connection.instance_url(study, series, instance)
    metadata = connection.call(
        "the instance metadata request",
        name,
        connection.client().retrieve_instance_metadata,
        study,
        series,
        instance,
    )
    _refuse_lossy_by_metadata(metadata, name, bool(options.get("allow_lossy", False)))
    dataset = metadata_dataset(metadata, name, connection.bulk)
    count = frame_count(dataset)
    chosen = sorted(set(select_frames(frames, count, name)))
    remote = RemoteInstance(instance, name, count, dataset)
    fetch_frames(connection, [(remote, chosen)], fetches)
    return read_local(dataset, frames=frames, **options)
