"""Who is notified of a message, in memory: the whole matrix (private or room, mentioned
or not, each level, muted, blocked, focused, the author)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from talkrooms.notify.decide import Setting, recipients
from talkrooms.notify.vapid import public_key
from talkrooms.settings import Settings

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def decide(**overrides: object) -> dict[int, str]:
    facts: dict[str, object] = {
        "author_id": 1,
        "mentioned": frozenset(),
        "settings": {},
        "private_members": None,
        "blocked_author": frozenset(),
        "focused": frozenset(),
        "now": NOW,
    }
    facts.update(overrides)
    return recipients(**facts)  # type: ignore[arg-type]


def test_a_private_conversation_notifies_the_other_member_only():
    assert decide(private_members=frozenset({1, 2})) == {2: "private"}


def test_private_settings_mute_and_nothing():
    members = frozenset({1, 2})
    assert decide(private_members=members, settings={2: Setting("all", LATER)}) == {}
    assert decide(private_members=members, settings={2: Setting("none")}) == {}
    assert decide(private_members=members, settings={2: Setting("all", NOW - timedelta(1))}) == {
        2: "private"
    }


def test_rooms_notify_mentions_and_all():
    settings = {
        2: Setting("mentions"),
        3: Setting("mentions"),
        4: Setting("all"),
        5: Setting("none"),
        6: Setting("mentions", LATER),
    }
    chosen = decide(settings=settings, mentioned=frozenset({2, 5, 6, 7}))
    # 3 was not named, 5 wants nothing, 6 muted, 7 never joined the room.
    assert chosen == {2: "mention", 4: "message"}


def test_never_the_author_the_blockers_or_whoever_looks():
    settings = {1: Setting("all"), 2: Setting("all"), 3: Setting("all"), 4: Setting("all")}
    chosen = decide(settings=settings, blocked_author=frozenset({2}), focused=frozenset({3}))
    assert chosen == {4: "message"}
    assert decide(private_members=frozenset({1, 2}), focused=frozenset({2})) == {}


def test_the_vapid_key_is_derived_from_the_secret_unless_given():
    one = Settings(_env_file=None, flask_secret_key="a" * 40)  # type: ignore[call-arg]
    same = Settings(_env_file=None, flask_secret_key="a" * 40)  # type: ignore[call-arg]
    other = Settings(_env_file=None, flask_secret_key="b" * 40)  # type: ignore[call-arg]
    assert public_key(one) == public_key(same) != public_key(other)
    assert len(public_key(one)) == 87  # 65 bytes, base64url without padding
