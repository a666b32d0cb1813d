"""Every registered detector's batch speed, beside the best vectorised equivalent.

Prints a table (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/detectors.py            # 1 series of 1M points, 1,000 series
    .venv/bin/python benchmarks/detectors.py --quick    # 100k points, 1,000 × 300
    .venv/bin/python benchmarks/detectors.py --only threshold quantile_threshold
    .venv/bin/python benchmarks/detectors.py --cpu      # per CPU second (a shared machine)

For each detector, on one long series and on 1,000 series (a seeded sinusoid
with noise, level shifts and spikes), points per second, one core (BLAS and
numba pinned to one thread), the median of 3 timed runs (1 with ``--quick``)
after an untimed warm-up (JIT compilation excluded):

* ``update_many``: the detector's batch path on the whole array (a detector
  that needs training is fitted on the first 30 % first, untimed, and scores
  the rest);
* ``engine``: :func:`kizashi.engine.batch.score_frame` — the detector and the
  decider (calibration, cutoff, alerts, baseline protection), as
  ``kizashi detect`` runs it;
* the anchor: the best vectorised computation of the same statistic that
  numpy/pandas offer (a pandas rolling z-score for ``threshold``, pandas
  rolling quantiles for ``quantile_threshold``, ...; ``fastsst``'s compiled
  Krylov SST for ``sst`` when installed), and the slowdown ``anchor pts/s ÷
  detector pts/s`` (≤ 3 is the goal);
* ``anchor + decision``: the anchor followed by the engine's default decision
  done with numpy/pandas (for a detector with no scale of its own, Numenta's
  likelihood with pandas rolling windows; then the cutoff and the alert runs as
  arrays), the fair equivalent of the engine column, and the engine's slowdown
  against it.

Slow detectors run on a stated prefix (``CAPS``); deep detectors only with
``--deep`` (they train a network; their anchor is none).
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kizashi.data.frame import SeriesFrame  # noqa: E402
from kizashi.detectors.registry import create, names  # noqa: E402
from kizashi.engine.batch import FIT_FRACTION, score_frame  # noqa: E402

STEP = 60.0
WINDOW = 288
MIN_PERIODS = 30
#: Parameters the benchmark gives (defaults otherwise).
PARAMS: dict[str, dict[str, Any]] = {
    "static_threshold": {"low": 30.0, "high": 75.0},
    "seasonal_threshold": {"period": "1d", "slot": "1h"},
}
#: Most points of one series, and most steps of the 1,000 series, per detector.
CAPS: dict[str, tuple[int, int]] = {
    "sst": (100_000, 300),
    "changefinder": (1_000_000, 1_000),
    "discord": (100_000, 1_000),  # 2000 past windows a step: benchmarks/discord_speed.py
    "lstm": (20_000, 0),
    "autoencoder": (20_000, 0),
}
DEEP = {"lstm", "autoencoder"}


# --------------------------------------------------------------------- data
def synthetic(n: int, n_series: int, seed: int = 0) -> np.ndarray:
    """Seeded sinusoids (period 288 steps) with noise, level shifts and spikes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)
    values = 50 + 8 * np.sin(2 * np.pi * t / 288 + phase) + rng.normal(0, 1, (n, n_series))
    values += 6.0 * ((t + rng.integers(0, 20_000, n_series)) // 20_000 % 2)
    spikes = rng.random((n, n_series)) < 1e-3
    values[spikes] += rng.choice([-1, 1], spikes.sum()) * rng.uniform(8, 20, spikes.sum())
    return values


# ------------------------------------------------------------------ anchors
def _frame(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values)


def rolling_zscore(values: np.ndarray) -> np.ndarray:
    frame = _frame(values)
    rolling = frame.rolling(WINDOW, min_periods=MIN_PERIODS)
    mean, std = rolling.mean().shift(), rolling.std(ddof=0).shift()
    return ((frame - mean).abs() / std).to_numpy()


def rolling_quantile_band(values: np.ndarray) -> np.ndarray:
    frame = _frame(values)
    rolling = frame.rolling(WINDOW, min_periods=MIN_PERIODS)
    low, high = rolling.quantile(0.01).shift(), rolling.quantile(0.99).shift()
    beyond = np.maximum(np.maximum(frame - high, low - frame), 0.0)
    return (beyond / (high - low)).to_numpy()


def static_bounds(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(values - 75.0, 30.0 - values), 0.0)


def seasonal_ewm(values: np.ndarray) -> np.ndarray:
    """An EWM level, a per-hour-of-day EWM profile of the residual and an EWM σ."""
    frame = _frame(values)
    level = frame.ewm(halflife=1440).mean().shift()
    residual = frame - level
    slot = (np.arange(len(frame)) // 60) % 24
    profile = residual.groupby(slot).transform(lambda g: g.ewm(halflife=28).mean().shift())
    error = residual - profile
    sigma = error.ewm(halflife=1440).std().shift()
    return (error.abs() / sigma).to_numpy()


def running_range(values: np.ndarray) -> np.ndarray:
    high = np.fmax.accumulate(values, axis=0)
    low = np.fmin.accumulate(values, axis=0)
    margin = 0.05 * (high - low)
    return ((values[1:] > high[:-1] + margin[:-1]) | (values[1:] < low[:-1] - margin[:-1]))


def ewm_log_loss(values: np.ndarray) -> np.ndarray:
    """Two discounted Gaussian stages with moving averages (ChangeFinder with order 0)."""
    def stage(frame: pd.DataFrame, smooth: int) -> pd.DataFrame:
        mean = frame.ewm(alpha=0.01).mean().shift()
        var = frame.ewm(alpha=0.01).var().shift()
        loss = 0.5 * (np.log(2 * np.pi * var) + (frame - mean) ** 2 / var)
        return loss.rolling(smooth, min_periods=1).mean()

    return stage(stage(_frame(values), 7), 7).to_numpy()


def fastsst_anchor() -> Callable[[np.ndarray], np.ndarray] | None:
    try:
        from fastsst import SingularSpectrumTransformation
    except ImportError:
        return None

    def run(values: np.ndarray) -> np.ndarray:
        return np.column_stack([SingularSpectrumTransformation(
            win_length=50, n_components=5, order=50, lag=25).score_offline(values[:, j])
            for j in range(values.shape[1])])

    return run


def likelihood_levels(scores: np.ndarray) -> np.ndarray:
    """Numenta's anomaly likelihood with pandas: a 10-score moving average, its Gaussian
    over the last 8,640 averages re-estimated every 100 steps, the two-sided tail on the
    log scale (the engine's default calibration for a detector with no scale of its own)."""
    from scipy.special import erfc

    average = _frame(scores).rolling(10, min_periods=1).mean()
    rolling = average.rolling(8640, min_periods=100)
    due = np.broadcast_to((np.arange(len(average)) % 100 == 0)[:, None], average.shape)
    mean = rolling.mean().where(due).ffill().shift().clip(lower=0.03)
    std = np.sqrt(rolling.var(ddof=0).where(due).ffill().shift().clip(lower=0.0003))
    tail = 0.5 * erfc(((average - mean).abs() / std).to_numpy() / 1.4142)
    return np.log(1.0000000001 - (1.0 - tail)) / np.log(1e-10)


def alert_runs(levels: np.ndarray, cutoff: float) -> tuple[np.ndarray, ...]:
    """The decision at its defaults, vectorised: flags above the cutoff and their runs
    (series, first and last row) as arrays."""
    flags = np.asarray(levels).reshape(len(levels), -1) > cutoff
    padded = np.zeros((flags.shape[1], flags.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags.T
    edges = np.diff(padded, axis=1)
    series, starts = np.nonzero(edges == 1)
    return flags, series, starts, np.nonzero(edges == -1)[1] - 1


def with_decision(name: str, anchor: Callable[[np.ndarray], Any] | None
                  ) -> Callable[[np.ndarray], Any] | None:
    """The anchor followed by the engine's default decision, vectorised: the likelihood for
    a detector with no scale of its own, then the cutoff and the alert runs."""
    if anchor is None:
        return None
    detector = create(name, **PARAMS.get(name, {}))
    cutoff = detector.default_threshold

    def run(values: np.ndarray) -> Any:
        levels = np.asarray(anchor(values), dtype=np.float64)
        if cutoff is None:
            return alert_runs(likelihood_levels(levels.reshape(len(levels), -1)), 0.5)
        return alert_runs(levels, float(cutoff))

    return run


def anchors() -> dict[str, tuple[str, Callable[[np.ndarray], Any] | None]]:
    return {
        "threshold": ("pandas rolling z-score", rolling_zscore),
        "sigma_threshold": ("pandas rolling z-score", rolling_zscore),
        "static_threshold": ("numpy bounds", static_bounds),
        "quantile_threshold": ("pandas rolling quantiles", rolling_quantile_band),
        "seasonal_threshold": ("pandas EWM level + slot profile + σ", seasonal_ewm),
        "range_rule": ("numpy running min/max", running_range),
        "sst": ("fastsst (numba Krylov)", fastsst_anchor()),
        "changefinder": ("pandas EWM log-loss, order 0", ewm_log_loss),
    }


# ------------------------------------------------------------------ timing
#: The clock timings read: wall time, or the process's CPU time with ``--cpu``.
CLOCK: list[Callable[[], float]] = [time.perf_counter]


def timed(function: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = CLOCK[0]()
        function()
        times.append(CLOCK[0]() - start)
    return statistics.median(times)


def batch_path(name: str, values: np.ndarray, t: np.ndarray) -> Callable[[], Any]:
    params = PARAMS.get(name, {})
    probe = create(name, **params)
    start = max(int(FIT_FRACTION * len(values)), 1) if probe.requires_training else 0

    def run() -> Any:
        detector = create(name, **params)
        if start:
            detector.fit(values[:start], t[:start])
        return lambda: detector.update_many(values[start:], t[start:])

    return run


def measure(name: str, values: np.ndarray, repeats: int,
            anchor: Callable[[np.ndarray], Any] | None) -> dict[str, float]:
    """Points/s of the batch path, the engine, the anchor and the anchor with the decision,
    timed in turn in each repeat (so that a busy machine slows all four alike)."""
    decided = with_decision(name, anchor)
    t = 1.7e9 + STEP * np.arange(len(values))
    params = PARAMS.get(name, {})
    warm = min(len(values), 2000)  # imports, JIT compilation: untimed
    batch_path(name, values[:warm], t[:warm])()()
    score_frame(SeriesFrame.from_arrays(t[:warm], values[:warm]), name, params)
    if anchor is not None and decided is not None:
        anchor(values[:warm])
        decided(values[:warm])
    frame = SeriesFrame.from_arrays(t, values)
    prepare = batch_path(name, values, t)
    times: dict[str, list[float]] = {"update_many": [], "engine": [], "anchor": [],
                                     "decided": []}
    for _ in range(repeats):
        job = prepare()
        times["update_many"].append(timed(job, 1))
        times["engine"].append(timed(lambda: score_frame(frame, name, params), 1))
        if anchor is not None and decided is not None:
            times["anchor"].append(timed(lambda: anchor(values), 1))
            times["decided"].append(timed(lambda: decided(values), 1))
    return {key: values.size / statistics.median(spent) if spent else np.nan
            for key, spent in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="100k points on one series, 1,000 series × 300 steps, 1 run")
    parser.add_argument("--only", nargs="*", help="these detectors only")
    parser.add_argument("--deep", action="store_true", help="also lstm and autoencoder")
    parser.add_argument("--series", type=int, default=1000, help="series of the wide case")
    parser.add_argument("--cpu", action="store_true",
                        help="points per CPU second of this process (time.process_time) instead "
                             "of per wall second: fairer on a machine shared with other jobs")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.process_time
    long_n, wide_n, repeats = (100_000, 300, 1) if args.quick else (1_000_000, 1_000, 3)
    chosen = args.only or [n for n in names() if n not in DEEP or args.deep]
    table = anchors()
    rows = []
    for name in chosen:
        cap_long, cap_wide = CAPS.get(name, (long_n, wide_n))
        cases = [(1, min(long_n, cap_long)), (args.series, min(wide_n, cap_wide))]
        for width, steps in cases:
            if steps < 1:
                continue
            values = synthetic(steps, width)
            label, anchor = table.get(name, ("—", None))
            speed = measure(name, values, repeats, anchor)
            anchor_speed = speed["anchor"]
            rows.append((name, width, values.size, speed["update_many"], speed["engine"], label,
                         anchor_speed, speed["decided"]))
            print(f"  measured {name:20s} {width:>5,} series {values.size:>10,} points: "
                  f"update_many {speed['update_many']:>12,.0f}  engine {speed['engine']:>12,.0f}"
                  f"  anchor {anchor_speed:>12,.0f}  anchor + decision "
                  f"{speed['decided']:>12,.0f} pts/s", flush=True)
    print(f"\n## Points per {'CPU' if args.cpu else 'wall'} second, one core (median of "
          f"{repeats}){' — quick mode' if args.quick else ''}\n")
    print("| detector | series | points | update_many | engine (score_frame) | anchor | "
          "anchor pts/s | anchor + decision pts/s | slowdown update_many | slowdown engine | "
          "slowdown engine vs anchor + decision |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for name, width, points, batch, engine, label, anchor_speed, decided_speed in rows:
        def ratio(speed: float, a: float = anchor_speed) -> str:
            return "—" if not np.isfinite(a) else f"{a / speed:,.2f}×"

        def cell(a: float) -> str:
            return "—" if not np.isfinite(a) else f"{a:,.0f}"
        print(f"| {name} | {width:,} | {points:,} | {batch:,.0f} | {engine:,.0f} | {label} | "
              f"{cell(anchor_speed)} | {cell(decided_speed)} | {ratio(batch)} | "
              f"{ratio(engine)} | {ratio(engine, decided_speed)} |")


if __name__ == "__main__":
    main()
