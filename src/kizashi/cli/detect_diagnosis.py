"""The diagnosis options of ``kizashi detect``: causes, grouped incidents, types, peers.

``--explain`` adds a ``causes`` column to the score file (the ranked metrics behind
each flagged row) and prints the grouped incidents with causes and types;
``--incidents FILE`` writes them as CSV; ``--group-by KEY`` with
``--entity-labels FILE`` keeps racks/partitions/jobs apart; ``--peers-by KEY``
makes the ``peers`` detector compare a node only with the nodes that share it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from kizashi.cli.detect_options import given_text
from kizashi.cli.errors import not_empty_path
from kizashi.data.utc_text import utc_text

__all__ = ["OPTIONS", "check_label_keys", "peer_groups", "read_entity_labels", "report",
           "unlabelled_note"]


def read_entity_labels(path: Path | None) -> dict[str, dict[str, str]] | None:
    """``entity,rack,partition,...`` CSV → ``{entity: {rack: ..., ...}}``."""
    if path is None:
        return None
    from kizashi.data.readers import read_table

    table, lines = read_table(path)  # encoding, quoting, ragged rows: errors naming the line
    if "entity" not in table.columns:
        raise ValueError(f"{path}: the entity labels need an 'entity' column "
                         f"(found: {', '.join(table.columns)})")
    keys = [c for c in table.columns if c != "entity"]
    out: dict[str, dict[str, str]] = {}
    first: dict[str, int] = {}
    for line, (_, row) in zip(lines, table.iterrows(), strict=True):
        entity = str(row["entity"]).strip()
        if entity in out:
            raise ValueError(f"{path}, line {line}: entity {entity!r} is listed again (first "
                             f"at line {first[entity]}); give each entity one row")
        first[entity] = int(line)
        out[entity] = {k: str(row[k]).strip() for k in keys}
    return out


def check_label_keys(entity_labels: dict[str, dict[str, str]] | None, keys: Sequence[str],
                     option: str, path: Path | None) -> None:
    """Refuse a ``--group-by``/``--peers-by`` key that no column of the labels file names
    (every entity would land in one group, silently).

    >>> check_label_keys({"n1": {"rack": "a"}}, ["job"], "--group-by", Path("racks.csv"))
    Traceback (most recent call last):
    ...
    ValueError: --group-by job: racks.csv has no column 'job' (its labels: rack); give --entity-labels FILE with a column of that name
    """  # noqa: E501
    if entity_labels is None:
        return
    columns = sorted({k for labels in entity_labels.values() for k in labels})
    for key in keys:
        if key not in columns:
            raise ValueError(f"{option} {key}: {path} has no column {key!r} (its labels: "
                             f"{', '.join(columns) or 'none'}); give --entity-labels FILE "
                             f"with a column of that name")


def unlabelled_note(frame: Any, entity_labels: dict[str, dict[str, str]] | None,
                    path: Path | None) -> str | None:
    """A warning naming the scored entities the labels file does not list (they share
    one group: no label), or None.

    >>> from types import SimpleNamespace
    >>> unlabelled_note(SimpleNamespace(entities=["n1", "n2", "n2"]), {"n1": {}},
    ...                 Path("racks.csv"))
    'warning: racks.csv does not list 1 of the 2 entities scored (n2); they are grouped without a label'
    """  # noqa: E501
    if entity_labels is None:
        return None
    scored = list(dict.fromkeys(frame.entities))
    missing = [e for e in scored if e not in entity_labels]
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                      else "")
    return (f"warning: {path} does not list {len(missing)} of the {len(scored)} entities "
            f"scored ({shown}); they are grouped without a label")


def peer_groups(frame: Any, entity_labels: dict[str, dict[str, str]] | None,
                peers_by: str | None) -> list[str]:
    """One peer-group key per series: its metric, and its ``peers_by`` label value."""
    if peers_by and (entity_labels is None or
                     not any(peers_by in v for v in entity_labels.values())):
        raise ValueError(f"--peers-by {peers_by}: no entity has that label; give "
                         "--entity-labels FILE with a column of that name")
    out = []
    for entity, metric in zip(frame.entities, frame.metrics, strict=True):
        key = metric
        if peers_by:
            key += "/" + (entity_labels or {}).get(entity, {}).get(peers_by, "")
        out.append(key)
    return out


class _WithCauses:
    """A result whose long table has the ``causes`` column (for the score writers)."""

    def __init__(self, result: Any, causes: np.ndarray):
        self.result, self.causes = result, causes

    def to_long(self):
        table = self.result.to_long()
        table["causes"] = self.causes.reshape(-1)
        return table


def report(result: Any, frame: Any, *, explain: bool, incidents: Path | None,
           entity_labels: dict[str, dict[str, str]] | None, group_by: Sequence[str],
           window: int) -> Any:
    """Print/write the diagnosis; returns what the score writer should write."""
    if not explain and incidents is None:
        return result
    from kizashi.engine.diagnosis import diagnose, row_causes

    found = diagnose(result, frame, entity_labels=entity_labels, by=group_by, window=window)
    stamps = utc_text(result.timestamps)  # in UTC, as precise as the data, like --out
    if explain:
        click.echo(f"{len(found)} grouped incident(s) from {len(result.incidents)} alert(s):")
        for i, d in enumerate(found[:20], start=1):
            click.echo(f"  #{i} {stamps[d.group.start]} .. {stamps[d.group.end]}  "
                       f"{d.summary}  [{d.type}]  causes: {d.causes_text()}")
        if len(found) > 20:
            click.echo(f"  ... and {len(found) - 20} more (see --incidents FILE)")
    if incidents is not None:
        import pandas as pd

        rows = [{
            "incident": i, "start": stamps[d.group.start], "end": stamps[d.group.end],
            "summary": d.summary, "type": d.type, "causes": d.causes_text(),
            "entities": " ".join(d.group.entities), "metrics": " ".join(d.group.metrics),
            "members": len(d.group.members), "peak": d.group.peak,
            **{k: v for k, v in d.group.scope},
        } for i, d in enumerate(found, start=1)]
        # no incident: the header alone, so the file still reads as a table of none
        empty = ["incident", "start", "end", "summary", "type", "causes", "entities",
                 "metrics", "members", "peak", *group_by]
        from kizashi.engine.table_files import write_table

        write_table(pd.DataFrame(rows) if rows else pd.DataFrame(columns=empty), incidents)
        click.echo(f"incidents written to {incidents}")
    return _WithCauses(result, row_causes(result, frame)) if explain else result


#: The options, applied to the ``detect`` command in order.
OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--explain", is_flag=True,
                 help="Add a 'causes' column (the ranked metrics behind each flagged row) "
                      "and print the grouped incidents with their causes and types."),
    click.option("--incidents", "incidents_file",
                 type=click.Path(dir_okay=False), callback=not_empty_path,
                 help="Write the grouped incidents (start, end, summary, type, causes, "
                      "entities, metrics, members) as .csv, .csv.gz, .parquet, .json or "
                      ".jsonl, by the suffix."),
    click.option("--group-by", multiple=True, metavar="KEY", callback=given_text,
                 help="Group incidents only within the same value of this entity label "
                      "(rack, partition, job; repeatable; needs --entity-labels)."),
    click.option("--group-window", default=6, show_default=True, type=click.IntRange(min=0),
                 help="Alerts starting within this many steps of an incident's first one "
                      "(while it is open) join it."),
    click.option("--entity-labels", type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path),
                 help="CSV with an 'entity' column and one column per label (rack, "
                      "partition, job) for --group-by and --peers-by."),
    click.option("--peers-by", metavar="KEY", callback=given_text,
                 help="With --detector peers: peers are the nodes sharing this entity label "
                      "(and the metric); default: all nodes reporting the metric."),
]


def add_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``command`` with :data:`OPTIONS`."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command
