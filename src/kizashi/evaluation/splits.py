"""The documented splits on which kizashi's hyper-parameters are chosen.

No parameter is chosen by looking at the labels that are reported. Each
benchmark therefore has a *tuning* part, where parameters may be compared,
and a *holdout* part that only ever reports:

NAB
    Files go to one of two folds by a fixed hash of their name
    (:func:`nab_fold`: CRC-32 of ``category/file.csv``, even → ``tune``,
    odd → ``holdout``), so every category is split and nobody picks the files.
    ``kizashi bench nab --split tune`` scores the tuning fold only,
    ``--split holdout`` the other, ``--split all`` (the default) the corpus.
SMD
    The machines outside the six that ``docs/benchmarks.md`` reports with
    TSB-AD's protocol: :data:`SMD_TUNE_MACHINES`. They have no published
    ``tr_N``; :func:`tsb_ad_train_rows` derives one with TSB-AD's own rule
    (train up to 100 rows before the first anomaly, at most a quarter).
Centre scenario
    Seeds: parameters are chosen on :data:`CENTRE_TUNE_SEEDS`, reported on
    :data:`CENTRE_REPORT_SEEDS`.

>>> nab_fold("realKnownCause/nyc_taxi.csv") in ("tune", "holdout")
True
>>> select_nab([type("S", (), {"name": n}) for n in ("a/x.csv", "a/y.csv")], "all").__len__()
2
>>> tsb_ad_train_rows(np.r_[np.zeros(900, bool), np.ones(10, bool)])
227
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["CENTRE_REPORT_SEEDS", "CENTRE_TUNE_SEEDS", "NAB_SPLITS", "SMD_REPORTED_MACHINES",
           "SMD_TUNE_MACHINES", "describe", "nab_fold", "select_nab", "tsb_ad_train_rows"]

NAB_SPLITS = ("all", "tune", "holdout")
#: The six machines with TSB-AD rows that the benchmarks report.
SMD_REPORTED_MACHINES = ("machine-1-7", "machine-2-1", "machine-2-2", "machine-2-7",
                         "machine-2-8", "machine-3-4")
#: Local machines outside the reported six: where SMD parameters may be compared.
SMD_TUNE_MACHINES = ("machine-1-6", "machine-3-3")
#: Seeds of the centre scenario on which parameters may be compared.
CENTRE_TUNE_SEEDS = (101, 102, 103)
#: Seeds of the centre scenario that are reported.
CENTRE_REPORT_SEEDS = (0, 1, 2)


def nab_fold(name: str) -> str:
    """``tune`` or ``holdout`` for NAB file ``category/file.csv`` (a fixed hash)."""
    return "tune" if zlib.crc32(name.encode("utf-8")) % 2 == 0 else "holdout"


def select_nab(corpus: Sequence[Any], split: str) -> list[Any]:
    """The series of ``corpus`` in ``split`` (``all``, ``tune`` or ``holdout``)."""
    if split not in NAB_SPLITS:
        raise ValueError(f"unknown NAB split {split!r}; known: {', '.join(NAB_SPLITS)}")
    return [s for s in corpus if split == "all" or nab_fold(s.name) == split]


def tsb_ad_train_rows(labels: np.ndarray, cap: float = 0.25) -> int:
    """TSB-AD's training length for a labelled series: 100 rows before its first anomaly,
    at most ``cap`` of the series and at least 100 rows."""
    flags = np.asarray(labels, dtype=bool).reshape(len(labels), -1).any(axis=1)
    first = int(np.argmax(flags)) if flags.any() else flags.size
    return int(max(100, min(first - 100, cap * flags.size)))


def describe(benchmark: str, split: str) -> str:
    """One line saying what ``split`` of ``benchmark`` is for."""
    if benchmark == "nab":
        return {"all": "split all: the 58 files (parameters were chosen on the 'tune' fold)",
                "tune": "split tune: the files whose CRC-32 of the name is even, where "
                        "parameters are chosen",
                "holdout": "split holdout: the files whose CRC-32 of the name is odd, never "
                           "used to choose parameters"}[split]
    if benchmark == "smd":
        return {"reported": "split reported: parameters were chosen on machines "
                            + ", ".join(SMD_TUNE_MACHINES),
                "tune": "split tune: machines " + ", ".join(SMD_TUNE_MACHINES)
                        + ", where parameters are chosen"}[split]
    raise ValueError(f"unknown benchmark {benchmark!r}")
