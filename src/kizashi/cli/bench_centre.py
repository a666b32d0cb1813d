"""``kizashi bench centre``: incidents caught and false-alarm runs per week on the centre scenario.

Generates the seeded scenario of :mod:`kizashi.data.centre` (24 nodes, 8 weeks
by default), runs each detector through the engine with ``kizashi detect``'s
default decision, and prints one row per detector: incidents caught (summed
over the seeds), false-alarm runs over the whole cluster and per week, and
the median delay to the first alert. ``--split tune`` runs the seeds on
which parameters are chosen; the default reports the others. ``--variant``
(repeatable) runs named variants of the scenario instead
(:mod:`kizashi.data.centre_variants`: more nodes, more noise, another quiet
season, a holiday week, another time zone), one row per variant and detector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from kizashi.cli.errors import distinct_values, not_empty_path
from kizashi.cli.seed_option import SEED
from kizashi.data.centre_variants import VARIANTS


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table of per-detector totals over the seeds."""
    head = ["detector", "incidents caught", "missed (kinds)", "false-alarm runs",
            "per week (cluster)", "median delay (min)", "s"]
    variants = any("variant" in row for row in rows)
    if variants:
        head = ["variant", *head]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        missed = ", ".join(f"{k} ×{n}" if n > 1 else k
                           for k, n in sorted(row["missed"].items())) or "—"
        delay = "—" if row["median_delay_min"] is None else f"{row['median_delay_min']:.0f}"
        first = f"| {row.get('variant', 'base')} " if variants else ""
        lines.append(f"{first}| {row['detector']} | {row['caught']}/{row['incidents']} | "
                     f"{missed} | {row['false_runs']} | {row['false_per_week']:.2f} | {delay} | "
                     f"{row['seconds']:.0f} |")
    return "\n".join(lines)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--detector", "detectors", multiple=True, callback=distinct_values,
              help="A registered detector (repeatable; default: the default detector).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the detector (only with one --detector).")
@click.option("--seed", "seeds", multiple=True, type=SEED, callback=distinct_values,
              help="Scenario seed (repeatable; default: the reported seeds).")
@click.option("--split", type=click.Choice(["reported", "tune"]), default="reported",
              show_default=True,
              help="Without --seed: the reported seeds, or the seeds where parameters are chosen.")
@click.option("--nodes", type=click.IntRange(4, 1024), default=None,
              help="Worker nodes [default: 24, or the variant's].")
@click.option("--weeks", type=click.IntRange(3, 52), default=8, show_default=True,
              help="Weeks of 5-minute telemetry.")
@click.option("--variant", "variants", multiple=True, callback=distinct_values,
              type=click.Choice(list(VARIANTS)),
              help="A variant of the scenario (repeatable; default: the base scenario).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Also write the rows here (a .json file).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def centre(detectors: tuple[str, ...], params: tuple[str, ...], seeds: tuple[int, ...],
           split: str, nodes: int | None, weeks: int, variants: tuple[str, ...],
           json_path: Path | None, progress: bool) -> None:
    """Centre scenario: incidents caught and false-alarm runs per week, per detector."""
    from tqdm import tqdm

    from kizashi.cli.bench import check_outputs, usage_checked_params
    from kizashi.data.centre_variants import variant_centre
    from kizashi.detectors.registry import DEFAULT_DETECTOR, create
    from kizashi.evaluation.centre import score_centre
    from kizashi.evaluation.splits import CENTRE_REPORT_SEEDS, CENTRE_TUNE_SEEDS

    names = list(detectors) or [DEFAULT_DETECTOR]
    chosen = list(seeds) or list(CENTRE_TUNE_SEEDS if split == "tune" else CENTRE_REPORT_SEEDS)
    if params and len(names) > 1:
        raise click.UsageError("--param goes with a single --detector")
    parsed = usage_checked_params(names[0], params) if params else {}
    check_outputs(json_path)
    for name in names[1:] if params else names:  # unknown names (and what a detector
        usage_checked_params(name, ())  # needs) before any work: a usage error
    try:
        for name in names:
            create(name, **parsed)  # unknown names and parameters fail before any work
        rows = []
        kinds = list(variants) or ["base"]
        sizes = {} if nodes is None else {"n_nodes": nodes}
        with tqdm(total=len(kinds) * len(names) * len(chosen), disable=not progress,
                  unit="run", desc="centre") as bar:
            for kind in kinds:
                scenarios = {seed: variant_centre(kind, seed=seed, weeks=weeks, **sizes)
                             for seed in chosen}
                for name in names:
                    results = []
                    for seed in chosen:
                        results.append(score_centre(scenarios[seed], name, parsed))
                        bar.update()
                    row = _row(name, parsed, chosen, results)
                    if variants:
                        row = {"variant": kind, **row}
                    rows.append(row)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    size = f"{nodes} nodes" if nodes else "24 nodes (or the variant's)"
    click.echo(f"centre scenario: {size}, {weeks} weeks, seeds "
               f"{', '.join(map(str, chosen))} (split {split if not seeds else 'given'})")
    click.echo(markdown(rows))
    if json_path is not None:
        from kizashi.cli.json_output import write_json

        write_json(json_path, rows)  # strict JSON: NaN as null


def _row(name: str, params: dict[str, Any], seeds: list[int], results: list[Any]
         ) -> dict[str, Any]:
    """One table row: ``results`` (one per seed) summed."""
    delays = [d for r in results for d in r.delays_min]
    missed: dict[str, int] = {}
    for r in results:
        for kind in r.missed:
            missed[kind] = missed.get(kind, 0) + 1
    false_runs = sum(r.false_runs for r in results)
    weeks_scored = sum(r.weeks for r in results)
    return {"detector": name, "params": params, "seeds": seeds,
            "caught": sum(r.caught for r in results),
            "incidents": sum(r.n_incidents for r in results),
            "missed": missed, "false_runs": false_runs,
            "false_per_week": false_runs / weeks_scored,
            "per_seed_per_week": [r.false_per_week for r in results],
            "false_by_metric": _sum_dicts([r.false_by_metric for r in results]),
            "median_delay_min": float(np.median(delays)) if delays else None,
            "seconds": sum(r.seconds for r in results)}


def _sum_dicts(parts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = out.get(key, 0) + value
    return out
