"""False alerts of detectors in ``kizashi demo``'s month, with chosen parameters.

Prints a table (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/demo_false_alerts.py
    .venv/bin/python benchmarks/demo_false_alerts.py --param counts=false \
        --param z_cap=none --param window=1000          # the ensemble before issue 12's round

The demo's telemetry (32 nodes, 35 days, seed 0), scored and judged exactly as
``kizashi demo`` does (:func:`kizashi.report.demo.score_by_metric` and
:func:`kizashi.report.demo.judge`): incidents caught, false alerts (runs of
active steps per series that touch no incident) and those in the quiet season.
``--param`` applies to the first detector (the default, ``ensemble``).
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    from kizashi.data.cluster import generate_cluster
    from kizashi.detectors.registry import DEFAULT_DETECTOR, parse_param
    from kizashi.report.demo import DetectorRun, judge, score_by_metric

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", action="append", default=None,
                        help="registered detector (repeatable; default: the default and "
                             "threshold)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.detector or [DEFAULT_DETECTOR, "threshold"]
    params = dict(parse_param(text) for text in args.param)
    telemetry = generate_cluster(n_nodes=args.nodes, days=args.days, seed=args.seed)
    print(f"demo telemetry: {args.nodes} nodes, {args.days} days, seed {args.seed}")
    print("| detector | params | incidents caught | false alerts | in the quiet season | s |")
    print("|---|---|---|---|---|---|")
    for k, name in enumerate(names):
        chosen = params if k == 0 else {}
        started = time.perf_counter()
        run = DetectorRun(name, name, "default",
                          *score_by_metric(telemetry, name, chosen, "default"), 0.0)
        judge(run, telemetry)
        caught = sum(hit for hit, _ in run.verdicts.values())
        print(f"| {name} | {chosen or '—'} | {caught}/{len(run.verdicts)} | "
              f"{run.false_alerts} | {run.false_alerts_quiet} | "
              f"{time.perf_counter() - started:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
