"""Prometheus remote-write 1.0 messages: protobuf ``WriteRequest`` + snappy block compression.

The message classes are built with the ``protobuf`` library from a descriptor
declared here, field for field as in Prometheus' ``prompb/types.proto`` and
``prompb/remote.proto`` (package ``prometheus``; only the fields remote-write
1.0 senders fill: labels and float samples). The body of a request is the
serialised ``WriteRequest``, compressed with snappy's *block* format
(``cramjam.snappy.compress_raw``), sent with ``Content-Encoding: snappy`` and
``X-Prometheus-Remote-Write-Version: 0.1.0``.

Examples
--------
>>> body = encode_write_request([({"__name__": "up", "job": "a"}, [(1000, 1.0), (2000, 0.0)])])
>>> decode_write_request(body)
[({'__name__': 'up', 'job': 'a'}, [(1000, 1.0), (2000, 0.0)])]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

__all__ = ["HEADERS", "decode_write_request", "encode_prepared", "encode_write_request",
           "labels_message", "message_classes"]

#: The headers of a remote-write 1.0 request.
HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "kizashi-remote-write",
}

#: (message, [(field, number, type, repeated, message type)]) as in prompb
_MESSAGES = (
    ("Sample", [("value", 1, "double", False, None), ("timestamp", 2, "int64", False, None)]),
    ("Label", [("name", 1, "string", False, None), ("value", 2, "string", False, None)]),
    ("TimeSeries", [("labels", 1, "message", True, "Label"),
                    ("samples", 2, "message", True, "Sample")]),
    ("WriteRequest", [("timeseries", 1, "message", True, "TimeSeries")]),
)


@cache
def message_classes() -> dict[str, Any]:
    """``{"WriteRequest": cls, "TimeSeries": cls, "Label": cls, "Sample": cls}``."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    types = descriptor_pb2.FieldDescriptorProto
    kinds = {"double": types.TYPE_DOUBLE, "int64": types.TYPE_INT64,
             "string": types.TYPE_STRING, "message": types.TYPE_MESSAGE}
    proto = descriptor_pb2.FileDescriptorProto(
        name="kizashi/prometheus_remote.proto", package="prometheus", syntax="proto3")
    for name, fields in _MESSAGES:
        message = proto.message_type.add(name=name)
        for field_name, number, kind, repeated, type_name in fields:
            item = message.field.add(
                name=field_name, number=number, type=kinds[kind],
                label=types.LABEL_REPEATED if repeated else types.LABEL_OPTIONAL)
            if type_name:
                item.type_name = f".prometheus.{type_name}"
    pool = descriptor_pool.DescriptorPool()  # our own pool: no clash with other prompb copies
    pool.Add(proto)
    return {name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"prometheus.{name}")) for name, _ in _MESSAGES}


def encode_write_request(series: Iterable[tuple[dict[str, str],
                                                Sequence[tuple[int, float]]]]) -> bytes:
    """A snappy-compressed ``WriteRequest`` of ``(labels, [(timestamp_ms, value), ...])``.

    Labels are sent sorted by name, as the protocol requires; the caller gives
    valid names, non-empty values and samples in time order.
    """
    return encode_prepared((labels_message(labels), samples) for labels, samples in series)


def labels_message(labels: dict[str, str]) -> bytes:
    """A ``TimeSeries`` holding only ``labels`` (sorted), serialised: a series' fixed part.

    The daemon keeps these per series, so a tick only adds its samples
    (protobuf merges a message parsed on top of another: the labels stay, the
    samples are appended).
    """
    item = message_classes()["TimeSeries"]()
    for name, value in sorted(labels.items()):
        item.labels.add(name=name, value=value)
    return item.SerializeToString()


def encode_prepared(series: Iterable[tuple[bytes, Sequence[tuple[int, float]]]]) -> bytes:
    """:func:`encode_write_request` for series whose labels are :func:`labels_message` bytes."""
    import cramjam

    request = message_classes()["WriteRequest"]()
    for labels, samples in series:
        item = request.timeseries.add()
        item.MergeFromString(labels)
        for t, v in samples:
            item.samples.add(timestamp=int(t), value=float(v))
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def decode_write_request(body: bytes) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
    """The series of a compressed ``WriteRequest`` (the inverse of :func:`encode_write_request`)."""
    import cramjam

    request = message_classes()["WriteRequest"]()
    request.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
    return [({label.name: label.value for label in item.labels},
             [(sample.timestamp, sample.value) for sample in item.samples])
            for item in request.timeseries]
