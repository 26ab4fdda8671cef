import type { Message, Reaction, RoomEvent } from '../../src/index.js';
import { excerpt, sameName } from '../../src/index.js';
import type { Emitted, FakeSocket } from './FakeSocket.js';

// Type-only imports above but sameName: this file is for the core's own tests.

const pad = (n: number) => String(n).padStart(12, '0');
const position = (s: number, n?: number) => (n === undefined ? pad(s) : `${pad(s)}.${pad(n)}`);

interface Stored {
  id: number;
  username: string;
  text: string;
  timestamp: string;
  client_id?: string;
  reply_to?: string;
  mentions?: string[];
  edited_at?: string;
  deleted_at?: string;
  deleted: boolean;
  /** Deleted by a moderator (the tombstone says `removed`). */
  removed?: boolean;
  /** emoji → usernames, in the order added. */
  reactions: Map<string, string[]>;
}

type LogEntry = { pos: string; message: number } | { pos: string; event: RoomEvent };

interface Member {
  socket: FakeSocket;
  username: string;
}

class Room {
  readonly messages: Stored[] = [];
  readonly log: LogEntry[] = [];
  readonly members = new Set<Member>();
  readonly reads = new Map<string, number>();
  counter = 0;
  clock = 0;

  constructor(readonly name: string) {}

  get newest(): number {
    return this.messages.length ? this.messages[this.messages.length - 1].id : 0;
  }

  head(): string {
    return position(this.newest, this.counter);
  }

  find(id: string): Stored | undefined {
    return this.messages.find((m) => m.id === Number(id));
  }

  time(): string {
    this.clock += 1;
    return new Date(Date.UTC(2026, 10, 25, 14, 0, 0, 0) + this.clock * 1000).toISOString();
  }
}

/**
 * A protocol 2 server in memory (docs/protocol.md), enough to test the client core's
 * catch-up: messages in their current state, the room event log with positions, get_history
 * since/before pages with events and cursor, read markers, live delivery that a test can cut.
 */
export class FakeServer {
  private readonly rooms = new Map<string, Room>();
  /** Messages per get_history since page, and in room_joined. */
  pageSize = 100;
  joinHistory = 100;
  /** Sockets that get no live event (a lost broadcast) while listed. */
  readonly deaf = new Set<FakeSocket>();

  /** Let `socket` talk to this server; it answers every emit. */
  attach(socket: FakeSocket): FakeSocket {
    socket.respond = (emitted) => this.handle(socket, emitted);
    return socket;
  }

