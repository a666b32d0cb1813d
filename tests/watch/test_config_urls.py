"""Every URL of a watch config, and the ``--prometheus``/``--alertmanager`` overrides, given
text that is no usable http(s) URL: refused before the daemon starts, in one line naming
the key (docs/watch.md, Config: "bad URLs … are errors naming the file and key").

Before, only the scheme was checked: a space (``http://prom etheus``), a control
character, an unclosed IPv6 bracket, a port that is no number or above 65535, or no host
at all passed the config, then failed every request of the daemon — and ``--alertmanager
http://[::1`` ended in "internal error (ValueError: Invalid IPv6 URL)".
"""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.watch.config import parse_config

ODD = {
    "space": "http://prom etheus:9090", "tab": "http://prometheus:9090/a\tb",
    "newline": "http://prometheus:9090\n/x", "nul": "http://prometheus\x00:9090",
    "unclosed ipv6": "http://[::1", "ipv6 junk": "http://[zz::1]:9090",
    "port not a number": "http://prometheus:ab", "port too large": "http://prometheus:99999",
    "no host": "http://", "only a port": "http://:9090", "only a path": "http:///api",
}
GOOD = ["http://prometheus:9090", " http://[::1]:9090/prefix/ ", "https://user:pw@h.example/p",
        "http://10.0.0.1", "https://h.example:443/a%20b"]


def config_with(key: str, url: str) -> dict:
    raw: dict = {"interval": "1s", "listen": "off",
                 "sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:9090"}},
                 "watches": [{"name": "m", "query": "up"}]}
    if key == "source":
        raw["sources"]["p"]["url"] = url
    elif key == "alertmanager":
        raw["alerts"] = {"alertmanager": {"url": url}}
    elif key == "webhook":
        raw["alerts"] = {"webhook": {"url": url}}
    elif key == "dashboard_url":
        raw["dashboard_url"] = url
    elif key == "remote_write":
        raw["remote_write"] = {"url": url}
    return raw


KEYS = {"source": "sources.p.url", "alertmanager": "alerts.alertmanager.url",
        "webhook": "alerts.webhook.url", "dashboard_url": "dashboard_url",
        "remote_write": "remote_write.url"}


@pytest.mark.parametrize("case", list(ODD))
@pytest.mark.parametrize("key", list(KEYS))
def test_a_url_that_is_no_url_is_refused_naming_its_key(key, case):
    text = yaml.safe_dump(config_with(key, ODD[case]))
    with pytest.raises(ValueError) as caught:
        parse_config(text, where="w.yaml")
    message = str(caught.value)
    assert message.startswith("w.yaml: ") and KEYS[key] in message, message
    assert "\n" not in message.replace(repr(ODD[case]), ""), message


@pytest.mark.parametrize("url", GOOD)
@pytest.mark.parametrize("key", list(KEYS))
def test_good_urls_are_taken(key, url):
    parse_config(yaml.safe_dump(config_with(key, url)), where="w.yaml")


@pytest.mark.parametrize("case", list(ODD))
@pytest.mark.parametrize("option", ["--prometheus", "--alertmanager"])
def test_an_override_that_is_no_url_is_one_line(tmp_path, option, case):
    config = tmp_path / "w.yaml"
    config.write_text(yaml.safe_dump(config_with("", "")))
    result = CliRunner().invoke(cli, ["watch", "--check", str(config), option, ODD[case]])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and option in result.output, result.output
