"""The ``kizashi watch`` configuration: a YAML file, validated into plain dataclasses.

Every error is a :class:`ValueError` naming the file and the key at fault.

Limits
------
Every number must be finite (``.nan``, ``.inf`` and ``1e400`` are refused) and
within a sane range:

===============================================  ====================================
key                                              range
===============================================  ====================================
``interval``                                     1 ms … 1 d
``max_backfill``, ``initial_backfill``           at most 366 d and 1 000 000 intervals
                                                 (``initial_backfill`` may be 0)
``retention``                                    1 ms … 3660 d (10 years)
``series_ttl``, ``min_duration``,                1 ms … 366 d
``resolve_after``, ``relearn_after``,
``alerts.alertmanager.resend_interval``
``timeout`` (sources, alerts), ``backoff``       1 ms … 1 h (``backoff`` may be 0)
``sources.*.retries``                            0 … 100
``sources.*.max_bytes``                          1 KiB … 1 TiB
``cutoff``                                       a finite number or ``q`` with 0 < q < 1
detector ``params``                              finite numbers of the declared type; whole
                                                 numbers (windows, ranks, orders) 0 …
                                                 1 000 000; any number at most 1e18 in size
``predict.horizon``                              an interval … 1 d (history at most
                                                 50 000 intervals)
``predict.cutoff``, ``predict.anomaly_cutoff``   a probability, 0 < p < 1
``predict.anomaly_ahead``                        true or false
``predict.warmup_trend``                         true or false
a detector's state                               at most 32 MiB per series
===============================================  ====================================

Detector parameters are checked by building the detector, starting the state
of one series (its size is measured against the limit above) and scoring a few
synthetic steps, so a config that loads is one whose ticks can run. The state
file (``storage``) must be a file on a real disk: paths under ``/proc``, ``/sys``
and ``/dev`` are refused.

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
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.decision.cutoffs import Cutoff, parse_cutoff
from kizashi.detectors.param_checks import (
    MAX_PARAM_MAGNITUDE,
    check_param,
    short_number,
)
from kizashi.durations import limit_text, parse_duration
from kizashi.watch import config_values as typed
from kizashi.yaml_errors import bounded_repr as _r

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

DAY = 86400.0
#: (minimum, maximum) seconds of each duration key (by its last part); others: DEFAULT_SPAN
DURATION_LIMITS: dict[str, tuple[float, float]] = {
    "interval": (1e-3, DAY),
    "max_backfill": (1e-3, 366 * DAY),
    "initial_backfill": (1e-3, 366 * DAY),
    "retention": (1e-3, 3660 * DAY),
    "timeout": (1e-3, 3600.0),
    "backoff": (1e-3, 3600.0),
}
DEFAULT_SPAN = (1e-3, 366 * DAY)
#: most steps of ``interval`` that ``max_backfill`` / ``initial_backfill`` may cover
MAX_BACKFILL_STEPS = 1_000_000
#: largest detector state of one series, in bytes
MAX_STATE_BYTES = 32 * 1024 * 1024
#: largest config file read
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: virtual filesystems where a state file cannot live
VIRTUAL_ROOTS = ("/proc", "/sys", "/dev")


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
    timezone: str | None = None  #: ``logs`` sources: zone of zone-less times (None: local)
    #: auth, TLS and extra headers of a ``prometheus`` source (:mod:`kizashi.watch.http_options`)
    http: Any = None


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
    #: protected time after which a series learns again (None: the detector's window)
    relearn_after: float | None = None
    #: a ``kizashi train --out DIR`` folder: the detector's trained network
    model: str | None = None
    #: the label whose value names a series' feature for a multivariate model
    #: (None: ``__name__``, else ``metric``, else ``series``)
    feature_label: str | None = None
    #: a detector of peers (``peers``): the label whose value splits each metric's series
    #: into peer groups (rack, partition, job); None: a metric's series are all peers
    peers_by: str | None = None

    @property
    def needs_all_series(self) -> bool:
        """The detector needs every series of its watch in one process: a trained
        multivariate model, or a detector that compares series with their peers."""
        from kizashi.detectors.registry import get_class

        return self.model is not None or get_class(self.detector).cross_sectional

    def trained(self) -> dict[str, Any]:
        """The model folder's ``config.json`` (the network, its sizes, its features)."""
        import json

        path = Path(self.model or "") / "config.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"model {self.model}: cannot read {path} ({error}); give a "
                             "folder written by `kizashi train --out DIR`") from None
        if not isinstance(record, dict) or "network" not in record:
            raise ValueError(f"model {self.model}: {path} is not a kizashi training record")
        return record

    def build(self) -> Any:
        """The detector: from the registry, or from the trained model folder."""
        from kizashi.detectors.fitted_model import is_fitted, load_fitted
        from kizashi.detectors.registry import create, get_class

        if self.model is None:
            return create(self.detector, **self.params)
        record = self.trained()
        if is_fitted(record):  # a `kizashi fit` folder: the fitted state as it was saved
            return load_fitted(self.model, **self.params)[0]
        n = len(record.get("features") or [])
        return get_class(self.detector).from_trained(self.model, np.zeros((0, n)),
                                                     **self.params)

    def decision(self, interval: float, detector: Any) -> Any:
        """The :class:`~kizashi.engine.decider.Decider` of this detector."""
        from kizashi.engine.decider import Decider

        extra = {} if self.relearn_after is None else {
            "relearn_after": _steps(self.relearn_after, interval)}
        return Decider.for_detector(
            detector, calibration=self.calibration, cutoff=self.cutoff,
            min_steps=self.min_steps(interval), resolve_steps=self.resolve_steps(interval),
            protect=self.protect, **extra)

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
    #: warnings ahead (:class:`kizashi.watch.predictions.PredictSpec`), or None
    predict: Any = None


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
    #: scores written back to a TSDB (:mod:`kizashi.watch.remote_write`), or None
    remote_write: Any = None
    #: log lines as ``text`` or ``json`` (one object per line)
    log_format: str = "text"
    #: /metrics exports per-series samples of at most this many series (the most
    #: anomalous: firing first); None: all of them, 0: none
    metrics_series: int | None = 1000
    #: ``(i, n)``: this daemon watches the series whose key hashes to shard i of n
    shard: tuple[int, int] = (0, 1)

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
    """Read and validate a YAML config file.

    Parameters
    ----------
    path : path-like
        The file: UTF-8 text of at most :data:`MAX_CONFIG_BYTES` bytes.

    Returns
    -------
    WatchConfig

    Raises
    ------
    ValueError
        When the file cannot be read, is not UTF-8 text, or any key is invalid; the
        message names the file (and the key).
    """
    path = Path(path)
    try:
        # a FIFO opens without waiting for a writer (one with no writer reads as empty);
        # reads then block as usual, so `kizashi watch <(make-config)` still works
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
            fifo = stat.S_ISFIFO(os.fstat(handle.fileno()).st_mode)
    except OSError as error:
        raise ValueError(f"cannot read watch config {path}: {error.strerror or error}") from None
    if not data and fifo:
        raise ValueError(f"watch config {path} is a FIFO (named pipe) that nothing wrote to: "
                         "give the config file itself")
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"watch config {path} is larger than {MAX_CONFIG_BYTES // 1024 // 1024} "
                         "MiB: is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}, "
            f"line {line}); save the config as UTF-8") from None
    return parse_config(text, str(path))


