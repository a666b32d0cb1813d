"""``kizashi tune CONFIG --trials N --storage sqlite:///study.db``: Optuna search."""

from __future__ import annotations

from pathlib import Path

import click

from kizashi.cli.seed_option import SEED


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--trials", type=int, required=True,
              help="Finished trials (complete or pruned) the study should hold in the end.")
@click.option("--storage", default="sqlite:///study.db", show_default=True,
              help="Optuna storage URL shared by all workers.")
@click.option("--study", "study_name", default=None,
              help="Study name (default: the config file's name).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Keep each trial's training folder under OUT/trial-NNNN.")
@click.option("--seed", type=SEED, default=None, help="Seed of this worker's sampler.")
def tune(config: str, trials: int, storage: str, study_name: str | None, out_dir: str | None,
         seed: int | None) -> None:
    """Search the hyper-parameters in CONFIG's 'search' section with Optuna.

    Start the same command in as many processes or machines as you like: they share
    the study through STORAGE and stop together once it holds TRIALS finished trials.
    Rerun it to resume an interrupted study."""
    from kizashi.dl.config import load_config
    from kizashi.dl.tuning import tune as run_tune

    try:
        run = load_config(config)
        summary = run_tune(run, trials, storage, study_name or Path(config).stem, out_dir, seed)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    best = "none yet" if summary.best_value is None else f"{summary.best_value:.6g}"
    click.echo(f"study {summary.study_name}: {summary.finished} finished trials "
               f"({summary.complete} complete, {summary.pruned} pruned; {summary.ran_here} here); "
               f"best validation loss {best} with {summary.best_params}")
