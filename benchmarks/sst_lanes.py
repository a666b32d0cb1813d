"""Krylov SST: the per-point kernel against a prototype running many points in lockstep.

Issue 14's fourth round asked whether running many SST points in lockstep,
one SIMD lane each (arrays laid out ``[row, lane]``), makes a white-noise
point cheap enough for ≥ 50× banpei and a 10,000-series tick ≤ 100 ms of CPU.
The prototype is ``benchmarks/sst_lane_kernel.py`` (not used by kizashi);
this script prints (tables, not a test), CPU time throughout, timed in turn:

* the whole detector: CPU µs per point on seeded white noise and the noisy
  synthetic series of ``benchmarks/changepoint.py`` (5,000 points, median of
  3 interleaved rounds), Pearson r against the exact solver, and whether the
  prototype's batch and single steps agree bit for bit;
* one ``update`` of many series (the watch daemon's tick; ``--series``);
* the parts: a 50 × 50 matrix–vector product per point (the per-point
  kernel's; also with a float32 matrix and vector) against the same product
  for 8, 16 and 32 lanes in lockstep, and
  the QL of an 18 × 18 tridiagonal matrix per point (the per-point kernel's,
  full and as the kernel uses it) against 8 lanes in lockstep;
* with ``--nab``, the krylov-vs-exact r over NAB for both (as
  ``benchmarks/changepoint.py --faithfulness``).

Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/sst_lanes.py
    PYTHONPATH=src .venv/bin/python benchmarks/sst_lanes.py --nab
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

import numpy as np  # noqa: E402
from changepoint import SST_PARAMS, nab_corpus, synthetic  # noqa: E402
from numba import njit  # noqa: E402
from sst_lane_kernel import LANES, _project_out, lane_block, lockstep_ql  # noqa: E402

from kizashi.detectors.changepoint import singular_spectrum, tracking_kernel  # noqa: E402
from kizashi.detectors.changepoint.singular_spectrum import (  # noqa: E402
    SingularSpectrumTransform,
)
from kizashi.detectors.changepoint.tridiagonal import tridiagonal_eigen  # noqa: E402
from kizashi.state import State  # noqa: E402
from kizashi.streaming.hankel import HankelHistory  # noqa: E402

#: Consecutive points of one series that the prototype runs in one tile (≤ lag).
PERIOD = 8


class LaneSST(SingularSpectrumTransform):
    """kizashi's SST with the lockstep prototype as its krylov kernel (seeds per phase)."""

    def _period(self) -> int:
        return min(PERIOD, self._config()["g"])

    def _init_state(self, n_series: int) -> State:
        state = super()._init_state(n_series)
        c, period = self._config(), self._period()
        state["seed"] = np.zeros((n_series, period, c["w"]))
        state["ritz"] = np.zeros((n_series, period, 2, c["r"]))
        state["start_at"] = np.zeros((n_series, period), dtype=np.int64)
        return state

    def _tracking_block(self, state: State, block: np.ndarray) -> np.ndarray:
        c = self._config()
        hankel = HankelHistory(c["seg"])
        full = hankel.extend(state["history"], block)
        out = np.zeros(block.shape)
        arrays = {key: np.require(state[key], dtype=state[key].dtype, requirements="CAW")
                  for key in singular_spectrum._TRACKED}
        lane_block(full, arrays["count"], arrays["center"], arrays["products"],
                   arrays["seed"], arrays["ritz"], arrays["taken"], arrays["start_at"],
                   arrays["ring"], arrays["ring_state"], out, c["seg"], c["w"], c["g"],
                   c["r"], c["k"], self.normalize == "demean", singular_spectrum._FLAT,
                   c["seg"], c["k_first"], singular_spectrum._MORE_STEPS, c["tol"],
                   singular_spectrum._COMFORT, c["noise_ratio"], c["noise_steps"])
        state.update(arrays)
        state["history"] = hankel.keep(full)
        return out


KERNELS: dict[str, type[SingularSpectrumTransform]] = {
    "per point (kizashi)": SingularSpectrumTransform, f"{LANES} lanes (prototype)": LaneSST}


def cpu_median(run: Callable[[], object], repeats: int = 5) -> float:
    run()
    spent = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        spent.append(time.process_time() - start)
    return statistics.median(spent)


