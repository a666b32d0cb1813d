"""``kizashi watch``: the operator's daemon.

It reads series from Prometheus (or a CSV file that grows), scores every
series online with the detectors a YAML config names, decides with the shared
decision layer (:mod:`kizashi.decision`), keeps its state in SQLite so that it
survives ``kill -9``, sends alerts to Alertmanager and a JSON webhook, exports
``/metrics`` and serves a small web dashboard.

One job per module:

=================  ==========================================================
:mod:`.config`     the YAML config, validated, with command-line overrides
:mod:`.sources`    Prometheus HTTP API and CSV tailing, with timeouts/retries
:mod:`.columns`    adding and removing series columns of a detector state
:mod:`.store`      SQLite (WAL): series, states, progress, points, alerts
:mod:`.alerts`     Alertmanager v2 and JSON webhook delivery from an outbox
:mod:`.watcher`    the tick loop: fetch, score, decide, store, notify
:mod:`.exporter`   the ``/metrics`` collector (prometheus-client)
:mod:`.web`        the FastAPI dashboard (imported only when served)
=================  ==========================================================

Nothing here is imported by ``import kizashi``; the web stack (fastapi,
uvicorn, prometheus-client) is imported only by :mod:`.web` and
:mod:`.exporter`.
"""
