"""The indented JSON of headers: the very text ``json.dumps(indent=...)`` writes."""

from __future__ import annotations

import json
import math
from collections import OrderedDict, namedtuple
from enum import IntEnum
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomnp._jsontext import indented_json
from dicomnp._writer import header_json

Pair = namedtuple("Pair", "a b")


class Level(IntEnum):
    LOW = 1
    HIGH = 2


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _dumps(value: Any, indent: int = 2) -> str:
    return json.dumps(value, indent=indent, default=_default)


CASES = {
    "scalars": [1, 2.5, "a", None, True, False, -0.0, 10**30, 1e-7, 1e300],
    "special floats": {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "l": [math.nan]},
    "empties": {"l": [], "d": {}, "t": (), "ll": [[], []], "ld": [{}, {}], "mixed": [{}, {"a": 1}]},
    "one empty among flat lists": [[1, 2], [], [3]],
    "flat dicts per slice": [{"scale": 1, "offset": -32768}] * 4,
    "positions": [(-64.0, -64.0, 3.0 * k) for k in range(5)],
    "lists and tuples mixed": [[1, 2], (3, 4), [5]],
    "dicts and lists mixed": [{"a": 1}, [1], {"b": None}],
    "brackets in strings": [
        {"s": "},\n      {", "t": '"]'},
        {"s": "\\", "u": "[{}]"},
        ["],\n    [", "x"],
    ],
    "brackets in lists of strings": [["}", "{"], ["]", "["], ["},", "{"]],
    "non-ASCII and control characters": {"é": "ünï\u2028\x00\t", "k": ["\u00ff", "\U0001f600"]},
    "keys": {1: "int", 2.5: "float", None: "none", "s": {3: [1], 4.0: {}}},
    "boolean keys": {True: "yes", False: [{False: 0}, {True: 1}]},
    "non-string keys in flat dicts": [{1: 2}, {1: 3}],
    "numpy values": {
        "shape": np.array([2, 3]),
        "scale": np.float32(0.5),
        "f64": np.float64(0.1),
        "i": np.int64(3),
        "b": np.bool_(True),
        "list": [np.float32(1.5), np.int16(2)],
        "nested": [[np.float64(1.0), 2.0], [3.0, np.float64(4.0)]],
    },
    "sets and other objects": {"set": {3, 1, 2}, "path": PurePosixPath("/a"), "c": [1j, 2j]},
    "named tuples and ordered dicts": [Pair(1, 2), Pair([1], {"a": 2}), OrderedDict(z=1, a=2)],
    "deep": {"a": [{"b": [{"c": [1, {"d": []}]}]}]},
    "subclasses": {
        "bool in int list": [1, True, 0],
        "numpy in list": [np.int64(1), 1],
        "enums": [Level.LOW, {"level": Level.HIGH}],
        "enum key": {Level.LOW: 1},
    },
    "one-item containers": [[1], [[1]], [{"a": [1]}], {"a": {"b": {"c": 1}}}],
}


@pytest.mark.parametrize("indent", [0, 2, 4])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_text_is_that_of_json_dumps(case: str, indent: int) -> None:
    value = CASES[case]
    assert indented_json(value, indent=indent, default=_default) == _dumps(value, indent)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6, alphabet=st.sampled_from('ab"\\{}[],:\n\té\x00 ')),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(
            st.text(max_size=3, alphabet=st.sampled_from('ab"}{,\n')) | st.integers(-3, 3),
            children,
            max_size=4,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_any_json_value_gives_the_text_of_json_dumps(value: Any) -> None:
    assert indented_json(value, indent=2, default=_default) == _dumps(value)


def test_a_container_inside_itself_and_a_bad_key_fail_as_in_json() -> None:
    looped: list[Any] = [1]
    looped.append([looped])
    with pytest.raises(ValueError, match="Circular reference detected"):
        indented_json(looped, indent=2, default=_default)
    for bad in ({(1, 2): 3}, [{"a": 1}, {(1,): 2}]):
        with pytest.raises(TypeError) as ours:
            indented_json(bad, indent=2, default=_default)
        with pytest.raises(TypeError) as theirs:
            _dumps(bad)
        assert str(ours.value) == str(theirs.value)


def test_a_shared_value_twice_is_no_loop() -> None:
    shared = {"scale": 1, "offset": 0, "window": [1.0, 2.0]}
    value = {"a": [shared, shared], "b": shared}
    assert indented_json(value, indent=2, default=_default) == _dumps(value)


def test_a_volume_header_is_written_as_json_dumps_writes_it() -> None:
    from dicomnp.examples import ct_series
    from dicomnp.volume import combine_series

    volume = combine_series(ct_series(6, 8, 8), values="modality")
    header = {"affine": volume.affine, "header": volume.header.as_dict()}
    text = header_json(header)
    assert text == json.dumps(header, indent=2, default=_default) + "\n"
    assert json.loads(text)["header"]["positions"][1] == list(volume.header.positions[1])
