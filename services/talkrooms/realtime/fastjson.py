"""orjson behind the `json` module interface python-socketio expects.

Encoding and decoding every packet with orjson instead of the standard library was worth
about a fifth of the throughput on the plain stack (shared/NOTES.md).
"""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(obj: Any, **_options: Any) -> str:
    """Compact JSON text; the stdlib's keyword options (separators, ...) are ignored."""
    return orjson.dumps(obj).decode()


def loads(text: str | bytes, **_options: Any) -> Any:
    return orjson.loads(text)
