"""The profile rules (accounts/profiles.py): display names follow the username rules, a
bio is short trimmed plain text, a colour is one of the protocol's avatar colours."""

from __future__ import annotations

import pytest

from talkrooms.accounts.profiles import (
    BIO_MAX,
    validate_bio,
    validate_color,
    validate_display_name,
)
from talkrooms.accounts.service import AccountError
from talkrooms.protocol import AVATAR_COLORS


def refused(call, value) -> str:
    with pytest.raises(AccountError) as caught:
        call(value)
    assert caught.value.status == 400
    return caught.value.code


def test_a_display_name_is_trimmed_and_follows_the_username_rules():
    assert validate_display_name("  Alice Liddell ") == "Alice Liddell"
    assert validate_display_name("a" * 32) == "a" * 32
    for bad in ("", "   ", "a" * 33, "<b>", "...", 5, None):
        assert refused(validate_display_name, bad) == "invalid_display_name"


def test_a_bio_is_trimmed_plain_text_of_at_most_280_characters():
    assert validate_bio("  Hello\r\nthere  ") == "Hello\nthere"
    assert validate_bio("") == ""
    assert validate_bio("é" * BIO_MAX) == "é" * BIO_MAX
    assert refused(validate_bio, "x" * (BIO_MAX + 1)) == "invalid_bio"
    assert refused(validate_bio, "bell\x07") == "invalid_bio"
    assert refused(validate_bio, "right-to-left \u202e override") == "invalid_bio"
    assert refused(validate_bio, ["a list"]) == "invalid_bio"


def test_a_colour_is_one_of_the_protocol_colours_in_any_case():
    for color in AVATAR_COLORS:
        assert validate_color(color.lower()) == color
    for bad in ("#000000", "red", "", 7):
        assert refused(validate_color, bad) == "invalid_color"