# ------------------------------------------------------------------ whole detector
def whole_detector(n: int = 5_000, rounds: int = 3) -> None:
    series = {f"white noise {n // 1000}k": np.random.default_rng(3).normal(size=n),
              f"synthetic {n // 1000}k": synthetic(n)}
    print(f"\n## Whole detector, {SST_PARAMS} (CPU µs per point, median of {rounds} "
          "interleaved rounds; r against the exact solver after the warm-up)\n")
    print("| series | kernel | µs per point | r against exact |")
    print("|---|---|---:|---:|")
    for label, x in series.items():
        warm = SingularSpectrumTransform(**SST_PARAMS).n_warmup
        exact = SingularSpectrumTransform(solver="exact", **SST_PARAMS).score(x)[warm:]
        spent: dict[str, list[float]] = {k: [] for k in KERNELS}
        scores = {}
        for kernel in KERNELS.values():
            kernel(**SST_PARAMS).score(x[:500])  # JIT compilation
        for _ in range(rounds):
            for key, kernel in KERNELS.items():
                start = time.process_time()
                scores[key] = kernel(**SST_PARAMS).score(x)
                spent[key].append(time.process_time() - start)
        for key in KERNELS:
            r = np.corrcoef(exact, scores[key][warm:])[0, 1]
            print(f"| {label} | {key} | {1e6 * statistics.median(spent[key]) / n:.1f} | "
                  f"{r:.4f} |", flush=True)


def batch_equals_steps() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=(400, 3)) + np.sin(np.arange(400) / 5)[:, None]
    values[rng.random(values.shape) < 0.03] = np.nan
    values[150:200, 1] = 2.0  # a flat stretch
    params = {"window": 12, "lag": 6, "rank": 3}
    batch = LaneSST(**params).score(values)
    stepper = LaneSST(**params)
    steps = np.array([stepper.update(row) for row in values])
    same = np.array_equal(batch, steps, equal_nan=True)
    print(f"\nPrototype, batch against single steps (3 series, 400 points, NaN gaps, a flat "
          f"stretch): {'bit for bit equal' if same else 'DIFFERENT'}")


def tick(n_series: int, warm: int = 130, ticks: int = 9) -> None:
    print(f"\n## One `update` of {n_series:,} series (CPU ms, median of {ticks} ticks after "
          f"{warm} steps of warm-up)\n")
    print("| data | " + " | ".join(KERNELS) + " |")
    print("|---|" + "---:|" * len(KERNELS))
    rng = np.random.default_rng(1)
    values = rng.normal(size=(warm + ticks, n_series))
    cells = []
    for kernel in KERNELS.values():
        detector = kernel(**SST_PARAMS).fit(values[:warm])
        spent = []
        for row in values[warm:]:
            start = time.process_time()
            detector.update(row)
            spent.append(time.process_time() - start)
        cells.append(f"{1e3 * statistics.median(spent):.1f}")
    print("| white noise | " + " | ".join(cells) + " |", flush=True)


