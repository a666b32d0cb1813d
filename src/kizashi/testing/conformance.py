"""The conformance suite every registered detector must pass.

Like scikit-learn's ``check_estimator``: each ``check_*`` function takes a
registered detector name, builds it with its ``conformance_params`` and raises
``AssertionError`` when the detector breaks the contract of
:class:`kizashi.detectors.base.Detector`. ``tests/detectors/test_conformance.py``
runs every check on every name in the registry, so a new detector is tested the
moment its registry line exists.

>>> check_detector("threshold")  # runs every check; silent when all pass
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from kizashi.data import synthetic
from kizashi.detectors.base import Detector
from kizashi.detectors.registry import get_class
from kizashi.state import from_json_safe, states_equal, to_json_safe

N_TRAIN = 200
N_TEST = 300
N_SERIES = 3
STEP_SECONDS = 60.0


def make(name: str) -> Detector:
    """The detector ``name`` built with its conformance parameters."""
    cls = get_class(name)
    return cls(**cls.conformance_params)


def sample_data(seed: int = 0, n: int = N_TRAIN + N_TEST, n_series: int = N_SERIES,
                magnitude: float = 40.0):
    """Spiky test data standardised on its spike-free start, with timestamps and labels."""
    values, labels = synthetic.spikes(n=n, n_series=n_series, magnitude=magnitude,
                                      n_spikes=6, period=50, seed=seed)
    head = values[: n // 5]
    values = (values - head.mean(axis=0)) / head.std(axis=0)
    labels[:N_TRAIN] = False
    timestamps = 1.7e9 + STEP_SECONDS * np.arange(n)
    return values, labels, timestamps


def fitted(name: str, seed: int = 0):
    """A detector fitted on the training part, and the test part (values, labels, times)."""
    values, labels, timestamps = sample_data(seed)
    detector = make(name)
    detector.fit(values[:N_TRAIN], timestamps[:N_TRAIN])
    return detector, values[N_TRAIN:], labels[N_TRAIN:], timestamps[N_TRAIN:]


def stream(detector: Detector, values: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """Scores from ``update`` called one row at a time."""
    return np.array([detector.update(row, ts) for row, ts in zip(values, timestamps,
                                                                  strict=True)])


def expected_shape(detector: Detector, values: np.ndarray) -> tuple[int, ...]:
    return values.shape[:1] if detector.multivariate else values.shape


def check_params(name: str) -> None:
    """Constructors store their parameters; ``clone`` copies them; nothing is learned yet."""
    detector = make(name)
    params = detector.get_params()
    assert params == {**params, **type(detector).conformance_params}
    assert detector.clone().get_params() == params
    assert detector.state_ is None, "a constructor must not create state"


def check_shapes(name: str) -> None:
    """2-D in → 2-D out (univariate) or one score per step (multivariate); 1-D for one series."""
    detector, values, _, timestamps = fitted(name)
    scores = detector.score(values, timestamps)
    assert scores.shape == expected_shape(detector, values), scores.shape
    if not detector.multivariate:
        single = make(name).fit(values[:50, 0], timestamps[:50])
        one = single.score(values[50:, 0], timestamps[50:])
        assert one.shape == (values.shape[0] - 50,)
        assert isinstance(single.update(values[0, 0], timestamps[0]), float)


def check_batch_equals_streaming(name: str) -> None:
    """``score`` on a block equals ``update`` row by row from the same state."""
    detector, values, _, timestamps = fitted(name)
    batch = detector.score(values, timestamps)
    streamed = stream(detector, values, timestamps)
    np.testing.assert_allclose(streamed, batch, rtol=1e-9, atol=1e-12, equal_nan=True)


def check_update_many_equals_streaming(name: str) -> None:
    """``update_many`` on blocks scores and learns exactly like ``update`` row by row."""
    detector, values, _, timestamps = fitted(name)
    twin = detector.clone().load_state_dict(detector.state_dict())
    cut = values.shape[0] // 3
    blocks = np.concatenate([detector.update_many(values[:cut], timestamps[:cut]),
                             detector.update_many(values[cut:], timestamps[cut:])])
    np.testing.assert_allclose(blocks, stream(twin, values, timestamps), rtol=1e-9,
                               atol=1e-12, equal_nan=True)
    assert states_equal(detector.state_dict()["state"], twin.state_dict()["state"]) or \
        np.allclose(detector.score(values, timestamps), twin.score(values, timestamps),
                    rtol=1e-9, atol=1e-12, equal_nan=True)


def check_typed_output(name: str) -> None:
    """``explain`` gives the scores of ``score`` and well-shaped fields, learning nothing."""
    detector, values, _, timestamps = fitted(name)
    before = detector.state_dict()
    out = detector.explain(values, timestamps)
    scores = detector.score(values, timestamps).reshape(values.shape[0], -1)
    np.testing.assert_allclose(out.score, scores, rtol=1e-9, atol=1e-12, equal_nan=True)
    for field in ("forecast", "lower", "upper"):
        band = getattr(out, field)
        assert band is None or band.shape == values.shape, (field, getattr(band, "shape", None))
    if out.forecast is not None and out.lower is not None and out.upper is not None:
        known = ~np.isnan(out.forecast)
        assert np.all(out.lower[known] <= out.forecast[known])
        assert np.all(out.forecast[known] <= out.upper[known])
    if out.attribution is not None:
        assert detector.multivariate and out.attribution.shape == values.shape
        sums = np.nansum(out.attribution, axis=1)
        full = ~np.isnan(out.attribution).all(axis=1)
        np.testing.assert_allclose(sums[full], 1.0, rtol=1e-9)
    assert states_equal(before, detector.state_dict())


def check_series_axis(name: str) -> None:
    """Every per-series array of the state runs over the series on the declared axis."""
    detector = make(name)
    declared = type(detector).state_series_axis
    one, two = detector.clone().reset(1).state_, detector.clone().reset(3).state_

    def walk(a: object, b: object, path: str) -> None:
        if isinstance(a, dict):
            assert isinstance(b, dict) and a.keys() == b.keys(), path
            for key in a:
                walk(a[key], b[key], f"{path}.{key}")
        elif isinstance(a, np.ndarray):
            differ = [i for i, (x, y) in enumerate(zip(a.shape, b.shape, strict=True))
                      if x != y]
            assert len(differ) <= 1, f"{path}: more than one axis grows with the series"
            if differ:
                assert differ[0] == declared % a.ndim, (
                    f"{path}: series on axis {differ[0]}, declared {declared}")

    walk(one, two, "state")


def check_model_apart_from_stream(name: str) -> None:
    """The fitted model and the stream state, saved apart through JSON, join exactly."""
    detector = fitted(name)[0]
    model, stream = detector.split_state_dict()
    assert not set(model) & set(stream["state"]), "a key in both parts"
    if detector.requires_training and type(detector).model_keys:
        assert model, "a trained detector must keep its fitted model apart"
    model, stream = (from_json_safe(json.loads(json.dumps(to_json_safe(part))))
                     for part in (model, stream))
    twin = detector.clone().load_split_state_dict(model, stream)
    assert states_equal(detector.state_dict(), twin.state_dict())


def check_score_leaves_state_unchanged(name: str) -> None:
    """Scoring without learning does not touch the state."""
    detector, values, _, timestamps = fitted(name)
    before = detector.state_dict()
    detector.score(values, timestamps)
    assert states_equal(before, detector.state_dict())


def check_state_round_trip(name: str) -> None:
    """save → JSON → load → continue gives exactly the uninterrupted scores."""
    detector, values, _, timestamps = fitted(name)
    half = values.shape[0] // 2
    uninterrupted = detector.clone().load_state_dict(detector.state_dict())
    expected = stream(uninterrupted, values, timestamps)

    stream(detector, values[:half], timestamps[:half])
    saved = json.dumps(to_json_safe(detector.state_dict()))
    resumed = make(name).load_state_dict(from_json_safe(json.loads(saved)))
    rest = stream(resumed, values[half:], timestamps[half:])
    np.testing.assert_array_equal(rest, expected[half:])


def check_nan_policy(name: str) -> None:
    """A missing row scores NaN and is as if it had never arrived."""
    detector, values, _, timestamps = fitted(name)
    gap = 37
    with_gap = values.copy()
    with_gap[gap] = np.nan
    scores = detector.score(with_gap, timestamps)
    assert np.all(np.isnan(scores[gap])), "a NaN input must give a NaN score"
    keep = np.arange(values.shape[0]) != gap
    without = detector.score(values[keep], timestamps[keep])
    np.testing.assert_allclose(scores[keep], without, rtol=1e-9, atol=1e-12, equal_nan=True)


def check_deterministic(name: str) -> None:
    """Two detectors built and fed the same way give the same scores."""
    a, values, _, timestamps = fitted(name)
    b, _, _, _ = fitted(name)
    np.testing.assert_array_equal(a.score(values, timestamps), b.score(values, timestamps))


def check_better_than_chance(name: str) -> None:
    """On large isolated spikes the scores rank anomalies above normal points (AUC > 0.8)."""
    detector, values, labels, timestamps = fitted(name, seed=3)
    scores = detector.score(values, timestamps)
    if detector.multivariate:
        labels = labels.any(axis=1)
    auc = roc_auc(np.nan_to_num(scores.ravel(), nan=-np.inf), labels.ravel())
    assert auc > 0.8, f"AUC {auc:.3f} on spikes"


def check_wrong_width(name: str) -> None:
    """Feeding a different number of series than the state was made for is a clear error."""
    detector, values, _, timestamps = fitted(name)
    wider = np.hstack([values, values[:, :1]])
    try:
        detector.score(wider, timestamps)
    except ValueError as error:
        assert "reset() or fit()" in str(error) or "features" in str(error)
    else:
        raise AssertionError("scoring a wider array than the detector was fitted on must fail")


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann–Whitney) statistic."""
    from scipy.stats import rankdata

    labels = labels.astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


CHECKS: list[Callable[[str], None]] = [
    check_params,
    check_shapes,
    check_batch_equals_streaming,
    check_update_many_equals_streaming,
    check_typed_output,
    check_series_axis,
    check_model_apart_from_stream,
    check_score_leaves_state_unchanged,
    check_state_round_trip,
    check_nan_policy,
    check_deterministic,
    check_better_than_chance,
    check_wrong_width,
]


def check_detector(name: str) -> None:
    """Run every check on the registered detector ``name``."""
    for check in CHECKS:
        check(name)
