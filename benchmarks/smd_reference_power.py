"""SMD: how the default detector's fitted references aggregate their metrics' residuals
(``reference_power``, the exponent of a generalised mean over metrics).

For every SMD machine of ``--split`` (the tuning machines by default: choose there,
report the others) and both protocols (TSB-AD's: train on the first ``tr_N`` test rows;
OmniAnomaly's: train on ``train/``), one
:class:`~kizashi.detectors.multivariate.reference.ReferenceDetector` is fitted per window
of the ensemble's ``reference_window`` (1, 5 and 20 rows), exactly as the ``ensemble``
fits them (fit, score the training rows, stream the test rows on), and each row's
per-metric residuals are kept. Then for every exponent of :data:`POWERS` each window's
raw score is the generalised mean ``(mean_f d_f^p)^(1/p)`` of the residuals (``p = 1``:
their mean, the default), standardised over the training rows, averaged over the
windows (the ensemble's ``reference_combine="mean"``), and its VUS-PR printed per machine
and protocol. Each cell is also ``kizashi bench smd [--protocol tsb-ad] --split tune
--param reference_power=0.7`` (the ensemble's level is a monotone map of the combined
score, so its VUS-PR is the same). With ``--spread held_out`` each window's raw
scores are standardised over the training rows as scored by two references fitted on
one half of them each, scoring the other half (the ensemble's
``reference_spread=held_out``). Usage::

    .venv/bin/python benchmarks/smd_reference_power.py [--split tune|reported]
        [--spread fit|held_out]

The data come from ``kizashi.data.paths.dataset_root()`` (``KIZASHI_DATA``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from smd_reference_windows import split_of  # beside this script

from kizashi.cli.bench_smd import published_vus_pr
from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.detectors.multivariate.reference import ReferenceDetector
from kizashi.evaluation.splits import SMD_REPORTED_MACHINES, SMD_TUNE_MACHINES
from kizashi.evaluation.vus import vus_pr

#: The exponents compared (1: the mean of the residuals, the default).
POWERS = (2.0, 1.5, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
PROTOCOLS = ("tsb-ad", "omni")


def fitted(rows: np.ndarray, window: int) -> ReferenceDetector:
    """A reference of windows of ``window`` rows fitted on ``rows``."""
    reference = ReferenceDetector(window=window)
    reference.reset(rows.shape[1])
    reference._fit(rows, None)
    return reference


def residuals(train: np.ndarray, test: np.ndarray, window: int, spread: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(time, metrics)`` residuals of the training rows and then of the test rows."""
    reference = fitted(train, window)
    # its windows continue from the training rows into the test rows
    own = reference._distances(reference.state_, train)
    scored = reference._distances(reference.state_, test)
    if spread == "held_out":  # each half as scored by a reference of the other half
        half = train.shape[0] // 2
        first, second = fitted(train[half:], window), fitted(train[:half], window)
        own = np.concatenate([first._distances(first.state_, train[:half]),
                              second._distances(second.state_, train[half:])])
    return own, scored


def combined(cached: list[tuple[np.ndarray, np.ndarray]], power: float) -> np.ndarray:
    """The windows' mean standardised score of the test rows, with exponent ``power``."""
    aggregate = ReferenceDetector(aggregate="mean" if power == 1.0 else "power", power=power)
    z = []
    for train, test in cached:
        raw_train = aggregate._aggregate(train)
        raw_train = raw_train[np.isfinite(raw_train)]
        z.append((aggregate._aggregate(test) - raw_train.mean()) / max(raw_train.std(), 1e-9))
    return np.mean(z, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tune", "reported"], default="tune")
    parser.add_argument("--spread", choices=["fit", "held_out"], default="fit")
    args = parser.parse_args()
    names = SMD_TUNE_MACHINES if args.split == "tune" else SMD_REPORTED_MACHINES
    windows = EnsembleDetector()._reference_windows()
    published = published_vus_pr()
    columns, cells = [], {}
    for protocol in PROTOCOLS:
        for name in names:
            started = time.perf_counter()
            train, test, label = split_of(name, protocol, published)
            column = f"{protocol} {name}"
            columns.append(column)
            cached = [residuals(train, test, window, args.spread) for window in windows]
            for power in POWERS:
                score = np.nan_to_num(combined(cached, power), nan=0.0)
                cells[column, power] = vus_pr(label.astype(bool), score)
            print(f"{column}: {time.perf_counter() - started:.0f} s", flush=True)
    print("| reference_power | " + " | ".join(columns) + " | mean |")
    print("|---|" + "---|" * (len(columns) + 1))
    for power in POWERS:
        row = [cells[column, power] for column in columns]
        print(f"| {power:g} | " + " | ".join(f"{c:.3f}" for c in row)
              + f" | {np.mean(row):.3f} |")


if __name__ == "__main__":
    main()