# ----------------------------------------------------------------------- parts
@njit(error_model="numpy")
def _lane_matvec(gram: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """``out[:, lane] = gram[:, :, lane] x[:, lane]`` with a run-time lane count."""
    w, lanes = out.shape
    for a in range(w):
        for lane in range(lanes):
            out[a, lane] = 0.0
    for e in range(w):
        for a in range(w):
            for lane in range(lanes):
                out[a, lane] += gram[e, a, lane] * x[e, lane]


@njit(error_model="numpy")
def _sequential_ql(alphas: np.ndarray, betas: np.ndarray, k: int, guesses: np.ndarray,
                   wanted: int) -> int:
    values, vectors, work = np.empty(k), np.empty((k, k)), np.empty(k)
    rows = 0
    for t in range(alphas.shape[0]):
        given = guesses[t, :wanted] if wanted < k else guesses[t, :0]
        rows += tridiagonal_eigen(alphas[t], betas[t], k, values, vectors, k, work, given,
                                  wanted)
    return rows


@njit(error_model="numpy")
def _lockstep_ql(alphas: np.ndarray, betas: np.ndarray, k: int) -> np.ndarray:
    values, e, vectors = np.empty((k, LANES)), np.empty((k, LANES)), np.empty((k, k, LANES))
    alpha, beta = np.empty((k, LANES)), np.empty((k, LANES))
    for first in range(0, alphas.shape[0], LANES):
        for i in range(k):
            for lane in range(LANES):
                alpha[i, lane] = alphas[first + lane, i]
                beta[i, lane] = betas[first + lane, i]
        lockstep_ql(alpha, beta, k, values, e, vectors)
    return values


def white_noise_tridiagonals(count: int, k: int = 18, r: int = 5):
    """The kernel's k-step Lanczos matrices on white-noise Gram matrices (w = n = 50), with
    first guesses 1 % off the exact top eigenvalues (the extrapolated shifts' median)."""
    rng = np.random.default_rng(0)
    w = n = 50
    seg = w + n - 1
    x = rng.normal(size=seg + count)
    gram, sums, products = np.empty((w, w)), np.empty(w), np.empty(w)
    basis, v, work = np.empty((k, w)), np.empty(w), np.empty(k)
    alphas, betas, guesses = np.zeros((count, k)), np.zeros((count, k)), np.empty((count, r))
    for t in range(count):
        y = x[t:t + seg] - x[t:t + seg].mean()
        tracking_kernel._lag_products(y, n, w, products)
        tracking_kernel._fill_gram(y, n, w, products, gram, sums)
        seed = rng.normal(size=w)
        basis[0] = seed / np.linalg.norm(seed)
        tracking_kernel._lanczos(gram, sums, 0.0, n, basis, alphas[t], betas[t], v, work, 0, k,
                                 False, np.empty((4, k + 1)), np.zeros(2, np.int64))
        top = np.linalg.eigvalsh(np.diag(alphas[t]) + np.diag(betas[t][:-1], 1)
                                 + np.diag(betas[t][:-1], -1))[::-1][:r]
        guesses[t] = top * (1 + 0.01 * rng.normal(size=r))
    return alphas, betas, guesses


@njit(error_model="numpy")
def _orthogonalise_one(basis: np.ndarray, v0: np.ndarray, work: np.ndarray,
                       repeats: int) -> float:
    """The per-point kernel's Gram–Schmidt against 1, 2, …, k vectors, ``repeats`` times."""
    total = 0.0
    for _ in range(repeats):
        for count in range(1, basis.shape[0] + 1):
            total += tracking_kernel._orthogonalise(basis, count, v0.copy(), work)
    return total


@njit(error_model="numpy")
def _orthogonalise_lanes(basis: np.ndarray, v0: np.ndarray, v: np.ndarray,
                         work: np.ndarray, mask: np.ndarray, repeats: int) -> None:
    """The prototype's Gram–Schmidt pass against 1, 2, …, k vectors, ``repeats`` times."""
    for _ in range(repeats):
        for count in range(1, basis.shape[0] + 1):
            for a in range(v.shape[0]):
                for lane in range(v.shape[1]):
                    v[a, lane] = v0[a]
            _project_out(basis, count, v, work, mask)


def fill_gram_and_orthogonalise(rng: np.random.Generator) -> None:
    """Table rows: filling the de-meaned Gram matrix, and the Gram–Schmidt passes of an
    18-step run (one pass against 1, 2, …, 18 vectors), per point and per lane."""
    import sst_lane_kernel as lanes

    w = n = 50
    seg, k = w + n - 1, 18
    y = rng.normal(size=seg)
    products, gram, sums = np.empty(w), np.empty((w, w)), np.empty(w)
    tracking_kernel._lag_products(y, n, w, products)

    def fill_one() -> None:
        for _ in range(200):
            tracking_kernel._fill_gram(y, n, w, products, gram, sums)
            tracking_kernel._shift_gram(gram, sums, 0.1, n)

    ys, rows = np.repeat(y[:, None], LANES, axis=1), np.repeat(products[:, None], LANES, axis=1)
    shifts, grams, lane_sums = np.full(LANES, 0.1), np.empty((w, w, LANES)), np.empty((w, LANES))
    one = cpu_median(fill_one) / 200
    tile = cpu_median(lambda: [lanes._fill_grams(ys, rows, shifts, n, grams, lane_sums)
                               for _ in range(200)]) / 200
    print(f"| fill the de-meaned 50 × 50 Gram matrix | {1e6 * one:.2f} | "
          f"{1e6 * tile / LANES:.2f} ({LANES} lanes) |")
    basis = np.linalg.qr(rng.normal(size=(w, k)))[0].T.copy()
    v0, work = rng.normal(size=w), np.empty(k)
    lane_basis = np.repeat(basis[:, :, None], LANES, axis=2)
    lane_v, lane_work, mask = np.empty((w, LANES)), np.empty((k, LANES)), np.ones(LANES, bool)

    one = cpu_median(lambda: _orthogonalise_one(basis, v0, work, 50)) / 50
    tile = cpu_median(lambda: _orthogonalise_lanes(lane_basis, v0, lane_v, lane_work, mask,
                                                   50)) / 50
    print(f"| Gram–Schmidt passes of an 18-step run | {1e6 * one:.2f} | "
          f"{1e6 * tile / LANES:.2f} ({LANES} lanes, one pass each) |")


def vectorised() -> None:
    """How much of each lockstep function the compiler vectorised: packed against scalar
    double-precision arithmetic instructions (add, sub, mul, fused multiply-add, div,
    sqrt, min, max) in its machine code."""
    import re

    import sst_lane_kernel as lanes

    print("\n## Machine code of the lockstep functions (packed / scalar double-precision "
          "arithmetic instructions)\n")
    print("| function | packed (…pd) | scalar (…sd) |")
    print("|---|---:|---:|")
    for function in (lanes._fill_grams, lanes._matvec, lanes._dots, lanes._project_out,
                     lanes.lockstep_ql, _lane_matvec):
        for signature in function.signatures:
            code = function.inspect_asm(signature)
            ops = re.findall(r"\t(v(?:add|sub|mul|div|sqrt|min|max|f\w*(?:add|sub)\w*)"
                             r"[ps]d)\s", code)
            packed = sum(1 for op in ops if op.endswith("pd"))
            scalar = sum(1 for op in ops if op.endswith("sd"))
            print(f"| {function.__name__} | {packed} | {scalar} |")


def parts() -> None:
    rng = np.random.default_rng(0)
    w = 50
    print("\n## Parts (CPU µs per point, median of 5)\n")
    print("| part | per point | lockstep |")
    print("|---|---:|---:|")
    gram1, x1, out1 = rng.normal(size=(w, w)), rng.normal(size=w), np.empty(w)
    gram1 = gram1 + gram1.T
    one = cpu_median(lambda: [tracking_kernel._matvec(gram1, x1, out1) for _ in range(2000)])
    cells = []
    for lanes in (8, 16, 32):
        args = rng.normal(size=(w, w, lanes)), rng.normal(size=(w, lanes)), np.empty((w, lanes))
        spent = cpu_median(lambda args=args: [_lane_matvec(*args) for _ in range(2000)])
        cells.append(f"{1e6 * spent / 2000 / lanes:.2f} ({lanes} lanes)")
    print(f"| 50 × 50 matrix–vector product | {1e6 * one / 2000:.2f} | {', '.join(cells)} |")
    fill_gram_and_orthogonalise(rng)
    gram32, x32 = gram1.astype(np.float32), x1.astype(np.float32)
    single = cpu_median(lambda: [tracking_kernel._matvec(gram32, x32, out1)
                                 for _ in range(2000)])
    print(f"| the same, float32 matrix and vector, float64 sums | {1e6 * single / 2000:.2f} | — |")
    count = 256
    alphas, betas, guesses = white_noise_tridiagonals(count)
    values = _lockstep_ql(alphas, betas, 18)
    last = count - LANES
    error = max(np.abs(np.sort(values[:, lane]) - np.linalg.eigvalsh(
        np.diag(alphas[last + lane]) + np.diag(betas[last + lane][:-1], 1)
        + np.diag(betas[last + lane][:-1], -1))).max() for lane in range(LANES))
    full = cpu_median(lambda: [_sequential_ql(alphas, betas, 18, guesses, 18)
                               for _ in range(10)])
    top = cpu_median(lambda: [_sequential_ql(alphas, betas, 18, guesses, 5) for _ in range(10)])
    lock = cpu_median(lambda: [_lockstep_ql(alphas, betas, 18) for _ in range(10)])
    per = 1e6 / (10 * count)
    print(f"| QL of an 18 × 18 white-noise Lanczos matrix, all eigenpairs | {full * per:.2f} | "
          f"{lock * per:.2f} ({LANES} lanes; eigenvalues within {error:.0e} of LAPACK) |")
    print(f"| the same, top 5 with 1 %-off first shifts (the kernel's use) | {top * per:.2f} | "
          "— |", flush=True)


def nab(limit: int | None) -> None:
    corpus = nab_corpus()
    warm = SingularSpectrumTransform(**SST_PARAMS).n_warmup
    found: dict[str, list[float]] = {k: [] for k in KERNELS}
    for x in list(corpus.values())[:limit]:
        exact = SingularSpectrumTransform(solver="exact", **SST_PARAMS).score(x)[warm:]
        if np.std(exact) == 0:
            continue
        for key, kernel in KERNELS.items():
            found[key].append(np.corrcoef(exact, kernel(**SST_PARAMS).score(x)[warm:])[0, 1])
    print("\n## Krylov vs exact over NAB (Pearson r; constant files excluded)\n")
    print("| kernel | files | median r | 10th percentile | minimum |")
    print("|---|---:|---:|---:|---:|")
    for key, rs in found.items():
        rs = [r for r in rs if np.isfinite(r)]
        print(f"| {key} | {len(rs)} | {statistics.median(rs):.4f} | "
              f"{np.percentile(rs, 10):.4f} | {min(rs):.4f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2_000,
                        help="series in the tick measurement (default 2,000)")
    parser.add_argument("--nab", action="store_true",
                        help="also krylov vs exact over NAB for both kernels (minutes)")
    args = parser.parse_args()
    parts()
    whole_detector()
    vectorised()
    batch_equals_steps()
    tick(args.series)
    if args.nab:
        nab(None)


if __name__ == "__main__":
    main()
