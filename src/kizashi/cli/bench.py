"""``kizashi bench``: score detectors on public benchmarks.

A click group whose sub-commands load lazily from :data:`BENCH_COMMANDS`, so a
benchmark whose module is missing does not break ``kizashi bench --help``.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import click
from click.core import ParameterSource

from kizashi.cli.errors import distinct_values, not_empty_path
from kizashi.lazy import import_target

#: benchmark name → ("module:function", one-line help)
BENCH_COMMANDS: dict[str, tuple[str, str]] = {
    "nab": ("kizashi.cli.bench:nab", "Numenta Anomaly Benchmark: result files or a detector."),
    "smd": ("kizashi.cli.bench_smd:smd", "Server Machine Dataset: VUS-PR and friends per machine."),
    "centre": ("kizashi.cli.bench_centre:centre",
               "Centre scenario: incidents caught, false-alarm runs per week."),
}


class LazyBenchGroup(click.Group):
    """Loads a benchmark's command only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(BENCH_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in BENCH_COMMANDS:
            return None
        target, _ = BENCH_COMMANDS[cmd_name]
        module_name = target.partition(":")[0]
        try:
            return import_target(target)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            raise click.UsageError(
                f"benchmark {cmd_name!r} is not available in this installation "
                f"({module_name} is missing)") from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            target, help_text = BENCH_COMMANDS[name]
            module_name = target.partition(":")[0]
            if importlib.util.find_spec(module_name) is None:
                help_text += " (not installed)"
            rows.append((name, help_text))
        with formatter.section("Benchmarks"):
            formatter.write_dl(rows)


def check_outputs(json_path: Path | None, out_dir: Path | None = None) -> None:
    """Refuse, before a benchmark's long run, a ``--json`` file or ``--out`` folder that
    cannot be written (empty, a folder, under a file, on /proc …): one line naming it."""
    from kizashi.cli.errors import check_writable

    check_writable(json_path, "file")
    check_writable(out_dir, "folder")
    from kizashi.cli.output_checks import check_json_path

    check_json_path(json_path)


def file_name(ctx: click.Context | None, param: click.Parameter | None,
              value: str | None) -> str | None:
    """A click callback: ``value`` as one file name (NAB's results folder and file prefix),
    refusing an empty one and one with a path in it (``../x`` would write outside --out).

    >>> file_name(None, None, "my-detector")
    'my-detector'
    >>> file_name(None, None, "../x")
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: '../x' is not a plain file name (no '/', '.' or '..'); e.g. my-detector
    """  # noqa: E501
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("is empty; give a name", ctx, param)
    if "/" in value or "\\" in value or value.strip() in (".", "..") or value != value.strip():
        raise click.BadParameter(f"{value!r} is not a plain file name (no '/', '.' or '..'); "
                                 "e.g. my-detector", ctx, param)
    return value


def usage_checked_params(detector: str, params: tuple[str, ...]) -> dict:
    """``--param`` of ``detector`` checked as ``kizashi detect`` checks them (before any data
    is read); a bad one is a usage error (exit status 2)."""
    from kizashi.cli.detector_options import option_params
    from kizashi.cli.errors import OneLineUsageError

    try:
        return option_params(detector, params)
    except ValueError as error:
        raise OneLineUsageError(str(error)) from None


@click.group(cls=LazyBenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
def bench() -> None:
    """Score detectors on public benchmarks, next to published results."""


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Score NAB-format result files in DIR/<detector>/<category>/.")
@click.option("--detector", help="Run this registered detector over the NAB corpus "
                                 "(default, without --results: the default detector).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A detector parameter (repeatable).")
@click.option("--calibration", type=click.Choice(["auto", "likelihood", "zscore", "none"]),
              default="auto", show_default=True,
              help="With --detector: the decider's calibration into [0, 1] (auto: the "
                   "detector's own when its scores are calibrated, else likelihood).")
@click.option("--protect/--no-protect", default=False, show_default=True,
              help="With --detector: keep flagged steps out of the baseline (NAB's reference "
                   "detectors learn every point).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=not_empty_path,
              help="With --detector: write NAB-format result files here.")
@click.option("--name", "result_name", callback=file_name,
              help="With --detector: name of its results (default NAME).")
@click.option("--only", "only", multiple=True, callback=distinct_values,
              help="With --results: score only this detector (repeatable).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Write {detector: {profile: score}} here (a .json file).")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              help="NAB folder with data/ and labels/ (default: the shared copy).")