def parse_config(text: str, where: str = "<config>") -> WatchConfig:
    """Validate the YAML ``text`` of a config (``where`` names it in errors)."""
    import yaml

    try:
        raw = typed.load_yaml(text)  # (yaml.safe_load, refusing a key given twice)
    except yaml.YAMLError as error:
        from kizashi.yaml_errors import yaml_reason

        raise ValueError(f"{where}: not valid YAML: {yaml_reason(error)}") from None
    except RecursionError:
        raise ValueError(f"{where}: not a usable config: YAML nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as error:  # e.g. a date such as 2024-13-45
        raise ValueError(f"{where}: not valid YAML: {error}") from None
    if raw is None:
        raw = {}
    reader = _Reader(raw, where, "")
    interval = reader.duration("interval", 15.0)
    sources = _sources(reader)
    watches = _watches(reader, sources)
    alerts = _alerts(reader)
    from kizashi.watch.remote_write import parse_remote_write

    remote_write = parse_remote_write(reader)
    log_format = reader.get("log_format", "text")
    if log_format not in ("text", "json"):
        raise ValueError(f"{where}: log_format must be text or json, got {_r(log_format)}")
    listen = reader.get("listen", "127.0.0.1:9464")
    listen = None if listen is None or listen is False or listen in ("", "off") \
        else reader.text("listen", listen)
    token = reader.get("token", None)
    token = reader.text("token", token) if token not in (None, "") \
        else os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():  # (a blank $KIZASHI_WATCH_TOKEN, as token:)
        raise ValueError(f"{where}: ${TOKEN_ENV} is blank; give a value or unset it")
    dashboard_url = reader.get("dashboard_url", None)
    config = WatchConfig(
        path=where,
        interval=interval,
        storage=reader.text("storage", reader.get("storage", "kizashi-watch.sqlite")),
        listen=listen,
        token=token,
        dashboard_url=_url(dashboard_url, f"{where}: dashboard_url")
        if dashboard_url not in (None, "") else None,
        max_backfill=reader.backfill("max_backfill", 3600.0, interval),
        initial_backfill=reader.backfill("initial_backfill", 0.0, interval, allow_zero=True),
        series_ttl=reader.duration("series_ttl", 600.0),
        retention=reader.duration("retention", 7 * 86400.0),
        sources=sources,
        watches=watches,
        alerts=alerts,
        remote_write=remote_write,
        log_format=log_format,
        metrics_series=_metrics_series(reader),
        shard=parse_shard(reader.get("shard", "0/1"), f"{where}: shard"),
    )
    reader.reject_unknown()
    validate(config)
    return config


def _metrics_series(reader: _Reader) -> int | None:
    value = reader.get("metrics_series", 1000)
    if value == "all":
        return None
    return reader.integer("metrics_series", 1000, minimum=0, maximum=10**9)


def parse_shard(value: Any, where: str) -> tuple[int, int]:
    """``"i/N"`` as ``(i, N)`` with 0 ≤ i < N.

    >>> parse_shard("1/4", "--shard")
    (1, 4)
    """
    text = (value if isinstance(value, str) else _r(value)).strip()
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"{where}: {_r(text)} is not a shard 'i/N' (e.g. 0/2)") from None
    if not (n >= 1 and 0 <= i < n and n <= 100_000):
        raise ValueError(f"{where}: shard {_r(text)} needs 0 <= i < N (N at most 100000)")
    return i, n


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
    """Cross-field checks: sources exist, detectors work, the state file and listen address.

    Parameters
    ----------
    config : WatchConfig
        The parsed config (``config.path`` names it in errors).

    Raises
    ------
    ValueError
        Naming the file and the key at fault.
    """
    where = config.path
    _check_storage(config.storage, where)
    if not config.watches:
        raise ValueError(f"{where}: 'watches' is empty; name at least one query to watch")
    for watch in config.watches:
        key = f"watches[{watch.name}]"
        if watch.source not in config.sources:
            known = ", ".join(sorted(config.sources)) or "(none)"
            raise ValueError(f"{where}: {key}.source {_r(watch.source)} is not defined under "
                             f"'sources' (defined: {known})")
        source = config.sources[watch.source]
        if source.type == "prometheus" and not watch.query:
            raise ValueError(f"{where}: {key}.query is missing (a PromQL expression)")
        for spec in watch.detectors:
            check_detector(spec, config.interval, f"{where}: {key}.detectors[{spec.name}]")
        if watch.predict is not None:
            from kizashi.watch.predictions import PREDICT, check_predict

            check_predict(watch.predict, config.interval, f"{where}: {key}.predict")
            if any(spec.name == PREDICT for spec in watch.detectors):
                raise ValueError(f"{where}: {key}: a detector named {_r(PREDICT)} clashes with "
                                 "the warnings of 'predict'; rename it")
    for source in config.sources.values():
        if source.type == "prometheus" and not source.url:
            raise ValueError(f"{where}: sources.{source.name}.url is missing")
    if config.listen is not None:
        host, _ = _split_listen(config.listen, where)
        if not _is_loopback(host) and not config.token:
            raise ValueError(
                f"{where}: listen {_r(config.listen)} is reachable from other machines, so the "
                f"dashboard needs a token: set 'token' in the config or ${TOKEN_ENV}"
            )


