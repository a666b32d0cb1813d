"""Checking and repairing metric data as it is read, with a report of everything done.

The rules (also in ``docs/data.md``):

========================  ==========================================================
problem                   what happens
========================  ==========================================================
empty file / no rows      error naming the file
a single row              kept, with a warning (detectors need more to say anything)
unsorted timestamps       rows sorted by time, with a warning naming the first line
                          out of order
duplicate timestamps      per series, the value on the *later line* of the file wins
                          (``on_duplicate="last"``; or ``"first"``, or ``"error"``);
                          the values it replaced are kept in the report
gaps                      never filled: marked by :meth:`SeriesFrame.gap_after`
                          and counted in the report
empty cell, NaN, null     kept as missing (NaN), with a warning and the lines
text in a numeric column  error naming file, line, column and text;
or ±inf                   with ``on_invalid="missing"`` kept as missing, warned
unparseable timestamp     error naming file, line and text
mixed time-zone offsets   converted to UTC, with a warning
naive and zoned mixed     error (the naive ones are ambiguous), naming a line
========================  ==========================================================

Naive timestamps (no offset) are taken as UTC.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "-"})
ON_INVALID = ("error", "missing")
ON_DUPLICATE = ("last", "first", "error")
_ZONE = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


class DataError(ValueError):
    """Input data that cannot be read as it is; the message says where and why."""


class DataWarning(UserWarning):
    """Input data was repaired; the message says what was done."""


@dataclass(frozen=True)
class Finding:
    """One thing noticed while reading: what, where, and whether it was repaired."""

    kind: str
    message: str
    lines: tuple[int, ...] = ()


@dataclass
class ValidationReport:
    """What was checked and repaired while reading one source.

    ``superseded`` keeps every value that a duplicate timestamp replaced, as
    ``(line, timestamp, entity, metric, value)``, so nothing read is lost.
    """

    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    superseded: list[tuple[int, str, str, str, float]] = field(default_factory=list)

    def add(self, kind: str, message: str, lines: Any = (), warn: bool = True) -> None:
        finding = Finding(kind, message, tuple(int(x) for x in lines))
        self.findings.append(finding)
        if warn:
            warnings.warn(f"{self.source}: {message}", DataWarning, stacklevel=3)

    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]

    def summary(self) -> str:
        if not self.findings:
            return f"{self.source}: no problems found"
        return "\n".join(f"{self.source}: {f.message}" for f in self.findings)


def describe_lines(lines: np.ndarray, label: str = "line", limit: int = 5) -> str:
    """``"lines 3, 7, 9 and 4 more"``."""
    shown = ", ".join(str(int(x)) for x in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{label}{'s' if len(lines) > 1 else ''} {shown}{more}"


def parse_numbers(cells: np.ndarray, lines: np.ndarray, column: str, report: ValidationReport,
                  on_invalid: str = "error", line_label: str = "line") -> np.ndarray:
    """Floats from text cells, applying the missing/invalid rules."""
    import pandas as pd

    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be one of {ON_INVALID}, got {on_invalid!r}")
    text = np.asarray(cells, dtype=object).astype(str)
    stripped = np.char.strip(text.astype("U"))
    missing = np.isin(np.char.lower(stripped), list(MISSING_TOKENS))
    numbers = pd.to_numeric(pd.Series(np.where(missing, "nan", stripped)), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    bad = (np.isnan(values) & ~missing) | np.isinf(values)
    if bad.any():
        where = np.flatnonzero(bad)
        first = where[0]
        kind = "infinite value" if np.isinf(values[first]) else "text in a numeric column"
        if on_invalid == "error":
            raise DataError(
                f"{report.source}, {line_label} {lines[first]}, column {column!r}: "
                f"{str(text[first])!r} is not a finite number ({kind}; "
                f"{len(where)} such cell{'s' if len(where) > 1 else ''} in all). Fix the file, "
                f"or read it with on_invalid='missing' (CLI: --on-invalid missing) to treat "
                f"them as missing values."
            )
        values[where] = np.nan
        report.add("invalid", f"column {column!r}: {len(where)} non-numeric or infinite "
                   f"cell(s) treated as missing ({describe_lines(lines[where], line_label)})",
                   lines[where])
    if missing.any():
        where = np.flatnonzero(missing)
        report.add("missing", f"column {column!r}: {len(where)} missing value(s) kept as NaN "
                   f"({describe_lines(lines[where], line_label)})", lines[where])
    return values


def parse_timestamps(cells: np.ndarray, lines: np.ndarray, report: ValidationReport,
                     line_label: str = "line") -> np.ndarray:
    """UTC ``datetime64[ns]`` from text: ISO 8601 dates or numbers of seconds since 1970."""
    import pandas as pd

    text = np.char.strip(np.asarray(cells, dtype=object).astype(str).astype("U"))
    empty = text == ""
    if empty.any():
        first = np.flatnonzero(empty)[0]
        raise DataError(f"{report.source}, {line_label} {lines[first]}: empty timestamp")
    numeric = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=np.float64,
                                                                        na_value=np.nan)
    if np.all(np.isfinite(numeric)):
        return (numeric * 1e9).round().astype(np.int64).astype("datetime64[ns]")

    zoned = np.array([bool(_ZONE.search(s)) for s in text])
    if zoned.any() and not zoned.all():
        minority = np.flatnonzero(~zoned if zoned.sum() > len(zoned) / 2 else zoned)
        raise DataError(
            f"{report.source}, {line_label} {lines[minority[0]]}: timestamp "
            f"{str(text[minority[0]])!r} "
            f"mixes time-zone-less and zoned timestamps in one file; give every timestamp an "
            f"offset (e.g. +09:00 or Z) so none is ambiguous"
        )
    parsed = pd.to_datetime(pd.Series(text), errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise DataError(
            f"{report.source}, {line_label} {lines[first]}: cannot read timestamp "
            f"{str(text[first])!r} (expected ISO 8601 such as 2024-04-01 09:00:00, or seconds "
            f"since "
            f"1970)"
        )
    if zoned.any():
        offsets = {m.group(0).upper().replace(":", "") for m in map(_ZONE.search, text)}
        offsets = {"+0000" if o == "Z" else o for o in offsets}
        if len(offsets) > 1:
            report.add("time zones", f"timestamps use {len(offsets)} different UTC offsets "
                       f"({', '.join(sorted(offsets))}); all converted to UTC")
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def assemble(times: np.ndarray, series: np.ndarray, values: np.ndarray, lines: np.ndarray,
             keys: list[tuple[str, str]], report: ValidationReport,
             on_duplicate: str = "last", line_label: str = "line",
             ) -> tuple[np.ndarray, np.ndarray]:
    """Put observations ``(time, series index, value, line)`` on one sorted time axis.

    Applies the sorting and duplicate rules; returns ``(timestamps, values (T, S))``.
    Every distinct timestamp of the input is a row, even where all values are missing.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, got {on_duplicate!r}")
    t = times.astype(np.int64)
    order_in_file = np.argsort(lines, kind="stable")
    t_f, s_f = t[order_in_file], series[order_in_file]
    by_series = np.lexsort((np.arange(len(t_f)), s_f))
    same = s_f[by_series][1:] == s_f[by_series][:-1]
    backwards = same & (np.diff(t_f[by_series]) < 0)
    if backwards.any():
        first_line = lines[order_in_file][by_series][1:][backwards][0]
        report.add("unsorted", f"rows are not in time order (first at {line_label} "
                   f"{first_line}); sorted by timestamp", [first_line])

    observed = ~np.isnan(values)
    order = np.lexsort((lines, t, series))
    t_o, s_o, l_o = t[order], series[order], lines[order]
    duplicate = np.zeros(len(order), dtype=bool)
    duplicate[1:] = (t_o[1:] == t_o[:-1]) & (s_o[1:] == s_o[:-1])
    if duplicate.any():
        group_start = ~duplicate
        group_id = np.cumsum(group_start) - 1
        dup_lines = np.unique(l_o[duplicate | np.r_[duplicate[1:], False]])
        if on_duplicate == "error":
            raise DataError(
                f"{report.source}: {int(duplicate.sum())} duplicate timestamp(s) for the same "
                f"series ({describe_lines(dup_lines, line_label)}); remove them or read with "
                f"on_duplicate='last' or 'first'"
            )
        # Within each (series, time) group keep one observed value: the last (or first) line.
        obs_o = observed[order]
        rank = np.where(obs_o, l_o, -1 if on_duplicate == "last" else np.iinfo(np.int64).max)
        keep = np.zeros(len(order), dtype=bool)
        n_groups = group_id[-1] + 1
        if on_duplicate == "last":
            best = np.full(n_groups, -2, dtype=np.int64)
            np.maximum.at(best, group_id, rank)
        else:
            best = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, group_id, rank)
        keep = (rank == best[group_id]) & obs_o
        # A group with no observed value keeps nothing (the row stays, as missing).
        dropped = ~keep & obs_o
        stamps = t_o.astype("datetime64[ns]").astype(str)
        for i in np.flatnonzero(dropped):
            entity, metric = keys[s_o[i]]
            report.superseded.append((int(l_o[i]), stamps[i], entity, metric,
                                      float(values[order][i])))
        rule = "later" if on_duplicate == "last" else "earlier"
        report.add("duplicates", f"{int(duplicate.sum())} duplicate timestamp(s) for the same "
                   f"series ({describe_lines(dup_lines, line_label)}); kept the value on the "
                   f"{rule} line, {int(dropped.sum())} replaced value(s) kept in the report",
                   dup_lines)
        selected = order[keep]
    else:
        selected = order[observed[order]]

    stamps = np.unique(t)
    out = np.full((len(stamps), len(keys)), np.nan)
    out[np.searchsorted(stamps, t[selected]), series[selected]] = values[selected]
    return stamps.astype("datetime64[ns]"), out


def check_shape(timestamps: np.ndarray, report: ValidationReport) -> None:
    """Warn about a single row and count gaps (which stay gaps)."""
    if len(timestamps) == 1:
        report.add("single row", "only one row: detectors need more data before their scores "
                   "mean anything")
        return
    steps = np.diff(timestamps.astype(np.int64))
    usual = np.median(steps)
    gaps = np.flatnonzero(steps > 1.5 * usual)
    if gaps.size:
        largest = int(gaps[np.argmax(steps[gaps])])
        report.add(
            "gaps",
            f"{gaps.size} gap(s) longer than 1.5× the usual step of {usual / 1e9:g} s "
            f"(largest {steps[largest] / 1e9:g} s after {timestamps[largest]}); left as gaps, "
            f"nothing filled in",
            warn=False,
        )
