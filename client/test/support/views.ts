import type { ChatSession, Message } from '../../src/index.js';
import { formatId } from '../../src/index.js';

/** What any reader sees of a message: text, deletion, edit and reactions (no local fields, no `me`). */
export function readerView(m: Partial<Message>) {
  return {
    id: m.id,
    text: m.message,
    deleted: Boolean(m.deleted),
    edited: m.edited_at ?? null,
    reactions: (m.reactions ?? []).map((r) => `${r.emoji}${r.count}:${[...r.users].sort().join('+')}`).sort(),
  };
}

/** A room's messages as a reader sees them. */
export function roomView(session: ChatSession, room: string) {
  return session.roomState(room)!.timeline.messages().map(readerView);
}

/** A stored message of room 'r' by bob ("m<n>"), for the timeline and log tests. */
export const msg = (n: number, extra: Record<string, unknown> = {}) => ({
  id: formatId(n),
  username: 'bob',
  message: `m${n}`,
  timestamp: '2026-11-25T14:03:07.412Z',
  room: 'r',
  type: 'message',
  ...extra,
});