def check_detector(spec: DetectorSpec, interval: float, at: str) -> None:
    """Build the detector of ``spec`` and run it for a moment, so that ticks cannot fail.

    The parameters must have the declared types, be finite and within the limits of
    the module docs; the state of one series must fit :data:`MAX_STATE_BYTES`; a few
    synthetic steps must score without error.

    Parameters
    ----------
    spec : DetectorSpec
        The detector and its decision rule.
    interval : float
        Seconds between steps (the synthetic steps' spacing, the decider's step count).
    at : str
        ``"FILE: watches[NAME].detectors[NAME]"``, the start of every message.

    Raises
    ------
    ValueError
        Naming ``at`` and the parameter at fault.
    """
    import numpy as np

    from kizashi.detectors.registry import create, get_class, parameters

    try:
        cls = get_class(spec.detector)
    except ValueError as error:
        raise ValueError(f"{at}.detector: {error}") from None
    declared = {p.name: p for p in parameters(cls)}
    for name, value in spec.params.items():
        check_param(value, declared.get(name), f"{at}.params.{name}")
    try:
        detector = create(spec.detector, **spec.params)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(f"{at}: {error}") from None
    if spec.peers_by is not None and not detector.cross_sectional:
        raise ValueError(f"{at}.peers_by: only for a detector that compares each series with "
                         f"its peers (peers), not {_r(spec.detector)}")
    if spec.feature_label is not None and spec.model is None:
        raise ValueError(f"{at}.feature_label: only with `model: DIR` (it names the label that "
                         "matches a series to the model's inputs)")
    if (detector.multivariate or detector.requires_training) and spec.model is None:
        raise ValueError(f"{at}: detector {_r(spec.detector)} is multivariate or needs training: "
                         "give `model: DIR`, a folder written by `kizashi fit TRAIN --out DIR` "
                         "(the ensemble) or `kizashi train --out DIR` (a deep model)")
    if spec.model is not None:
        _check_model(spec, at)
        return
    try:  # the decision must be possible: e.g. no cutoff on raw scores without a scale
        spec.decision(1.0, detector).default_thresholds(1)
    except ValueError as error:
        raise ValueError(f"{at}.cutoff: {error}") from None
    trial = detector.clone()
    try:
        with _memory_limit(8 * MAX_STATE_BYTES):
            trial.reset(1)
    except MemoryError:
        raise ValueError(f"{at}.params: the state of one series is far larger than the limit "
                         f"of {MAX_STATE_BYTES >> 20} MiB (building it ran out of memory); use "
                         "smaller windows or coarser slots") from None
    except (ValueError, TypeError, ArithmeticError) as error:
        raise ValueError(f"{at}: {error}") from None
    size = _state_bytes(trial.state_)
    if size > MAX_STATE_BYTES:
        raise ValueError(f"{at}.params: the state of one series would take "
                         f"{size / 2**20:.0f} MiB (limit {MAX_STATE_BYTES >> 20} MiB per "
                         "series); use smaller windows or coarser slots")
    steps = np.arange(8, dtype=np.float64)
    try:
        trial.update_many((10.0 + np.sin(steps))[:, None],
                          timestamps=1_700_000_000.0 + interval * steps)
        spec.decision(interval, detector.clone()).reset(1)
    except Exception as error:  # any failure here would fail every tick
        raise ValueError(f"{at}: the detector fails on a test step ({type(error).__name__}: "
                         f"{error}); check its params") from None


