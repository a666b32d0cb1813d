"""The demo report's centre section: the default detector on the generated centre scenario.

A short run of :func:`kizashi.data.centre.generate_centre` (6 nodes, 4 weeks by
default, so the demo stays quick) scored with
:func:`kizashi.evaluation.centre.score_centre`: incidents caught and
false-alarm runs per week over the whole cluster, the figures
``kizashi bench centre`` prints (``docs/benchmarks.md`` has the full 24-node,
8-week table for every detector).

>>> row = centre_row(n_nodes=4, weeks=3, seed=3)
>>> row.n_incidents, 0 <= row.caught <= row.n_incidents
(6, True)
"""

from __future__ import annotations

import html
from pathlib import Path

from kizashi.evaluation.centre import CentreResult

__all__ = ["add_centre_section", "centre_row"]


def centre_row(n_nodes: int = 6, weeks: int = 4, seed: int = 0,
               detector: str | None = None) -> CentreResult:
    """The default detector (or ``detector``) scored on one seeded centre scenario."""
    from kizashi.data.centre import generate_centre
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.centre import score_centre

    scenario = generate_centre(n_nodes=n_nodes, weeks=weeks, seed=seed)
    return score_centre(scenario, detector or DEFAULT_DETECTOR)


def add_centre_section(out: Path, seed: int = 0, n_nodes: int = 6, weeks: int = 4) -> None:
    """Append the centre section to ``out/report.html``."""
    result = centre_row(n_nodes, weeks, seed)
    report = out / "report.html"
    page = report.read_text(encoding="utf-8")
    page = page.replace("</body>", section(result, n_nodes, weeks, seed) + "\n</body>")
    report.write_text(page, encoding="utf-8")


def section(result: CentreResult, n_nodes: int, weeks: int, seed: int) -> str:
    """The HTML of the section.

    >>> from kizashi.evaluation.centre import CentreResult
    >>> r = CentreResult("ensemble", 6, 5, ("tape-staging-wait",), (5.0,), 2, 2.6, 1.0)
    >>> "5/6" in section(r, 6, 4, 0) and "0.77" in section(r, 6, 4, 0)
    True
    """
    e = html.escape
    missed = ", ".join(result.missed) or "none"
    command = f"kizashi bench centre --seed {seed} --nodes {n_nodes} --weeks {weeks}"
    return f"""<h2>The centre scenario ({e(result.detector)}, the default detector)</h2>
<p>{n_nodes} nodes × {weeks} weeks of 5-minute telemetry with daily and weekly rhythms,
holidays and a quiet season, and KEK's incident kinds (seed {seed};
<code>{e(command)}</code>; the 24-node, 8-week table of every detector is in
<code>docs/benchmarks.md</code>).</p>
<table><tr><th>incidents caught</th><th>missed</th><th>false-alarm runs</th>
<th>per week (whole cluster)</th></tr>
<tr><td>{result.caught}/{result.n_incidents}</td><td>{e(missed)}</td>
<td>{result.false_runs}</td><td>{result.false_per_week:.2f}</td></tr></table>"""
