"""The daemon's log lines: readable text, or one JSON object per line for a log pipeline.

``kizashi watch --log-format json`` (or ``log_format: json`` in the config)
writes every record as one line of JSON — ``time`` (RFC 3339, UTC, ms),
``level``, ``logger``, ``message`` (the formatted text), any ``extra=`` fields
of the call, and ``exception`` (the traceback text) when there is one — so
Loki, Elasticsearch or journald's JSON parsers take it as it is.

Examples
--------
>>> import logging
>>> record = logging.LogRecord("kizashi.watch", logging.WARNING, "x.py", 1,
...                            "alert %d firing", (7,), None)
>>> record.created, record.watch = 1700000000.25, "cpu"
>>> JsonFormatter().format(record)
'{"time": "2023-11-14T22:13:20.250Z", "level": "WARNING", "logger": "kizashi.watch", \
"message": "alert 7 firing", "watch": "cpu"}'
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging"]

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: attributes every LogRecord has: anything else came from ``extra=``
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, extra fields, exception.

    >>> import json, logging
    >>> record = logging.makeLogRecord({"msg": "tick took %.1f s", "args": (0.25,),
    ...                                 "levelname": "INFO", "name": "kizashi.watch"})
    >>> json.loads(JsonFormatter().format(record))["message"]
    'tick took 0.2 s'
    """

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=repr)


def configure_logging(log_format: str = "text", verbose: bool = False,
                      stream: Any = None) -> None:
    """Route the root logger to ``stream`` (stderr) in ``log_format``, replacing its handlers.

    Python warnings are routed through it too; the web server's loggers
    propagate to it (``kizashi watch`` starts uvicorn without its own log config).
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, "
                         f"got {log_format!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler],
                        force=True)
    logging.captureWarnings(True)  # Python warnings become records in the same format
