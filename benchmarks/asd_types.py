"""Anomaly types of ASD's labelled segments, beside ASD's own type labels.

Prints a table (it is not a test). Run from the repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/asd_types.py

ASD (InterFusion, KDD 2021) labels each anomaly segment ``metric`` (the
relations between metrics broke), ``temporal`` (a series' own pattern broke) or
``metric-temporal``; kizashi's :func:`kizashi.engine.anomaly_type.anomaly_type`
names the *shape* of a change. The two vocabularies differ, so no accuracy is
computed: the table shows, for each ASD type, how kizashi types the segment's
labelled metrics (each metric typed against the 500+ steps before the segment,
train and test joined; the segment's type is the most common over its metrics).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter

import numpy as np


def main() -> int:
    from kizashi.data.paths import dataset_dir
    from kizashi.data.smd import load_smd
    from kizashi.engine.anomaly_type import TYPES, anomaly_type

    base = dataset_dir("asd")
    if base is None or not (base / "anomaly_type.csv").exists():
        print("no asd/anomaly_type.csv: set KIZASHI_DATA", file=sys.stderr)
        return 1
    with open(base / "anomaly_type.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    machines: dict[str, object] = {}
    table: dict[str, Counter] = {}
    for row in rows:
        name = row["dataset"]
        if name not in machines:
            machines[name] = load_smd(name, dataset="asd")
        machine = machines[name]
        start, end = (int(x) for x in row["anomaly_segment"].split("-"))
        dims = next((d for s, e, d in machine.segments if s <= start <= e or start <= s <= end),
                    ())
        values = np.vstack([machine.train.values, machine.test.values])
        offset = machine.train.n_times
        kinds = Counter(anomaly_type(values[:, d], offset + start, offset + end) for d in dims)
        kind = kinds.most_common(1)[0][0] if kinds else "no causes"
        table.setdefault(row["anomaly_type"], Counter())[kind] += 1
    columns = [*TYPES, "no causes"]
    print("| ASD type | segments | " + " | ".join(c.replace("_", " ") for c in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for asd_type in sorted(table):
        counts = table[asd_type]
        print(f"| {asd_type} | {sum(counts.values())} | "
              + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
