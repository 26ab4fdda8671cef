"""Automatic moderation: the first line against floods, insults, spam links and mass
mentions, checked on every message before it is stored (docs/moderation.md).

Four rules, each with an action per room (instance defaults from AUTOMOD_RULES):
- words: a banned word (better-profanity's list less everyday words, the instance's
  extra words, the room's own words), found the way wordfilter.py reads text;
- flood: the same text again and again, or more messages in a short time than a person
  types (well below the rate limit's burst, over a longer window);
- links: a link from someone who joined the room a moment ago;
- mentions: a message naming many people.
An action is `refuse` (the author is told why), `hold` (kept for a moderator's review,
shown to nobody meanwhile; in a room without an owner there is nobody to review, so it
refuses), `mute` (the author is muted for AUTOMOD_MUTE_MINUTES) or `off`.

Cost: everything here runs in the message's receive step, in memory, with no Redis or
database call; a verdict's consequence (audit row, held item, mute) runs afterwards on its
own greenlet. The check keeps its state on the connection's membership (flood counters,
the policy) and in one bounded dict per worker (when a person was first seen in a room),
so a person spreading a flood over connections on several workers is counted per worker;
nginx keeps one address on one worker.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from talkrooms.chat.message_path import Verdict
from talkrooms.moderation.first_seen import FirstSeen
from talkrooms.moderation.wordfilter import WordFilter, everyday_words, maintained_words
from talkrooms.protocol import (
    AUTOMOD_ACTIONS,
    AUTOMOD_RULES,
    ROOM_WORD_MAX_LENGTH,
    ROOM_WORDS_MAX,
)
from talkrooms.realtime.connections import Membership
from talkrooms.settings import Settings

# A link: a scheme, www., or a name under a common top-level domain, also written out
# ("example dot com") or bracketed ("example[.]com").
_LINK = re.compile(
    r"(?:https?://|www\.)\S"
    r"|\b[a-z0-9-]{2,}\s*(?:\.|\[\.\]|\(\.\)|\s(?:dot|\[dot\]|\(dot\))\s)\s*"
    r"(?:com|net|org|io|ru|cn|xyz|info|biz|top|ly|me|co|gg|app|site|online|link|click|shop"
    r"|live|store|tk|ml|ga|cf|gq|pw|cc|su|win|bid|loan|vip|club)\b",
    re.IGNORECASE,
)

REASONS = {
    "words": "Your message contains a word this room does not accept ({detail})",
    "flood": "Slow down: {detail}",
    "links": "Links from people who just joined wait a moment: {detail}",
    "mentions": "Too many people mentioned at once ({detail})",
}


@dataclass(frozen=True)
class RoomPolicy:
    """A room's automatic moderation: the action of each rule and its own words."""

    actions: dict[str, str]
    words: WordFilter | None
    can_hold: bool


class FloodState:
    """One person's recent messages in one room, on one connection."""

    __slots__ = ("last_text", "recent", "repeats")

    def __init__(self) -> None:
        self.recent: deque[float] = deque()
        self.last_text = ""
        self.repeats = 0


def parse_actions(value: str) -> dict[str, str]:
    """'words=refuse,links=hold' -> {rule: action} (AUTOMOD_RULES, a room's rules)."""
    actions: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        rule, _, action = item.partition("=")
        rule, action = rule.strip(), action.strip()
        if rule not in AUTOMOD_RULES or action not in AUTOMOD_ACTIONS:
            raise ValueError(f"{item.strip()!r}: use {AUTOMOD_RULES}=one of {AUTOMOD_ACTIONS}")
        actions[rule] = action
    return actions


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


