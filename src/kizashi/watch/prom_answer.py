"""A Prometheus query answer decoded one series at a time, its label strings shared.

``json.loads`` of an instant-query answer of 100,000 series builds the whole
tree at once — per series a dict for the item, one for its labels, a list for
its value and a string for every label value, about 750 bytes — and the
daemon's memory peaks while it exists. :func:`decode_answer` reads the common
shape (``{"status":"success","data":{"resultType":"vector","result":[...]}...}``)
item by item with the standard library's own decoder (``raw_decode``), keeps only
each series' labels (every distinct label name and value one string object,
shared by all the series that have it), its timestamp and its value text, and
drops the item. Anything else — a matrix, a scalar, an error, warnings, an item
of another shape — is decoded by ``json.loads`` as before, so the daemon's checks
and messages are unchanged; the values and labels it returns are the same.

Examples
--------
>>> text = ('{"status":"success","data":{"resultType":"vector","result":['
...         '{"metric":{"__name__":"up","job":"node"},"value":[1700000000.5,"1"]},'
...         '{"metric":{"__name__":"up","job":"db"},"value":[1700000000.5,"NaN"]}]}}')
>>> data = decode_answer(text)["data"]
>>> result = data["result"]
>>> len(result), result.labels[1], result.stamps, result.texts
(2, {'__name__': 'up', 'job': 'db'}, [1700000000.5, 1700000000.5], ['1', 'NaN'])
>>> result.labels[0]["__name__"] is result.labels[1]["__name__"]   # one string, shared
True
>>> decode_answer('{"status":"error","error":"bad query"}')   # other shapes: json.loads
{'status': 'error', 'error': 'bad query'}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["VectorResult", "decode_answer"]

_HEAD = re.compile(r'\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*'
                   r'"resultType"\s*:\s*"vector"\s*,\s*"result"\s*:\s*\[')
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class VectorResult:
    """The series of an instant-query answer: labels, timestamps and value texts.

    >>> result = VectorResult([{"job": "node"}], [1700000000.0], ["0.5"])
    >>> len(result), result.texts
    (1, ['0.5'])
    """

    labels: list[dict[str, str]] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


class _OtherShape(Exception):
    """The answer is not of the shape read item by item."""


def decode_answer(text: str) -> Any:
    """The answer ``text`` as ``json.loads`` would give it, except that a vector's
    ``data.result`` is a :class:`VectorResult`; invalid JSON raises ``ValueError``."""
    head = _HEAD.match(text)
    if head is None:
        return json.loads(text)
    try:
        result, end = _items(text, head.end())
        # the rest (closing braces, perhaps warnings) checked by json itself
        payload = json.loads('{"status":"success","data":{"resultType":"vector","result":[]'
                             + text[end:])
    except (_OtherShape, ValueError):
        return json.loads(text)
    payload["data"]["result"] = result
    return payload


def _items(text: str, pos: int) -> tuple[VectorResult, int]:
    """The items from ``pos`` (just after ``[``) to the closing ``]``; the position after it."""
    out = VectorResult()
    shared: dict[str, str] = {}
    pos = _SPACE.match(text, pos).end()
    if text.startswith("]", pos):
        return out, pos + 1
    labels, stamps, texts = out.labels, out.stamps, out.texts
    while True:
        item, pos = _DECODER.raw_decode(text, pos)
        if type(item) is not dict or not set(item) <= {"metric", "value"}:
            raise _OtherShape
        metric, value = item.get("metric", {}), item.get("value")
        if (type(metric) is not dict or type(value) is not list or len(value) != 2
                or type(value[0]) not in (int, float) or type(value[1]) is not str):
            raise _OtherShape
        if not all(type(k) is str and type(v) is str for k, v in metric.items()):
            raise _OtherShape
        labels.append({shared.setdefault(k, k): shared.setdefault(v, v)
                       for k, v in metric.items()})
        stamps.append(value[0])
        texts.append(value[1])
        pos = _SPACE.match(text, pos).end()
        mark = text[pos:pos + 1]
        if mark == "]":
            return out, pos + 1
        if mark != ",":
            raise _OtherShape
        pos = _SPACE.match(text, pos + 1).end()
