"""Room channels' bookkeeping, with Redis's replies played by hand: which channel carries
what, subscriptions confirmed before a join goes on, a leave and a join crossing, and a
reconnect that happened while commands were on their way."""

from __future__ import annotations

import threading

import pytest

from talkrooms.realtime import room_channels
from talkrooms.realtime.room_channels import RoomChannels, chat_room_of


@pytest.mark.parametrize(
    ("socket_room", "room"),
    [
        ("room:lobby", "lobby"),
        ("log:tech-talk", "tech-talk"),
        ("staff:lobby", "lobby"),
        ("reader:lobby:u:12", "lobby"),
        ("reader:dm:abcdefghij0123456789:u:7", "dm:abcdefghij0123456789"),
        ("room:dm:abcdefghij0123456789", "dm:abcdefghij0123456789"),
        ("account:12", None),
        ("Xk3v9s0aa", None),
        ("room:", None),
    ],
)
def test_each_socket_room_belongs_to_its_chat_room(socket_room: str, room: str | None):
    assert chat_room_of(socket_room) == room


def test_channels_by_room_and_the_shared_one():
    channels = RoomChannels("talkrooms")
    assert channels.channel_for("lobby") == "talkrooms:room:{lobby}"
    assert channels.channel_for_socket_room("log:lobby") == "talkrooms:room:{lobby}"
    assert channels.channel_for_socket_room("account:3") == "talkrooms"
    assert channels.channel_for_socket_room("someSid") == "talkrooms"
    shared = RoomChannels("talkrooms", enabled=False)
    assert shared.channel_for("lobby") == "talkrooms"
    assert shared.channel_for_socket_room("room:lobby") == "talkrooms"
    assert shared.follow("lobby") is True and shared.wanted() == ["talkrooms"]


class RepliesByHand:
    """The listener's link as the bookkeeping sees it: records the commands sent on it;
    `answer()` plays Redis's confirmations in order. (The real subscription is tested
    against redis-server in tests/integration/test_room_fanout.py.)"""

    def __init__(self, channels: RoomChannels) -> None:
        self.channels = channels
        self.sent: list[tuple[bytes, str]] = []
        self.answered = 0
        self._changed = threading.Condition()

    def send(self, verb: bytes, names: list[bytes]) -> None:
        with self._changed:
            self.sent.extend((verb, name.decode()) for name in names)
            self._changed.notify_all()

    def answer(self) -> None:
        for verb, name in self.sent[self.answered :]:
            self.channels.confirmed(verb.lower(), name.encode())
        self.answered = len(self.sent)

    def wait_sent(self, count: int, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.sent) >= count, timeout):
                raise AssertionError(f"{self.sent} after waiting for {count} commands")


def _follow_in_thread(channels: RoomChannels, room: str) -> tuple[threading.Thread, list[bool]]:
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(channels.follow(room)))
    thread.start()
    return thread, result


def test_a_join_goes_on_only_once_redis_confirmed_the_subscription():
    channels = RoomChannels("tr")
    redis = RepliesByHand(channels)
    channels.attach(redis.send, channels.wanted())
    thread, result = _follow_in_thread(channels, "lobby")
    redis.wait_sent(1)
    assert redis.sent == [(b"SUBSCRIBE", "tr:room:{lobby}")]
    assert thread.is_alive()  # still waiting for Redis
    redis.answer()
    thread.join(2)
    assert result == [True] and channels.followed() == ["tr:room:{lobby}"]
    assert channels.follow("lobby") is True  # known: no second command
    assert len(redis.sent) == 1


def test_a_join_crossing_a_leave_subscribes_again_after_the_unsubscribe():
    channels = RoomChannels("tr")
    redis = RepliesByHand(channels)
    channels.attach(redis.send, channels.wanted())
    thread, _ = _follow_in_thread(channels, "lobby")
    redis.wait_sent(1)
    redis.answer()
    thread.join(2)
    channels.unfollow("lobby")
    thread, result = _follow_in_thread(channels, "lobby")  # before Redis answered
    redis.wait_sent(2)
    assert redis.sent[-1] == (b"UNSUBSCRIBE", "tr:room:{lobby}")
    redis.answer()  # the unsubscribe is done: now the join subscribes again
    redis.wait_sent(3)
    assert redis.sent[-1] == (b"SUBSCRIBE", "tr:room:{lobby}")
    redis.answer()
    thread.join(2)
    assert result == [True] and channels.followed() == ["tr:room:{lobby}"]


def test_a_reconnect_covers_what_was_wanted_and_sends_what_changed_meanwhile():
    channels = RoomChannels("tr")
    first = RepliesByHand(channels)
    channels.attach(first.send, channels.wanted())
    for count, room in enumerate(("a", "b"), start=1):
        thread, _ = _follow_in_thread(channels, room)
        first.wait_sent(count)
        first.answer()
        thread.join(2)
    channels.detach()  # the link dropped
    covered = channels.wanted()
    assert covered == ["tr", "tr:room:{a}", "tr:room:{b}"]
    # While the new link opens: b is left, c is joined.
    channels.unfollow("b")
    thread, result = _follow_in_thread(channels, "c")
    second = RepliesByHand(channels)
    channels.attach(second.send, covered)
    assert (b"UNSUBSCRIBE", "tr:room:{b}") in second.sent
    assert (b"SUBSCRIBE", "tr:room:{c}") in second.sent
    second.answer()
    thread.join(2)
    assert result == [True]
    assert sorted(channels.followed()) == ["tr:room:{a}", "tr:room:{c}"]


def test_an_unconfirmed_subscription_gives_up_without_hanging_the_join(monkeypatch):
    monkeypatch.setattr(room_channels, "CONFIRM_SECONDS", 0.05)
    channels = RoomChannels("tr")  # no link: Redis is away
    assert channels.follow("lobby") is False
    assert channels.wanted() == ["tr", "tr:room:{lobby}"]  # the next link subscribes it