class AutoModerator:
    """The instance's word list and defaults, each room's policy, and the check itself."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.automod
        self.defaults = {rule: "off" for rule in AUTOMOD_RULES}
        self.defaults.update(parse_actions(settings.automod_rules))
        source = settings.automod_word_list
        listed = maintained_words() if source == "better-profanity" else []
        self.words = WordFilter(
            listed + _words(settings.automod_extra_words),
            everyday_words() + _words(settings.automod_allowed_words),
        )
        self.repeats = settings.automod_flood_repeats
        self.burst = settings.automod_flood_rate
        self.newcomer_seconds = settings.automod_newcomer_seconds
        self.mentions_max = settings.automod_mentions_max
        self.mute_minutes = settings.automod_mute_minutes
        self._policies: dict[str, tuple[str, RoomPolicy]] = {}
        self.first_seen = FirstSeen()
        self._default_policy = RoomPolicy(dict(self.defaults), None, False)
        self._owned_default = RoomPolicy(dict(self.defaults), None, True)

    # -- policies ---------------------------------------------------------------------------

    def policy(
        self, room: str, rules: dict[str, str], owned: bool, staff: bool
    ) -> RoomPolicy | None:
        """The policy a membership carries (None: nothing to check, e.g. for staff).
        `owned`: the room has an owner, so someone can review what is held."""
        if not self.enabled or staff:
            return None
        raw = rules.get("automod", "")
        if not raw:
            return self._owned_default if owned else self._default_policy
        cached = self._policies.get(room)
        if cached is not None and cached[0] == raw:
            return cached[1]
        config = json.loads(raw)
        actions = dict(self.defaults)
        actions.update(config.get("rules", {}))
        own = config.get("words") or []
        policy = RoomPolicy(actions, WordFilter(own) if own else None, True)
        self._policies[room] = (raw, policy)
        return policy

    def joined(self, room: str, author: str) -> float:
        """When this person was first seen in the room on this worker (a reconnect keeps
        it), for the links rule; `left` ends what this call began."""
        return self.first_seen.joined((room, author))

    def left(self, room: str, author: str) -> None:
        self.first_seen.left((room, author))

    # -- the check --------------------------------------------------------------------------

    def check(self, membership: Membership, text: str, mentions: int) -> Verdict | None:
        """The first rule a message breaks, with its action; None lets it through."""
        policy: RoomPolicy | None = membership.automod  # type: ignore[assignment]
        if policy is None:
            return None
        actions = policy.actions
        if mentions >= self.mentions_max and actions["mentions"] != "off":
            detail = f"{mentions} names, at most {self.mentions_max - 1}"
            return self._verdict(policy, "mentions", detail)
        if actions["flood"] != "off":
            flooding = self._flood(membership, text)
            if flooding is not None:
                return self._verdict(policy, "flood", flooding)
        if (
            actions["links"] != "off"
            and time.monotonic() - membership.first_seen < self.newcomer_seconds
            and _LINK.search(text) is not None
        ):
            detail = f"post links after {self.newcomer_seconds} s in the room"
            return self._verdict(policy, "links", detail)
        if actions["words"] != "off" and text:
            word = self.words.find(text)
            if word is None and policy.words is not None:
                word = policy.words.find(text)
            if word is not None:
                return self._verdict(policy, "words", word)
        return None

    def _flood(self, membership: Membership, text: str) -> str | None:
        state: FloodState | None = membership.flood  # type: ignore[assignment]
        if state is None:
            state = membership.flood = FloodState()
        now = time.monotonic()
        recent = state.recent
        window = self.burst.window
        while recent and now - recent[0] > window:
            recent.popleft()
        same = " ".join(text.casefold().split())
        if same and same == state.last_text and recent:
            state.repeats += 1
        else:
            state.last_text, state.repeats = same, 1
        recent.append(now)
        if state.repeats >= self.repeats:
            return f"the same message {state.repeats} times"
        if self.burst.enabled and len(recent) > self.burst.count:
            return f"more than {self.burst.count} messages in {window:g} s"
        return None

    @staticmethod
    def _verdict(policy: RoomPolicy, rule: str, detail: str) -> Verdict | None:
        action = policy.actions[rule]
        if action == "hold" and not policy.can_hold:
            action = "refuse"  # nobody could ever review it
        return Verdict(rule, action, REASONS[rule].format(detail=detail))


def room_automod(value: Any) -> dict[str, Any]:
    """A room's `automod` settings from a request: {rules: {rule: action}, words: [...]},
    or ValueError saying what is wrong."""
    if not isinstance(value, dict) or set(value) - {"rules", "words"}:
        raise ValueError("automod is {rules: {rule: action}, words: [text]}")
    config: dict[str, Any] = {}
    if "rules" in value:
        rules = value["rules"]
        if not isinstance(rules, dict) or any(
            r not in AUTOMOD_RULES or a not in AUTOMOD_ACTIONS for r, a in rules.items()
        ):
            raise ValueError(f"automod.rules maps {AUTOMOD_RULES} to one of {AUTOMOD_ACTIONS}")
        config["rules"] = dict(rules)
    if "words" in value:
        words = value["words"]
        if (
            not isinstance(words, list)
            or len(words) > ROOM_WORDS_MAX
            or not all(
                isinstance(w, str) and 0 < len(w.strip()) <= ROOM_WORD_MAX_LENGTH for w in words
            )
        ):
            raise ValueError(
                f"automod.words is a list of at most {ROOM_WORDS_MAX} words "
                f"of 1-{ROOM_WORD_MAX_LENGTH} characters"
            )
        config["words"] = sorted({" ".join(w.split()) for w in words})
    return config
