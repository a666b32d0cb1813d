"""The watch config most watch tests run, written once: one watch of a scripted source.

One watch ``m`` of the query ``up`` from the source ``prometheus`` (a URL the tests
script, ``http://scripted`` unless given), scored by a threshold detector ``sigma``
(window 30, k 5, after 10 points) that alerts after 2 s above and resolves after 2 s
below, with no dashboard; the callers add the alert sinks and the source's options they
test (an Alertmanager that is down, a disk that is full, a Prometheus answering oddly).
"""

from __future__ import annotations


def sigma_config(*, url: str = "http://scripted", source: str = "prometheus",
                 source_options: str = "", relearn_after: str | None = None,
                 alerts: dict[str, str] | None = None, head: str = "") -> str:
    """The config text: ``source_options`` are added to the source's mapping (``timeout:
    0.4s, retries: 0``), ``alerts`` maps a sink (``alertmanager``, ``webhook``) or an
    ``alerts`` key to its YAML value, ``head`` adds top-level lines (``initial_backfill:
    20s``).

    >>> from kizashi.watch.config import parse_config
    >>> config = parse_config(sigma_config(alerts={"webhook": '{url: "http://h/hook"}'}))
    >>> [w.name for w in config.watches], config.alerts.webhook_url
    (['m'], 'http://h/hook')
    """
    options = f", {source_options}" if source_options else ""
    relearn = f", relearn_after: {relearn_after}" if relearn_after else ""
    text = f"""
interval: 1s
listen: off
{head}
sources: {{{source}: {{type: prometheus, url: "{url}"{options}}}}}
watches:
  - name: m
    query: up
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 30, k: 5.0, min_periods: 10}},
          min_duration: 2s, resolve_after: 2s{relearn}}}
"""
    if alerts:
        text += "alerts:\n" + "".join(f"  {key}: {value}\n" for key, value in alerts.items())
    return text
