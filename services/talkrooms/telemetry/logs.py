"""Structured logs: one JSON object per line on stderr.

`log.info("event", extra={...})` becomes {"ts":…,"level":"INFO","logger":…,"msg":"event",…}.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)


class JsonLineFormatter(logging.Formatter):
    """Every record as one JSON line, extras included; never raises on odd values."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """Replace the root handlers with one JSON-line handler at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The libraries' own per-packet INFO lines would drown ours; keep their warnings.
    for noisy in ("socketio", "engineio", "geventwebsocket", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
