"""Every registered detector against the shared contract, plus property tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kizashi.detectors import registry
from kizashi.state import from_json_safe, to_json_safe
from kizashi.testing import conformance

NAMES = registry.names()


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_conformance(name, check):
    check(name)


def series_arrays(width: int):
    finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    maybe_missing = st.one_of(finite, finite, finite, finite, st.just(float("nan")))
    return arrays(np.float64, st.tuples(st.integers(2, 60), st.just(width)),
                  elements=maybe_missing)


def build(name: str, values: np.ndarray):
    detector = conformance.make(name)
    train, _, _ = conformance.sample_data(n=120, n_series=values.shape[1])
    return detector.fit(train, times(120))


def times(n: int, start: float = 1.7e9) -> np.ndarray:
    return start + conformance.STEP_SECONDS * np.arange(n)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=series_arrays(3))
def test_property_batch_equals_streaming(name, values):
    detector = build(name, values)
    t = times(len(values), 1.8e9)
    batch = detector.score(values, t)
    streamed = conformance.stream(detector, values, t)
    np.testing.assert_allclose(streamed, batch, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=series_arrays(3), split=st.floats(0, 1))
def test_property_state_round_trip(name, values, split):
    detector = build(name, values)
    t = times(len(values), 1.8e9)
    cut = int(split * len(values))
    expected = conformance.stream(detector.clone().load_state_dict(detector.state_dict()),
                                  values, t)
    conformance.stream(detector, values[:cut], t[:cut])
    text = json.dumps(to_json_safe(detector.state_dict()))
    resumed = conformance.make(name).load_state_dict(from_json_safe(json.loads(text)))
    rest = conformance.stream(resumed, values[cut:], t[cut:])
    np.testing.assert_array_equal(rest.reshape(-1), expected[cut:].reshape(-1))