def _check_model(spec: DetectorSpec, at: str) -> None:
    """A trained model folder: readable, for this detector, with named features, loadable."""
    try:
        record = spec.trained()
    except ValueError as error:
        raise ValueError(f"{at}.model: {error}") from None
    if record["network"] != spec.detector:
        raise ValueError(f"{at}.model: {spec.model} holds a {_r(record['network'])} network, "
                         f"not one for detector {_r(spec.detector)}")
    if not record.get("features"):
        raise ValueError(f"{at}.model: {spec.model} does not name its features (trained before "
                         "kizashi recorded them): train it again")
    features = record["features"]
    if (not isinstance(features, list) or len(set(map(str, features))) != len(features)
            or not all(isinstance(f, str) and f.strip() for f in features)):
        raise ValueError(f"{at}.model: {spec.model}/config.json: 'features' must be a list of "
                         f"distinct input names, got {_r(features)}; train or fit it again")
    if spec.cutoff.kind == "quantile":
        raise ValueError(f"{at}.cutoff: a quantile cutoff needs stored levels per series; use "
                         "'default' or a number with a trained model")
    try:
        spec.build()
    except (ValueError, OSError, RuntimeError, ImportError) as error:
        raise ValueError(f"{at}.model: cannot load {spec.model}: {error}") from None
    except Exception as error:  # a record edited by hand or of another kind: still one line
        raise ValueError(f"{at}.model: cannot load {spec.model} ({type(error).__name__}: "
                         f"{error}); give a folder written by `kizashi fit` or `kizashi train`"
                         ) from None


