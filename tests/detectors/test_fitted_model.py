"""A fitted ensemble saved with `kizashi fit` and loaded back: bit-exact, and its model part
fixed while it streams (what lets a daemon take the model from the folder at every start)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.fitted_model import RECORD, fit_detector, load_fitted, save_fitted
from kizashi.state import from_json_safe, states_equal, to_json_safe

T0 = 1_700_000_000.0


def rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.sin(np.arange(n) * 2 * np.pi / 288) + rng.normal(0, 0.1, n)
    return np.column_stack([base, 2 * base + rng.normal(0, 0.1, n), rng.normal(0, 1, n)])


def times(n: int, start: int = 0) -> np.ndarray:
    return T0 + 300.0 * (start + np.arange(n))


@pytest.fixture(scope="module")
def fitted():
    return fit_detector("ensemble", rows(1500, 0), times(1500), {"reference_window": 5})


@pytest.fixture(scope="module")
def fitted_default():
    """The default's several reference windows, each with its own last rows."""
    return fit_detector("ensemble", rows(1500, 0), times(1500), {})


@pytest.mark.parametrize("steps", [1, 3, 4, 5, 37])
@pytest.mark.parametrize("which", ["fitted", "fitted_default"])
def test_the_model_part_stays_as_fitted_while_the_stream_moves(request, which, steps):
    fitted = request.getfixturevalue(which)
    detector = fitted.clone()
    detector.load_state_dict(fitted.state_dict())
    model_before, _ = detector.split_state_dict()
    test = rows(steps, 9)
    detector.update_many(test, times(steps, 1500))
    model_after, stream = detector.split_state_dict()
    assert states_equal(model_before, model_after)
    # so the model as fitted and the stream as saved join into the running detector
    stream = from_json_safe(json.loads(json.dumps(to_json_safe(stream))))
    twin = fitted.clone().load_split_state_dict(model_before, stream)
    assert states_equal(twin.state_dict(), detector.state_dict())


def test_a_saved_model_scores_bit_for_bit_as_the_fitted_one(fitted, tmp_path):
    key = save_fitted(fitted, tmp_path, ["a", "b", "c"], entity="n1")
    back, record = load_fitted(tmp_path)
    assert record["model_key"] == key and record["entity"] == "n1"
    assert states_equal(back.state_dict(), fitted.state_dict())
    test = rows(400, 3)
    test[300:320, 2] += 6.0
    t = times(400, 1500)
    np.testing.assert_array_equal(back.score(test, t), fitted.score(test, t))
    np.testing.assert_array_equal(back.explain(test, t).attribution,
                                  fitted.explain(test, t).attribution)
    # the same fit saved again has the same key; another fit another key
    assert save_fitted(fitted, tmp_path / "again", ["a", "b", "c"]) == key
    other = fit_detector("ensemble", rows(1500, 1), times(1500), {"reference_window": 5})
    assert save_fitted(other, tmp_path / "other", ["a", "b", "c"]) != key


def test_what_cannot_be_fitted_or_loaded_is_refused_with_a_reason(fitted, tmp_path):
    with pytest.raises(ValueError, match="not fitted ahead"):
        fit_detector("threshold", rows(100, 0), None)
    with pytest.raises(ValueError, match="at least 2 metrics"):
        fit_detector("ensemble", rows(100, 0)[:, :1], None)
    with pytest.raises(ValueError, match="hold no values"):
        fit_detector("ensemble", np.full((50, 3), np.nan), None)
    with pytest.raises(ValueError, match="2 feature names"):
        save_fitted(fitted, tmp_path, ["a", "b"])
    save_fitted(fitted, tmp_path, ["a", "b", "c"])
    with pytest.raises(ValueError, match="reference_window=5"):
        load_fitted(tmp_path, reference_window=10)
    assert load_fitted(tmp_path, reference_window=5)[0].reference_window == 5
    record = json.loads((tmp_path / RECORD).read_text())
    (tmp_path / RECORD).write_text(json.dumps(dict(record, format="other")))
    with pytest.raises(ValueError, match="not a `kizashi fit` record"):
        load_fitted(tmp_path)
    (tmp_path / RECORD).write_text("{")
    with pytest.raises(ValueError, match="cannot read"):
        load_fitted(tmp_path)
