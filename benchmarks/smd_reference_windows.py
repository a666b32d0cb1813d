"""SMD: which windows the default detector's fitted reference combines (how
``reference_window`` was chosen).

For every SMD machine of ``--split`` (the tuning machines by default: choose there,
report the others) and both protocols (TSB-AD's: train on the first ``tr_N`` test rows;
OmniAnomaly's: train on ``train/``), one
:class:`~kizashi.detectors.multivariate.reference.ReferenceDetector` is fitted per window
of :data:`WINDOWS`, exactly as the ``ensemble`` fits each of its ``reference_window``
(fit, score the training rows for their mean and spread, then stream the test rows
on). Then every set of one to three windows is combined as the ensemble combines them
(their scores standardised over the training rows, then the mean or the max) and its
VUS-PR printed per machine and protocol, best mean first. Each row is also ``kizashi
bench smd [--protocol tsb-ad] --split tune --param reference_window=1,5,20 --param
reference_combine=mean`` (the ensemble's level is a monotone map of the combined
score, so its VUS-PR is the same). Usage::

    .venv/bin/python benchmarks/smd_reference_windows.py [--split tune|reported]

The data come from ``kizashi.data.paths.dataset_root()`` (``KIZASHI_DATA``).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from kizashi.cli.bench_smd import published_vus_pr
from kizashi.data.smd import load_smd
from kizashi.detectors.multivariate.reference import ReferenceDetector
from kizashi.evaluation.splits import SMD_TUNE_MACHINES, tsb_ad_train_rows
from kizashi.evaluation.vus import vus_pr

#: The windows (rows) whose sets are compared.
WINDOWS = (1, 3, 5, 10, 20)
#: The six machines reported with TSB-AD's protocol.
REPORTED = ("machine-1-7", "machine-2-1", "machine-2-2", "machine-2-7", "machine-2-8",
            "machine-3-4")
PROTOCOLS = ("tsb-ad", "omni")


def standardised(train: np.ndarray, test: np.ndarray, window: int) -> np.ndarray:
    """The test rows' reference scores, standardised over the training rows' own."""
    reference = ReferenceDetector(window=window).fit(train)
    raw_train = reference.update_many(train)  # its windows continue into the test rows
    raw_train = raw_train[np.isfinite(raw_train)]
    return (reference.update_many(test) - raw_train.mean()) / max(raw_train.std(), 1e-9)


def split_of(name: str, protocol: str, published: dict) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Training rows, test rows and labels of one machine under ``protocol``."""
    machine = load_smd(name)
    test = machine.test.values
    if protocol == "omni":
        return machine.train.values, test, machine.test_labels
    rows = (published.get(name) or {}).get("tr_N") or tsb_ad_train_rows(machine.test_labels)
    return test[:rows], test, machine.test_labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tune", "reported"], default="tune")
    args = parser.parse_args()
    names = SMD_TUNE_MACHINES if args.split == "tune" else REPORTED
    published = published_vus_pr()
    columns, z, labels = [], {}, {}
    for protocol in PROTOCOLS:
        for name in names:
            started = time.perf_counter()
            train, test, label = split_of(name, protocol, published)
            column = f"{protocol} {name}"
            columns.append(column)
            labels[column] = label.astype(bool)
            for window in WINDOWS:
                z[column, window] = standardised(train, test, window)
            print(f"{column}: {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    for size in (1, 2, 3):
        for windows in itertools.combinations(WINDOWS, size):
            for combine in (("mean", "max") if size > 1 else ("mean",)):
                cells = []
                for column in columns:
                    stacked = np.stack([z[column, w] for w in windows])
                    score = stacked.mean(axis=0) if combine == "mean" else stacked.max(axis=0)
                    cells.append(vus_pr(labels[column], np.nan_to_num(score, nan=0.0)))
                rows.append((",".join(map(str, windows)), combine, cells))
    rows.sort(key=lambda row: -float(np.mean(row[2])))
    print("| reference_window | combine | " + " | ".join(columns) + " | mean |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    for windows, combine, cells in rows:
        print(f"| {windows} | {combine} | " + " | ".join(f"{c:.3f}" for c in cells)
              + f" | {np.mean(cells):.3f} |")


if __name__ == "__main__":
    main()