@contextmanager
def _memory_limit(extra: int) -> Iterator[None]:
    """Cap this process's address space at its current size + ``extra`` bytes, for a moment.

    Building a detector's state for the size check must not be able to take all the
    memory (an absurd ``period``/``slot`` pair): with the cap, numpy raises
    MemoryError instead. Only where it is safe: Linux, and no other Python thread
    that could be allocating meanwhile (the daemon loads its config before it starts
    any); elsewhere the state is built without a cap and measured afterwards.
    """
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError, IndexError):
        yield
        return
    cap = size + extra
    if threading.active_count() > 1 or (soft != resource.RLIM_INFINITY and soft <= cap):
        yield
        return
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _state_bytes(state: Any) -> int:
    """Bytes held by the arrays of a detector state."""
    import numpy as np

    total, todo = 0, [state]
    while todo:
        item = todo.pop()
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += 8 * len(item)
            todo.extend(x for x in item if isinstance(x, (np.ndarray, dict, list, tuple)))
    return total


def _check_storage(storage: str, where: str) -> None:
    """The state file must be a file path on a real filesystem."""
    if not storage.strip():
        raise ValueError(f"{where}: storage is empty; give the SQLite state file's path")
    if storage == ":memory:":
        return
    path = Path(storage).expanduser()
    resolved = Path(os.path.realpath(path))
    for root in VIRTUAL_ROOTS:
        if resolved == Path(root) or Path(root) in resolved.parents:
            raise ValueError(f"{where}: storage {_r(storage)} is under {root}, a virtual "
                             "filesystem that cannot hold the SQLite state file; give a path "
                             "on a disk (storage: or --state)")
    if resolved.is_dir():
        raise ValueError(f"{where}: storage {_r(storage)} is a directory; give the state file's "
                         "path, e.g. " + str(path / "kizashi-watch.sqlite"))


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

        kind = sub.text("type", sub.get("type", "prometheus"))
        if kind not in SOURCES:
            raise ValueError(f"{reader.where}: sources.{name}.type must be one of "
                             f"{', '.join(sorted(SOURCES))}, got {_r(kind)}")
        url = sub.get("url", None)
        path = sub.get("path", None)
        if kind in ("csv", "file", "logs") and not path:
            raise ValueError(f"{reader.where}: sources.{name}.path is missing (the file)"
                             f"{sub.misspelt('path')}")
        form = sub.text("format", sub.get("format", "auto"))
        zone = None  # a logs source's timezone
        if kind == "logs":  # a log format (kizashi.data.logs)
            from kizashi.data.logs import LOG_FORMATS

            if form not in ("auto", *LOG_FORMATS):
                raise ValueError(f"{reader.where}: sources.{name}.format of a logs source must "
                                 f"be auto or one of {', '.join(LOG_FORMATS)}, got {_r(form)}")
            from kizashi.data.log_zone import log_zone

            zone = sub.get("timezone", None)
            try:
                log_zone(zone if zone is None else sub.text("timezone", zone))
            except ValueError as error:
                raise ValueError(f"{reader.where}: sources.{name}.timezone: {error}") from None
        elif form not in ("auto", "long", "wide"):
            raise ValueError(f"{reader.where}: sources.{name}.format must be auto, long or wide, "
                             f"got {_r(form)}")
        out[str(name)] = SourceConfig(
            name=str(name), type=kind,
            url=_url(url, f"{reader.where}: sources.{name}.url") if url else None,
            path=sub.text("path", path) if path else None,
            timeout=sub.duration("timeout", 5.0),
            retries=sub.integer("retries", 2, minimum=0, maximum=100),
            backoff=sub.duration("backoff", 0.5, allow_zero=True),
            max_bytes=sub.integer("max_bytes", 32 * 1024 * 1024, minimum=1024, maximum=1 << 40),
            timestamp_column=sub.text("timestamp_column", sub.get("timestamp_column",
                                                                  "timestamp")),
            format=form,
            timezone=sub.text("timezone", zone) if zone is not None else None,
            http=_http_options(sub, kind),
        )
        sub.reject_unknown()
    return out


