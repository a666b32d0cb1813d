"""The ``kizashi watch`` configuration: a YAML file, validated into plain dataclasses.

Every error is a :class:`ValueError` naming the file and the key at fault.

Examples
--------
>>> text = '''
... interval: 30s
... sources:
...   prometheus: {type: prometheus, url: "http://127.0.0.1:9090"}
... watches:
...   - name: cpu
...     query: 'rate(node_cpu_seconds_total{mode="idle"}[5m])'
...     detectors:
...       - {detector: threshold, params: {window: 60}, min_duration: 2m}
... '''
>>> config = parse_config(text, "example.yaml")
>>> config.interval, config.watches[0].detectors[0].min_steps(config.interval)
(30.0, 4)
>>> config.listen, config.watches[0].source
('127.0.0.1:9464', 'prometheus')
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kizashi.decision.cutoffs import Cutoff, parse_cutoff
from kizashi.durations import parse_duration

__all__ = [
    "AlertsConfig",
    "DetectorSpec",
    "SourceConfig",
    "WatchConfig",
    "WatchSpec",
    "apply_overrides",
    "load_config",
    "parse_config",
]

TOKEN_ENV = "KIZASHI_WATCH_TOKEN"


@dataclass(frozen=True)
class SourceConfig:
    """Where series come from: ``type`` names a source of :mod:`kizashi.engine.sources`
    (``prometheus`` with ``url``; ``csv`` or ``file`` with ``path``)."""

    name: str
    type: str
    url: str | None = None
    path: str | None = None
    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.5
    max_bytes: int = 32 * 1024 * 1024
    timestamp_column: str = "timestamp"
    format: str = "auto"  #: ``file`` sources: auto, long or wide


@dataclass(frozen=True)
class DetectorSpec:
    """One detector applied to every series of a watch, with its decision rule."""

    name: str
    detector: str
    params: dict[str, Any]
    cutoff: Cutoff
    min_duration: float | None = None
    resolve_after: float | None = None
    #: the decider's calibration: auto, none, likelihood or zscore
    calibration: str = "auto"
    #: keep steps above the cutoff or alerting out of what the baseline learns
    #: (None: the detector's own ``protect_baseline``)
    protect: bool | None = None
    #: protected time after which a series learns again (None: never)
    relearn_after: float | None = None

    def decision(self, interval: float, detector: Any) -> Any:
        """The :class:`~kizashi.engine.decider.Decider` of this detector."""
        from kizashi.engine.decider import Decider

        return Decider.for_detector(
            detector, calibration=self.calibration, cutoff=self.cutoff,
            min_steps=self.min_steps(interval), resolve_steps=self.resolve_steps(interval),
            protect=self.protect,
            relearn_after=None if self.relearn_after is None
            else _steps(self.relearn_after, interval))

    def min_steps(self, interval: float) -> int:
        """Consecutive steps above the cutoff before an alert fires."""
        return _steps(self.min_duration, interval)

    def resolve_steps(self, interval: float) -> int:
        """Consecutive steps below the cutoff before an alert resolves."""
        return _steps(self.resolve_after, interval)


@dataclass(frozen=True)
class WatchSpec:
    """A query (or a CSV file) giving many series, and the detectors scoring them."""

    name: str
    source: str
    query: str | None
    detectors: tuple[DetectorSpec, ...]
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AlertsConfig:
    """Alert sinks: Alertmanager (v2 API) and a generic JSON webhook, both optional."""

    alertmanager_url: str | None = None
    webhook_url: str | None = None
    timeout: float = 5.0
    resend_interval: float = 60.0
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchConfig:
    """The whole daemon configuration."""

    path: str
    interval: float
    storage: str
    listen: str | None
    token: str | None
    dashboard_url: str | None
    max_backfill: float
    initial_backfill: float
    series_ttl: float
    retention: float
    sources: dict[str, SourceConfig]
    watches: tuple[WatchSpec, ...]
    alerts: AlertsConfig

    @property
    def listen_host_port(self) -> tuple[str, int] | None:
        """``(host, port)`` of the web server, or None when it is off."""
        return None if self.listen is None else _split_listen(self.listen, self.path)

    @property
    def link_base(self) -> str:
        """Base URL of the dashboard used in alert links."""
        if self.dashboard_url:
            return self.dashboard_url.rstrip("/")
        if self.listen is None:
            return ""
        host, port = _split_listen(self.listen, self.path)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


def load_config(path: str | os.PathLike[str]) -> WatchConfig:
    """Read and validate a YAML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read watch config {path}: {error.strerror or error}") from None
    return parse_config(text, str(path))


