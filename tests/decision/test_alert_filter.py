from __future__ import annotations

import json

import numpy as np

from kizashi.decision import AlertFilter
from kizashi.state import from_json_safe, to_json_safe


def test_one_incident_is_one_alert_despite_flapping():
    flags = np.array([0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    active = AlertFilter(min_steps=2, resolve_steps=3).apply(flags)
    starts = np.flatnonzero(np.diff(np.r_[0, active.astype(int)]) == 1)
    assert starts.tolist() == [2]
    assert active.tolist() == [False, False, True, True, True, True, True, True, True, False,
                               False, False, False]


def test_missing_steps_neither_extend_nor_end():
    f = AlertFilter(min_steps=2, resolve_steps=1)
    state = f.init(1)
    assert f.update(state, np.array([True])) == []
    assert f.update(state, np.array([False]), observed=np.array([False])) == []
    assert [c.status for c in f.update(state, np.array([True]))] == ["firing"]


def test_state_survives_json_and_is_per_series():
    f = AlertFilter(min_steps=1, resolve_steps=2)
    state = f.init(2)
    f.update(state, np.array([True, False]))
    state = from_json_safe(json.loads(json.dumps(to_json_safe(state))))
    changes = f.update(state, np.array([False, True]))
    assert [(c.series, c.status) for c in changes] == [(1, "firing")]
    changes = f.update(state, np.array([False, True]))
    assert [(c.series, c.status) for c in changes] == [(0, "resolved")]