def _http_options(reader: _Reader, kind: str) -> Any:
    """Auth/TLS/headers of a source; only a ``prometheus`` source speaks HTTP."""
    from kizashi.watch.http_options import HTTP_KEYS, parse_http_options

    if kind != "prometheus":
        return None
    reader.used.update(HTTP_KEYS)  # (known keys of a prometheus source, for typo hints)
    return parse_http_options(reader, "source") if any(k in reader.raw for k in HTTP_KEYS) \
        else None


def _watches(reader: _Reader, sources: dict[str, SourceConfig]) -> tuple[WatchSpec, ...]:
    raw = reader.get("watches", None) or []
    if not isinstance(raw, list):
        raise ValueError(f"{reader.where}: 'watches' must be a list")
    default_source = next(iter(sources), "prometheus")
    out, seen = [], set()
    for i, body in enumerate(raw):
        sub = _Reader(body, reader.where, f"watches[{i}].")
        name = typed.name_text(sub.get("name", None), f"{reader.where}: watches[{i}].name",
                               f"watch{i}")
        if name in seen:
            raise ValueError(f"{reader.where}: watches[{i}].name {_r(name)} is used twice")
        seen.add(name)
        sub.prefix = f"watches[{name}]."
        detectors = []
        bodies = sub.get("detectors", None)
        bodies = [{"detector": "threshold"}] if bodies is None or bodies == [] else bodies
        if not isinstance(bodies, list):
            raise ValueError(f"{reader.where}: watches[{name}].detectors must be a list of "
                             f"detectors, got {type(bodies).__name__}")
        for j, dbody in enumerate(bodies):
            dsub = _Reader(dbody, reader.where, f"watches[{name}].detectors[{j}].")
            at = f"{reader.where}: {dsub.prefix}"
            model = typed.name_text(dsub.get("model", None), f"{at}model", None)
            detector = typed.name_text(dsub.get("detector", None), f"{at}detector", None) \
                or (_network_of(model, dsub) if model else "threshold")
            dname = typed.name_text(dsub.get("name", None), f"{at}name", detector)
            params = typed.mapping(dsub.get("params", None), f"{at}params",
                                   "parameter → value")
            cutoff = _cutoff(dsub)
            detectors.append(DetectorSpec(
                name=dname, detector=detector, params=dict(params), cutoff=cutoff,
                min_duration=dsub.duration("min_duration", None),
                resolve_after=dsub.duration("resolve_after", None),
                calibration=_calibration(dsub),
                protect=_optional_bool(dsub, "protect"),
                relearn_after=dsub.duration("relearn_after", None),
                model=model,
                feature_label=typed.label_name(dsub.get("feature_label", None),
                                               f"{at}feature_label"),
                peers_by=typed.label_name(dsub.get("peers_by", None), f"{at}peers_by"),
            ))
            dsub.reject_unknown()
        if len({d.name for d in detectors}) != len(detectors):
            raise ValueError(f"{reader.where}: watches[{name}].detectors: give each detector "
                             "of a watch its own 'name'")
        columns = typed.optional_list(sub.get("columns", None),
                                      f"{reader.where}: watches[{name}].columns", "column names")
        if columns and not all(isinstance(c, (str, int)) for c in columns):
            raise ValueError(f"{reader.where}: watches[{name}].columns must be a list of "
                             f"column names, got {_r(columns)}")
        query = sub.get("query", None)
        predict = sub.get("predict", None)
        if predict is not None:
            from kizashi.watch.predictions import parse_predict

            predict = parse_predict(predict, f"{reader.where}: watches[{name}].predict")
        out.append(WatchSpec(
            name=name,
            source=typed.name_text(sub.get("source", None),
                                   f"{reader.where}: watches[{name}].source", default_source),
            query=None if query is None else sub.text("query", query),
            detectors=tuple(detectors),
            columns=tuple(map(str, columns)) if columns else None,
            predict=predict,
        ))
        sub.reject_unknown()
    return tuple(out)


