"""``kizashi predict``: warnings ahead, with a probability and an ETA per series and step."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from kizashi.cli.duration_option import Duration
from kizashi.cli.errors import not_empty_path
from kizashi.cli.predict_trend import OPTION as TREND_OPTION
from kizashi.data.validation import DataError
from kizashi.prediction.predictor import ANOMALY_AHEAD_CUTOFF, DEFAULT_CUTOFF

#: The longest --horizon: further, a trend fitted on hours of data means nothing.
MAX_HORIZON_DAYS = 366


def _with_hint(metric: str, metrics) -> str:
    """``metric``, with the file's metric of the nearest spelling (any case) as a hint.

    >>> _with_hint("CPU", ["cpu", "mem"]), _with_hint("gpu_w", ["cpu", "mem"])
    ("CPU (did you mean 'cpu'?)", 'gpu_w')
    """
    import difflib

    names = {str(m).lower(): str(m) for m in metrics}
    close = difflib.get_close_matches(metric.lower(), list(names), n=1, cutoff=0.75)
    return f"{metric} (did you mean {names[close[0]]!r}?)" if close else metric


def shares_named_pct(frame, limits: dict[str, float]) -> list[str]:
    """Metrics ending in ``_pct`` (limit 100 unless given) whose values all lie in 0–1:
    likely shares, which would never come near 100.

    >>> from kizashi.data.frame import SeriesFrame
    >>> values = np.array([[0.5, 50.0, 0.7], [0.9, 60.0, 0.8]])
    >>> frame = SeriesFrame.from_arrays([0, 60], values, ["a", "a", "b"],
    ...                                 ["gpu_pct", "disk_pct", "mem_pct"])
    >>> shares_named_pct(frame, {}), shares_named_pct(frame, {"gpu_pct": 1.0})
    (['gpu_pct', 'mem_pct'], ['mem_pct'])
    """
    out = []
    for metric in sorted({m for m in frame.metrics if m.endswith("_pct") and m not in limits}):
        columns = [j for j, m in enumerate(frame.metrics) if m == metric]
        values = frame.values[:, columns]
        values = values[np.isfinite(values)]
        if values.size and 0.0 <= values.min() and values.max() <= 1.0 and values.max() > 0:
            out.append(metric)
    return out


def parse_limits(items: tuple[str, ...]) -> dict[str, float]:
    """``METRIC=VALUE`` options as a dict; the value is after the last ``=`` (a number has
    none), so a metric whose name holds one (``job=node``) takes its limit too.

    >>> parse_limits(("cpu_temp_c=90", "mem_bytes=6.4e10", "rate( errors_total )=5"))
    {'cpu_temp_c': 90.0, 'mem_bytes': 64000000000.0, 'rate(errors_total)': 5.0}
    >>> parse_limits(("job=node=3",))
    {'job=node': 3.0}
    """
    import math

    from kizashi.prediction.rates import rate_name, rate_of

    limits = {}
    for item in items:
        metric, sep, value = item.rpartition("=")
        if not sep or not metric.strip() or not value.strip():
            raise click.BadParameter(f"{item!r}: write METRIC=VALUE, e.g. cpu_temp_c=90",
                                     param_hint="--limit")
        try:
            number = float(value)
        except ValueError:  # 90%, 1,5, 10GB: the value alone is wrong, say so
            raise click.BadParameter(f"{item!r}: {value.strip()!r} is not a number; write "
                                     f"the limit as a plain number in the metric's own unit, "
                                     f"e.g. {metric.strip()}=90", param_hint="--limit") from None
        if not math.isfinite(number):
            raise click.BadParameter(f"{item!r}: a limit must be a finite number",
                                     param_hint="--limit")
        key = metric.strip()
        counted = rate_of(key)
        if counted is not None:  # rate( errors_total ) names the series rate(errors_total)
            key = rate_name(counted)
        if key in limits:
            raise click.BadParameter(f"{key!r} is given twice; give one limit a "
                                     "metric", param_hint="--limit")
        limits[key] = number
    return limits


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "long", "wide"]), default="auto",
              show_default=True,
              help="long: timestamp,entity,metric,value; wide: timestamp + one column per metric.")
@click.option("--horizon", default="6h", show_default=True, metavar="DURATION",
              type=Duration(1.0, MAX_HORIZON_DAYS * 86400.0,
                            f"{MAX_HORIZON_DAYS} days ahead; a trend is not extrapolated "
                            "that far"),
              help="How far ahead to look (e.g. 1h, 1h30m, 6h, 1d; at most 366 days, though a "
                   "trend learned from hours of data says little beyond a day or two).")
@click.option("--limit", "limits", multiple=True, metavar="METRIC=VALUE",
              help="The limit of a metric (repeat for several); metrics ending in _pct "
                   "default to 100. 'rate(M)=V' limits the per-second rate of counter M: "
                   "its rate is predicted as a series of its own, rate(M).")
@click.option("--cutoff", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=DEFAULT_CUTOFF, show_default=True,
              help="Series with a limit warn when the calibrated probability reaches this "
                   "(the default was chosen on generated scenarios, see docs/prediction.md).")
@click.option("--anomaly-cutoff", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=ANOMALY_AHEAD_CUTOFF, show_default=True,
              help="The same for series without a limit (anomaly ahead).")
@click.option("--no-anomaly-ahead", is_flag=True,
              help="Predict only series with a limit; leave the others empty.")
@click.option("--out", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Write timestamp,entity,metric,probability,is_warning,eta in the format "
                   "the suffix names (.csv, .csv.gz, .parquet, .json or .jsonl); probability "
                   "is empty while a series learns, eta when no crossing is expected within "
                   "the horizon.")
@click.option("--on-invalid", type=click.Choice(["error", "missing"]), default="error",
              show_default=True, help="Text or ±inf in a numeric column: stop, or treat as "
                                      "missing.")
@click.option("--on-duplicate", type=click.Choice(["last", "first", "error"]), default="last",
              show_default=True, help="Two values for one series and timestamp: keep the "
                                      "later line, the earlier, or stop.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@TREND_OPTION
def predict(file: Path, fmt: str, horizon: str, limits: tuple[str, ...], cutoff: float,
            anomaly_cutoff: float, no_anomaly_ahead: bool, out: Path | None, on_invalid: str,
            on_duplicate: str, quiet: bool, warmup_trend: bool) -> None:
    """Warn before a series reaches its limit (or leaves its normal band), with an ETA.

    For a series with a limit (--limit, or 100 for metrics ending in _pct), the
    probability that it reaches the limit within the horizon, from a trend +
    daily-rhythm forecast with bands learned from its own past errors. A
    series that fills and is emptied (log rotation, cleanup, restarts) warns
    only when a cycle goes past its recent peaks or the peaks creep to the
    limit. For the others, the probability that it leaves the normal band of
    the threshold detector; a counter (named *_total, *_count, *_sum, *_bucket
    or *_created until it falls as no counter does, or a series that only
    grows) has no such band and gets none unless given a --limit: on its
    value, or on its rate with --limit 'rate(M)=V'. A prediction at a time
    step uses only the data up to it.
    Series learn for their first ~42 hours (with a 6h horizon and 5-minute
    data), the daily rhythm needing a day first; a rise to the limit meanwhile
    is warned from its trend line (--no-warmup-trend: only noted).

    \b
        kizashi predict nodes.csv --horizon 6h --limit cpu_temp_c=90 --out pred.csv
    """
    from kizashi.cli.detect import read_input
    from kizashi.cli.detector_options import naming
    from kizashi.cli.errors import check_not_input, check_writable
    from kizashi.data.precursors import default_limit
    from kizashi.prediction.horizon_steps import horizon_note
    from kizashi.prediction.predictor import learning_note, predict_frame
    from kizashi.prediction.rates import with_rates

    check_writable(out)
    check_not_input(out, file)
    from kizashi.cli.output_checks import check_table_path

    check_table_path(out)
    for name, value in (("--cutoff", cutoff), ("--anomaly-cutoff", anomaly_cutoff)):
        if not 0.0 < value < 1.0:  # click's range lets NaN through
            raise click.BadParameter(f"{value} is not in the range 0<x<1", param_hint=name)
    from kizashi.cli.detect_unused import was_given

    if no_anomaly_ahead and was_given(click.get_current_context(), "anomaly_cutoff"):
        raise click.UsageError("--anomaly-cutoff is for series without a limit, which "
                               "--no-anomaly-ahead leaves empty: give one of the two")
    limit_map = parse_limits(limits)
    try:
        frame = read_input(file, fmt, on_invalid, on_duplicate, None)
        frame = with_rates(frame, limit_map)  # --limit rate(M)=V: M's rate as a series
        steps_note = horizon_note(frame, horizon)
        if steps_note:
            click.secho(f"warning: {file}: {steps_note}", fg="yellow", err=True)
        note = learning_note(frame, horizon)
        if note:
            click.secho(f"warning: {file}: {note}", fg="yellow", err=True)
        unknown = sorted(set(limit_map) - set(frame.metrics))
        if unknown:
            click.secho(f"warning: --limit for metrics not in {file}: "
                        f"{', '.join(_with_hint(m, frame.metrics) for m in unknown)}",
                        fg="yellow", err=True)
        for metric in shares_named_pct(frame, limit_map):
            click.secho(f"warning: {file}: every value of {metric} is within 0–1, so its "
                        f"default limit of 100 (a _pct metric) is never near; a share? give "
                        f"--limit {metric}=1", fg="yellow", err=True)
        if no_anomaly_ahead and not any(default_limit(m, limit_map) is not None
                                        for m in frame.metrics):
            click.secho(f"warning: {file}: no series has a limit (a metric ending in _pct, "
                        f"or --limit METRIC=VALUE) and --no-anomaly-ahead leaves the others "
                        f"empty: nothing is predicted", fg="yellow", err=True)
        result = predict_frame(frame, horizon, limit_map,
                               cutoff=cutoff, anomaly_cutoff=anomaly_cutoff,
                               anomaly_ahead=not no_anomaly_ahead,
                               progress=not quiet and sys.stderr.isatty())
    except (DataError, ValueError) as error:
        raise click.ClickException(naming(file, str(error))) from None
    from kizashi.cli.predict_trend import apply_trend, trend_notes

    result, early = apply_trend(result, frame.values, warmup_trend)
    _summary(file, result, cutoff, anomaly_cutoff, early if warmup_trend else None)
    trend_notes(result, early)
    if out is not None:
        from kizashi.engine.table_files import table_format, write_table

        # CSV as it always was; Parquet keeps timestamps, JSON writes null for no ETA
        table = result.to_long(times_as_text=table_format(out) in (".csv", ".csv.gz"))
        try:

            write_table(table, out)
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
        click.echo(f"predictions written to {out}")


def _summary(file: Path, result, cutoff: float, anomaly_cutoff: float,
             trend: Any = None) -> None:
    """The summary lines: the counts, and each warned series' first warning (its
    probability, or that it runs away when that is under the cutoff) and ETA."""
    import numpy as np

    from kizashi.durations import duration_text

    n, k = result.probability.shape
    warned = result.warning.any(axis=0)
    click.echo(f"{file}: {n} time steps, {k} series ({result.kinds.count('limit')} with a "
               f"limit), horizon {duration_text(result.horizon_seconds)}: "
               f"{int(warned.sum())} series warned")
    shown = 0
    for j in np.flatnonzero(warned):
        if shown == 20:
            click.echo(f"  ... and {int(warned.sum()) - 20} more series")
            break
        first = int(np.argmax(result.warning[:, j]))
        eta = result.eta[first, j]
        eta_text = f", ETA {np.datetime_as_string(eta, unit='m')}Z" if not np.isnat(eta) else ""
        p = result.probability[first, j]
        below = not p >= (cutoff if result.kinds[j] == "limit" else anomaly_cutoff)
        # under the cutoff, the warning is the runaway test's (prediction/runaway.py)
        # while the series still learns there is no p yet: never print p=nan
        chance = f"p={p:.2f}" if np.isfinite(p) else "no probability yet (learning)"
        why = f"rising faster and faster, {chance}" if below else chance
        if trend is not None and trend[first, j]:  # --warmup-trend's line (predict_trend)
            why = "its trend line reaches the limit, no probability yet (learning)"
        click.echo(f"  {result.entities[j]}/{result.metrics[j]}: first warning "
                   f"{np.datetime_as_string(result.timestamps[first], unit='m')}Z "
                   f"({why}{eta_text})")
        shown += 1
