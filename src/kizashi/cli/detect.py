"""``kizashi detect`` and ``kizashi detectors``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from kizashi.cli.detect_diagnosis import add_options as diagnosis_options
from kizashi.cli.detect_logs import add_options as log_options
from kizashi.cli.detect_options import STEPS, dask_option, given_text
from kizashi.cli.duration_option import Duration
from kizashi.cli.errors import not_empty_path
from kizashi.cli.watch_options import any_url_option
from kizashi.data.validation import DataError, DataWarning


def parse_params(items: tuple[str, ...]) -> dict:
    from kizashi.detectors.registry import parse_param

    params = {}
    for item in items:
        try:
            key, value = parse_param(item)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--param") from None
        if key in params:
            raise click.BadParameter(f"{key!r} is given twice", param_hint="--param")
        params[key] = value
    return params


def read_input(path: Path, fmt: str, on_invalid: str, on_duplicate: str, labels: Path | None,
               entity: str | None = None):
    """Read FILE as a SeriesFrame, showing each repair as a warning line on stderr
    (``entity`` names a wide file's one entity instead of its file name)."""
    from kizashi.data.readers import read_series

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        if fmt == "nab":
            frame = _read_nab_file(path, labels)
        else:
            frame = read_series(path, format=fmt, on_invalid=on_invalid,
                                on_duplicate=on_duplicate, entity=entity)
    for warning in caught:
        click.secho(f"warning: {warning.message}", fg="yellow", err=True)
    for finding in frame.report.findings:
        if finding.kind == "gaps":
            click.secho(f"note: {frame.report.source}: {finding.message}", err=True)
    return frame


def _read_nab_file(path: Path, labels: Path | None):
    """A NAB data file; its windows come from ``labels`` or from the NAB tree around it."""
    from kizashi.data.nab import WINDOWS_FILE, read_nab_file, read_windows_file
    from kizashi.data.sniffing import is_parquet

    if is_parquet(path):
        raise DataError(f"{path}: a NAB data file is CSV (timestamp,value); this is Parquet: "
                        f"read it with --format auto")
    name = f"{path.parent.name}/{path.name}"
    if labels is None:  # the corpus: ROOT/data/CATEGORY/FILE beside ROOT/labels/
        parents = path.resolve().parents
        beside = parents[2] / WINDOWS_FILE if len(parents) > 2 else None
        labels = beside if beside is not None and beside.exists() else None
    windows = read_windows_file(labels).get(name, []) if labels is not None else []
    if labels is not None and not windows:
        click.secho(f"note: {labels} has no windows for {name}", err=True)
    return read_nab_file(path, windows, name).to_frame()


@click.command()
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "long", "wide", "nab"]),
              default="auto", show_default=True,
              help="long: timestamp,entity,metric,value; wide: timestamp + one column per "
                   "metric; nab: a NAB data file (labels from its corpus, if beside it).")
@click.option("--prometheus", metavar="URL", callback=any_url_option,
              help="Read the series from Prometheus instead of FILE (with --query).")
@click.option("--query", metavar="PROMQL", help="PromQL query for --prometheus.")
@click.option("--since", default="1d", show_default=True, metavar="DURATION",
              type=Duration(1.0, 3660 * 86400.0),
              help="With --prometheus: how far back to read (e.g. 6h, 7d, 2d12h; 1s to 3660d, at "
                   "most 10,000,000 steps).")
@click.option("--step", "step_text", default="1m", show_default=True, metavar="DURATION",
              type=Duration(1e-3, 86400.0),
              help="With --prometheus: the step between points (1ms to 1d).")