def _cutoff(reader: _Reader) -> Cutoff:
    """A cutoff: ``default``, a finite number or ``qP`` with 0 < P < 1."""
    value = reader.get("cutoff", "default")
    at = f"{reader.where}: {reader.prefix}cutoff"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        raise ValueError(f"{at} must be 'default', a number or a quantile such as q0.999, "
                         f"got {_r(value)}")
    try:
        cutoff = parse_cutoff(value)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{at}: {error}") from None
    if cutoff.value is not None and not math.isfinite(cutoff.value):
        raise ValueError(f"{at} must be a finite number, got {_r(value)}")
    if cutoff.value is not None and abs(cutoff.value) > MAX_PARAM_MAGNITUDE:
        raise ValueError(f"{at} must be at most {MAX_PARAM_MAGNITUDE:g} in size, got {_r(value)}")
    return cutoff


def _network_of(model: Any, reader: _Reader) -> str:
    """The detector a trained model folder is for (its network's name)."""
    import json

    path = Path(str(model)) / "config.json"
    try:
        network = json.loads(path.read_text(encoding="utf-8"))["network"]
        if not isinstance(network, str):
            raise ValueError(f"its 'network' is {_r(network)}, not a detector name")
        return network
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{reader.where}: {reader.prefix}model: cannot read {path} "
                         f"({error}); give a folder written by `kizashi train --out DIR`"
                         ) from None


def _optional_bool(reader: _Reader, key: str) -> bool | None:
    value = reader.get(key, None)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{reader.where}: {reader.prefix}{key} must be true or false, "
                         f"got {_r(value)}")
    return value


def _calibration(reader: _Reader) -> str:
    from kizashi.engine.calibrators import CALIBRATORS

    value = typed.name_text(reader.get("calibration", None),
                            f"{reader.where}: {reader.prefix}calibration", "auto")
    if value != "auto" and value not in CALIBRATORS:
        raise ValueError(f"{reader.where}: {reader.prefix}calibration must be auto or one of "
                         f"{', '.join(sorted(CALIBRATORS))}, got {_r(value)}")
    return value


#: Labels kizashi sets on every alert (Alertmanager and webhook): not for ``alerts.labels``.
OWN_ALERT_LABELS = ("alertname", "watch", "detector", "incident_id")


