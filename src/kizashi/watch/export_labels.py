"""A series' labels as ``/metrics`` and ``remote_write`` write them: valid, and one set per series.

A watch keeps a series' labels exactly as its source gave them — any text, as
Prometheus 3 allows UTF-8 label names (``http.status``) and a JSON answer can hold
an empty name or a lone surrogate (``"\\ud800"``, not UTF-8 at all). The text formats
kizashi writes take less: a label name of letters, digits and ``_`` not starting
with a digit nor ``__``, and values in UTF-8. :func:`export_labels` maps a label set
onto that, for the per-series samples of ``/metrics``, the
``kizashi_predicted_anomaly_probability`` samples and the series written by
``remote_write``:

* ``__name__`` becomes ``metric_name`` (the exported sample has its own name), so the
  series of one watch that differ only in their metric (``{instance="n1",
  __name__=~"load1|mem"}``) stay apart;
* a label named like one kizashi sets (the ``own`` names: ``watch``, ``detector``,
  ``metric_name`` …)
  gets an ``exported_`` prefix, as Prometheus does for a scrape;
* a name that is not valid has its other characters written ``_`` (``http.status`` →
  ``http_status``; an empty name is ``_``, a leading digit gets a ``_`` before it, a
  leading ``__`` (reserved) an ``exported_`` prefix), and a name taken already gets
  ``exported_`` prefixes until it is free;
* a value is kept, except a lone surrogate, written as its escape ``\\ud800``.

Such a mapping can make two series one: ``{http.status="200"}`` and
``{http_status="200"}``, or — Prometheus reads an empty value as no label — ``{rack=""}``
and ``{}``. Prometheus would then drop one of two samples of the same series (in a
scrape) or refuse the whole request (remote write). A series whose labels lost
anything that way (a name rewritten or given an ``exported_`` prefix, an empty value)
also gets ``kizashi_series_id``, its id in the watch's state file, which keeps it apart;
other series export exactly their labels (a federated ``exported_job`` among them).

>>> export_labels({"__name__": "up", "job": "node", "watch": "x"},
...               ("watch", "detector", "metric_name"), 7)
{'metric_name': 'up', 'job': 'node', 'exported_watch': 'x', 'kizashi_series_id': '7'}
>>> export_labels({"__name__": "up", "exported_job": "node"}, ("watch", "metric_name"), 7)
{'metric_name': 'up', 'exported_job': 'node'}
>>> export_labels({"http.status": "200", "": "a"}, ("watch",), 7)
{'_': 'a', 'http_status': '200', 'kizashi_series_id': '7'}
>>> export_labels({"instance": "n1\\ud800"}, (), None)
{'instance': 'n1\\\\ud800'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["SERIES_ID", "export_labels", "free_name", "safe_text", "valid_label_name"]

#: The label that keeps apart a series whose exported labels lost something.
SERIES_ID = "kizashi_series_id"
_VALID = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_INVALID_CHAR = re.compile(r"[^a-zA-Z0-9_]")


def safe_text(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate becomes its escape (``\\ud800``).

    >>> safe_text("caf\\u00e9"), safe_text("a\\udfffb")
    ('café', 'a\\\\udfffb')
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def valid_label_name(name: str) -> bool:
    """Whether Prometheus' text format and remote write take ``name`` as a label name.

    >>> valid_label_name("job"), valid_label_name("http.status"), valid_label_name("__x")
    (True, False, False)
    """
    return bool(_VALID.match(name)) and not name.startswith("__")


def free_name(name: str, taken: Iterable[str], own: Iterable[str]) -> str:
    """``name`` with ``exported_`` prefixes until neither ``taken`` nor ``own`` holds it.

    >>> free_name("watch", {"exported_watch"}, {"watch"})
    'exported_exported_watch'
    """
    taken, own = set(taken), set(own)
    name = "exported_" + name
    while name in taken or name in own:
        name = "exported_" + name
    return name


def _name(key: str) -> str:
    """A valid label name for ``key`` (not ``__name__``)."""
    if valid_label_name(key):
        return key
    name = _INVALID_CHAR.sub("_", key)
    if not name or name[0].isdigit():
        name = "_" + name
    return "exported_" + name if name.startswith("__") else name


def export_labels(labels: Mapping[str, object], own: Iterable[str],
                  series_id: int | None = None, drop_empty: bool = False) -> dict[str, str]:
    """``labels`` as valid exported labels beside kizashi's ``own`` (see the module docs;
    ``__name__`` becomes ``metric_name``: give that among ``own``).

    ``series_id`` is added as ``kizashi_series_id`` when the labels lost anything;
    ``drop_empty`` leaves out labels with an empty value (remote write refuses them).
    """
    own = {*own, SERIES_ID}   # a series' own kizashi_series_id is exported_ too
    out: dict[str, str] = {}
    lossy = False
    if "__name__" in labels:
        out["metric_name"] = safe_text(str(labels["__name__"]))
        lossy = out["metric_name"] == ""
    # valid names first, so that they keep their names before a rewritten one takes it
    for key in sorted((k for k in labels if k != "__name__"),
                      key=lambda k: (not valid_label_name(k), k)):
        value = safe_text(str(labels[key]))
        if value == "":
            lossy = True   # Prometheus reads it as no label at all
            if drop_empty:
                continue
        name = _name(key)
        lossy |= name != key
        if name in own or name in out:  # renamed: another series may hold the new name
            name, lossy = free_name(name, out, own), True
        out[name] = value
    if lossy and series_id is not None:
        out[SERIES_ID] = str(series_id)
    return out
