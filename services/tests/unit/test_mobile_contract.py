"""The mobile app's copy of the validation and look-alike rules agrees with the server.

The app (TypeScript, mobile/) cannot import talkrooms.protocol, so its Jest tests read
mobile/test/fixtures/protocol-cases.json: inputs with the server's answers. This test
keeps that file honest: every answer in it must be what talkrooms.protocol says today.
After a change of the rules, rewrite it with
`.venv/bin/python services/tests/unit/test_mobile_contract.py` and run the app's tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from talkrooms import protocol
from talkrooms.protocol import ProtocolError

FIXTURE = Path(__file__).resolve().parents[3] / "mobile/test/fixtures/protocol-cases.json"

# Every character Python's str.strip() removes, the ones JavaScript's trim() treats
# differently (U+001C-U+001F, U+0085 kept by trim; U+FEFF removed by trim), and
# look-alike blanks that are not whitespace for either (U+200B, U+180E, U+2060).
BLANKS = [chr(c) for c in range(0x110000) if chr(c).isspace()] + ["\ufeff", "\u200b", "\u180e"]

USERNAMES = [
    "alice",
    "  Bob  ",
    "\x1cbob\x1f",
    "\x85bob\x85",
    "\ufeffbob",
    "bob\u200b",
    "\u3000Zoe\u0301\u2029",
    "x" * 32,
    "x" * 33,
    " " + "x" * 32 + "\u205f",
    "\U0001d400" * 32,
    "\U0001d400" * 33,
    "...",
    "-_ .",
    "a\u00a0b",
    "Jean-Luc Picard",
    "李雷",
    "Élodie",
    "😀 emoji",
    "tab\there",
    "",
    "\x1c\x1d\x1e\x1f",
]

ROOMS = [
    "general",
    "  Tech ",
    "\u2028random\u2029",
    "\x1cgeneral",
    "\ufeffgeneral",
    "\u212aitchen",
    "r" * 32,
    "r" * 33,
    "my room",
    "café",
    "",
    "\x85",
]

MESSAGES = [
    "  hi  ",
    "\x1c\x1d",
    "\x85",
    "\ufeff",
    "\u200b",
    "\u3000hello\u3000",
    "line one\nline two\n",
    "\x1fnot blank\x1e",
]

# Groups of names the server holds as one (or keeps apart): docs/protocol.md's examples
# and the corners of case folding, marks and scripts.
IDENTITY_NAMES = [
    "Alice",
    "ALICE",
    "Ａｌｉｃｅ",
    "\u0430lice",
    "a1ice",
    "alice",
    "Élodie",
    "Elodie",
    "E\u0301lodie",
    "b0b",
    "bob",
    "Вob",
    "rn",
    "m",
    "Jo  Ann",
    "Jo Ann",
    "straße",
    "STRASSE",
    "ẞ",
    "Zoë",
    "Zoe",
    "İlker",
    "Ilker",
    "ıan",
    "ian",
    "Ꭰ",
    "ꭰ",
    "οδος",
    "ΟΔΟΣ",
    "οδοσ",
    "कि",
    "क",
    "नमस्ते",
    "नमसत",
    "李雷",
    "李雪",
    "dave",
    "Dave",
    "ｄａｖｅ",
]


def _or_none(rule: Any, value: str) -> str | None:
    try:
        return str(rule(value))
    except ProtocolError:
        return None


def expected_cases() -> dict[str, Any]:
    """Inputs with the server's answers (None: refused)."""
    return {
        "_comment": "Generated from talkrooms.protocol by services/tests/unit/"
        "test_mobile_contract.py; do not edit by hand.",
        "message_max": 2000,
        "strip": [[f"{c}x{c}y{c}", f"{c}x{c}y{c}".strip()] for c in BLANKS],
        "username": [[name, _or_none(protocol.validate_username, name)] for name in USERNAMES],
        "room": [[room, _or_none(protocol.validate_room, room)] for room in ROOMS],
        "message": [
            [text, _or_none(lambda v: protocol.validate_message_text(v, 2000), text)]
            for text in MESSAGES
        ],
        "identity": [[name, protocol.username_identity(name)] for name in IDENTITY_NAMES],
    }


def render() -> str:
    """The fixture as JSON with one case per line (readable diffs)."""
    lines = []
    for key, value in expected_cases().items():
        if isinstance(value, list):
            cases = ",\n".join(f"    {json.dumps(case)}" for case in value)
            lines.append(f"  {json.dumps(key)}: [\n{cases}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def test_the_apps_fixture_holds_the_servers_answers() -> None:
    assert FIXTURE.exists(), f"{FIXTURE} is missing: run this file with python to write it"
    assert json.loads(FIXTURE.read_text()) == expected_cases(), (
        "mobile/test/fixtures/protocol-cases.json is out of date: "
        "run `.venv/bin/python services/tests/unit/test_mobile_contract.py`"
    )


if __name__ == "__main__":
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(render())
    sys.stdout.write(f"wrote {FIXTURE}\n")
