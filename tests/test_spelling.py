"""The shared "did you mean" hint and strict YAML: one implementation, the old imports kept.

``did_you_mean`` and ``load_yaml`` moved out of ``kizashi.watch.config_values`` (the
training configs of ``kizashi.dl`` imported them from the watch); the old names must stay
the very same functions, and the hint must name the nearest key for each kind of typo.
"""

from __future__ import annotations

import pytest
import yaml

from kizashi import spelling, strict_yaml
from kizashi.watch import config_values

KNOWN = ["interval", "storage", "listen", "initial_backfill"]


def test_the_old_imports_are_the_shared_functions():
    assert config_values.did_you_mean is spelling.did_you_mean
    assert config_values.nearest is spelling.nearest
    assert config_values.load_yaml is strict_yaml.load_yaml


@pytest.mark.parametrize("typo", ["intervall", "intreval", "Interval", "interva", "interval_",
                                  "innterval"])
def test_each_kind_of_typo_gets_the_nearest_key(typo):
    assert spelling.did_you_mean(typo, KNOWN) == " (did you mean 'interval'?)"


@pytest.mark.parametrize("far", ["zzz", "", "detectors", "12345"])
def test_a_key_near_nothing_gets_no_hint(far):
    assert spelling.did_you_mean(far, KNOWN) == ""


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "x:\n  b: 1\n  b: 1\n", "- {a: 1, a: 2}\n"])
def test_a_key_given_twice_is_refused_at_any_depth(text):
    with pytest.raises(yaml.YAMLError, match="is given twice"):
        strict_yaml.load_yaml(text)