def parse_config(text: str, where: str = "<config>") -> WatchConfig:
    """Validate the YAML ``text`` of a config (``where`` names it in errors)."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{where}: not valid YAML: {error}") from None
    if raw is None:
        raw = {}
    reader = _Reader(raw, where, "")
    interval = reader.duration("interval", 15.0)
    sources = _sources(reader)
    watches = _watches(reader, sources)
    alerts = _alerts(reader)
    listen = reader.get("listen", "127.0.0.1:9464")
    listen = None if listen in (None, False, "", "off") else str(listen)
    token = reader.get("token", None)
    token = str(token) if token else os.environ.get(TOKEN_ENV) or None
    config = WatchConfig(
        path=where,
        interval=interval,
        storage=str(reader.get("storage", "kizashi-watch.sqlite")),
        listen=listen,
        token=token,
        dashboard_url=reader.get("dashboard_url", None),
        max_backfill=reader.duration("max_backfill", 3600.0),
        initial_backfill=reader.duration("initial_backfill", 0.0, allow_zero=True),
        series_ttl=reader.duration("series_ttl", 600.0),
        retention=reader.duration("retention", 7 * 86400.0),
        sources=sources,
        watches=watches,
        alerts=alerts,
    )
    reader.reject_unknown()
    validate(config)
    return config


def apply_overrides(config: WatchConfig, *, prometheus: str | None = None,
                    alertmanager: str | None = None, state: str | None = None,
                    listen: str | None = None) -> WatchConfig:
    """The config with endpoints replaced by command-line flags.

    ``prometheus`` replaces the URL of every Prometheus source (and creates a
    source named ``prometheus`` if there is none).
    """
    sources = dict(config.sources)
    if prometheus:
        prometheus = _url(prometheus, "--prometheus")
        changed = {name: replace(s, url=prometheus) for name, s in sources.items()
                   if s.type == "prometheus"}
        sources.update(changed or {"prometheus": SourceConfig("prometheus", "prometheus",
                                                              url=prometheus)})
    alerts = config.alerts
    if alertmanager:
        alerts = replace(alerts, alertmanager_url=_url(alertmanager, "--alertmanager"))
    out = replace(config, sources=sources, alerts=alerts,
                  storage=state or config.storage,
                  listen=(None if listen == "off" else listen) if listen else config.listen)
    validate(out)
    return out


def validate(config: WatchConfig) -> None:
    """Cross-field checks: sources exist, detectors are known, the listen address is safe."""
    from kizashi.detectors.registry import create

    where = config.path
    if not config.watches:
        raise ValueError(f"{where}: 'watches' is empty; name at least one query to watch")
    for watch in config.watches:
        key = f"watches[{watch.name}]"
        if watch.source not in config.sources:
            known = ", ".join(sorted(config.sources)) or "(none)"
            raise ValueError(f"{where}: {key}.source {watch.source!r} is not defined under "
                             f"'sources' (defined: {known})")
        source = config.sources[watch.source]
        if source.type == "prometheus" and not watch.query:
            raise ValueError(f"{where}: {key}.query is missing (a PromQL expression)")
        for spec in watch.detectors:
            dkey = f"{key}.detectors[{spec.name}]"
            try:
                detector = create(spec.detector, **spec.params)
                detector.clone().reset(1)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{where}: {dkey}: {error}") from None
            if detector.multivariate or detector.requires_training:
                raise ValueError(f"{where}: {dkey}: detector {spec.detector!r} is multivariate "
                                 "or needs training data; watch supports online univariate "
                                 "detectors only")
            if spec.cutoff.kind == "default" and detector.default_threshold is None:
                raise ValueError(f"{where}: {dkey}.cutoff: detector {spec.detector!r} has no "
                                 "default threshold; give a number or a quantile such as q0.999")
    for source in config.sources.values():
        if source.type == "prometheus" and not source.url:
            raise ValueError(f"{where}: sources.{source.name}.url is missing")
    if config.listen is not None:
        host, _ = _split_listen(config.listen, where)
        if not _is_loopback(host) and not config.token:
            raise ValueError(
                f"{where}: listen {config.listen!r} is reachable from other machines, so the "
                f"dashboard needs a token: set 'token' in the config or ${TOKEN_ENV}"
            )


# --------------------------------------------------------------------------- parts
def _sources(reader: _Reader) -> dict[str, SourceConfig]:
    raw = reader.get("sources", None)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{reader.where}: 'sources' must be a mapping of name → source")
    out = {}
    for name, body in raw.items():
        sub = _Reader(body, reader.where, f"sources.{name}.")
        from kizashi.engine.sources import SOURCES

        kind = str(sub.get("type", "prometheus"))
        if kind not in SOURCES:
            raise ValueError(f"{reader.where}: sources.{name}.type must be one of "
                             f"{', '.join(sorted(SOURCES))}, got {kind!r}")
        url = sub.get("url", None)
        path = sub.get("path", None)
        if kind in ("csv", "file") and not path:
            raise ValueError(f"{reader.where}: sources.{name}.path is missing (the file)")
        out[str(name)] = SourceConfig(
            name=str(name), type=kind,
            url=_url(url, f"sources.{name}.url") if url else None,
            path=str(path) if path else None,
            timeout=sub.duration("timeout", 5.0),
            retries=sub.integer("retries", 2, minimum=0),
            backoff=sub.duration("backoff", 0.5, allow_zero=True),
            max_bytes=sub.integer("max_bytes", 32 * 1024 * 1024, minimum=1024),
            timestamp_column=str(sub.get("timestamp_column", "timestamp")),
            format=str(sub.get("format", "auto")),
        )
        sub.reject_unknown()
    return out


def _watches(reader: _Reader, sources: dict[str, SourceConfig]) -> tuple[WatchSpec, ...]:
    raw = reader.get("watches", None) or []
    if not isinstance(raw, list):
        raise ValueError(f"{reader.where}: 'watches' must be a list")
    default_source = next(iter(sources), "prometheus")
    out, seen = [], set()
    for i, body in enumerate(raw):
        sub = _Reader(body, reader.where, f"watches[{i}].")
        name = str(sub.get("name", f"watch{i}"))
        if name in seen:
            raise ValueError(f"{reader.where}: watches[{i}].name {name!r} is used twice")
        seen.add(name)
        sub.prefix = f"watches[{name}]."
        detectors = []
        for j, dbody in enumerate(sub.get("detectors", None) or [{"detector": "threshold"}]):
            dsub = _Reader(dbody, reader.where, f"watches[{name}].detectors[{j}].")
            detector = str(dsub.get("detector", "threshold"))
            dname = str(dsub.get("name", detector))
            params = dsub.get("params", None) or {}
            if not isinstance(params, dict):
                raise ValueError(f"{reader.where}: {dsub.prefix}params must be a mapping")
            try:
                cutoff = parse_cutoff(dsub.get("cutoff", "default"))
            except ValueError as error:
                raise ValueError(f"{reader.where}: {dsub.prefix}cutoff: {error}") from None
            detectors.append(DetectorSpec(
                name=dname, detector=detector, params=dict(params), cutoff=cutoff,
                min_duration=dsub.duration("min_duration", None),
                resolve_after=dsub.duration("resolve_after", None),
                calibration=_calibration(dsub),
                protect=_optional_bool(dsub, "protect"),
                relearn_after=dsub.duration("relearn_after", None),
            ))
            dsub.reject_unknown()
        if len({d.name for d in detectors}) != len(detectors):
            raise ValueError(f"{reader.where}: watches[{name}].detectors: give each detector "
                             "of a watch its own 'name'")
        columns = sub.get("columns", None)
        out.append(WatchSpec(
            name=name,
            source=str(sub.get("source", default_source)),
            query=sub.get("query", None),
            detectors=tuple(detectors),
            columns=tuple(map(str, columns)) if columns else None,
        ))
        sub.reject_unknown()
    return tuple(out)


def _optional_bool(reader: _Reader, key: str) -> bool | None:
    value = reader.get(key, None)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{reader.where}: {reader.prefix}{key} must be true or false, "
                         f"got {value!r}")
    return value


def _calibration(reader: _Reader) -> str:
    from kizashi.engine.calibrators import CALIBRATORS

    value = str(reader.get("calibration", "auto"))
    if value != "auto" and value not in CALIBRATORS:
        raise ValueError(f"{reader.where}: {reader.prefix}calibration must be auto or one of "
                         f"{', '.join(sorted(CALIBRATORS))}, got {value!r}")
    return value


def _alerts(reader: _Reader) -> AlertsConfig:
    sub = _Reader(reader.get("alerts", None) or {}, reader.where, "alerts.")
    am = _Reader(sub.get("alertmanager", None) or {}, reader.where, "alerts.alertmanager.")
    hook = _Reader(sub.get("webhook", None) or {}, reader.where, "alerts.webhook.")
    am_url, hook_url = am.get("url", None), hook.get("url", None)
    labels = sub.get("labels", None) or {}
    if not isinstance(labels, dict):
        raise ValueError(f"{reader.where}: alerts.labels must be a mapping")
    out = AlertsConfig(
        alertmanager_url=_url(am_url, "alerts.alertmanager.url") if am_url else None,
        webhook_url=_url(hook_url, "alerts.webhook.url") if hook_url else None,
        timeout=sub.duration("timeout", 5.0),
        resend_interval=am.duration("resend_interval", 60.0),
        labels={str(k): str(v) for k, v in labels.items()},
    )
    for part in (sub, am, hook):
        part.reject_unknown()
    return out


# -------------------------------------------------------------------------- helpers
class _Reader:
    """Reads keys of one YAML mapping, remembering which were used."""

    def __init__(self, raw: Any, where: str, prefix: str):
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: {prefix.rstrip('.') or 'the config'} must be a mapping, "
                             f"got {type(raw).__name__}")
        self.raw, self.where, self.prefix, self.used = raw, where, prefix, set()

    def get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        return self.raw.get(key, default)

    def duration(self, key: str, default: float | None, allow_zero: bool = False) -> Any:
        value = self.get(key, None)
        if value is None:
            return default
        if allow_zero and value in (0, "0", "0s"):
            return 0.0
        try:
            return parse_duration(value)
        except ValueError as error:
            raise ValueError(f"{self.where}: {self.prefix}{key}: {error}") from None

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{self.where}: {self.prefix}{key} must be an integer >= {minimum}, "
                             f"got {value!r}")
        return value

    def reject_unknown(self) -> None:
        unknown = sorted(map(str, set(self.raw) - self.used))
        if unknown:
            names = ", ".join(self.prefix + k for k in unknown)
            raise ValueError(f"{self.where}: unknown key(s) {names}; "
                             f"known here: {', '.join(sorted(self.used))}")


def _steps(duration: float | None, interval: float) -> int:
    if duration is None:
        return 1
    return max(1, math.ceil(duration / interval - 1e-9))


def _url(value: Any, key: str) -> str:
    text = str(value).strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{key}: {value!r} is not an http(s) URL")
    return text


def _split_listen(listen: str, where: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{where}: listen {listen!r} must look like HOST:PORT, "
                         "e.g. 127.0.0.1:9464")
    return host or "0.0.0.0", int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
