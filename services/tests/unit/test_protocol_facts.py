"""One source of protocol facts: facts.json drives the server, the client core's copy and
docs/protocol.md; the generated copies are fresh and say what the server does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata

import pytest

from talkrooms import protocol
from talkrooms.protocol import generate
from talkrooms.protocol.facts import load

USERNAMES = [
    "alice",
    "Élodie",
    "李雷",
    "J. R. R-T_2",
    "x" * 32,
    "x" * 33,
    "",
    "  ",
    "a<b",
    "tab\tname",
    "...",
    "😀",
    "o\u0308",
    "\u00a0bob\u3000",
    "e\u0301",
    "-_.",
]
ROOMS = ["general", "Tech", " a-b_c ", "a b", "x" * 32, "x" * 33, "", "été", "\u2028room"]


def test_generated_files_are_fresh():
    assert generate.stale() == [], "run `make protocol`"


def test_the_server_takes_its_facts_from_the_source():
    facts = load()
    assert tuple(facts["avatar"]["colors"]) == protocol.AVATAR_COLORS
    assert facts["limits"]["username_max"] == protocol.USERNAME_MAX
    assert facts["events"]["client"]["SEND_MESSAGE"] == protocol.SEND_MESSAGE
    assert facts["errors"]["username"] == protocol.USERNAME_ERROR


def test_the_whitespace_ranges_are_pythons():
    ranges = generate.python_whitespace_ranges()
    spaces = {chr(c) for start, end in ranges for c in range(start, end + 1)}
    assert "\u0085" in spaces and "\ufeff" not in spaces
    assert all(c.isspace() for c in spaces)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_generated_javascript_rules_agree_with_the_server():
    source = generate.TYPESCRIPT_FILE.read_text()
    username = re.search(r"^  username: (/.*/u),$", source, flags=re.M).group(1)
    needs = re.search(r"^  usernameNeeds: (/.*/u),$", source, flags=re.M).group(1)
    room = re.search(r"^  room: (/.*/),$", source, flags=re.M).group(1)
    space = re.search(r"^export const PY_WHITESPACE = (\".*\");$", source, flags=re.M).group(1)
    script = f"""
    const strip = (t) => t.replace(new RegExp(`^[${{{space}}}]+|[${{{space}}}]+$`, 'gu'), '');
    const input = {json.dumps({"usernames": USERNAMES, "rooms": ROOMS})};
    const names = input.usernames.map((n) => {{
      const v = strip(n).normalize('NFC');
      return {username}.test(v) && {needs}.test(v) ? v : null;
    }});
    const rooms = input.rooms.map((r) => {{
      const v = strip(r).toLowerCase();
      return {room}.test(v) ? v : null;
    }});
    console.log(JSON.stringify({{ names, rooms }}));
    """
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    answers = json.loads(result.stdout)

    def server(rule, value):
        try:
            return rule(value)
        except protocol.ProtocolError:
            return None

    assert answers["names"] == [server(protocol.validate_username, n) for n in USERNAMES]
    assert answers["rooms"] == [server(protocol.validate_room, r) for r in ROOMS]
    assert unicodedata.normalize("NFC", "e\u0301") in answers["names"]
