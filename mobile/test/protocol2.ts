/**
 * The server side of protocol 2 (docs/protocol.md) as the app's tests play it on the fake
 * socket: room_joined with read markers and counts, acks of joins and mark_read, and the
 * room events (edit, delete, reaction) with their log positions.
 */
import type { Message, RoomEvent } from '@talkrooms/client';

import { makeMessage, ok, type Emitted, type FakeSocket } from './FakeSocket';

const pad = (n: number) => String(n).padStart(12, '0');

/** A stored message of `room`. */
export function roomMessage(room: string, n: number, username: string, text: string, extra: Partial<Message> = {}): Message {
  return makeMessage(n, username, text, { room, ...extra });
}

/** Messages `from`..`to` of `room`, by `username`, with texts "m<n>". */
export function roomMessages(room: string, from: number, to: number, username = 'bob'): Message[] {
  const out: Message[] = [];
  for (let n = from; n <= to; n += 1) out.push(roomMessage(room, n, username, `m${n}`));
  return out;
}

/** What the server knows of one room for the person joining it. */
export interface RoomOnServer {
  messages?: Message[];
  /** Our read marker (message number); 0: never read. */
  read?: number;
  unread?: number;
  mentions?: number;
  /** The room's event counter now (log_id's N). */
  events?: number;
  username?: string;
  users?: string[];
  /** The room's settings view (room_joined's `settings`, snake_case as the server sends it). */
  settings?: Record<string, unknown>;
}

const answered = new WeakSet<Emitted>();

/** Answer the (first unanswered) join of `room`: room_joined, its ack, then room_users. */
export function answerJoin(socket: FakeSocket, room: string, state: RoomOnServer = {}): void {
  const join = socket.sent('join_room').find((e) => e.payload.room === room && !answered.has(e));
  if (!join) throw new Error(`no join_room for ${room}`);
  answered.add(join);
  const messages = state.messages ?? [];
  const newest = messages.length ? Number(messages[messages.length - 1].id) : 0;
  const username = state.username ?? join.payload.username;
  socket.fire('room_joined', {
    room,
    username,
    messages,
    log_id: state.events ? `${pad(newest)}.${pad(state.events)}` : pad(newest),
    read_id: pad(state.read ?? 0),
    unread: state.unread ?? 0,
    mentions: state.mentions ?? 0,
    ...(state.settings ? { settings: state.settings } : {}),
  });
  join.ack!(ok({ room, username }));
  const users = state.users ?? [username];
  socket.fire('room_users', { room, count: users.length, users: users.map((u) => ({ username: u, color: '#FF6B6B' })) });
}

/** The server acknowledges every mark_read at once (the marker moves forward only). */
export function ackMarkRead(socket: FakeSocket): void {
  const previous = socket.respond;
  socket.respond = (emitted) => {
    if (emitted.event === 'mark_read') emitted.ack?.(ok({ room: emitted.payload.room, read_id: emitted.payload.id }));
    previous?.(emitted);
  };
}

/** A reaction event at log position <newest>.<counter>. */
export function reactionEvent(
  message: Message,
  counter: number,
  emoji: string,
  username: string,
  { added = true, count = 1, newest = Number(message.id) } = {},
): RoomEvent {
  return {
    id: `${pad(newest)}.${pad(counter)}`,
    room: message.room,
    type: 'reaction',
    message_id: message.id,
    emoji,
    username,
    added,
    count,
  };
}

/** An edit event: the message's whole state after it. */
export function editEvent(message: Message, counter: number, text: string, newest = Number(message.id)): RoomEvent {
  const edited: Message = { ...message, message: text, edited_at: `2026-11-25T15:00:${String(counter % 60).padStart(2, '0')}.000Z` };
  return { id: `${pad(newest)}.${pad(counter)}`, room: message.room, type: 'edit', message_id: message.id, message: edited };
}

/** A delete event: the tombstone. */
export function deleteEvent(message: Message, counter: number, newest = Number(message.id)): RoomEvent {
  const tombstone: Message = { ...message, message: '', deleted: true, deleted_at: '2026-11-25T15:30:00.000Z' };
  delete tombstone.reactions;
  return { id: `${pad(newest)}.${pad(counter)}`, room: message.room, type: 'delete', message_id: message.id, message: tombstone };
}
