"""``kizashi demo``: generated cluster telemetry with incidents, every detector, one report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kizashi.cli.errors import not_empty_path
from kizashi.cli.seed_option import SEED


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), callback=not_empty_path,
              default="kizashi-demo", show_default=True,
              help="Directory for report.html and its plots (created; refused before the "
                   "work when it cannot be).")
@click.option("--nodes", type=click.IntRange(4, 512), default=32, show_default=True,
              help="Worker nodes in the generated centre.")
@click.option("--days", type=click.IntRange(7, 120), default=35, show_default=True,
              help="Days of 5-minute telemetry.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def demo(out_dir: Path, nodes: int, days: int, seed: int, quiet: bool) -> None:
    """Generate a computing centre's telemetry with KEK-like incidents, run the detectors,
    and write an HTML report of what each one caught."""
    from kizashi.cli.errors import check_writable
    from kizashi.report.demo import run_demo

    check_writable(out_dir, "folder")
    out_dir.mkdir(parents=True, exist_ok=True)  # (a folder that cannot be made fails now)
    started = time.perf_counter()
    report = run_demo(out_dir, n_nodes=nodes, days=days, seed=seed, progress=not quiet)
    click.echo(f"report written to {report.resolve()} ({time.perf_counter() - started:.1f} s)")
