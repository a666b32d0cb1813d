"""The logs source on the loghub supercomputer samples: templates and alert intervals.

Prints a table (it is not a test). Run from the repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/diagnosis_logs.py

* **grouping accuracy** of the Drain3 templates (:class:`kizashi.data.logs.LogTemplates`)
  against loghub's hand-made ground truth (``*_2k.log_structured.csv``, column
  ``EventId``): the share of lines whose template groups exactly the lines of one
  true event (loghub's metric; its benchmark gives Drain 0.963 on BGL, 0.887 on HPC);
* **alert intervals** (BGL, whose ``Label`` marks alert lines): lines per template
  counted over all hosts per step, scored by the ``threshold`` detector at its
  defaults through the engine; the per-step score is the highest level over
  templates. AUC-ROC of that score, among the steps with any line, for the steps
  with ≥ 3 alert lines ("alert-heavy") and with any alert line.
"""

from __future__ import annotations

import sys

import numpy as np


def grouping_accuracy(found: list[int], truth: list[str]) -> float:
    groups: dict[int, set[int]] = {}
    true: dict[str, set[int]] = {}
    for i, g in enumerate(found):
        groups.setdefault(g, set()).add(i)
    for i, t in enumerate(truth):
        true.setdefault(t, set()).add(i)
    exact = {frozenset(v) for v in true.values()}
    return sum(len(g) for g in groups.values() if frozenset(g) in exact) / len(found)


def main() -> int:
    import pandas as pd

    from kizashi.data.logs import LogTemplates, parse_lines, read_logs
    from kizashi.data.paths import dataset_dir
    from kizashi.engine.batch import score_frame
    from kizashi.testing.conformance import roc_auc

    base = dataset_dir("loghub-hpc")
    if base is None:
        print("no loghub-hpc copy: set KIZASHI_DATA", file=sys.stderr)
        return 1
    print("| system | lines | templates | true events | grouping accuracy |")
    print("|---|---|---|---|---|")
    for system, fmt in (("BGL", "bgl"), ("HPC", "hpc")):
        path = base / system / f"{system}_2k.log"
        parsed = parse_lines(path.read_text(encoding="utf-8", errors="replace").splitlines(),
                             fmt)
        truth = pd.read_csv(path.with_name(f"{system}_2k.log_structured.csv")).EventId.tolist()
        miner = LogTemplates()
        found = [miner.add(m) for m in parsed.messages]
        print(f"| {system} | {len(found)} | {len(set(found))} | {len(set(truth))} | "
              f"{grouping_accuracy(found, truth):.3f} |")
    print()
    print("| BGL step | steps with lines | alert-heavy steps | AUC alert-heavy | "
          "steps with an alert | AUC any alert |")
    print("|---|---|---|---|---|---|")
    for hours in (1, 6):
        frame = read_logs(base / "BGL" / "BGL_2k.log", step=hours * 3600, format="bgl",
                          by_host=False)
        busy = frame.meta["lines"] > 0
        heavy = frame.meta["alert_lines"] >= 3
        alert = frame.meta["alert_lines"] > 0
        level = np.nan_to_num(score_frame(frame, "threshold", {}).levels, nan=0.0).max(axis=1)
        print(f"| {hours} h | {busy.sum()} | {heavy.sum()} | "
              f"{roc_auc(level[busy], heavy[busy]):.3f} | {alert.sum()} | "
              f"{roc_auc(level[busy], alert[busy]):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