def _alerts(reader: _Reader) -> AlertsConfig:
    where = reader.where
    sub = _Reader(typed.mapping(reader.get("alerts", None), f"{where}: alerts", "settings"),
                  where, "alerts.")
    am = _Reader(typed.mapping(sub.get("alertmanager", None), f"{where}: alerts.alertmanager",
                               "settings (url, resend_interval)"), where, "alerts.alertmanager.")
    hook = _Reader(typed.mapping(sub.get("webhook", None), f"{where}: alerts.webhook",
                                 "settings (url)"), where, "alerts.webhook.")
    am_url, hook_url = am.get("url", None), hook.get("url", None)
    labels = typed.label_values(sub.get("labels", None), f"{where}: alerts.labels")
    for name in sorted(set(labels) & set(OWN_ALERT_LABELS)):   # else replaced in silence
        raise ValueError(f"{where}: alerts.labels.{name} is set by kizashi itself on every "
                         f"alert ({', '.join(OWN_ALERT_LABELS)}); choose another name")
    out = AlertsConfig(
        alertmanager_url=_url(am_url, f"{reader.where}: alerts.alertmanager.url")
        if am_url not in (None, "") else None,
        webhook_url=_url(hook_url, f"{reader.where}: alerts.webhook.url")
        if hook_url not in (None, "") else None,
        timeout=sub.duration("timeout", 5.0),
        resend_interval=am.duration("resend_interval", 60.0),
        labels=labels,
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
        """Seconds of a duration key, finite and within :data:`DURATION_LIMITS`."""
        value = self.get(key, None)
        if value is None:
            return default
        at = f"{self.where}: {self.prefix}{key}"
        try:
            seconds = parse_duration(value, allow_zero=allow_zero)
        except ValueError as error:
            if isinstance(value, float) and math.isnan(value):
                raise ValueError(f"{at} must be a finite duration, got .nan") from None
            raise ValueError(f"{at}: {error}") from None
        low, high = DURATION_LIMITS.get(key, DEFAULT_SPAN)
        if seconds == 0.0 and allow_zero:
            return 0.0
        if not low <= seconds <= high:
            raise ValueError(f"{at} must be from {limit_text(low)} to {limit_text(high)}"
                             f"{' (or 0)' if allow_zero else ''}, got {_r(value)}")
        return seconds

    def backfill(self, key: str, default: float, interval: float,
                 allow_zero: bool = False) -> float:
        """A backfill duration: also at most :data:`MAX_BACKFILL_STEPS` intervals."""
        seconds = self.duration(key, default, allow_zero=allow_zero)
        if seconds / interval > MAX_BACKFILL_STEPS:
            raise ValueError(f"{self.where}: {self.prefix}{key} ({limit_text(seconds)}) covers "
                             f"more than {MAX_BACKFILL_STEPS} steps of the interval "
                             f"({limit_text(interval)}); shorten it or lengthen the interval")
        return seconds

    def integer(self, key: str, default: int, minimum: int = 0,
                maximum: int | None = None) -> int:
        """A whole number from ``minimum`` to ``maximum``."""
        value = self.get(key, default)
        if (isinstance(value, bool) or not isinstance(value, int) or value < minimum
                or (maximum is not None and value > maximum)):
            upper = f" and <= {maximum}" if maximum is not None else ""
            given = short_number(value) if isinstance(value, int) and not isinstance(value, bool) \
                else _r(value)
            raise ValueError(f"{self.where}: {self.prefix}{key} must be an integer >= {minimum}"
                             f"{upper}, got {given}")
        return value

    def text(self, key: str, value: Any) -> str:
        """``value`` of ``key``: non-empty text (a number or boolean is refused: quote it)."""
        return typed.name_text(value, f"{self.where}: {self.prefix}{key}", None) or ""

    def misspelt(self, key: str) -> str:
        """`` (KEY2 is unknown: did you mean KEY?)`` when an unread key looks like ``key``."""
        unread = [str(k) for k in self.raw if k not in self.used]
        close = typed.nearest(key, unread)
        return f" ({_r(close)} is unknown: did you mean {_r(key)}?)" if close else ""

    def reject_unknown(self) -> None:
        unknown = sorted(map(str, set(self.raw) - self.used))
        if unknown:
            names = ", ".join(self.prefix + k for k in unknown)
            raise ValueError(f"{self.where}: unknown key(s) {names}"
                             f"{typed.did_you_mean(unknown[0], self.used)}; "
                             f"known here: {', '.join(sorted(self.used))}")


def _steps(duration: float | None, interval: float) -> int:
    if duration is None:
        return 1
    return max(1, math.ceil(duration / interval - 1e-9))


def _url(value: Any, key: str) -> str:
    """An http(s) URL with a host (and a valid port), without its trailing ``/``.

    Before, only the scheme was checked: ``http://a b`` (a space), ``http://[::1`` or
    ``http://h:99999`` passed, then failed every request of the daemon (or ended in an
    "internal error" from an override).

    >>> _url(" http://[::1]:9090/prefix/ ", "url")
    'http://[::1]:9090/prefix'
    >>> _url("http://h:99999", "url")
    Traceback (most recent call last):
    ...
    ValueError: url: 'http://h:99999' is not an http(s) URL (Port out of range 0-65535)
    """
    import urllib.parse

    if not isinstance(value, str):
        raise ValueError(f"{key}: {_r(value)} is not an http(s) URL")
    text = value.strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{key}: {_r(value)} is not an http(s) URL")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError(f"{key}: {_r(value)} is not an http(s) URL: it holds a space or "
                         "control character (write a space as %20)")
    try:
        parts = urllib.parse.urlsplit(text)
        host, _port = parts.hostname, parts.port
    except ValueError as error:  # an unclosed [IPv6, a port that is no number or too large
        raise ValueError(f"{key}: {_r(value)} is not an http(s) URL ({error})") from None
    if not host:
        raise ValueError(f"{key}: {_r(value)} names no host (e.g. http://prometheus:9090)")
    return text


def _split_listen(listen: str, where: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{where}: listen {_r(listen)} must look like HOST:PORT, "
                         "e.g. 127.0.0.1:9464")
    return host or "0.0.0.0", int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
