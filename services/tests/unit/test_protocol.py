"""The pure rules of docs/protocol.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talkrooms import protocol
from talkrooms.protocol import ProtocolError

PROTOCOL_DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def documented_colours() -> list[tuple[str, str]]:
    table = PROTOCOL_DOC.read_text().split("| username | colour |", 1)[1]
    return re.findall(r"^\| `([^`]+)` \| `(#[0-9A-F]{6})` \|$", table, flags=re.M)


def test_documented_colour_table_is_complete():
    rows = documented_colours()
    assert len(rows) >= 10
    assert {colour for _, colour in rows} == set(protocol.AVATAR_COLORS)


@pytest.mark.parametrize("username, colour", documented_colours())
def test_avatar_colour_matches_the_documented_table(username, colour):
    assert protocol.avatar_color(username) == colour


def test_documented_colours_are_the_code_colours():
    text = PROTOCOL_DOC.read_text()
    listed = re.search(r"COLORS = \[(.*?)\]", text).group(1)
    assert tuple(re.findall(r"#[0-9A-F]{6}", listed)) == protocol.AVATAR_COLORS


@pytest.mark.parametrize("name", ["alice", "Élodie", "李雷", "a", "x" * 32, "J. R. R-T_2"])
def test_valid_usernames(name):
    assert protocol.validate_username(f"  {name} ") == name


def test_usernames_are_nfc_normalised():
    assert protocol.validate_username("E\u0301lodie") == "Élodie"


@pytest.mark.parametrize(
    "name", ["", " ", "x" * 33, "a<b", "tab\tname", "...", "-_.", "😀", None, 7]
)
def test_invalid_usernames(name):
    with pytest.raises(ProtocolError) as error:
        protocol.validate_username(name)
    assert error.value.code == protocol.INVALID


@pytest.mark.parametrize(
    "a, b",
    [
        ("Alice", "alice"),
        ("ALICE", "ａｌｉｃｅ"),
        ("bob  smith", "Bob Smith"),
        ("Straße", "STRASSE"),
    ],
)
def test_identity_ignores_case_width_and_spacing(a, b):
    assert protocol.username_identity(a) == protocol.username_identity(b)


@pytest.mark.parametrize(
    "lookalike",
    [
        "\u0430lice",
        "alic\u0435",
        "\u0391LICE",
        "Álice",
        "A\u0301lice",
        "al1ce".replace("1", "i"),
        "ａｌｉｃｅ",
        "  alice  ",
    ],
)
def test_lookalike_names_share_an_identity(lookalike):
    assert protocol.username_identity(lookalike) == protocol.username_identity("alice")


@pytest.mark.parametrize(
    "a, b",
    [("b0b", "bob"), ("rnary", "mary"), ("paul1", "paull"), ("\u0412ob", "Bob"), ("Zoë", "zoe")],
)
def test_more_lookalikes(a, b):
    assert protocol.username_identity(a) == protocol.username_identity(b)


def test_different_names_have_different_identities():
    assert protocol.username_identity("alice") != protocol.username_identity("alicia")


@pytest.mark.parametrize(
    "room, expected",
    [("General", "general"), (" tech ", "tech"), ("a-b_c9", "a-b_c9"), ("r" * 32, "r" * 32)],
)
def test_valid_rooms(room, expected):
    assert protocol.validate_room(room) == expected


@pytest.mark.parametrize("room", ["", "a b", "r" * 33, "café", "a/b", "room|x", None, 3])
def test_invalid_rooms(room):
    with pytest.raises(ProtocolError, match="Room id"):
        protocol.validate_room(room)


def test_message_text_is_trimmed_and_bounded():
    assert protocol.validate_message_text("  hi \n", 2000) == "hi"
    assert protocol.validate_message_text("x" * 2000, 2000) == "x" * 2000
    for bad in ("", "   ", "x" * 2001, None, 12):
        with pytest.raises(ProtocolError, match="1-2000"):
            protocol.validate_message_text(bad, 2000)


def test_message_ids_sort_as_text_and_number():
    ids = [protocol.format_message_id(n) for n in (1, 9, 10, 99, 100, 12345)]
    assert ids == sorted(ids)
    assert [protocol.parse_message_id(i, "id") for i in ids] == [1, 9, 10, 99, 100, 12345]
    assert protocol.parse_message_id(42, "id") == 42
    for bad in ("x", "-1", True, 1.5, "1" * 13):
        with pytest.raises(ProtocolError):
            protocol.parse_message_id(bad, "since_id")


def test_history_query_defaults():
    query = protocol.validate_history_query({"room": "General"}, 100)
    assert (query.room, query.before, query.since, query.limit) == ("general", None, None, 50)
    since = protocol.validate_history_query({"room": "g", "since_id": "7"}, 100)
    assert since.since == 7 and since.limit == 100


def test_room_users_are_sorted_with_colours():
    payload = protocol.room_users_payload(
        "r", [protocol.PresentUser("bob"), protocol.PresentUser("alice")]
    )
    assert payload == {
        "room": "r",
        "count": 2,
        "users": [
            {"username": "alice", "color": "#FD9644"},
            {"username": "bob", "color": "#F7B731"},
        ],
    }


def test_an_account_in_room_users_shows_its_display_name_and_colour():
    payload = protocol.room_users_payload(
        "r",
        [
            protocol.PresentUser("carol", "Carol C.", "#4ECDC4", account=True),
            protocol.PresentUser("Bob"),
        ],
    )
    assert payload["users"] == [
        {"username": "Bob", "color": protocol.avatar_color("Bob")},
        {"username": "carol", "color": "#4ECDC4", "display_name": "Carol C.", "account": True},
    ]
