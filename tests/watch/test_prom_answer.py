"""The item-by-item decoder of Prometheus answers gives what ``json.loads`` gives: the same
series, labels and values for every answer (generated in every JSON layout), and the same
error for every bad one; label strings are shared between series."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizashi.watch.prom_answer import VectorResult, decode_answer
from kizashi.watch.sources import SourceError, _parse

T = np.array([1_700_000_000.5])

names = st.sampled_from(["__name__", "instance", "job", "rack", "é", "a\"b", ""])
texts = st.text(max_size=6) | st.sampled_from(["node", "node1:9100", "r001"])
values = (st.floats(allow_nan=False, allow_infinity=False).map(repr)
          | st.sampled_from(["NaN", "+Inf", "-Inf", "1e308", "0", "-0", "5e-324"]))
items = st.fixed_dictionaries({"metric": st.dictionaries(names, texts, max_size=4),
                               "value": st.tuples(st.just(1_700_000_000.5), values)})
layouts = st.sampled_from([{}, {"separators": (",", ":")}, {"indent": 2},
                           {"ensure_ascii": False}, {"indent": "\t", "separators": (" ,", " : ")}])


def both(text: str):
    """``_parse`` of the answer through the decoder and through ``json.loads``."""
    out = []
    for decode in (decode_answer, json.loads):
        try:
            payload = decode(text)
            out.append(_parse(payload["data"], T, "here"))
        except (SourceError, ValueError, KeyError, TypeError) as error:
            out.append(type(error))
    return out


def same(a, b) -> bool:
    if isinstance(a, type) or isinstance(b, type):
        return a == b
    return (a.labels == b.labels and np.array_equal(a.timestamps, b.timestamps)
            and np.array_equal(a.values, b.values, equal_nan=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(items, max_size=6), layouts, st.booleans())
def test_every_vector_answer_decodes_as_json_loads_decodes_it(result, layout, warned):
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    if warned:
        body["warnings"] = ["results truncated"]
    text = json.dumps(body, **layout)
    fast, slow = both(text)
    assert same(fast, slow), (text, fast, slow)
    # every layout of this shape takes the item-by-item path
    assert isinstance(decode_answer(text)["data"]["result"], VectorResult)


ODD = [
    '{"status":"success","data":{"resultType":"vector","result":[]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["x"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},'
    '"value":[1,"2"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":[],"value":[1,"2"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"],'
    '"x":1}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}'
    ' {"metric":{},"value":[1,"3"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]},'
    ']}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}x',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},'
    '"value":[1,"2"]},{"metric":{"a":"b"},"value":[1,"3"]}]}}',
    '{"status":"success","data":{"resultType":"vector","result":[1,2]}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[true,"1"]}'
    ']}}',
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]},'
    '"warnings":["w"]}',
    '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}',
    '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":'
    '[[1,"2"]]}]}}',
    '{"status":"error","error":"bad"}',
    "not json",
    "",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_answers_decode_or_fail_as_before(text):
    fast, slow = both(text)
    assert same(fast, slow), (fast, slow)


def test_label_strings_are_shared_between_series():
    result = [{"metric": {"__name__": "cpu", "instance": f"n{i // 2}"}, "value": [1, str(i)]}
              for i in range(6)]
    text = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
    labels = decode_answer(text)["data"]["result"].labels
    assert len({id(m["__name__"]) for m in labels}) == 1
    assert len({id(m["instance"]) for m in labels}) == 3
    assert [m["instance"] for m in labels] == ["n0", "n0", "n1", "n1", "n2", "n2"]
