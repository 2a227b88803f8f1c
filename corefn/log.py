"""Structured logs: JSON lines on the clouds (CloudWatch, App Insights and Cloud Logging index
them), short readable lines locally. Every line a handler logs carries the invocation id and the
event id, so one failing record can be found among thousands.

The format is chosen once per process: JSON unless ``COREFN_LOG_FORMAT=text`` or the cloud is
``local``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corefn.context import Context

LOGGER_NAME = "corefn"
_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("invocation_id", "event_id", "function", "cloud"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{k}={v}" for k in ("function", "event_id") if (v := getattr(record, k, None)) is not None
        )
        line = f"{record.levelname[0]} {record.name}: {record.getMessage()}" + (f" [{ids}]" if ids else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(cloud: str) -> None:
    """Install corefn's formatter on the ``corefn`` logger once; leaves the root logger alone
    so a user's own logging setup wins."""
    global _configured
    if _configured:
        return
    _configured = True
    logger = logging.getLogger(LOGGER_NAME)
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    fmt = os.environ.get("COREFN_LOG_FORMAT") or ("text" if cloud == "local" else "json")
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("COREFN_LOG_LEVEL", "INFO").upper())
    logger.propagate = False


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def handler_logger(ctx: Context) -> logging.LoggerAdapter[logging.Logger]:
    configure(ctx.cloud)
    name = f"{LOGGER_NAME}.handler.{ctx.function}" if ctx.function else f"{LOGGER_NAME}.handler"
    extra = {"invocation_id": ctx.invocation_id, "event_id": ctx.event_id, "function": ctx.function, "cloud": ctx.cloud}
    return logging.LoggerAdapter(logging.getLogger(name), extra)
