"""The registry's parameter handling: ``key=none`` on the command line."""

from __future__ import annotations

import pytest

from kizashi.detectors import registry


def text_parameters():
    """Every (detector, parameter) whose default is text and which does not accept None."""
    for name in registry.names():
        try:
            cls = registry.get_class(name)
        except ImportError:
            continue
        for p in registry.parameters(cls):
            if isinstance(p.default, str) and "None" not in p.annotation:
                yield name, p.name


def optional_parameters():
    """Every (detector, parameter) annotated as accepting None."""
    for name in registry.names():
        try:
            cls = registry.get_class(name)
        except ImportError:
            continue
        for p in registry.parameters(cls):
            if "None" in p.annotation:
                yield name, p.name


@pytest.mark.parametrize(("name", "key"), list(text_parameters()))
def test_none_on_the_command_line_is_the_word_for_a_text_parameter(name, key):
    parsed = dict([registry.parse_param(f"{key}=none")])
    assert parsed == {key: None}
    assert getattr(registry.create(name, **parsed), key) == "none"


@pytest.mark.parametrize(("name", "key"), list(optional_parameters()))
def test_none_stays_none_where_a_parameter_accepts_it(name, key):
    assert getattr(registry.create(name, **{key: None}), key) is None


def test_sst_accepts_normalize_none_end_to_end():
    detector = registry.create("sst", **dict([registry.parse_param("normalize=none")]))
    scores = detector.score([float(i % 7) for i in range(200)])
    assert scores.shape == (200,)
