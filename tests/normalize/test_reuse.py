"""PlanCache shares a plan between headers only where planning reads the same values."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.valuerep import DSfloat

from dicomnp._attributes import Attributes
from dicomnp._source import open_source
from dicomnp.decode import open_frames
from dicomnp.examples import ct_slice
from dicomnp.normalize import (
    PlanCache,
    Planned,
    RenderOptions,
    describe_rendering,
    plan_rendering,
)
from dicomnp.normalize.reuse import _token
from support.render_options import OPTIONS


def planned(plans: PlanCache, dataset: Dataset, name: str = "x.dcm") -> Planned:
    with open_source(dataset) as opened:
        decoder = open_frames(opened)
        return plans.planned(
            opened.dataset,
            decoder.info,
            decoder.photometric_interpretation,
            (0,),
            little_endian=True,
            name=name,
        )


def planned_alone(options: RenderOptions, dataset: Attributes) -> Planned:
    """What planning the header by itself gives, as before any cache."""
    plans = PlanCache(options)
    return planned(plans, dataset)  # type: ignore[arg-type]


def with_values(**values: Any) -> Dataset:
    ds = ct_slice(position=(0.0, 0.0, float(len(values))))
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize("options", OPTIONS)
def test_headers_that_read_the_same_share_one_plan(options: dict[str, Any]) -> None:
    plans = PlanCache(RenderOptions.create(**options))
    first = planned(plans, ct_slice(position=(0.0, 0.0, 0.0)), "a.dcm")
    second = planned(plans, ct_slice(position=(0.0, 0.0, 2.5)), "b.dcm")
    assert second is first


CHANGES: list[Any] = [
    pytest.param({"RescaleIntercept": "-1000"}, id="intercept"),
    pytest.param({"RescaleSlope": "2"}, id="slope"),
    pytest.param({"RescaleType": "US"}, id="rescale-type"),
    pytest.param({"WindowCenter": "50"}, id="window-center"),
    pytest.param({"WindowWidth": "300"}, id="window-width"),
    pytest.param({"VOILUTFunction": "SIGMOID"}, id="voi-function"),
    pytest.param({"WindowCenterWidthExplanation": "SOFT"}, id="explanation"),
    pytest.param({"PixelPaddingValue": -2000}, id="padding"),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("change", CHANGES)
def test_a_header_that_reads_otherwise_gets_its_own_plan(
    options: dict[str, Any], change: dict[str, Any]
) -> None:
    render = RenderOptions.create(**options)
    plans = PlanCache(render)
    common = planned(plans, ct_slice())
    other = with_values(**change)
    own = planned(plans, other)
    alone = planned_alone(render, other)
    assert own.plan == alone.plan
    assert own.description == alone.description
    assert planned(plans, ct_slice(position=(0.0, 0.0, 9.0))) is common
    if own.plan != common.plan or own.description != common.description:
        assert own is not common


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(1, 1.0, id="int-float"),
        pytest.param(1, True, id="int-bool"),
        pytest.param(0.0, -0.0, id="signed-zero"),
        pytest.param("1", 1, id="text-number"),
        pytest.param(DSfloat("1.5"), 1.5, id="pydicom-float"),
        pytest.param([1.0, 2.0], [1.0, 3.0], id="list"),
        pytest.param(None, "", id="absent-empty"),
    ],
)
def test_values_planning_could_tell_apart_are_kept_apart(one: Any, other: Any) -> None:
    assert _token(one) != _token(other)
    assert _token(one) == _token(one)


def test_a_pydicom_number_is_taken_by_its_value() -> None:
    assert _token(DSfloat("1.5")) == _token(DSfloat("1.50"))


def test_a_sequence_read_keeps_the_plan_to_its_header() -> None:
    plans = PlanCache(RenderOptions.create(values="modality"))
    made = []
    for position in (0.0, 2.5):
        ds = ct_slice(position=(0.0, 0.0, position))
        item = Dataset()
        item.LUTDescriptor = [4, 0, 16]
        item.ModalityLUTType = "HU"
        item.LUTData = [0, 10, 20, 30]
        ds.ModalityLUTSequence = [item]
        made.append(planned(plans, ds))
    assert made[0] is not made[1]
    assert made[0].description == made[1].description


class Unreadable:
    """A header whose Pixel Padding Value cannot be read, as pydicom may fail on access."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def get(self, key: str | int, default: Any = None, /) -> Any:
        if key == "PixelPaddingValue":
            raise ValueError("malformed")
        return self.dataset.get(key, default)

    def __contains__(self, key: str | int, /) -> bool:
        return key in self.dataset


def padded() -> Dataset:
    ds = ct_slice()
    ds.PixelPaddingValue = -2000
    return ds


def plan_of(plans: PlanCache, header: Attributes) -> Planned:
    with open_source(ct_slice()) as opened:
        decoder = open_frames(opened)
        return plans.planned(header, decoder.info, "MONOCHROME2", (0,), little_endian=True, name="")


def test_a_read_that_fails_keeps_the_plan_to_its_header() -> None:
    plans = PlanCache(RenderOptions.create())
    made = [plan_of(plans, Unreadable(padded())) for _ in range(2)]
    assert made[0] is not made[1]
    assert made[0].plan.padding is None  # read as absent, and logged


def test_a_header_that_fails_to_read_again_is_planned_by_itself() -> None:
    plans = PlanCache(RenderOptions.create())
    common = plan_of(plans, padded())
    failing = plan_of(plans, Unreadable(padded()))
    assert failing is not common
    assert common.plan.padding is not None
    assert failing.plan.padding is None


def test_while_info_is_logged_each_header_is_planned_and_logs_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dicomnp")
    plans = PlanCache(RenderOptions.create())
    made = []
    for name in ("a.dcm", "b.dcm"):
        ds = ct_slice()
        ds.WindowCenter = [40, 50]  # two centers for one width: logged, naming the file
        made.append(planned(plans, ds, name))
    assert made[0] is not made[1]
    assert made[0].plan == made[1].plan
    logged = caplog.text
    assert "a.dcm: 2 window centers for 1 widths" in logged
    assert "b.dcm: 2 window centers for 1 widths" in logged


def test_a_plan_made_alone_equals_the_plan_of_plan_rendering() -> None:
    ds = ct_slice()
    options = RenderOptions.create(values="display")
    with open_source(ds) as opened:
        decoder = open_frames(opened)
        plan = plan_rendering(
            opened.dataset, decoder.info, "MONOCHROME2", (0,), options, little_endian=True, name=""
        )
        description = describe_rendering(plan, opened.dataset, "")
    made = planned_alone(options, ds)
    assert made.plan == plan
    assert made.description == description