  room(name: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = new Room(name);
      this.rooms.set(name, room);
    }
    return room;
  }

  /** The socket dropped: it is in no room any more. */
  forget(socket: FakeSocket): void {
    for (const room of this.rooms.values()) for (const m of [...room.members]) if (m.socket === socket) room.members.delete(m);
  }

  // ---- Acting as someone without a client (another person) ------------------------

  post(roomName: string, username: string, text: string, extra: { client_id?: string; reply_to?: string } = {}): Message {
    const room = this.room(roomName);
    const stored: Stored = {
      id: room.newest + 1,
      username,
      text,
      timestamp: room.time(),
      deleted: false,
      reactions: new Map(),
      ...extra,
    };
    const present = [...room.members].map((m) => m.username);
    const mentions = [...text.matchAll(/@([\p{L}\p{M}\p{N}._-]+)/gu)].map((m) => m[1].replace(/[._-]+$/u, '')).filter((n) => present.some((p) => sameName(p, n)));
    if (mentions.length) stored.mentions = mentions;
    room.messages.push(stored);
    room.log.push({ pos: pad(stored.id), message: stored.id });
    const message = this.wire(room, stored, null);
    this.broadcast(room, 'new_message', message);
    return message;
  }

  edit(roomName: string, id: string, text: string): RoomEvent {
    const room = this.room(roomName);
    const stored = room.find(id)!;
    stored.text = text;
    stored.edited_at = room.time();
    return this.event(room, { type: 'edit', message_id: pad(stored.id), message: this.wire(room, stored, null, false) });
  }

  remove(roomName: string, id: string, options: { byModerator?: boolean } = {}): RoomEvent {
    const room = this.room(roomName);
    const stored = room.find(id)!;
    stored.deleted = true;
    if (options.byModerator) stored.removed = true;
    stored.text = '';
    stored.deleted_at = room.time();
    stored.reactions.clear();
    delete stored.mentions;
    return this.event(room, { type: 'delete', message_id: pad(stored.id), message: this.wire(room, stored, null, false) });
  }

  react(roomName: string, id: string, username: string, emoji: string, add?: boolean): RoomEvent | null {
    const room = this.room(roomName);
    const stored = room.find(id)!;
    if (stored.deleted) return null;
    const users = stored.reactions.get(emoji) ?? [];
    const has = users.some((u) => sameName(u, username));
    const adding = add ?? !has;
    if (adding === has) return null;
    const next = adding ? [...users, username] : users.filter((u) => !sameName(u, username));
    if (next.length) stored.reactions.set(emoji, next);
    else stored.reactions.delete(emoji);
    return this.event(room, { type: 'reaction', message_id: pad(stored.id), emoji, username, added: adding, count: next.length });
  }

  /** What a client that knows everything would show: the room's messages, state only. */
  state(roomName: string, viewer: string): Array<Record<string, unknown>> {
    const room = this.room(roomName);
    return room.messages.map((m) => this.wire(room, m, viewer) as unknown as Record<string, unknown>);
  }

  // ---- The socket side --------------------------------------------------------------

  private handle(socket: FakeSocket, { event, payload, ack }: Emitted): void {
    const answer = (body: object) => ack?.({ ok: true, ...body });
    const refuse = (code: string, error: string) => ack?.({ ok: false, code, error });
    const room = typeof payload?.room === 'string' ? this.room(payload.room) : null;
    const member = room ? [...room.members].find((m) => m.socket === socket) : undefined;
    switch (event) {
      case 'join_room': {
        if (!room) return refuse('invalid', 'room');
        if (!member) room.members.add({ socket, username: payload.username });
        const read = room.reads.get(payload.username) ?? 0;
        const after = room.messages.filter((m) => m.id > read && !sameName(m.username, payload.username) && !m.deleted);
        socket.fire('room_joined', {
          room: room.name,
          username: payload.username,
          messages: room.messages.slice(-this.joinHistory).map((m) => this.wire(room, m, payload.username)),
          log_id: room.head(),
          read_id: pad(read),
          unread: after.length,
          mentions: after.filter((m) => m.mentions?.some((n) => sameName(n, payload.username))).length,
        });
        return answer({ room: room.name, username: payload.username });
      }
      case 'leave_room':
        if (room && member) room.members.delete(member);
        return answer({ room: room?.name });
      case 'send_message': {
        if (!room || !member) return refuse('not_in_room', 'join first');
        const known = room.messages.find((m) => m.client_id && m.client_id === payload.client_id);
        if (known) return answer({ message: this.wire(room, known, null), duplicate: true });
        if (payload.reply_to && !room.find(payload.reply_to)) return refuse('not_found', 'no such message');
        const message = this.post(room.name, member.username, payload.message, { client_id: payload.client_id, reply_to: payload.reply_to });
        return answer({ message, duplicate: false });
      }
      case 'edit_message':
      case 'delete_message': {
        if (!room || !member) return refuse('not_in_room', 'join first');
        const stored = room.find(payload.id);
        if (!stored) return refuse('not_found', 'no such message');
        if (!sameName(stored.username, member.username)) return refuse('forbidden', 'not yours');
        const stored_event = event === 'edit_message' ? this.edit(room.name, payload.id, payload.message) : this.remove(room.name, payload.id);
        return answer({ event: stored_event });
      }
      case 'react': {
        if (!room || !member) return refuse('not_in_room', 'join first');
        if (!room.find(payload.id)) return refuse('not_found', 'no such message');
        return answer({ event: this.react(room.name, payload.id, member.username, payload.emoji, payload.add) });
      }
      case 'mark_read': {
        if (!room || !member) return refuse('not_in_room', 'join first');
        const read = Math.max(room.reads.get(member.username) ?? 0, Number(payload.id));
        room.reads.set(member.username, read);
        return answer({ room: room.name, read_id: pad(read) });
      }
      case 'get_history':
        if (!room) return refuse('invalid', 'room');
        return answer(this.history(room, payload, member?.username ?? null));
      default:
    }
  }

  private history(room: Room, payload: { since_id?: string; before_id?: string; limit?: number }, viewer: string | null): object {
    if (payload.before_id !== undefined) {
      const older = room.messages.filter((m) => m.id < Number(payload.before_id));
      const page = older.slice(-(payload.limit ?? 50));
      return { room: room.name, messages: page.map((m) => this.wire(room, m, viewer)), has_more: older.length > page.length };
    }
    const since = payload.since_id ?? pad(0);
    const after = room.log.filter((e) => e.pos > since);
    const messages: Stored[] = [];
    let cursor = since;
    let taken = 0;
    for (const entry of after) {
      if ('message' in entry) {
        if (messages.length === this.pageSize) break;
        messages.push(room.find(pad(entry.message))!);
      }
      cursor = entry.pos;
      taken += 1;
    }
    const inPage = new Set(messages.map((m) => m.id));
    const events = after
      .slice(0, taken)
      .flatMap((e) => ('event' in e && !inPage.has(Number(e.event.message_id)) ? [e.event] : []));
    const hasMore = taken < after.length;
    if (!hasMore) cursor = room.head() > cursor ? room.head() : cursor;
    return { room: room.name, messages: messages.map((m) => this.wire(room, m, viewer)), events, has_more: hasMore, cursor };
  }

  private event(room: Room, body: EventBody): RoomEvent {
    room.counter += 1;
    const event = { id: position(room.newest, room.counter), room: room.name, ...body } as RoomEvent;
    room.log.push({ pos: event.id, event });
    this.broadcast(room, 'room_event', event);
    return event;
  }

  private broadcast(room: Room, name: string, payload: object): void {
    for (const member of room.members) if (member.socket.connected && !this.deaf.has(member.socket)) member.socket.fire(name, payload);
  }

  /** The message as the server sends it; reactions (with `me` for `viewer`) in history only. */
  private wire(room: Room, m: Stored, viewer: string | null, withState = true): Message {
    const message: Message = { id: pad(m.id), username: m.username, message: m.text, timestamp: m.timestamp, room: room.name, type: 'message' };
    if (m.client_id) message.client_id = m.client_id;
    if (m.reply_to) message.reply_to = m.reply_to;
    if (m.mentions) message.mentions = m.mentions;
    if (m.edited_at) message.edited_at = m.edited_at;
    if (m.deleted) {
      message.deleted = true;
      if (m.deleted_at) message.deleted_at = m.deleted_at;
      if (m.removed) message.removed = true;
    }
    if (viewer !== null && withState) {
      const reactions: Reaction[] = [...m.reactions].map(([emoji, users]) => ({
        emoji,
        count: users.length,
        users: [...users],
        me: users.some((u) => sameName(u, viewer)),
      }));
      message.reactions = reactions;
      if (m.reply_to) {
        const original = room.find(m.reply_to);
        message.reply_preview = original
          ? { id: m.reply_to, username: original.username, excerpt: excerpt(original.text), deleted: original.deleted }
          : { id: m.reply_to, username: '', excerpt: '', deleted: true };
      }
    }
    return message;
  }
}

/** A room event without the fields the log gives it. */
type EventBody = RoomEvent extends infer E ? (E extends RoomEvent ? Omit<E, 'id' | 'room'> : never) : never;
