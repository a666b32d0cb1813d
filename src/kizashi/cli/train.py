"""``kizashi train CONFIG --out DIR [--resume]``: train a deep model (also under torchrun)."""

from __future__ import annotations

import os
import sys

import click


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Output folder (default: the config's 'out').")
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Override the config's device (auto: CUDA when present).")
@click.option("--epochs", type=int, default=None, help="Override the config's epochs.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--max-memory", default=None, metavar="SIZE",
              help="The most memory the run may take (8GiB, 512MB; default: the config's "
                   "max_memory, else 3/4 of this machine's): a run estimated above it is "
                   "refused before it allocates.")
def train(config: str, out_dir: str | None, resume: bool, device: str | None,
          epochs: int | None, no_progress: bool, max_memory: str | None) -> None:
    """Train the model CONFIG (YAML/TOML) describes; writes OUT/model.pt, OUT/config.json,
    OUT/curves.csv and OUT/curves.png. Run it under
    ``torchrun --nproc_per_node=N -m kizashi.train CONFIG --out DIR`` for data parallelism.
    On SIGTERM it checkpoints and exits; ``--resume`` continues."""
    from kizashi.dl.config import load_config
    from kizashi.dl.experiment import train_from_config

    try:
        run = load_config(config)
        overrides = {k: v for k, v in (("device", device), ("epochs", epochs)) if v is not None}
        if overrides:
            run = run.with_values(overrides)
        if max_memory is not None:
            from kizashi.dl.memory import parse_bytes

            run.max_memory = parse_bytes(max_memory, "--max-memory")
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    out_dir = out_dir or run.out
    if not out_dir:
        raise click.UsageError(f"{config}: no output folder; pass --out DIR or set 'out'")
    try:
        result = train_from_config(run, out_dir, resume=resume,
                                   progress=False if no_progress else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except (MemoryError, RuntimeError) as error:  # torch's allocators raise RuntimeError
        text = " ".join(str(error).split())
        if not isinstance(error, MemoryError) and not any(
                m in text.lower() for m in ("allocate", "out of memory")):
            raise
        raise click.ClickException(f"{config}: the network or a batch does not fit in memory "
                                   f"({text[:200]}); use smaller model sizes or batch_size"
                                   ) from None
    if int(os.environ.get("RANK", "0")) != 0:
        return
    if result.interrupted:
        click.echo(f"stopped by SIGTERM after step {result.steps}; checkpoint in {out_dir}; "
                   "rerun with --resume to continue", err=True)
        sys.exit(0)
    last = result.history[-1] if result.history else {}
    click.echo(f"trained {result.steps} steps, {len(result.history)} epochs"
               f"{' (stopped early)' if result.stopped_early else ''}; "
               f"best validation loss {result.best_val_loss:.6g}; "
               f"last train loss {last.get('train_loss', float('nan')):.6g}; wrote {out_dir}")
