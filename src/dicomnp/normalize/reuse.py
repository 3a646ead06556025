"""Plans made once for the files of a series whose headers read the same.

A plan (:func:`~dicomnp.normalize.plan_rendering`) and its description
(:func:`~dicomnp.normalize.describe_rendering`) depend on a header only
through the attributes they read from it. :class:`PlanCache` records what
planning one header read and gives the same plan to a later header that
reads the same values, with the same Image Pixel attributes, decoded colour
model and frames: the files of a series, which mostly share their rescale,
window and padding, are planned once; a file whose values differ gets a
plan of its own.

Planning logs (at INFO) what it ignores in a header, naming the file. While
any dicomnp logger would emit such a record, every header is planned by
itself, so that each file still logs its own.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from pydicom.multival import MultiValue

from .._attributes import UNREADABLE, Attributes
from ..decode.pixel_info import PixelInfo
from .header import RenderingDescription, describe_rendering
from .options import RenderOptions
from .plan import RenderPlan, plan_rendering
from .transform import FrameTransform

__all__ = ["PlanCache", "Planned"]


class _Unplain(Exception):
    """A value read that is not compared here (a sequence of items, an element, an array)."""


def _token(value: Any) -> Hashable:
    """``value`` as a key equal to another's only where planning could not tell them apart.

    The exact type is part of it (``1``, ``1.0`` and ``True`` differ); a float
    is taken by its bits (``-0.0`` and ``0.0`` differ); numbers and text of
    pydicom's own types (``DSfloat``, ``IS``, ``UID``) by their value.

    Raises
    ------
    _Unplain
        ``value`` is none of those, nor a list of them.
    """
    if value is None:
        return None
    kind = type(value)
    if isinstance(value, float):
        return (kind, float(value).hex())
    if isinstance(value, int):
        return (kind, int(value))
    if isinstance(value, str):
        return (kind, str(value))
    if isinstance(value, bytes):
        return (kind, bytes(value))
    if isinstance(value, (list, tuple, MultiValue)):
        return (kind, tuple(_token(item) for item in value))
    raise _Unplain(kind.__name__)


@dataclass(frozen=True)
class _Reads:
    """What planning read from a header: ``get(key, default)`` and ``key in``, each once."""

    keys: tuple[str | int, ...]
    defaults: tuple[Hashable, ...]
    contained: tuple[str | int, ...]

    def again(self, dataset: Attributes) -> tuple[Hashable, ...] | None:
        """The tokens of the same reads of ``dataset``; None where one cannot be compared."""
        try:
            values = [
                *map(dataset.get, self.keys, self.defaults),
                *map(dataset.__contains__, self.contained),
            ]
            return tuple([None if value is None else _token(value) for value in values])
        except _Unplain:
            return None
        except UNREADABLE:  # pydicom converts on access and may fail: planning will say
            return None


class _Recording:
    """A header whose reads are noted, each with its value's :func:`_token`.

    A read that raised, or whose value has no token, makes the record
    unusable (``comparable`` false): planning may have caught the error.
    """

    def __init__(self, dataset: Attributes) -> None:
        self._dataset = dataset
        self._gets: dict[tuple[str | int, Hashable], Hashable] = {}
        self._contained: dict[str | int, Hashable] = {}
        self.comparable = True

    def get(self, key: str | int, default: Any = None, /) -> Any:
        try:
            value = self._dataset.get(key, default)
        except BaseException:
            self.comparable = False
            raise
        self._note(self._gets, (key, default), value)
        return value

    def __contains__(self, key: str | int, /) -> bool:
        try:
            found = key in self._dataset
        except BaseException:
            self.comparable = False
            raise
        self._note(self._contained, key, found)
        return found

    def _note(self, noted: dict[Any, Hashable], read: Hashable, value: Any) -> None:
        if not self.comparable:
            return
        try:
            noted[read] = _token(value)
        except (_Unplain, TypeError):  # no token, or a default that cannot be a key
            self.comparable = False

    def reads(self) -> tuple[_Reads, tuple[Hashable, ...]]:
        """What was read, and the tokens of the values, in the order :meth:`_Reads.again` gives."""
        gets = tuple(self._gets)
        keys = tuple(key for key, _ in gets)
        reads = _Reads(keys, tuple(default for _, default in gets), tuple(self._contained))
        return reads, (*self._gets.values(), *self._contained.values())


@dataclass(frozen=True)
class Planned:
    """A plan, the transform that applies it, and its description.

    Attributes
    ----------
    transform : FrameTransform
        Applies the plan (``transform.plan``).
    description : RenderingDescription
        How the plan renders its frames (:func:`describe_rendering`).
    """

    transform: FrameTransform
    description: RenderingDescription

    @property
    def plan(self) -> RenderPlan:
        return self.transform.plan


def _logs_info() -> bool:
    """True when some dicomnp logger would emit an INFO record."""
    loggers = logging.Logger.manager.loggerDict.values()
    return any(
        isinstance(logger, logging.Logger)
        and (logger.name == "dicomnp" or logger.name.startswith("dicomnp."))
        and logger.isEnabledFor(logging.INFO)
        for logger in loggers
    )


class PlanCache:
    """Plans by ``options``, each made once for the headers that read the same.

    Parameters
    ----------
    options : RenderOptions
        How every plan renders.

    Examples
    --------
    >>> from dicomnp._source import open_source
    >>> from dicomnp.decode import open_frames
    >>> from dicomnp.examples import ct_slice
    >>> plans = PlanCache(RenderOptions.create())
    >>> made = []
    >>> for position in (0.0, 2.5):
    ...     with open_source(ct_slice(position=(0.0, 0.0, position))) as opened:
    ...         decoder = open_frames(opened)
    ...         made.append(plans.planned(opened.dataset, decoder.info, "MONOCHROME2", (0,),
    ...                                   little_endian=True, name=opened.name))
    >>> made[0] is made[1]  # the position is not read by planning
    True
    """

    def __init__(self, options: RenderOptions) -> None:
        self.options = options
        self._reuse = not _logs_info()
        self._made: dict[Hashable, dict[_Reads, dict[tuple[Hashable, ...], Planned]]]
        self._made = {}

    def planned(
        self,
        dataset: Attributes,
        info: PixelInfo,
        decoded_photometric: str,
        frames: tuple[int, ...],
        *,
        little_endian: bool,
        name: str,
    ) -> Planned:
        """The plan of ``frames`` of a header, and its description.

        Parameters as :func:`~dicomnp.normalize.plan_rendering`'s; ``name``
        serves messages only.

        Raises
        ------
        InvalidLutError, InvalidPixelMetadataError, InvalidOptionError
            As :func:`~dicomnp.normalize.plan_rendering`.
        """
        if not self._reuse:
            return self._plan(dataset, info, decoded_photometric, frames, little_endian, name)
        made = self._made.setdefault((info, decoded_photometric, frames, little_endian), {})
        for reads, plans in tuple(made.items()):  # a copy: other threads may add to it
            tokens = reads.again(dataset)
            found = plans.get(tokens) if tokens is not None else None
            if found is not None:
                return found
        recording = _Recording(dataset)
        planned = self._plan(recording, info, decoded_photometric, frames, little_endian, name)
        if recording.comparable:
            reads, tokens = recording.reads()
            made.setdefault(reads, {})[tokens] = planned
        return planned

    def _plan(
        self,
        dataset: Attributes,
        info: PixelInfo,
        decoded_photometric: str,
        frames: tuple[int, ...],
        little_endian: bool,
        name: str,
    ) -> Planned:
        plan = plan_rendering(
            dataset,
            info,
            decoded_photometric,
            frames,
            self.options,
            little_endian=little_endian,
            name=name,
        )
        return Planned(FrameTransform(plan), describe_rendering(plan, dataset, name))