@click.option("--detector", "-d", default=None,
              help="Registered detector name (see `kizashi detectors`; default: the ensemble, "
                   "kizashi's default detector).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="Detector parameter; repeat for several.")
@click.option("--train", "train_file", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Fit the detector on this file (same series; the default ensemble fixes "
                   "each node's reference and causes on it). Without it a detector that needs "
                   "training is fitted on the first 30 % of FILE, whose rows then get no score.")
@click.option("--calibration", type=click.Choice(["auto", "none", "likelihood", "zscore"]),
              default="auto", show_default=True,
              help="How scores are put on one scale before the cutoff: auto keeps a "
                   "detector's own scale when it has one, else Numenta's anomaly likelihood.")
@click.option("--cutoff", default="default", show_default=True, callback=given_text,
              help="Cutoff on the calibrated scale: 'default', a number, or a quantile such "
                   "as q0.999 of each series' levels.")
@click.option("--min-steps", default=1, show_default=True, type=STEPS,
              help="Steps above the cutoff before an alert fires.")
@click.option("--resolve-steps", default=1, show_default=True, type=STEPS,
              help="Steps below the cutoff before an alert resolves.")
@click.option("--no-protect", is_flag=True,
              help="Let the detector learn the steps it flags (by default an alert's steps "
                   "are kept out of its baseline).")
@click.option("--out", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Write scores (timestamp,entity,metric,detector,score,is_anomaly; the "
                   "score is empty while a series learns) in the format the suffix names: "
                   ".csv, .csv.gz, .parquet, .json or .jsonl.")
@click.option("--plot", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Write a PNG of each series with its score and flagged points.")
@click.option("--on-invalid", type=click.Choice(["error", "missing"]), default="error",
              show_default=True, help="Text or ±inf in a numeric column: stop, or treat as "
                                      "missing.")
@click.option("--on-duplicate", type=click.Choice(["last", "first", "error"]), default="last",
              show_default=True, help="Two values for one series and timestamp: keep the "
                                      "later line, the earlier, or stop.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="NAB windows JSON for --format nab (default: the corpus's own).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@diagnosis_options
@log_options
@click.option("--dask", "dask_address", metavar="ADDRESS", callback=dask_option,
              help="Score on a Dask cluster, series partitioned over its workers (same "
                   "scores): local:N for N worker processes here (at most 4 per core), or a "
                   "scheduler's address "
                   "(tcp://host:8786, e.g. started by dask-jobqueue on LSF/Slurm). Needs "
                   "kizashi[scale].")
@click.option("--partitions", type=click.IntRange(min=1), metavar="N",
              help="With --dask: partitions of the series (default: twice the workers).")
@click.option("--max-memory", default=None, metavar="SIZE",
              help="The most memory scoring may take (8GiB, 512MB; default: the memory "
                   "available now): a run estimated above it (a wide file under the "
                   "ensemble's reference, a detector's window of thousands of steps on "
                   "every series) is refused before it starts instead of being killed.")
def detect(file: Path | None, fmt: str, prometheus: str | None, query: str | None, since: str,
           step_text: str, detector: str | None, params: tuple[str, ...],
           train_file: Path | None,
           calibration: str, cutoff: str, min_steps: int, resolve_steps: int, no_protect: bool,
           out: Path | None, plot: Path | None, on_invalid: str, on_duplicate: str,
           labels: Path | None, quiet: bool, explain: bool = False,
           incidents_file: Path | None = None, group_by: tuple[str, ...] = (),
           group_window: int = 6, entity_labels: Path | None = None,
           peers_by: str | None = None, logs: Path | None = None, log_format: str = "auto",
           log_step: str = "1m", log_hosts: bool = True, dask_address: str | None = None,
           partitions: int | None = None, log_timezone: str = "local",
           max_memory: str | None = None) -> None:
    """Score every series in FILE (or a Prometheus query) and flag anomalies.

    FILE is CSV (plain or gzip) or Parquet. Every detector has a working default
    decision: scores are calibrated onto one scale, then cut. Examples:

    \b
        kizashi detect cpu.csv --detector threshold --param k=4 --out scores.csv --plot cpu.png
        kizashi detect cpu.csv --detector sst
        kizashi detect --prometheus http://127.0.0.1:9090 --query 'node_load5' --since 7d
    """
    from kizashi.cli.detect_diagnosis import (
        check_label_keys,
        peer_groups,
        read_entity_labels,
        report,
        unlabelled_note,
    )
    from kizashi.cli.detect_unused import check_unused
    from kizashi.cli.detector_options import checked_params, naming
    from kizashi.cli.errors import OneLineUsageError, check_not_input, check_writable
    from kizashi.cli.output_checks import check_distinct_outputs, check_image_path
    from kizashi.decision.cutoffs import parse_cutoff
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.engine.batch import score_frame
    from kizashi.engine.memory import check_detect_memory, parse_bytes
    from kizashi.engine.sinks import write_scores

    detector = DEFAULT_DETECTOR if detector is None else detector
    from kizashi.cli.detect_options import check_combinations

    check_combinations(detector, group_by, entity_labels, peers_by, partitions, dask_address)
    check_unused(click.get_current_context(), locals())
    for output in (out, plot, incidents_file):
        check_writable(output)
        check_not_input(output, file, train_file, logs, labels, entity_labels)
    check_distinct_outputs({"--out": out, "--plot": plot, "--incidents": incidents_file})
    check_image_path(plot)
    from kizashi.cli.output_checks import check_table_path

    check_table_path(out)
    check_table_path(incidents_file, "--incidents")
    try:  # options first: a bad one is found before a long read (a usage error)
        parsed = checked_params(detector, parse_params(params))
        parse_cutoff(cutoff)
        cap = None if max_memory is None else parse_bytes(max_memory, "--max-memory")
    except ValueError as error:
        raise OneLineUsageError(str(error)) from None
    try:
        entity_map = read_entity_labels(entity_labels)
        check_label_keys(entity_map, group_by, "--group-by", entity_labels)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    try:
        if logs is not None:
            if file is not None or prometheus is not None:
                raise ValueError("give a FILE, --prometheus URL or --logs FILE, one of them")
            from kizashi.cli.detect_logs import read_log_input

            frame = read_log_input(logs, log_format, log_step, log_hosts, log_timezone)
        elif (file is None) == (prometheus is None):
            raise ValueError("give a FILE or --prometheus URL (with --query)" + (
                ", not both" if file is not None else ""))
        elif prometheus is not None:
            frame = read_prometheus(prometheus, query, since, step_text)
        else:
            frame = read_input(file, fmt, on_invalid, on_duplicate, labels)
        # a wide training file (node1-train.csv) holds the scored file's one entity,
        # whatever its file name: name it so, or no series would match
        entities = {entity for entity, _ in frame.keys}
        train = None if train_file is None else read_input(
            train_file, fmt, on_invalid, on_duplicate, None,
            entity=next(iter(entities)) if len(entities) == 1 else None)
        if train is not None and train.keys != frame.keys and set(frame.keys) <= set(
                train.keys):  # the scored series, in the scored file's order
            column = {key: j for j, key in enumerate(train.keys)}
            train = train.take([column[key] for key in frame.keys])
        unlabelled = unlabelled_note(frame, entity_map, entity_labels)
        if unlabelled:
            click.secho(unlabelled, fg="yellow", err=True)
        if detector == "peers" and "groups" not in parsed:
            parsed["groups"] = peer_groups(frame, entity_map, peers_by)
        elif dask_address is None:  # the workers' memory is not this machine's
            check_detect_memory(detector, parsed, frame.n_times, _metrics_per_entity(frame),
                                None if train is None else train.n_times, cap)
        decision = {"calibration": calibration, "cutoff": cutoff, "min_steps": min_steps,
                    "resolve_steps": resolve_steps, "protect": False if no_protect else None}
        if dask_address is not None:
            if explain:
                raise click.UsageError("--explain is not available with --dask yet: "
                                       "score in one process to get the causes.")
            result = _score_on_dask(dask_address, partitions, frame, detector, parsed,
                                    decision, train, progress=not quiet and sys.stderr.isatty())
        else:
            result = score_frame(frame, detector, parsed, decision=decision,
                                 train=train, progress=not quiet and sys.stderr.isatty(),
                                 explain=explain)
    except (DataError, ValueError) as error:
        raise click.ClickException(naming(file or logs, str(error))) from None
    flagged = result.flags.sum(axis=0)
    if detector == "peers":  # one key per series: too long to print
        result.params.pop("groups", None)
    where = file if file is not None else logs if logs is not None else f"{prometheus} {query}"
    click.echo(f"{where}: {frame.n_times} time steps, {frame.n_series} series, detector "
               f"{detector} {result.params or ''}(calibration {result.calibration}, "
               f"{len(result.incidents)} incidents)")
    for j, (entity, metric) in enumerate(zip(result.entities, result.metrics, strict=True)):
        if j == 20:
            click.echo(f"  ... and {len(result.entities) - 20} more series")
            break
        click.echo(f"  {entity}/{metric}: {int(flagged[j])} flagged (cutoff "
                   f"{result.cutoffs[j]:.4g}, max level {_max(result.levels[:, j])})")
    from kizashi.cli.detect_learning import learning_note, unfitted_note

    silent = learning_note(result, frame, str(where), detector,
                           "read a longer range (--since)" if prometheus is not None
                           else "give a longer file")
    if silent:  # a file shorter than the learning: every score empty, said once
        click.secho(silent, fg="yellow", err=True)
    unfitted = unfitted_note(result, str(where), None if train_file is None else str(train_file))
    if unfitted:  # a node without training rows: empty, the others scored
        click.secho(unfitted, fg="yellow", err=True)
    if _is_entity_level(result):  # a missing metric leaves its node's step unscored
        from kizashi.cli.detect_coverage import unscored_notes

        for note in unscored_notes(frame, detector):
            click.echo(note, err=True)
    try:
        written = report(result, frame, explain=explain, incidents=incidents_file,
                         entity_labels=entity_map, group_by=group_by, window=group_window)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if out is not None:
        try:
            write_scores(written, out)
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
        click.echo(f"scores written to {out}")
    if plot is not None:
        from kizashi.report.plots import plot_scores

        titles = [f"{e} / {m}" for e, m in zip(result.entities, result.metrics, strict=True)]
        shown = frame.values if not _is_entity_level(result) else result.levels
        plot_scores(result.timestamps, shown, result.levels, result.flags, result.cutoffs,
                    titles, plot, labels=result.labels, score_name=f"{detector} level")
        click.echo(f"plot written to {plot}")


def _score_on_dask(address: str, partitions: int | None, frame, detector: str, params: dict,
                   decision: dict, train, progress: bool):
    """``score_frame`` on a Dask cluster, with a progress bar over the series."""
    from tqdm import tqdm

    from kizashi.engine.distributed import connect, score_frame_distributed

    with connect(address) as client, tqdm(total=frame.n_series, unit="series",
                                          desc="scoring on dask", disable=not progress,
                                          leave=False) as bar:
        return score_frame_distributed(frame, detector, params, client=client,
                                       decision=decision, train=train, partitions=partitions,
                                       on_done=bar.update)


#: most points per series that --since / --step may ask Prometheus for
MAX_RANGE_STEPS = 10_000_000


def read_prometheus(url: str, query: str | None, since: str, step_text: str):
    """The result of a range query over the last ``since``, as a SeriesFrame."""
    import math
    import time

    from kizashi.durations import parse_duration
    from kizashi.engine.sources import frame_from_samples
    from kizashi.watch.sources import PrometheusSource, SourceError

    if not query:
        raise ValueError("--prometheus needs --query PROMQL")
    step = parse_duration(step_text)
    if parse_duration(since) / step > MAX_RANGE_STEPS:
        raise click.UsageError(f"--since {since} at --step {step_text} is more than "
                               f"{MAX_RANGE_STEPS:,} points per series; use a coarser --step")
    end = math.floor(time.time() / step) * step
    start = end - math.floor(parse_duration(since) / step) * step
    try:
        samples = PrometheusSource(url).range(query, start, end, step)
    except SourceError as error:
        raise ValueError(str(error)) from None
    return frame_from_samples(samples, name=f"{url} {query}")


def _metrics_per_entity(frame) -> list[int]:
    """How many series each entity of ``frame`` has (a multivariate detector's groups)."""
    from collections import Counter

    return list(Counter(frame.entities).values())


def _is_entity_level(result) -> bool:
    return all(m == "*" for m in result.metrics)


def _max(column) -> str:
    import numpy as np

    finite = column[np.isfinite(column)]
    return f"{finite.max():.4g}" if finite.size else "n/a"


@click.command("detectors")
def list_detectors() -> None:
    """List the registered detectors with their parameters and defaults."""
    from kizashi.detectors.registry import DETECTORS, get_class, parameters

    for name in DETECTORS:
        try:
            cls = get_class(name)
        except ImportError as error:
            click.echo(f"{name}: unavailable ({error}; install the extra it needs)")
            continue
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        flags = [f for f, on in (("multivariate", cls.multivariate),
                                 ("needs training", cls.requires_training),
                                 ("needs timestamps", cls.requires_timestamps)) if on]
        click.echo(f"{name}  ({cls.__name__}{'; ' + ', '.join(flags) if flags else ''})")
        click.echo(f"    {summary}")
        params = ", ".join(f"{p.name}={p.default!r}" for p in parameters(cls))
        click.echo(f"    parameters: {params or '(none)'}")
