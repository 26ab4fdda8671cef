"""Who hears about a message: a pure decision over what the database and Redis say, so
the matrix (focused, muted, mentions only, blocked...) is tested in memory.

- A private conversation notifies its other member (level "all" unless they set it).
- A public room notifies the accounts it @mentions that have been in it (they have a
  setting row for it, made at their first join) unless they set "nothing", and those who
  set "all".
- Never: the author, someone muting the room now, someone who blocked the author,
  someone with a client focused on that room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

LEVELS = ("all", "mentions", "none")


@dataclass(frozen=True)
class Setting:
    level: str
    muted_until: datetime | None = None

    def muted(self, now: datetime) -> bool:
        return self.level == "none" or (self.muted_until is not None and self.muted_until > now)


def recipients(
    *,
    author_id: int | None,
    mentioned: frozenset[int],
    settings: dict[int, Setting],
    private_members: frozenset[int] | None,
    blocked_author: frozenset[int],
    focused: frozenset[int],
    now: datetime,
) -> dict[int, str]:
    """account id -> why ("private", "mention" or "message")."""
    chosen: dict[int, str] = {}
    if private_members is not None:
        for member in private_members:
            setting = settings.get(member, Setting("all"))
            if not setting.muted(now):
                chosen[member] = "private"
    else:
        for account_id, setting in settings.items():
            if setting.muted(now):
                continue
            if account_id in mentioned:
                chosen[account_id] = "mention"
            elif setting.level == "all":
                chosen[account_id] = "message"
    for excluded in (author_id, *blocked_author, *focused):
        chosen.pop(excluded, None)  # type: ignore[arg-type]
    return chosen
