"""``kizashi fit TRAIN --out DIR``: fit the default detector on an entity's training rows once,
for ``kizashi watch`` (``model: DIR``) to load at start."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kizashi.cli.detect import parse_params, read_input
from kizashi.cli.errors import not_empty_path
from kizashi.data.validation import DataError


@click.command()
@click.argument("train_file", metavar="TRAIN",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              callback=not_empty_path,
              help="Folder to write config.json and model.npz to (created; a model there is "
                   "replaced only once the new one is whole).")
@click.option("--format", "fmt", type=click.Choice(["auto", "long", "wide"]), default="auto",
              show_default=True,
              help="long: timestamp,entity,metric,value; wide: timestamp + one column per metric.")
@click.option("--entity", default=None,
              help="The entity (node) to fit, when TRAIN holds several.")
@click.option("--detector", "-d", default=None,
              help="Registered detector (default: the ensemble, kizashi's default detector).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="Detector parameter; repeat for several.")
@click.option("--on-invalid", type=click.Choice(["error", "missing"]), default="error",
              show_default=True, help="Text or ±inf in a numeric column: stop, or treat as "
                                      "missing.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--max-memory", default=None, metavar="SIZE",
              help="The most memory fitting may take (8GiB, 512MB; default: the memory "
                   "available now): an entity of thousands of metrics, whose reference "
                   "windows would not fit, is refused before fitting starts.")
def fit(train_file: Path, out_dir: Path, fmt: str, entity: str | None, detector: str | None,
        params: tuple[str, ...], on_invalid: str, quiet: bool,
        max_memory: str | None = None) -> None:
    """Fit the default detector on TRAIN (one entity's metrics, normal operation) and save it.

    The ensemble fixes the entity's reference (the windows of its training rows)
    and the deviation model that ranks the metrics behind an alert. Give the folder
    to a watch whose series are that entity's metrics; its alerts then carry the
    ranked causes (annotation ``top_causes``):

    \b
        kizashi fit node1-train.csv --out models/node1
        # watch config: detectors: [{name: ensemble, model: models/node1,
        #                            feature_label: __name__}]

    Saved without pickle: a JSON record and the arrays in model.npz (read with
    allow_pickle=False).
    """
    from kizashi.cli.detector_options import checked_params, naming
    from kizashi.cli.errors import OneLineUsageError, check_writable
    from kizashi.detectors.fitted_model import check_fittable, fit_detector, save_fitted
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.engine.memory import check_detect_memory, parse_bytes

    name = DEFAULT_DETECTOR if detector is None else detector
    check_writable(out_dir, "folder")
    try:  # options first: a bad one is found before a long read (a usage error)
        parsed = checked_params(name, parse_params(params))
        check_fittable(name, parsed)
        cap = None if max_memory is None else parse_bytes(max_memory, "--max-memory")
    except ValueError as error:
        raise OneLineUsageError(str(error)) from None
    try:
        frame = read_input(train_file, fmt, on_invalid, "last", None)
        entities = frame.unique_entities()
        if entity is None and len(entities) > 1:
            shown = ", ".join(entities[:5]) + (" ..." if len(entities) > 5 else "")
            raise ValueError(f"{train_file} holds {len(entities)} entities ({shown}); pick one "
                             "with --entity (a model describes one entity's metrics)")
        chosen = entity if entity is not None else entities[0]
        if chosen not in entities:
            raise ValueError(f"{train_file} has no entity {chosen!r}; it has "
                             f"{', '.join(entities[:5])}")
        columns = [j for j, e in enumerate(frame.entities) if e == chosen]
        features = [frame.metrics[j] for j in columns]
        import numpy as np

        empty = [m for j, m in zip(columns, features, strict=True)
                 if np.isfinite(frame.values[:, j]).sum() < 2]
        if empty:
            raise ValueError(f"metric(s) {', '.join(empty)} of {chosen!r} have fewer than two "
                             "values in the training rows; a model needs each one observed")
        if len(set(features)) != len(features):
            raise ValueError(f"{train_file}: entity {chosen!r} names a metric twice")
        # every row is fitted on (and scored once, which takes less)
        check_detect_memory(name, parsed, 0, [len(columns)], frame.n_times, cap)
        if not quiet:
            click.echo(f"fitting {name} on {frame.n_times} rows of {chosen}: "
                       f"{', '.join(features)}", err=True)
        fitted = fit_detector(name, frame.values[:, columns], frame.epoch_seconds, parsed)
        key = save_fitted(fitted, out_dir, features, entity=chosen, rows=frame.n_times,
                          trained_on=str(train_file))
    except (DataError, ValueError, TypeError) as error:
        raise click.ClickException(naming(train_file, str(error))) from None
    if not quiet:
        click.echo(f"wrote {out_dir} (model {key}); use it in a watch with `model: {out_dir}`",
                   file=sys.stdout)
