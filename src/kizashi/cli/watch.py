"""``kizashi watch CONFIG``: run the anomaly-watching daemon (or ``--check`` its config)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

import click

from kizashi.cli.watch_options import listen_option, shard_option, text_option, url_option

log = logging.getLogger("kizashi.watch")


@click.command("watch")
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True,
              help="Validate the config, open the state file and reach every source, "
                   "Alertmanager and the remote_write receiver, then exit (0 when all is well).")
@click.option("--prometheus", metavar="URL", callback=url_option,
              help="Use this Prometheus for every Prometheus source.")
@click.option("--alertmanager", metavar="URL", callback=url_option,
              help="Send alerts to this Alertmanager.")
@click.option("--state", "state_path", metavar="PATH", callback=text_option,
              help="SQLite state file (overrides 'storage').")
@click.option("--listen", metavar="HOST:PORT", callback=listen_option,
              help="Dashboard and /metrics address (overrides 'listen'; 'off' for none).")
@click.option("--once", is_flag=True, help="Run a single tick and exit (for cron-like use).")
@click.option("--shard", metavar="I/N", callback=shard_option,
              help="Watch only the series whose labels hash to shard I of N (0 <= I < N); "
                   "run N daemons, one per shard. Default state file: STORAGE with "
                   ".shard-I-of-N before its suffix; default port: the listen port + I.")
@click.option("-v", "--verbose", is_flag=True, help="Log every tick's details.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or as one JSON object per line (overrides "
                   "'log_format'; default text).")
def watch(config_path: str, check: bool, prometheus: str | None, alertmanager: str | None,
          state_path: str | None, listen: str | None, once: bool, verbose: bool,
          log_format: str | None, shard: str | None = None) -> None:
    """Watch the series of CONFIG (YAML), score them online, alert, and serve a dashboard.

    State lives in one SQLite file: stop the daemon in any way (even kill -9)
    and start it again, and it resumes where it stopped, backfilling the gap.
    Send SIGHUP to reload CONFIG (new watches start, removed ones stop, changed
    ones restart; a config that does not load is refused and the old one kept).
    """
    from kizashi.watch.config import apply_overrides, load_config
    from kizashi.watch.log_format import configure_logging

    configure_logging(log_format or "text", verbose)

    def load() -> Any:
        config = apply_overrides(load_config(config_path), prometheus=prometheus,
                                 alertmanager=alertmanager, state=state_path, listen=listen)
        return _with_shard(config, shard, state_path, listen)

    try:
        config = load()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if log_format is None and config.log_format != "text":
        configure_logging(config.log_format, verbose)
    if check:
        sys.exit(0 if run_check(config) else 1)
    run_daemon(config, once=once, reload=load)


def _with_shard(config: Any, shard: str | None, state_path: str | None,
                listen: str | None) -> Any:
    """The config for one shard (``--shard`` or the config's ``shard``)."""
    from dataclasses import replace

    from kizashi.watch.config import parse_shard
    from kizashi.watch.shards import shard_paths

    part = parse_shard(shard, "--shard") if shard else config.shard
    if part[1] <= 1:
        return config
    try:
        storage, address = shard_paths(config.storage, config.listen, part)
    except ValueError as error:   # the config's listen port + i past 65535
        if listen:                # --listen chose this shard's own address
            storage, address = shard_paths(config.storage, None, part)
        else:
            raise ValueError(f"{config.path}: {error}") from None
    return replace(config, shard=part, storage=state_path or storage,
                   listen=config.listen if listen else address)


def run_check(config: Any) -> bool:
    """Print what works and what does not; True when everything does."""
    import os

    from kizashi.watch.alerts import Notifier
    from kizashi.watch.sources import CsvSource, SourceError, only_columns
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import make_source

    ok = True

    def line(good: bool, text: str) -> None:
        nonlocal ok
        ok &= good
        click.echo(f"{'ok  ' if good else 'FAIL'} {text}")

    line(True, f"config {config.path}: {len(config.watches)} watch(es), every "
               f"{config.interval:g} s")
    if os.path.exists(config.storage):
        try:
            WatchStore(config.storage, readonly=True).close()
            folder = os.path.dirname(config.storage) or "."
            if not os.access(config.storage, os.W_OK):
                line(False, f"state file {config.storage} is readable but read-only "
                            "(permission denied): the daemon cannot write it; make it writable "
                            "or choose another file with --state")
            elif not os.access(folder, os.W_OK | os.X_OK):
                line(False, f"state file {config.storage} is readable but its folder {folder} "
                            "is read-only: SQLite cannot write its journal beside it")
            else:
                line(True, f"state file {config.storage} is readable and writable")
        except ValueError as error:
            line(False, str(error))
    else:
        line(True, f"state file {config.storage} will be created")
    for name in config.sources:
        source = make_source(config, name)
        try:
            version = source.check()
            line(True, f"source {name}: reachable ({version})")
        except SourceError as error:
            line(False, str(error))
            continue
        for spec in config.watches:
            if spec.source != name:
                continue
            try:
                if isinstance(source, CsvSource):
                    samples = source.read(None)
                else:
                    import time

                    samples = source.instant(spec.query or "", time.time())
                samples_read = bool(samples.labels)
                samples, absent = only_columns(samples, spec.columns)
                if absent and samples_read:  # a column named that the source does not have
                    # (a source with no series yet, a query nothing answers, is said below)
                    line(False, f"watch {spec.name}: column(s) {', '.join(absent)} not in "
                                f"source {name}")
                line(bool(samples.labels) or spec.columns is None or not samples_read,
                     f"watch {spec.name}: {len(samples.labels)} series now")
            except SourceError as error:
                line(False, f"watch {spec.name}: {error}")
    for sink, result in Notifier(config.alerts, config.link_base).check().items():
        line(result == "ok" or result.startswith("not contacted"), f"alert sink {sink}: {result}")
    if config.remote_write is not None:
        from kizashi.watch.remote_write import RemoteWriter

        result = RemoteWriter(config.remote_write, ":memory:").check()
        line(result == "ok", f"remote_write {config.remote_write.url}: {result}")
    if not config.alerts.alertmanager_url and not config.alerts.webhook_url:
        click.echo("note no alert sink configured: alerts are only stored and shown")
    return ok


def run_daemon(config: Any, once: bool = False, reload: Any = None) -> None:
    """Run until SIGTERM/SIGINT: the tick loop in this thread, the web server in another.

    ``reload`` (a function returning the config read again) is called on SIGHUP.
    """
    from kizashi.watch.store import StateFileDamaged, WatchStore
    from kizashi.watch.watcher import Watcher

    try:
        store = WatchStore(config.storage)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    try:
        watcher = Watcher(config, store)
    except StateFileDamaged as error:  # restoring the watches read a damaged part
        store.close()
        raise click.ClickException(str(error)) from None
    if once:
        watcher.tick()
        store.close()
        if watcher.corrupt is not None:   # logged in one line by the watcher
            sys.exit(1)
        return
    stop = threading.Event()
    wake = threading.Event()      # ends the tick loop for a stop or a reload
    reload_wanted = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()
        wake.set()

    def on_hangup(signum: int, frame: Any) -> None:
        reload_wanted.set()
        wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if reload is not None:
        signal.signal(signal.SIGHUP, on_hangup)
    server = _start_web(config, watcher) if config.listen else None
    log.info("watching %d watch(es) every %g s; state in %s%s", len(config.watches),
             config.interval, config.storage,
             f"; dashboard on http://{config.listen}" if config.listen else "")
    try:
        while not stop.is_set():
            if reload_wanted.is_set():
                from kizashi.watch.reload import reload_watcher

                reload_wanted.clear()
                log.info("SIGHUP: reloading %s", config.path)
                reload_watcher(watcher, reload)
            wake.clear()
            if not (stop.is_set() or reload_wanted.is_set()):
                watcher.run(wake)
            if watcher.corrupt is not None:   # the state file is damaged: no retry helps
                break
    finally:
        if server is not None:
            server.should_exit = True
        watcher.remote.close()
        store.close()
    if watcher.corrupt is not None:   # logged in one line by the watcher; a restart (systemd,
        sys.exit(1)                   # Kubernetes) meets the same damage at the open's check


def _start_web(config: Any, watcher: Any) -> Any:
    try:
        import uvicorn

        from kizashi.watch.web import create_app
    except ImportError as error:
        raise click.ClickException(
            f"the dashboard needs the web extras ({error.name} is missing): "
            "pip install 'kizashi[web]', or run with --listen off") from None
    import socket

    host, port = config.listen_host_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # fail now, not in the thread
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(f"cannot listen on {config.listen}: {error.strerror}; "
                                       "choose another address with --listen") from None
    app = create_app(config.storage, watcher.snapshot, token=config.token,
                     interval=config.interval)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False, log_config=None))  # our format
    server.install_signal_handlers = lambda: None  # the main thread handles signals
    thread = threading.Thread(target=server.run, name="kizashi-web", daemon=True)
    thread.start()
    return server
