"""NAB tables: the published scoreboard next to measured scores.

The published rows come from ``nab_scoreboard.csv`` in this package (NAB's
``results/final_results.json``; its header states the source and commit).

Examples
--------
>>> board = published_scoreboard()
>>> round(board["windowedGaussian"]["standard"], 2)
39.65
>>> print(format_table({"mine": {"standard": 50.0}}, "standard", published={}))
NAB profile standard (null = 0, perfect = 100)
rank  detector   score  source
   1  mine       50.00  measured
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

__all__ = ["NAB_PROFILE_NAMES", "format_table", "published_scoreboard"]

NAB_PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def published_scoreboard() -> dict[str, dict[str, float | str]]:
    """``{detector: {profile: score, "source": ...}}`` from the packaged scoreboard."""
    text = resources.files("kizashi.evaluation").joinpath("nab_scoreboard.csv").read_text()
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header = rows[0].split(",")
    board: dict[str, dict[str, float | str]] = {}
    for number, line in enumerate(rows[1:], start=2):
        cells = line.split(",")
        if len(cells) != len(header):
            raise ValueError(f"nab_scoreboard.csv: data row {number} has {len(cells)} cells, "
                             f"expected {len(header)}")
        entry: dict[str, float | str] = {}
        for key, cell in zip(header[1:], cells[1:], strict=True):
            entry[key] = cell if key == "source" else float(cell)
        board[cells[0]] = entry
    return board


def format_table(measured: Mapping[str, Mapping[str, float]], profile: str,
                 published: Mapping[str, Mapping[str, float | str]] | None = None) -> str:
    """A plain-text ranking of measured and published detectors under ``profile``."""
    published = published_scoreboard() if published is None else published
    rows = [(float(scores[profile]), name, "measured") for name, scores in measured.items()]
    rows += [(float(entry[profile]), name, f"published ({entry.get('source', '')})")
             for name, entry in published.items() if name not in measured]
    rows.sort(key=lambda row: -row[0])
    width = max([len("detector")] + [len(name) for _, name, _ in rows])
    lines = [f"NAB profile {profile} (null = 0, perfect = 100)",
             f"rank  {'detector':<{width}}   score  source"]
    for rank, (score, name, source) in enumerate(rows, start=1):
        lines.append(f"{rank:>4}  {name:<{width}}  {score:6.2f}  {source}")
    return "\n".join(lines)
