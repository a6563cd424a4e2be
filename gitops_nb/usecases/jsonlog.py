"""JSON-lines logging for the headless job: one object per line, never Secret values."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "event", ...fields}``; fields come from ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}) or {})
        if record.exc_info and record.exc_info[1] is not None:
            doc["exception"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return json.dumps(doc, default=str, separators=(",", ":"))


def json_logger(name: str = "gitops_nb.job", stream: TextIO | None = None) -> logging.Logger:
    """A logger that writes JSON lines to ``stream`` (stdout by default), not propagated."""
    logger = logging.getLogger(name)
    logger.handlers.clear()
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, name, extra={"fields": fields})


def capture_stray_output(logger: logging.Logger) -> None:
    """Route Python warnings and other libraries' log records through ``logger``'s handlers.

    The job's output is JSON lines; a plain-text warning from a library (urllib3, the
    kubernetes client) would break a log pipeline that parses every line.
    """
    logging.captureWarnings(True)
    root = logging.getLogger()
    root.handlers[:] = list(logger.handlers)
    root.setLevel(logging.WARNING)
