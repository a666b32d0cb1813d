"""JSON log lines: one object per line with time, level, logger, message and extra fields —
from the formatter, and from a real ``kizashi watch`` process."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kizashi.watch.log_format import JsonFormatter, configure_logging


def record(message: str, args: tuple = (), level: int = logging.INFO, **extra) -> logging.LogRecord:
    item = logging.LogRecord("kizashi.watch", level, __file__, 10, message, args, None)
    for key, value in extra.items():
        setattr(item, key, value)
    return item


@pytest.mark.parametrize("message, args, text", [
    ("plain", (), "plain"),
    ("alert %d firing: %s", (3, {"instance": "a"}), "alert 3 firing: {'instance': 'a'}"),
    ('quotes " and \\ and \n newlines', (), 'quotes " and \\ and \n newlines'),
    ("unicode %s", ("日本 ü → ✓",), "unicode 日本 ü → ✓"),
    ("%s%%", (50,), "50%"),
])
def test_each_record_is_one_line_of_json_with_the_formatted_message(message, args, text):
    line = JsonFormatter().format(record(message, args, level=logging.WARNING))
    assert "\n" not in line
    body = json.loads(line)
    assert body["message"] == text and body["level"] == "WARNING"
    assert body["logger"] == "kizashi.watch"
    assert list(body)[:4] == ["time", "level", "logger", "message"]


def test_the_time_is_rfc3339_utc_with_milliseconds():
    item = record("x")
    item.created = 1_764_000_000.1239
    stamp = json.loads(JsonFormatter().format(item))["time"]
    assert stamp == "2025-11-24T16:00:00.123Z"
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(parsed.timestamp() - item.created) < 1e-3


def test_extra_fields_are_kept_and_odd_values_do_not_break_the_line():
    class Odd:
        def __repr__(self) -> str:
            return "<odd>"

    body = json.loads(JsonFormatter().format(record(
        "tick", watch="cpu", series=3, ratio=0.5, tags=["a"], odd=Odd(), nan=float("nan"))))
    assert body["watch"] == "cpu" and body["series"] == 3 and body["ratio"] == 0.5
    assert body["tags"] == ["a"] and body["odd"] == "<odd>"
    for standard in ("args", "msg", "levelno", "pathname", "created", "thread"):
        assert standard not in body


def test_an_exception_is_one_field_holding_the_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        item = logging.LogRecord("kizashi.watch", logging.ERROR, __file__, 1, "tick failed",
                                 (), sys.exc_info())
    line = JsonFormatter().format(item)
    body = json.loads(line)
    assert "\n" not in line
    assert body["exception"].startswith("Traceback") and "RuntimeError: boom" in body["exception"]


def test_configure_logging_routes_the_root_logger_and_refuses_unknown_formats():
    stream = io.StringIO()
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    try:
        configure_logging("json", stream=stream)
        logging.getLogger("kizashi.watch").info("hello %s", "there", extra={"watch": "w"})
        logging.getLogger("kizashi.watch").debug("hidden")
        lines = stream.getvalue().splitlines()
        assert [json.loads(x)["message"] for x in lines] == ["hello there"]
        assert json.loads(lines[0])["watch"] == "w"
    finally:
        logging.captureWarnings(False)
        root.handlers[:], _ = before
        root.setLevel(before[1])
    with pytest.raises(ValueError, match="log format must be one of text, json"):
        configure_logging("xml")


def _run_once(tmp_path, config_extra: str, *flags: str) -> subprocess.CompletedProcess:
    csv = tmp_path / "m.csv"
    csv.write_text("timestamp,a,b\n" + "".join(f"{t},{t % 3},{t % 5}\n" for t in range(40)))
    config = tmp_path / "watch.yaml"
    config.write_text(f"""
interval: 1s
listen: off
storage: "{tmp_path / 'state.sqlite'}"
sources: {{lab: {{type: csv, path: "{csv}"}}}}
watches: [{{name: lab, detectors: [{{detector: threshold, params: {{window: 10,
           min_periods: 5}}}}]}}]
{config_extra}
""")
    return subprocess.run([sys.executable, "-m", "kizashi.cli.main", "watch", str(config),
                           "--once", *flags], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("config_extra, flags", [("", ("--log-format", "json")),
                                                 ("log_format: json", ())])
def test_kizashi_watch_logs_json_lines(tmp_path, config_extra, flags):
    done = _run_once(tmp_path, config_extra, *flags)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines
    bodies = [json.loads(line) for line in lines]        # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(b) for b in bodies)
    assert any(b["message"] == "watch lab: 2 new series (now 2)" and b["level"] == "INFO"
               and b["logger"] == "kizashi.watch" for b in bodies), bodies


@pytest.mark.slow
def test_the_flag_wins_over_the_config_and_text_stays_the_default(tmp_path):
    done = _run_once(tmp_path, "log_format: json", "--log-format", "text")
    assert done.returncode == 0, done.stderr
    assert " INFO kizashi.watch: watch lab: 2 new series (now 2)" in done.stderr
    assert not any(line.startswith("{") for line in done.stderr.splitlines())


def test_python_warnings_become_json_records_too():
    import warnings

    stream = io.StringIO()
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    try:
        configure_logging("json", stream=stream)
        warnings.warn("a deprecated knob", UserWarning, stacklevel=1)
        body = json.loads(stream.getvalue().splitlines()[-1])
        assert body["logger"] == "py.warnings" and body["level"] == "WARNING"
        assert "UserWarning: a deprecated knob" in body["message"]
    finally:
        logging.captureWarnings(False)
        root.handlers[:], _ = before
        root.setLevel(before[1])
