"""The protocol's facts, read once from facts.json: the one machine-readable source.

The server takes its event names, limits, rules, error texts and colours from here; the
client core's copy and docs/protocol.md's tables are generated from the same file
(`make protocol`, talkrooms.protocol.generate).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FACTS_FILE = Path(__file__).with_name("facts.json")


def load() -> dict[str, Any]:
    """facts.json as a dict (its `$comment` dropped)."""
    with FACTS_FILE.open(encoding="utf-8") as file:
        facts: dict[str, Any] = json.load(file)
    facts.pop("$comment", None)
    return facts


FACTS = load()
EVENTS: dict[str, dict[str, str]] = FACTS["events"]
ERROR_CODES: dict[str, str] = FACTS["error_codes"]
LIMITS: dict[str, int] = FACTS["limits"]
USERNAME_RULE: dict[str, Any] = FACTS["username"]
PATTERNS: dict[str, str] = FACTS["patterns"]
ERRORS: dict[str, str] = FACTS["errors"]
AVATAR: dict[str, Any] = FACTS["avatar"]
TYPING: dict[str, int] = FACTS["typing"]
