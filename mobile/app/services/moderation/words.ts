/** The words of moderation: notices in the timeline, the sanctioned person's notice, roles. */
import { ApiError, mayPost } from '@talkrooms/client';

import { format, getLanguage, plural, strings } from '../../i18n';
import { formatTime } from '../../components/formatTime';
import { accountErrorText } from '../accounts/errors';
import type { Message } from '../socket/protocol';
import type { RoomRoles, RoomSettings, SanctionNotice } from './api';
import { sameName } from '../socket/names';

/** "until 14:05" / "until lifted" for a sanction's end (ISO time or null). */
export function untilText(until: string | null, now: Date = new Date()): string {
  const t = strings().moderation;
  if (!until) return t.forever;
  const end = new Date(until);
  if (Number.isNaN(end.getTime())) return t.forever;
  const sameDay = end.toDateString() === now.toDateString();
  const time = sameDay ? formatTime(until) : `${end.toLocaleDateString()} ${formatTime(until)}`;
  return format(t.until, { time });
}

/** A moderation event as one short line of the timeline (`self`: the sanctioned person's own). */
export function noticeText(notice: SanctionNotice, self = false): string {
  if (self) return sanctionedText(notice, `#${notice.room}`);
  const t = strings().moderation;
  const line = format(t.notice[notice.action], { name: notice.username, by: notice.by, until: untilText(notice.until) }).trim();
  return notice.reason ? `${line}. ${format(t.because, { reason: notice.reason })}` : line;
}

/** What the sanctioned person reads about their own sanction. */
export function sanctionedText(notice: SanctionNotice, roomName: string): string {
  const t = strings().moderation;
  const values = { room: roomName, by: notice.by, until: untilText(notice.until) };
  const words = {
    kick: t.youKicked,
    ban: t.youBanned,
    mute: t.youMuted,
    unmute: t.youUnmuted,
    unban: t.youUnbanned,
  }[notice.action];
  const line = format(words, values);
  return notice.reason ? `${line} ${format(t.because, { reason: notice.reason })}` : line;
}

/** A tombstone a moderator made (`removed: true`), not one its author deleted. */
export function isRemoved(message: Message | undefined): boolean {
  return (message as (Message & { removed?: unknown }) | undefined)?.removed === true;
}

/** The badge of a person in a room: owner, moderator, or none. */
export function roleBadge(roles: RoomRoles | null | undefined, username: string): string | null {
  if (!roles) return null;
  const t = strings().moderation;
  if (roles.owner && sameName(roles.owner.username, username)) return t.badgeOwner;
  if (roles.moderators.some((m) => sameName(m.username, username))) return t.badgeModerator;
  return null;
}

/** A refused moderation request: the server's words in English, a translation in French. */
export function moderationErrorText(error: unknown): string {
  const t = strings().moderation.errors;
  if (error instanceof ApiError && getLanguage() !== 'en' && error.code in t) return t[error.code as keyof typeof t];
  return accountErrorText(error);
}

/** A slow-mode value in words: "Off", "30 s", "5 min", "1 h". */
export function slowLabel(seconds: number): string {
  const t = strings().roomSettings;
  if (seconds === 0) return t.slowOff;
  if (seconds === 3600) return t.hour;
  if (seconds % 60 === 0) return plural(t.minutes, seconds / 60);
  return plural(t.seconds, seconds);
}

/**
 * What the room's settings mean for this person's writing, said above the composer before the
 * server refuses anything (staff are never held): who may write, or slow mode. Null: nothing.
 */
export function roomRulesText(settings: RoomSettings | null, who: { staff: boolean; account: boolean }): string | null {
  if (!settings || who.staff) return null;
  const t = strings().roomSettings;
  if (!mayPost(settings, who)) return settings.post === 'registered' ? t.notePostRegistered : t.notePostMembers;
  if (settings.slowMode > 0) return format(t.noteSlow, { time: slowLabel(settings.slowMode) });
  return null;
}
