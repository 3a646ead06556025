"""Volume headers as dicts: what ``dataclasses.asdict`` gives, value for value and type for type."""

from __future__ import annotations

import copy
import dataclasses
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

import pytest
from pydicom.dataset import Dataset

from dicomnp import combine_series, combine_volumes
from dicomnp.volume.plain import as_plain_dict
from support.mr_build import classic_volumes
from support.series_build import enhanced_image, geometry_series, rgb_series


def _same(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal, and of the same type at every level (``==`` takes 1 for 1.0 and True)."""
    assert type(ours) is type(theirs), where
    if isinstance(ours, dict):
        assert list(ours) == list(theirs), where
        for key in ours:
            _same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs), where
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{index}]")
    else:
        assert ours == theirs or (ours != ours and theirs != theirs), where


def _modality_rescaled() -> list[Dataset]:
    datasets = geometry_series(4)
    for k, ds in enumerate(datasets):
        ds.RescaleSlope = "0.5" if k == 1 else "1"
        ds.RescaleIntercept = "-1024"
        ds.PixelPaddingValue = 1027
    return datasets


def _with_a_repeat() -> list[Dataset]:
    datasets = geometry_series(4)
    return [*datasets, copy.deepcopy(datasets[2])]


def _monochrome1() -> list[Dataset]:
    datasets = geometry_series(3)
    for ds in datasets:
        ds.PhotometricInterpretation = "MONOCHROME1"
    return datasets


VOLUMES: dict[str, Callable[[], Any]] = {
    "stored": lambda: combine_series(geometry_series(4)),
    "modality, padding mask": lambda: combine_series(
        _modality_rescaled(), values="modality", padding="mask"
    ),
    "display windows": lambda: combine_series(geometry_series(3), values="display"),
    "a repeat left out": lambda: combine_series(_with_a_repeat()),
    "monochrome1": lambda: combine_series(_monochrome1()),
    "rgb": lambda: combine_series(rgb_series()),
    "enhanced": lambda: combine_series(
        enhanced_image([(0.0, 0.0, 2.5 * k) for k in range(3)], slopes=[1.0, 2.0, 0.5])
    ),
    "4D diffusion": lambda: combine_volumes(
        classic_volumes(
            3,
            2,
            per_volume=[
                {"DiffusionBValue": 0.0 if v == 0 else 1000.0}
                | ({"DiffusionGradientOrientation": [1.0, 0.0, 0.0]} if v else {})
                for v in range(3)
            ],
        )
    ),
    "4D by trigger time": lambda: combine_volumes(
        classic_volumes(2, 3, per_volume=[{"TriggerTime": 10.0 * v} for v in range(2)]),
        values="display",
    ),
}


@pytest.mark.parametrize("name", list(VOLUMES), ids=list(VOLUMES))
def test_a_header_gives_the_dict_of_dataclasses_asdict(name: str) -> None:
    header = VOLUMES[name]().header
    expected = dataclasses.asdict(header)
    found = header.as_dict()
    _same(found, expected)
    # nothing in it is shared with the header: changing it leaves the header as it was
    for value in found.values():
        if isinstance(value, dict):
            value["changed"] = True
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, dict):
                    item["changed"] = True
    _same(header.as_dict(), expected)


def test_the_cases_hold_what_the_dict_copies() -> None:
    found = VOLUMES["a repeat left out"]().header.as_dict()
    assert found["dropped"]
    assert isinstance(found["dropped"][0], dict)
    windows = VOLUMES["display windows"]().header.as_dict()["windows"]
    assert all(isinstance(window, dict) for window in windows)
    four_d = VOLUMES["4D diffusion"]().header.as_dict()
    assert isinstance(four_d["volume_headers"][0], dict)
    assert four_d["gradients"][1] == (1.0, 0.0, 0.0)


Point = namedtuple("Point", "x y")


@dataclasses.dataclass
class _Inner:
    values: list[float]
    named: Point


@dataclasses.dataclass
class _Outer:
    items: tuple[_Inner, ...]
    table: dict[Any, Any]
    ordered: OrderedDict[str, list[int]]
    mixed: list[Any]
    other: Any = None


def test_any_dataclass_gives_the_dict_of_dataclasses_asdict() -> None:
    inner = _Inner([1.0, float("nan")], Point([1], {"a": (2,)}))
    outer = _Outer(
        items=(inner, inner),
        table={(1, 2): [inner], "k": {"n": None}, 3: frozenset({1})},
        ordered=OrderedDict(b=[1], a=[2]),
        mixed=[1, True, 1.0, b"x", 1j, "s", [], (), {}],
        other=Dataset(),
    )
    found = as_plain_dict(outer)
    _same(found, dataclasses.asdict(outer))
    found["items"][0]["values"].append(2.0)
    found["table"]["k"]["n"] = 1
    assert inner.values == [1.0, inner.values[1]]
    assert outer.table["k"] == {"n": None}
    assert found["other"] is not outer.other


def test_only_a_dataclass_instance_is_taken() -> None:
    with pytest.raises(TypeError, match="dataclass instances"):
        as_plain_dict(_Outer)
    with pytest.raises(TypeError, match="dataclass instances"):
        as_plain_dict({"a": 1})
