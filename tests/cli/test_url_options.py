"""A URL that is not one (no host, a port that is no number or out of range, an unclosed
IPv6 bracket, another scheme, empty) is refused in one line naming where it was given:
``kizashi detect --prometheus``, ``kizashi watch --prometheus/--alertmanager`` and a watch
config's URLs. Before, ``detect --prometheus notaurl`` ended in "unknown url type:
'notaurl/api/v1/query_range?query=up&start=…'", ``http://[::1`` in "Invalid IPv6 URL" naming
nothing, and the config took ``http://`` and ``http://h:99999``.

Family: malformed URLs × the places a URL is given; the control: well-formed ones pass the
check (a closed port is then the source's failure, "unreachable").
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.watch.config import parse_config

BAD = ["notaurl", "http://", "https://", "ftp://host", "http://[::1", "http://h:99999",
       "http://h:abc", "http://:9090", "", "//host:9090", "host:9090"]
#: How a refused URL is described: not an http(s) URL (with the parser's reason), or one
#: naming no host.
REFUSED = ("is not an http(s) URL", "names no host")
GOOD = ["http://127.0.0.1:1", "http://[::1]:1", "https://127.0.0.1:1/sub/path/",
        "http://localhost:1"]


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2) and len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("url", BAD)
def test_detect_refuses_a_bad_prometheus_url_naming_the_option(url):
    result = CliRunner().invoke(cli, ["detect", "--prometheus", url, "--query", "up", "-q"])
    line = _one_line(result)
    assert any(f"Invalid value for '--prometheus': {url!r} {why}" in line for why in REFUSED)


@pytest.mark.parametrize("url", GOOD)
def test_detect_takes_a_good_url_and_fails_at_the_source(url):
    result = CliRunner().invoke(cli, ["detect", "--prometheus", url, "--query", "up", "-q",
                                      "--since", "1h"])
    line = _one_line(result)
    assert "source 'prometheus'" in line and "is not an http(s) URL" not in line


@pytest.mark.parametrize("option", ["--prometheus", "--alertmanager"])
@pytest.mark.parametrize("url", [u for u in BAD if u])
def test_watch_refuses_a_bad_url_option(tmp_path, option, url):
    config = tmp_path / "w.yaml"
    config.write_text("watches: []\n")
    line = _one_line(CliRunner().invoke(cli, ["watch", str(config), option, url]))
    assert any(f"Invalid value for '{option}': {url!r} {why}" in line for why in REFUSED)


CONFIG_CASES = [(where, url) for where in ("source", "alertmanager", "webhook") for url in BAD
                if url or where == "source"]  # an empty sink url is "no sink", as null


@pytest.mark.parametrize(("where", "url"), CONFIG_CASES)
def test_a_watch_config_refuses_a_bad_url_naming_the_key(where, url):
    source = f'"{url}"' if where == "source" else '"http://127.0.0.1:9090"'
    alerts = {"alertmanager": f'alerts: {{alertmanager: {{url: "{url}"}}}}',
              "webhook": f'alerts: {{webhook: {{url: "{url}"}}}}'}.get(where, "")
    with pytest.raises(ValueError, match=r"is not an http\(s\) URL|names no host|url is missing"):
        parse_config(f"""
interval: 1m
listen: off
sources: {{p: {{type: prometheus, url: {source}}}}}
watches: [{{name: w, query: up, detectors: [{{detector: threshold}}]}}]
{alerts}
""")


@pytest.mark.parametrize("url", GOOD)
def test_a_watch_config_takes_good_urls(url):
    config = parse_config(f"""
interval: 1m
listen: off
sources: {{p: {{type: prometheus, url: "{url}"}}}}
watches: [{{name: w, query: up, detectors: [{{detector: threshold}}]}}]
alerts: {{alertmanager: {{url: "{url}"}}}}
""")
    assert config.alerts.alertmanager_url == url.rstrip("/")


def test_detect_without_file_or_url_does_not_say_not_both():
    line = _one_line(CliRunner().invoke(cli, ["detect", "-q"]))
    assert line == "Error: give a FILE or --prometheus URL (with --query)"