@click.option("--split", type=click.Choice(["all", "tune", "holdout"]), default="all",
              show_default=True,
              help="Which files: all 58, or the fold where parameters are chosen (tune) or the "
                   "one never used for that (holdout); see kizashi.evaluation.splits.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def nab(results_dir: Path | None, detector: str | None, params: tuple[str, ...],
        calibration: str, protect: bool, out_dir: Path | None, result_name: str | None,
        only: tuple[str, ...], json_path: Path | None, data_root: Path | None,
        split: str, progress: bool) -> None:
    """Numenta Anomaly Benchmark scores (standard, low-FP and low-FN profiles).

    Either score existing result files (--results DIR) with NAB's exhaustive
    threshold sweep and normalisation, or run a registered detector over all
    58 files in NAB's streaming fashion (--detector NAME; the default detector
    when neither is given), write its result files (--out DIR) and score them.
    Prints a table per profile next to the published scoreboard.
    """
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.splits import describe, select_nab

    if results_dir is not None and detector is not None:
        raise click.UsageError("give exactly one of --results DIR or --detector NAME")
    given = click.get_current_context().get_parameter_source
    if results_dir is not None and (params or out_dir or result_name or any(
            given(name) is not ParameterSource.DEFAULT for name in ("calibration", "protect"))):
        raise click.UsageError("--param, --out, --name, --calibration and --protect go with "
                               "--detector, not --results")
    if results_dir is None and only:
        raise click.UsageError("--only goes with --results DIR (it picks among its detectors)")
    if results_dir is None and detector is None:
        detector = DEFAULT_DETECTOR
    parsed = usage_checked_params(detector, params) if detector is not None else {}
    check_outputs(json_path, out_dir)
    from kizashi.data.nab import load_nab_corpus
    from kizashi.evaluation.nab import NabScorer
    from kizashi.evaluation.nab_report import NAB_PROFILE_NAMES, format_table

    started = time.perf_counter()
    try:
        corpus = select_nab(load_nab_corpus(data_root), split)
        if not corpus:
            raise ValueError(f"no NAB file falls in split {split!r}")
        scorer = NabScorer(corpus)
        measured: dict[str, dict[str, float]] = {}
        if results_dir is not None:
            from kizashi.evaluation.nab_files import read_results

            results = read_results(results_dir, list(only) or None)
            wanted = {series.name for series in corpus}
            for name, files in results.items():
                files = {k: f for k, f in files.items() if k in wanted}
                report = scorer.score({k: f.scores for k, f in files.items()},
                                      timestamps={k: f.timestamps for k, f in files.items()
                                                  if f.timestamps is not None})
                measured[name] = {p: report[p].normalized for p in NAB_PROFILE_NAMES}
        else:
            from kizashi.evaluation.nab_runner import run_detector

            name = result_name or detector
            scores = run_detector(corpus, detector, parsed, out_dir=out_dir, result_name=name,
                                  calibration=calibration, protect=protect,
                                  progress=progress)
            report = scorer.score(scores)
            measured[name] = {p: report[p].normalized for p in NAB_PROFILE_NAMES}
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    elapsed = time.perf_counter() - started
    for profile in NAB_PROFILE_NAMES:
        click.echo(format_table(measured, profile))
        click.echo("")
    click.echo(describe("nab", split))
    click.echo(f"measured in {elapsed:.1f} s")
    if json_path is not None:
        from kizashi.cli.json_output import write_json

        write_json(json_path, measured)  # strict JSON: NaN as null
