"""``$KIZASHI_WATCH_TOKEN`` holding only blanks, against docs/watch.md ("token: required
when listen is not loopback (or $KIZASHI_WATCH_TOKEN)").

``token: " "`` in the config is refused as empty; the same blank token from the
environment was taken, so a dashboard reachable from other machines was "protected" by a
token of spaces (which an ``Authorization`` header cannot even carry: HTTP strips it).
"""

from __future__ import annotations

import pytest

from kizashi.watch.config import parse_config

TEXT = """
listen: {listen}
sources: {{p: {{url: "http://127.0.0.1:9090"}}}}
watches: [{{name: m, query: up}}]
"""


@pytest.mark.parametrize("blank", [" ", "\t", "  \t ", "\n", "\u3000"])
@pytest.mark.parametrize("listen", ["0.0.0.0:9464", "127.0.0.1:9464"])
def test_a_blank_token_from_the_environment_is_refused(monkeypatch, blank, listen):
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", blank)
    with pytest.raises(ValueError, match=r"\$KIZASHI_WATCH_TOKEN is blank"):
        parse_config(TEXT.format(listen=listen))


@pytest.mark.parametrize("value", ["s3cret", "a b", "x" * 200])
def test_a_token_from_the_environment_is_taken(monkeypatch, value):
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", value)
    assert parse_config(TEXT.format(listen="0.0.0.0:9464")).token == value


def test_the_configs_token_wins_over_a_blank_environment(monkeypatch):
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", " ")
    assert parse_config(TEXT.format(listen="0.0.0.0:9464") + "token: abc\n").token == "abc"
