"""Deciding from the header alone whether pixel data are lossy (rule R6, docs/rendering.rst).

The decision needs no codec and no pixel bytes, so it is made before any
decoding. Evidence, any one of which makes data lossy:

* a transfer syntax that only carries lossy data (JPEG Baseline, video, ...);
* Lossy Image Compression (0028,2110) "01", which stays set after the data
  were decompressed and stored natively again;
* a transfer syntax that may be either (JPEG 2000 .91, HTJ2K .203, JPEG-LS
  near-lossless .81, JPEG XL .112) unless the file says "00".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .._attributes import Attributes, optional
from .._syntaxes import Lossiness, TransferSyntax
from ..errors import LossyDataError

__all__ = ["LossyAssessment", "assess_lossy", "refuse_lossy"]

logger = logging.getLogger(__name__)

LOSSY_IMAGE_COMPRESSION = 0x00282110


@dataclass(frozen=True)
class LossyAssessment:
    """Whether an instance's pixel data are lossy, and why.

    Attributes
    ----------
    lossy : bool
        True when any evidence says the data went through lossy compression.
    evidence : tuple of str
        The facts behind the decision, in words (also when not lossy).
    lossy_image_compression : str or None
        Lossy Image Compression (0028,2110) as found, or None.
    methods : tuple of str
        Lossy Image Compression Method (0028,2114) values.
    ratios : tuple of float
        Lossy Image Compression Ratio (0028,2112) values.
    """

    lossy: bool
    evidence: tuple[str, ...]
    lossy_image_compression: str | None
    methods: tuple[str, ...]
    ratios: tuple[float, ...]


def _stripped(value: Any) -> str:
    return str(value).strip()


def _strings(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, (str, bytes)):
        value = [value]
    try:
        return tuple(str(item).strip() for item in value)
    except TypeError:
        return (str(value),)


def _numbers(value: Any) -> tuple[float, ...]:
    numbers = []
    for item in _strings(value):
        try:
            numbers.append(float(item))
        except ValueError:
            logger.info("Lossy Image Compression Ratio %r is not a number; ignored", item)
    return tuple(numbers)


def assess_lossy(dataset: Attributes, syntax: TransferSyntax) -> LossyAssessment:
    """Decide from the header whether the pixel data are lossy.

    Parameters
    ----------
    dataset : pydicom.Dataset or Attributes
        The data set, pixel data not needed.
    syntax : TransferSyntax
        Its transfer syntax.

    Returns
    -------
    LossyAssessment
        The decision and its evidence.

    Examples
    --------
    >>> from dicomnp._syntaxes import lookup
    >>> from dicomnp.examples import ct_slice
    >>> dataset = ct_slice()
    >>> assessment = assess_lossy(dataset, lookup("1.2.840.10008.1.2.4.91"))
    >>> assessment.lossy, assessment.evidence[0].endswith("(0028,2110) is absent")
    (True, True)
    >>> dataset.LossyImageCompression = "01"
    >>> assess_lossy(dataset, lookup("1.2.840.10008.1.2.1")).lossy
    True
    """
    flag = optional(dataset, "LossyImageCompression", "", _stripped)
    methods = _strings(optional(dataset, "LossyImageCompressionMethod", ""))
    ratios = _numbers(optional(dataset, "LossyImageCompressionRatio", ""))
    named = f"transfer syntax {syntax.name} ({syntax.uid})"
    evidence: list[str] = []
    lossy = False
    if syntax.lossiness is Lossiness.LOSSY:
        lossy = True
        evidence.append(f"{named} is lossy")
    elif syntax.lossiness is Lossiness.EITHER:
        if flag == "00":
            evidence.append(f"{named} may be lossy, but Lossy Image Compression (0028,2110) is 00")
        else:
            lossy = True
            state = "is absent" if flag is None else f"is {flag!r}"
            evidence.append(f"{named} may be lossy and Lossy Image Compression (0028,2110) {state}")
    if flag == "01":
        lossy = True
        evidence.append("Lossy Image Compression (0028,2110) is 01")
    elif flag not in (None, "00"):
        logger.info("Lossy Image Compression %r is neither 00 nor 01; not taken as evidence", flag)
    if methods:
        evidence.append(f"Lossy Image Compression Method (0028,2114) is {', '.join(methods)}")
    if ratios:
        evidence.append(
            "Lossy Image Compression Ratio (0028,2112) is " + ", ".join(f"{r:g}" for r in ratios)
        )
    if not lossy and not evidence:
        evidence.append(f"{named} is lossless and nothing marks the data as lossy")
    return LossyAssessment(
        lossy=lossy,
        evidence=tuple(evidence),
        lossy_image_compression=flag,
        methods=methods,
        ratios=ratios,
    )


def refuse_lossy(
    assessment: LossyAssessment, dataset: Attributes, syntax: TransferSyntax, name: str
) -> None:
    """Raise :class:`LossyDataError` when the assessment says lossy.

    Raises
    ------
    LossyDataError
        With ``http_status`` 406, the evidence, and a message saying that the
        instance cannot be provided as ``image/numpy``.
    """
    if not assessment.lossy:
        return
    uid = optional(dataset, "SOPInstanceUID", name)
    instance = f"instance {uid}" if uid else "the instance"
    raise LossyDataError(
        f"{instance} cannot be provided as image/numpy: its pixel data are lossy "
        f"({'; '.join(assessment.evidence)}); pass allow_lossy=True to decode it anyway",
        evidence=assessment.evidence,
        transfer_syntax_uid=syntax.uid,
        lossy_image_compression=assessment.lossy_image_compression,
        path=name,
        tag=LOSSY_IMAGE_COMPRESSION if assessment.lossy_image_compression == "01" else None,
    )
