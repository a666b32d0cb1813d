"""check_param: one rule for a detector parameter's type and range, whichever place wrote it
(watch config, ``--param``, a fitted model's folder). Expectations written by hand from the
declared annotation."""

from __future__ import annotations

import pytest

from kizashi.detectors.param_checks import MAX_PARAM_COUNT, MAX_PARAM_MAGNITUDE, check_param
from kizashi.detectors.registry import ParamInfo

WHOLE = ParamInfo("window", 288, "int")
NUMBER = ParamInfo("k", 3.0, "float")
DURATION = ParamInfo("period", "1w", "str | float")
SWITCH = ParamInfo("robust", True, "bool")
OPTIONAL = ParamInfo("limit", None, "float | None")


@pytest.mark.parametrize(("declared", "value"), [
    (WHOLE, 0), (WHOLE, 30), (WHOLE, MAX_PARAM_COUNT), (WHOLE, 30.0),
    (NUMBER, -2.5), (NUMBER, 7), (NUMBER, MAX_PARAM_MAGNITUDE), (NUMBER, -MAX_PARAM_MAGNITUDE),
    (DURATION, "1w"), (DURATION, "1h30m"), (DURATION, 3600), (DURATION, "90"),
    (SWITCH, False), (OPTIONAL, None), (OPTIONAL, 95.0),
    (None, [1, 2, {"a": 3.5}]), (None, "anything"),
])
def test_values_that_fit_their_declaration_pass(declared, value):
    check_param(value, declared, "params.x")


@pytest.mark.parametrize(("declared", "value", "says"), [
    (WHOLE, -1, "whole number from 0 to"), (WHOLE, 2.5, "whole number from 0 to"),
    (WHOLE, MAX_PARAM_COUNT + 1, "whole number from 0 to"), (WHOLE, "30", "remove the quotes"),
    (WHOLE, "abc", "must be a whole number, got 'abc'"), (WHOLE, True, "got true"),
    (WHOLE, None, "needs a value (its default is 288)"), (WHOLE, [30], "got a list"),
    (NUMBER, float("nan"), "finite"), (NUMBER, float("inf"), "finite"), (NUMBER, "inf", "finite"),
    (NUMBER, 2e18, "at most 1e+18"), (NUMBER, "3.0", "remove the quotes"),
    (DURATION, "1h1h", "params.x: not a duration"), (DURATION, "-1h", "params.x: not a duration"),
    (DURATION, "100000000000000y", "at most 1e+18"),
    (SWITCH, 1, "must be true or false"), (SWITCH, "yes", "must be true or false"),
    (None, [1, float("nan")], "finite"), (None, {"a": 1e300}, "at most 1e+18"),
    (None, list(range(10_001)), "too large"),
])
def test_values_that_do_not_fit_are_refused_naming_the_place(declared, value, says):
    with pytest.raises(ValueError) as info:
        check_param(value, declared, "params.x")
    message = str(info.value)
    assert message.startswith("params.x"), message
    assert says in message, message
    assert "\n" not in message
