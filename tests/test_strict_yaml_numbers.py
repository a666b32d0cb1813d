"""Numbers in exponent notation are numbers in every kizashi config: ``lr: 1e-3`` in a
training config, ``limit: 5e11`` in a watch's ``predict``, ``k: 4e0`` in a detector's
params. YAML 1.1 (PyYAML) reads them as text unless they have a dot *and* a signed
exponent (``1.0e-3``), so they were refused as "must be a number, got '1e-3'".

Family: spellings of exponent notation (signs, dots, capital E, underscores) against
Python's own ``float``; the control: quoted ones stay text, integers stay integers, and
text that only looks close (``1e``, ``e5``, ``1e5e``) stays text.
"""

from __future__ import annotations

import re

import pytest

from kizashi.strict_yaml import load_yaml
from kizashi.watch.config import parse_config

NUMBERS = ["1e308", "5e11", "1e-3", "-1e-3", "+2e5", "1.5e3", "1.e3", ".5e2", "2.5E-3",
           "1E10", "1_000e3", "-0e0", "1.0e+308"]
#: Past the largest float: kept as written (float() would make them ±inf), so that a config
#: refusing an infinite number quotes what was written.
BEYOND = ["1e400", "-1e400", "2.5E+309", "1_0e999"]
TEXT = ["1e", "e5", "1e5e", "1.2.3e4", "0x1p3", "1e3x", "1 e3", "1e+-3", "_1e3"]


def _watch_config(detector: str, predict: str) -> str:
    """A watch config of one watch with ``detector`` and ``predict`` (YAML flow text)."""
    return f"""
interval: 1m
listen: off
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9090"}}}}
watches:
  - name: disks
    query: up
    detectors: [{detector}]
    predict: {predict}
"""


@pytest.mark.parametrize("spelling", NUMBERS)
def test_exponent_notation_is_a_number(spelling):
    value = load_yaml(f"x: {spelling}")["x"]
    assert isinstance(value, float)
    assert value == float(spelling.replace("_", ""))


@pytest.mark.parametrize("spelling", NUMBERS)
def test_quoted_it_stays_text(spelling):
    assert load_yaml(f"x: '{spelling}'\ny: \"{spelling}\"") == {"x": spelling, "y": spelling}


@pytest.mark.parametrize("spelling", BEYOND)
def test_a_number_past_the_floats_stays_as_written(spelling):
    assert float(spelling.replace("_", "")) in (float("inf"), float("-inf"))
    assert load_yaml(f"x: {spelling}")["x"] == spelling


@pytest.mark.parametrize("spelling", BEYOND)
def test_a_watch_limit_past_the_floats_is_refused_quoting_it(spelling):
    with pytest.raises(ValueError, match=re.escape(f"finite number, got '{spelling}'")):
        parse_config(_watch_config("{detector: threshold}", f"{{horizon: 6h, limit: {spelling}}}"))


@pytest.mark.parametrize("spelling", TEXT)
def test_what_only_looks_close_stays_text(spelling):
    assert load_yaml(f"x: {spelling}")["x"] == spelling


@pytest.mark.parametrize(("spelling", "value"), [("10", 10), ("0", 0), ("-3", -3),
                                                 ("true", True), ("1.5", 1.5)])
def test_other_scalars_are_read_as_before(spelling, value):
    got = load_yaml(f"x: {spelling}")["x"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("spelling", ["5e11", "1e2", "9.5e1", "1e308"])
def test_a_watch_limit_and_parameter_in_exponent_notation_load(spelling):
    config = parse_config(_watch_config("{detector: threshold, params: {k: 4e0, window: 60}}",
                                        f"{{horizon: 6h, limit: {spelling}, cutoff: 2e-1}}"))
    watch = config.watches[0]
    assert watch.predict.limit == float(spelling)
    assert watch.predict.cutoff == 0.2
    assert watch.detectors[0].params["k"] == 4.0


def test_a_training_config_takes_a_learning_rate_in_exponent_notation(tmp_path):
    from kizashi.dl.config import load_config

    path = tmp_path / "train.yaml"
    path.write_text("data: {source: smd, machine: machine-1-1}\n"
                    "model: {name: autoencoder, window: 10}\n"
                    "optimiser: {name: adam, lr: 1e-3, weight_decay: 1e-5}\n")
    config = load_config(path)
    assert config.optimiser["lr"] == 0.001 and config.optimiser["weight_decay"] == 1e-5
