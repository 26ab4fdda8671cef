"""First-seen times for the links rule: kept while a person is in a room and for a grace
after they left, then forgotten (memory stays flat while visitors come and go)."""

from __future__ import annotations

import pytest

from talkrooms.moderation import first_seen as module
from talkrooms.moderation.first_seen import FirstSeen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(module.time, "monotonic", clock)
    return clock


def test_a_second_connection_and_a_reconnect_keep_the_first_time(clock: Clock):
    seen = FirstSeen(grace=300)
    first = seen.joined(("lobby", "ann"))
    clock.now += 100
    assert seen.joined(("lobby", "ann")) == first  # a second tab
    seen.left(("lobby", "ann"))
    clock.now += 100
    seen.left(("lobby", "ann"))  # the last connection goes
    clock.now += 299
    assert seen.joined(("lobby", "ann")) == first  # back within the grace


def test_after_the_grace_a_person_is_new_again(clock: Clock):
    seen = FirstSeen(grace=300)
    first = seen.joined(("lobby", "ann"))
    seen.left(("lobby", "ann"))
    clock.now += 301
    assert seen.joined(("lobby", "ann")) == clock.now != first


def test_someone_still_in_the_room_is_never_forgotten(clock: Clock):
    seen = FirstSeen(grace=300)
    first = seen.joined(("lobby", "ann"))
    for n in range(50):  # visitors come and go around her for hours
        seen.joined(("lobby", f"v{n}"))
        seen.left(("lobby", f"v{n}"))
        clock.now += 600
    assert seen.joined(("lobby", "ann")) == first


def test_rooms_are_apart(clock: Clock):
    seen = FirstSeen()
    first = seen.joined(("lobby", "ann"))
    clock.now += 10
    assert seen.joined(("games", "ann")) == first + 10


def test_visitors_who_left_are_forgotten_after_the_grace(clock: Clock):
    seen = FirstSeen(grace=300)
    for n in range(10_000):
        clock.now += 1  # a visit a second
        seen.joined(("lobby", f"v{n}"))
        seen.left(("lobby", f"v{n}"))
    assert len(seen) == 300  # those of the last 300 s


def test_a_join_flood_is_bounded(clock: Clock):
    seen = FirstSeen(grace=300, left_max=100)
    for n in range(1000):
        seen.joined(("lobby", f"v{n}"))
        seen.left(("lobby", f"v{n}"))
    assert len(seen) == 100


def test_a_leave_without_a_join_changes_nothing(clock: Clock):
    seen = FirstSeen()
    seen.left(("lobby", "ann"))
    assert len(seen) == 0
