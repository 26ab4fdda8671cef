"""Protocol 2's pure rules: log positions, emoji, mentions, the opt-in."""

from __future__ import annotations

import pytest

from talkrooms.protocol import (
    LogPosition,
    ProtocolError,
    excerpt,
    format_log_position,
    mention_candidates,
    parse_log_position,
    requested_protocol,
    validate_emoji,
)


def test_log_positions_sort_as_text_in_log_order():
    order = [
        format_log_position(41, 7),
        format_log_position(42),
        format_log_position(42, 8),
        format_log_position(42, 9),
        format_log_position(43),
    ]
    assert order == sorted(order)
    assert [parse_log_position(p, "since_id") for p in order] == sorted(
        [
            LogPosition(41, 7),
            LogPosition(42),
            LogPosition(42, 8),
            LogPosition(42, 9),
            LogPosition(43),
        ]
    )
    assert parse_log_position(None, "since_id") is None
    assert parse_log_position(42, "since_id") == LogPosition(42)


@pytest.mark.parametrize("bad", ["42.1", "000000000042.", ".000000000001", "x" * 25, 1.5, [], True])
def test_malformed_positions_are_refused(bad):
    with pytest.raises(ProtocolError):
        parse_log_position(bad, "since_id")


@pytest.mark.parametrize("good", ["👍", "❤️", "❤", "👍🏽", "🇫🇷", "👨\u200d👩\u200d👧", "#️⃣", " 🎉 "])
def test_one_emoji_of_any_kind_is_accepted(good):
    assert validate_emoji(good) == good.strip()


@pytest.mark.parametrize("bad", ["", "a", ":)", "👍👍", "1", "<b>", "👍 ok", None, 3, ["👍"]])
def test_anything_but_one_emoji_is_refused(bad):
    with pytest.raises(ProtocolError):
        validate_emoji(bad)


def test_mentions_are_names_after_an_at_sign():
    assert mention_candidates("no mention here") == []
    assert mention_candidates("@alice hi @Bob, @ALICE and mail me@example.com") == [
        ("alice", "alice"),
        ("bob", "Bob"),
    ]
    # Trailing punctuation is not part of the name; accents fold like presence names.
    assert mention_candidates("thanks @Élodie. @jean-luc!") == [
        ("elodie", "Élodie"),
        ("jean-luc", "jean-luc"),
    ]
    assert mention_candidates("@ alone @") == []
    many = " ".join(f"@user{i}" for i in range(40))
    assert len(mention_candidates(many)) == 20


def test_the_opt_in_is_protocol_2_only():
    assert requested_protocol({"protocol": 2}) == 2
    for other in (None, {}, {"protocol": "2"}, {"protocol": 3}, {"protocol": 1}, "2", [2]):
        assert requested_protocol(other) == 1


def test_excerpts_are_at_most_100_characters():
    assert excerpt("short") == "short"
    cut = excerpt("é" * 300)
    assert len(cut) == 100 and cut.endswith("…")
