"""Remote-write encoding: protobuf wire bytes checked by hand, snappy block framing, round trips."""

from __future__ import annotations

import math
import struct

import cramjam
import numpy as np
import pytest

from kizashi.watch.prompb import (
    HEADERS,
    decode_write_request,
    encode_write_request,
    message_classes,
)


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _field(number, 2, _varint(len(payload)) + payload)


def test_wire_bytes_match_prompb_field_numbers_by_hand():
    """WriteRequest{timeseries=1{labels=1{name=1,value=2}, samples=2{value=1 double,
    timestamp=2 int64}}}, as in Prometheus' prompb/types.proto and remote.proto."""
    label = _length_delimited(1, b"__name__") + _length_delimited(2, b"up")
    sample = _field(1, 1, struct.pack("<d", 2.5)) + _field(2, 0, _varint(1_700_000_000_123))
    series = _length_delimited(1, label) + _length_delimited(2, sample)
    expected = _length_delimited(1, series)
    body = encode_write_request([({"__name__": "up"}, [(1_700_000_000_123, 2.5)])])
    assert bytes(cramjam.snappy.decompress_raw(body)) == expected


def test_snappy_block_format_starts_with_the_uncompressed_length():
    labels = {"__name__": "kizashi_anomaly_score", "instance": "node-1:9100"}
    body = encode_write_request([(labels, [(1000 * i, float(i)) for i in range(500)])])
    raw = bytes(cramjam.snappy.decompress_raw(body))
    # snappy's block format (not its framing format): a varint of the raw length first
    assert body.startswith(_varint(len(raw)))
    assert not body.startswith(b"\xff\x06\x00\x00sNaPpY")
    assert len(body) < len(raw)         # 500 similar samples compress
    request = message_classes()["WriteRequest"]()
    request.ParseFromString(raw)
    assert [(s.timestamp, s.value) for s in request.timeseries[0].samples] == [
        (1000 * i, float(i)) for i in range(500)]


@pytest.mark.parametrize("value", [0.0, -0.0, 1e-300, -1e300, math.inf, -math.inf, math.pi])
def test_every_float_round_trips_exactly(value):
    (_, samples), = decode_write_request(encode_write_request([({"a": "b"}, [(-5, value)])]))
    assert samples == [(-5, value)] and math.copysign(1, samples[0][1]) == math.copysign(1, value)


def test_nan_round_trips_as_nan():
    (_, samples), = decode_write_request(encode_write_request([({"a": "b"}, [(0, math.nan)])]))
    assert math.isnan(samples[0][1])


def test_labels_are_sent_sorted_and_many_series_round_trip():
    rng = np.random.default_rng(3)
    series = []
    for i in range(50):
        labels = {"zone": f"z{i % 3}", "__name__": "m", "instance": f"n{i}", "a": "ü→日本"}
        samples = [(int(t), float(v)) for t, v in zip(np.cumsum(rng.integers(1, 100, 20)),
                                                      rng.normal(size=20), strict=True)]
        series.append((labels, samples))
    decoded = decode_write_request(encode_write_request(series))
    assert decoded == series
    request = message_classes()["WriteRequest"]()
    request.ParseFromString(bytes(cramjam.snappy.decompress_raw(encode_write_request(series))))
    names = [label.name for label in request.timeseries[0].labels]
    assert names == sorted(names) == ["__name__", "a", "instance", "zone"]


def test_headers_are_those_of_remote_write_1_0():
    assert HEADERS["Content-Encoding"] == "snappy"
    assert HEADERS["Content-Type"] == "application/x-protobuf"
    assert HEADERS["X-Prometheus-Remote-Write-Version"] == "0.1.0"
