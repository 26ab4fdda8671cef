/**
 * One person's connection to TalkRooms over Socket.IO, with no UI: the socket, reconnection,
 * and the rooms it is in (room.ts does each room's join, catch-up, outbox and typing). A UI
 * (or a bot) listens with `on(...)` and calls the actions.
 *
 * Protocol 1 (the default): one room, as the seed's clients. Protocol 2 (`protocol: 2`,
 * sent in the handshake as `auth: {protocol: 2}`): several rooms on one connection, one of
 * them "active" (the one a view shows: `timeline`, `users`, `send`, `typing` without a room
 * act on it), and each room's event log (edits, deletions, reactions), replies, mentions,
 * read markers and unread counts. Every room is joined again after every reconnection.
 *
 * How it keeps the delivery guarantee of docs/protocol.md:
 * - every message gets a client_id and stays in the outbox until the server acknowledged
 *   it (ack, echo or history); it goes again with the same client_id after a reconnection
 *   or an `unavailable` refusal, and the server stores it once;
 * - after every (re)join each room fetches everything after the log position it holds
 *   without a hole (`since_id`), page by page while `has_more`; a jump does the same;
 * - the timeline merges by id and by client_id, and room events apply idempotently, so
 *   nothing shows twice and a client that was away converges to one that stayed.
 */

import { isPrivateRoom, parseConversation, type Conversation } from './accounts.js';
import { LIMITS } from './generated/protocol.js';
import { newClientId } from './ids.js';
import type { FileEntry } from './files.js';
import type { Outbox, OutboxStore } from './outbox.js';
import type {
  ErrorCode,
  ErrorPayload,
  Message,
  ProtocolVersion,
  ReadMarkerPayload,
  ReplyPreview,
  RoomEvent,
  RoomJoinedPayload,
  RoomUser,
  RoomUsersPayload,
  ServerEventName,
  UserPresencePayload,
  UserTypingPayload,
} from './protocol.js';
import { EVENTS } from './protocol.js';
import { parseReviewCount, parseRolesEvent, parseSanctionNotice, type ReviewCount, type RoomRoles, type SanctionNotice } from './moderation.js';
import type { RoomSettings } from './room-settings.js';
import { RoomSession, type ActionResult, type RoomHost, type SessionError } from './room.js';
import { DEFAULT_SOCKET_OPTIONS, type SocketFactory, type SocketLike, type SocketOptions } from './socket.js';
import { Timeline, type MessageEntry, type TimelineChange } from './timeline.js';
import { validateRoom } from './validation.js';

export type { ActionResult, SessionError } from './room.js';

/** joining, in the room, trying to get back, refused for good, or left. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'left';

/** One joined room as a room list shows it (protocol 2 counts; 0 in protocol 1). */
export interface RoomSummary {
  room: string;
  /** Our name in it, as the server spells it. */
  username: string;
  joined: boolean;
  active: boolean;
  unread: number;
  mentions: number;
  readId: string;
}

export interface SessionEvents {
  /** A room's list changed; `scroll` asks a view to follow (own message, welcome). */
  timeline: (changes: TimelineChange[], info: { scroll: boolean; room: string }) => void;
  /** A stored message shown for the first time (live, history or ack); `message.room` names its room. */
  message: (message: MessageEntry) => void;
  /** `room_joined` merged; `first` on the first join (or after the numbering restarted). */
  roomJoined: (info: { first: boolean; messages: number; username: string; room: string }) => void;
  connection: (state: ConnectionState) => void;
  /** Our name as the server spells it, once joined. */
  username: (username: string, room: string) => void;
  users: (users: RoomUser[], count: number, room: string) => void;
  /** Others typing now, in the order they started. */
  typing: (names: string[], room: string) => void;
  /** Whether the others are being told that we type (in the active room). */
  selfTyping: (active: boolean) => void;
  error: (error: SessionError) => void;
  /** Joined again: any error shown before no longer holds. */
  errorCleared: () => void;
  /** Protocol 2: the rooms, their unread counts or the active one changed. */
  rooms: (rooms: RoomSummary[]) => void;
  /** Protocol 2: another room became the active one. */
  activeRoom: (room: string) => void;
  /** Protocol 2: an edit, deletion or reaction reached a room for the first time. */
  roomEvent: (event: RoomEvent) => void;
  /** Signed in: a private conversation was opened, or a block changed whether it can be written to. */
  conversation: (conversation: Conversation) => void;
  /** A moderator kicked, muted, banned, unmuted or unbanned someone in a room (a notice is in its timeline too). */
  moderation: (notice: SanctionNotice) => void;
  /**
   * We were sanctioned. A kick or a ban took us out of `notice.room`: fired once the room is
   * left here too (never joined again by itself; a kicked person may `joinRoom` it).
   */
  sanctioned: (notice: SanctionNotice) => void;
  /** A room's settings changed, or came with its join (null: the defaults). */
  settings: (settings: RoomSettings | null, room: string) => void;
  /** Staff of a room: the number of items in its review queue changed (also on joining). */
  review: (count: ReviewCount) => void;
  /**
   * A room's owner or moderators changed; `you` is worked out from our name there (an
   * administrator is not listed: a UI that knew it keeps it).
   */
  roles: (roles: RoomRoles) => void;
}

/**
 * How a signed-in session gets its access token (an AccountClient fits:
 * `{token: () => accounts.accessToken(), refresh: () => accounts.refreshNow()}`).
 * `token()` is asked before every (re)connection; `refresh()` after the server refused the
 * token as expired. Null from either: no longer signed in.
 */
export interface SessionAuth {
  token(): Promise<string | null>;
  refresh(): Promise<string | null>;
}

export type SendResult = { ok: true; value: string; clientId: string } | { ok: false; error: string };
export type JoinResult = { ok: true; room: string } | { ok: false; error: string };

export interface SessionOptions {
  /** The server (`https://chat.example.org`); the web UI passes its own origin. */
  url: string;
  username: string;
  /** The first room (the active one). */
  room: string;
  /** The device's `client_key` (16–128 characters A-Za-z0-9_-). */
  clientKey?: string;
  /** `(url, options) => Socket`: socket.io-client's `io`. */
  connect: SocketFactory;
  /** 1 (default): one room, protocol 1. 2: several rooms and the room event log. */
  protocol?: ProtocolVersion;
  /** Protocol 2: more rooms to join at start, after `room`. */
  rooms?: string[];
  /** The first room's invite code, when it is invite-only (from its invite link). */
  invite?: string;
  /** Merged over DEFAULT_SOCKET_OPTIONS (e.g. `transports`). */
  socketOptions?: SocketOptions;
  makeClientId?: () => string;
  /** The server's MESSAGE_MAX when it differs from the protocol's default. */
  messageMax?: number;
  /** A timeline to fill for the first room (a view may hold it too); a new one by default. */
  timeline?: Timeline;
  /** Keeps the first room's unacknowledged messages across reloads (the web UI: sessionStorage). */
  outboxStore?: OutboxStore;
  /** The same for every room (takes precedence over `outboxStore`). */
  outboxStoreFor?: (room: string) => OutboxStore | undefined;
  now?: () => number;
  /** How long to wait for an ack before the request counts as lost. */
  ackTimeoutMs?: number;
  /** First delay of a re-send, re-join or re-fetch; doubles each try up to the max. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * `rate_limited`: true (default) sends the message again after the backoff; false marks
   * it failed and retryable, and it waits for `retry(clientId)`.
   */
  resendRateLimited?: boolean;
  /**
   * After a rejoin: false (default) re-sends the outbox once the gap fill ended, so a
   * message the history shows as stored is not sent again; true re-sends at once.
   */
  sendDuringGapFill?: boolean;
  /** The words for an error the server sent (a UI translates); the server's by default. */
  describeError?: (code: ErrorCode | undefined, serverText: string) => string;
  /**
   * Sign the connection in with an account's access token (handshake `auth.token`). A token
   * refused as expired is refreshed and the socket reconnects (the outbox stays); when the
   * session cannot be renewed the session stops with SESSION_ENDED (code `invalid_token`).
   */
  auth?: SessionAuth;
  /** How often a focus still held is said again (the server lets it lapse after 90 s). */
  focusRepeatMs?: number;
}

/** The error a signed-in session stops with when its account session cannot be renewed. */
export const SESSION_ENDED = 'Your session ended: log in again';
/** Refreshes in a row that may end in another refusal before the session gives up. */
const MAX_AUTH_RETRIES = 2;

type Listener = (...args: any[]) => void;
type Timer = ReturnType<typeof setTimeout>;

const NOT_PROTOCOL_2 = 'Several rooms need protocol 2 (the `protocol: 2` option).';

export class ChatSession {
  private readonly outboxStoreFor: (room: string) => OutboxStore | undefined;
  private readonly options: SessionOptions;
  private readonly protocol: ProtocolVersion;
  private readonly ackTimeoutMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly now: () => number;
  private readonly listeners = new Map<keyof SessionEvents, Set<Listener>>();
  private readonly handlers: Record<string, Listener>;
  private readonly host: RoomHost;
  /** The rooms, in the order they were joined. */
  private readonly roomMap = new Map<string, RoomSession>();
  private active: RoomSession;

  private socket: SocketLike | null = null;
  private state: ConnectionState | null = null;
  private everJoined = false;
  private stopped = false;
  private reconnectTimer: Timer | null = null;
  /** Token refusals since the last accepted connection. */
  private authFailures = 0;
  private authTimer: Timer | null = null;
  private renewing = false;
  private lastToken: string | null = null;
  private readonly outstanding = new Set<() => void>();
  /** The room the person is looking at (setFocus), and the timer repeating it. */
  private focused: string | null = null;
  private focusTimer: ReturnType<typeof setInterval> | null = null;

  constructor(options: SessionOptions) {
    this.options = options;
    this.protocol = options.protocol === 2 ? 2 : 1;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 15000;
    this.now = options.now ?? (() => Date.now());
    this.outboxStoreFor = options.outboxStoreFor ?? ((room) => (room === options.room ? options.outboxStore : undefined));
    this.host = this.makeHost();
    this.active = this.addRoom(options.room, options.username, options.timeline, options.invite);
    if (this.protocol === 2) for (const room of options.rooms ?? []) if (!this.roomMap.has(room)) this.addRoom(room, options.username);
    const { server } = EVENTS;
    const route =
      <P>(handler: (room: RoomSession, payload: P) => void, strict = false) =>
      (payload: P) => {
        const room = this.roomFor((payload as { room?: unknown } | null)?.room, strict);
        if (room && payload && typeof payload === 'object') handler(room, payload);
      };
    this.handlers = {
      connect: () => this.onConnect(),
      disconnect: (reason: string) => this.onDisconnect(reason),
      connect_error: (error: unknown) => this.onConnectError(error),
      [server.ROOM_JOINED]: route<RoomJoinedPayload>((room, p) => room.onRoomJoined(p), true),
      [server.NEW_MESSAGE]: route<Message>((room, m) => room.onNewMessage(m), true),
      [server.USER_JOINED]: route<UserPresencePayload>((room, p) => typeof p.username === 'string' && room.onPresence('join', p)),
      [server.USER_LEFT]: route<UserPresencePayload>((room, p) => typeof p.username === 'string' && room.onPresence('leave', p)),
      [server.ROOM_USERS]: route<RoomUsersPayload>((room, p) => room.onRoomUsers(p), true),
      [server.USER_TYPING]: route<UserTypingPayload>((room, p) => typeof p.username === 'string' && room.onUserTyping(p)),
      [server.ROOM_EVENT]: route<RoomEvent>((room, e) => room.onRoomEvent(e), true),
      [server.READ_MARKER]: route<ReadMarkerPayload>((room, p) => room.onReadMarker(p), true),
      [server.ERROR]: (p: ErrorPayload) => this.onServerError(p),
      [server.CONVERSATION]: (p: unknown) => {
        const conversation = parseConversation(p);
        if (conversation) this.fire('conversation', conversation);
      },
      [server.MODERATION]: (p: unknown) => {
        const notice = parseSanctionNotice(p);
        const room = notice ? this.roomFor(notice.room, false) : undefined;
        if (notice && room) room.onModeration(notice);
      },
      [server.SANCTIONED]: (p: unknown) => {
        const notice = parseSanctionNotice(p);
        const room = notice ? this.roomFor(notice.room, false) : undefined;
        if (notice && room) room.onSanctioned(notice);
      },
      [server.ROOM_SETTINGS]: route<object>((room, p) => room.onRoomSettings(p), true),
      [server.REVIEW]: (p: unknown) => {
        const count = parseReviewCount(p);
        const room = count ? this.roomMap.get(count.room) : undefined;
        if (count && room) room.onReview(count);
      },
      [server.ROLES]: (p: unknown) => {
        const name = (p as { room?: unknown } | null)?.room;
        const room = typeof name === 'string' ? this.roomMap.get(name) : undefined;
        const roles = room ? parseRolesEvent(p, room.username) : null;
        if (roles && room && !room.isClosed) this.fire('roles', roles);
      },
    };
  }

  // ---- Listening -------------------------------------------------------------------

  /** Listen to an event; returns the function that stops listening. */
  on<K extends keyof SessionEvents>(event: K, listener: SessionEvents[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener);
    return () => {
      set.delete(listener as Listener);
    };
  }

  private fire<K extends keyof SessionEvents>(event: K, ...args: Parameters<SessionEvents[K]>): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(...args);
  }

  // ---- State (the active room's, unless a room is named) ----------------------------

  /** The protocol this session speaks. */
  get protocolVersion(): ProtocolVersion {
    return this.protocol;
  }

  /** The active room's name. */
  get room(): string {
    return this.active.name;
  }

  get activeRoom(): string {
    return this.active.name;
  }

  get timeline(): Timeline {
    return this.active.timeline;
  }

  get outbox(): Outbox {
    return this.active.outbox;
  }

  get username(): string {
    return this.active.username;
  }

  get connection(): ConnectionState {
    return this.state ?? 'connecting';
  }

  get isJoined(): boolean {
    return this.active.isJoined;
  }

  get users(): RoomUser[] {
    return this.active.users;
  }

  get userCount(): number {
    return this.active.userCount;
  }

  /** Others typing now in the active room, in the order they started. */
  get typingNames(): string[] {
    return this.active.typingNames;
  }

  /** Every room, in the order joined, with its unread counts. */
  get rooms(): RoomSummary[] {
    return [...this.roomMap.values()].map((room) => this.summary(room));
  }

  /** Total unread messages over every room (a tab title). */
  get totalUnread(): number {
    let total = 0;
    for (const room of this.roomMap.values()) total += room.unread;
    return total;
  }

  /** A room's settings (the active room's by default); null while they are the defaults. */
  settings(room?: string): RoomSettings | null {
    return this.target(room)?.settings ?? null;
  }

  /** Staff: the items waiting in a room's review queue (null until the server said). */
  reviewCount(room?: string): number | null {
    return this.target(room)?.reviewCount ?? null;
  }

  /** One room's state (timeline, outbox, users, unread, firstUnreadId, …); undefined when not in it. */
  roomState(room: string): RoomSession | undefined {
    return this.roomMap.get(room);
  }

  // ---- Actions ---------------------------------------------------------------------

  /** Open the connection and join the rooms; messages kept from before a reload go out again. */
  start(): void {
    if (this.socket || this.stopped) return;
    for (const room of this.roomMap.values()) room.restoreOutbox();
    this.setConnection('connecting');
    const socketOptions: SocketOptions = { ...DEFAULT_SOCKET_OPTIONS, ...this.options.socketOptions };
    if (this.protocol === 2) socketOptions.auth = { ...(socketOptions.auth as object | undefined), protocol: 2 };
    if (this.options.auth) socketOptions.auth = this.signedAuth(socketOptions.auth as object | undefined);
    const socket = this.options.connect(this.options.url, socketOptions);
    this.socket = socket;
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
    if (socket.connected) this.onConnect();
    else socket.connect?.();
  }

  /**
   * Queue a message (it shows at once as pending) and send it when possible: to the active
   * room, or `room`; `replyTo` (protocol 2) answers that message; `files` (uploaded for
   * that room with uploadFile) are shared with it, and the text may be empty then. The
   * outbox keeps them: a re-send, even after a reload, shares the same files.
   */
  send(text: string, options: { room?: string; replyTo?: string; files?: FileEntry[] } = {}): SendResult {
    const room = this.target(options.room);
    if (!room) return { ok: false, error: `Not in room ${options.room}` };
    if (options.replyTo !== undefined && this.protocol !== 2) return { ok: false, error: NOT_PROTOCOL_2 };
    return room.send(text, options.replyTo, options.files);
  }

  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId: string): void {
    this.roomOfClientId(clientId)?.retry(clientId);
  }

  /** Give up a message that was not acknowledged. */
  discard(clientId: string): void {
    (this.roomOfClientId(clientId) ?? this.active).discard(clientId);
  }

  /** The input changed; `hasText` tells whether anything not blank is left in it (active room). */
  typing(hasText: boolean): void {
    if (!this.stopped) this.active.typing(hasText);
  }

  /**
   * Protocol 2: join another room on this connection (and keep it across reconnections).
   * `activate` makes it the active room; `username` is our name there (default: the session's).
   */
  joinRoom(room: string, options: { username?: string; activate?: boolean; invite?: string } = {}): JoinResult {
    if (this.protocol !== 2) return { ok: false, error: NOT_PROTOCOL_2 };
    if (this.stopped) return { ok: false, error: 'The session has ended.' };
    // Private conversations' ids are the server's (`dm:…`), never typed by a person.
    const check = isPrivateRoom(room) ? { ok: true as const, value: room } : validateRoom(room);
    if (!check.ok) return check;
    let state = this.roomMap.get(check.value);
    if (!state) {
      state = this.addRoom(check.value, options.username ?? this.options.username, undefined, options.invite);
      if (this.socket?.connected) state.connect();
      this.fireRooms();
    }
    if (options.activate) this.setActiveRoom(check.value);
    return { ok: true, room: check.value };
  }

  /**
   * Protocol 2: leave one room (the connection stays, with the others). Leaving the active
   * room makes the first remaining one active. Resolves once the server answered.
   */
  async leaveRoom(room: string): Promise<void> {
    const state = this.roomMap.get(room);
    if (!state) return;
    if (this.protocol !== 2) return this.leave();
    this.roomMap.delete(room);
    if (this.active === state) {
      const next = this.roomMap.values().next().value;
      if (next) this.setActiveRoom(next.name);
    }
    this.fireRooms();
    await state.leave();
  }

  /** Protocol 2: show another joined room; no reconnection. False when not in that room. */
  setActiveRoom(room: string): boolean {
    const next = this.roomMap.get(room);
    if (!next) return false;
    if (next === this.active) return true;
    this.active.deactivate();
    this.active = next;
    next.activate();
    this.fire('activeRoom', next.name);
    this.fireRooms();
    return true;
  }

  /**
   * Signed in: the person now looks at `room` (shown, the page visible and focused), or at
   * none (null). The server does not notify anyone of messages in a room they look at: the
   * previous room is told `focused: false`, the new one `true`, repeated every
   * `focusRepeatMs` (60 s) and after every (re)join. A guest session sends nothing.
   */
  setFocus(room: string | null): void {
    if (this.stopped || room === this.focused) return;
    const previous = this.focused;
    this.focused = room;
    if (this.focusTimer) clearInterval(this.focusTimer);
    this.focusTimer = null;
    if (previous) this.sendFocus(previous, false);
    if (room === null) return;
    this.sendFocus(room, true);
    this.focusTimer = setInterval(() => {
      if (this.focused) this.sendFocus(this.focused, true);
    }, this.options.focusRepeatMs ?? 60_000);
  }

  /** The room setFocus named last (null: none). */
  get focusedRoom(): string | null {
    return this.focused;
  }

  private sendFocus(room: string, focused: boolean): void {
    // Guests are refused (`account_required`); a room not joined yet gets it on its join.
    if (!this.options.auth || !this.roomMap.get(room)?.isJoined) return;
    void this.request(EVENTS.client.FOCUS, { room, focused }, false);
  }

  /** Protocol 2: edit one of our messages. */
  edit(id: string, text: string, room?: string): Promise<ActionResult<{ event: RoomEvent | null }>> {
    return this.act(room, (r) => r.edit(id, text));
  }

  /** Protocol 2: delete one of our messages (it becomes a tombstone). */
  deleteMessage(id: string, room?: string): Promise<ActionResult<{ event: RoomEvent | null }>> {
    return this.act(room, (r) => r.deleteMessage(id));
  }

  /** Protocol 2: toggle our reaction `emoji` on message `id` (`add: true` adds, `false` removes). */
  react(id: string, emoji: string, options: { room?: string; add?: boolean } = {}): Promise<ActionResult<{ event: RoomEvent | null }>> {
    return this.act(options.room, (r) => r.react(id, emoji, options.add));
  }

  /**
   * Protocol 2: report message `id` to the room's moderators, with an optional reason
   * (at most 500 characters); resolves to the server's answer (`report`: its id).
   */
  report(id: string, options: { room?: string; reason?: string } = {}): Promise<ActionResult<{ report: number }>> {
    return this.act(options.room, (r) => r.report(id, options.reason));
  }

  /** Protocol 2: the messages up to `id` (default: the newest held) have been seen. */
  markRead(room?: string, id?: string): void {
    this.target(room)?.markRead(id);
  }

  /** Protocol 2: the person is back (the page was hidden): the divider marks what is unread now. */
  placeDivider(room?: string): void {
    this.target(room)?.placeDivider();
  }

  /** Protocol 2: the id to put a "new messages" divider before, or null. */
  firstUnreadId(room?: string): string | null {
    return this.target(room)?.firstUnreadId ?? null;
  }

  /** The page of history before the oldest message held; resolves to how many were new. */
  loadOlder(room?: string): Promise<number> {
    return this.target(room)?.loadOlder() ?? Promise.resolve(0);
  }

  /** Load history back until message `id` is held (to scroll to a reply's original). */
  loadHistoryTo(id: string, room?: string): Promise<boolean> {
    return this.target(room)?.loadHistoryTo(id) ?? Promise.resolve(false);
  }

  /** Protocol 2: the quote of message `id`: from the timeline, a reply_preview, or fetched. */
  quote(id: string, room?: string): Promise<ReplyPreview | null> {
    const state = this.target(room);
    if (!state) return Promise.resolve(null);
    const known = state.quote(id);
    return known ? Promise.resolve(known) : state.fetchQuote(id);
  }

  /**
   * Leave every room for good: unsent messages are dropped, the server is told, and the
   * connection closes once it answered (or the ack timed out).
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    const rooms = [...this.roomMap.values()];
    // Still connected: the others are told we stopped typing.
    for (const room of rooms) room.deactivate();
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const joined = rooms.filter((room) => room.isJoined);
    for (const room of rooms) {
      room.close();
      room.outbox.clear();
    }
    // Answers still awaited are moot now; their timers must not outlive the session.
    this.resolveOutstanding();
    this.setConnection('left');
    await Promise.all(joined.map((room) => room.goodbye()));
    this.closeSocket();
  }

  /** Feed a server event by hand, as if the socket delivered it (tests, custom transports). */
  receive(event: ServerEventName, payload: unknown): void {
    this.handlers[event]?.(payload);
  }

  // ---- Rooms -----------------------------------------------------------------------

  private addRoom(name: string, username: string, timeline?: Timeline, invite?: string): RoomSession {
    const room = new RoomSession(name, this.host, {
      username,
      clientKey: this.options.clientKey,
      timeline,
      outboxStore: this.outboxStoreFor(name),
      invite,
    });
    this.roomMap.set(name, room);
    if (this.socket && !this.stopped) room.restoreOutbox();
    return room;
  }

  /** The room a server event names; protocol 1 (or no room given) means the only room. */
  private roomFor(name: unknown, strict: boolean): RoomSession | undefined {
    if (typeof name === 'string') return this.roomMap.get(name);
    if (strict) return undefined;
    return this.protocol === 1 || this.roomMap.size === 1 ? this.active : undefined;
  }

  /** The room named, or the active one; undefined once it was left. */
  private target(room: string | undefined): RoomSession | undefined {
    return this.roomMap.get(room ?? this.active.name);
  }

  private roomOfClientId(clientId: string): RoomSession | undefined {
    for (const room of this.roomMap.values()) if (room.outbox.has(clientId)) return room;
    return undefined;
  }

  private act<T>(room: string | undefined, run: (room: RoomSession) => Promise<ActionResult<T>>): Promise<ActionResult<T>> {
    const state = this.target(room);
    if (!state) return Promise.resolve({ ok: false, error: `Not in room ${room}`, code: 'not_in_room' });
    return run(state);
  }

  private summary(room: RoomSession): RoomSummary {
    return {
      room: room.name,
      username: room.username,
      joined: room.isJoined,
      active: room === this.active,
      unread: room.unread,
      mentions: room.mentions,
      readId: room.readId,
    };
  }

  private fireRooms(): void {
    this.fire('rooms', this.rooms);
  }

  /** The callbacks every room uses: the socket, the options and the session's events. */
  private makeHost(): RoomHost {
    const options = this.options;
    return {
      protocol: this.protocol,
      ackTimeoutMs: this.ackTimeoutMs,
      messageMax: options.messageMax ?? LIMITS.messageMax,
      resendRateLimited: options.resendRateLimited !== false,
      sendDuringGapFill: options.sendDuringGapFill === true,
      connected: () => !!this.socket?.connected && !this.stopped,
      request: (event, payload, keepAlive) => this.request(event, payload, keepAlive),
      emit: (event, payload) => {
        if (this.socket?.connected) this.socket.emit(event, payload);
      },
      now: this.now,
      makeClientId: options.makeClientId ?? (() => newClientId()),
      describe: options.describeError ?? ((_code, text) => text),
      backoff: (attempts) => this.backoff(attempts),
      isActive: (room) => room === this.active,
      timeline: (room, changes, scroll) => this.fire('timeline', changes, { scroll, room: room.name }),
      message: (_room, message) => this.fire('message', message),
      roomJoined: (room, info) => this.fire('roomJoined', { ...info, room: room.name }),
      username: (room) => this.fire('username', room.username, room.name),
      users: (room) => this.fire('users', room.users, room.userCount, room.name),
      typing: (room, names) => this.fire('typing', names, room.name),
      selfTyping: (room, active) => {
        if (room === this.active) this.fire('selfTyping', active);
      },
      roomEvent: (_room, event) => this.fire('roomEvent', event),
      error: (_room, error) => this.fire('error', error),
      joined: (room) => {
        // A reconnection or a rejoin forgot the focus on the server: say it again.
        if (room.name === this.focused) this.sendFocus(room.name, true);
        this.everJoined = true;
        this.setConnection('connected');
        this.fire('errorCleared');
      },
      refused: (room, error) => this.onRefused(room, error),
      summaryChanged: () => this.fireRooms(),
      moderation: (_room, notice) => this.fire('moderation', notice),
      sanctioned: (room, notice) => this.onSanctioned(room, notice),
      settings: (room, settings) => this.fire('settings', settings, room.name),
      review: (_room, count) => this.fire('review', count),
    };
  }

  /** A room's join was refused for good: with no other room left, the session stops. */
  private onRefused(room: RoomSession, error: SessionError): void {
    const others = [...this.roomMap.values()].filter((r) => r !== room);
    if (this.protocol === 1 || others.length === 0) {
      this.stopWith(error);
      return;
    }
    this.roomMap.delete(room.name);
    if (this.active === room) this.setActiveRoom(others[0].name);
    this.fire('error', error);
    this.fireRooms();
  }

  /**
   * A moderator sanctioned us. A kick or ban already took us out on the server: leave the
   * room here too so no reconnection joins it again (protocol 1: the session stops, without
   * an error: the `sanctioned` listener words it).
   */
  private onSanctioned(room: RoomSession, notice: SanctionNotice): void {
    if (notice.action !== 'kick' && notice.action !== 'ban') {
      this.fire('sanctioned', notice);
      return;
    }
    room.close();
    room.outbox.clear();
    if (this.protocol === 1) {
      this.closeSocket();
      this.fire('sanctioned', notice);
      this.setConnection('stopped');
      return;
    }
    // Protocol 2: the connection stays (like leaveRoom), so `joinRoom` can come back after a kick.
    this.roomMap.delete(room.name);
    const next = this.roomMap.values().next().value;
    if (this.active === room && next) this.setActiveRoom(next.name);
    this.fireRooms();
    this.fire('sanctioned', notice);
  }

  // ---- Connection ------------------------------------------------------------------

  private onConnect(): void {
    if (this.stopped) return;
    this.authFailures = 0;
    this.setConnection(this.everJoined ? 'reconnecting' : 'connecting');
    if (this.roomMap.size === 0) this.setConnection('connected');
    for (const room of this.roomMap.values()) room.connect();
  }

  private onDisconnect(reason: string): void {
    for (const room of this.roomMap.values()) room.disconnect();
    this.resolveOutstanding();
    if (this.stopped) return;
    this.setConnection('reconnecting');
    // socket.io-client does not reconnect by itself after a server-side disconnect; a
    // delay keeps a server that keeps closing us from a reconnect loop.
    if (reason === 'io server disconnect') {
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (!this.stopped) this.socket?.connect?.();
      }, this.backoff(1));
    }
  }

  private onConnectError(error: unknown): void {
    if (this.stopped) return;
    this.setConnection(this.everJoined ? 'reconnecting' : 'connecting');
    const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
    if (code === 'token_expired' || code === 'invalid_token') this.renewToken(code);
  }

  /**
   * The handshake's auth as a function: the Socket.IO client calls it before every connection
   * (reconnections included), so each one carries the freshest access token.
   */
  private signedAuth(base: object | undefined): (cb: (data: object) => void) => void {
    const auth = this.options.auth as SessionAuth;
    return (cb) => {
      auth.token().then(
        (token) => {
          if (!token && this.lastToken) {
            // Signed out since the last connection (logged out in another tab, session
            // revoked): never come back as a guest under the account's rooms and name.
            this.sessionEnded();
            return;
          }
          this.lastToken = token;
          cb(token ? { ...base, token } : { ...base });
        },
        // The account server is unreachable: try the last token; a refusal comes back as token_expired.
        () => cb(this.lastToken ? { ...base, token: this.lastToken } : { ...base }),
      );
    };
  }

  /**
   * The server refused the token: refresh it and connect again (the Socket.IO client does not
   * reconnect by itself after a refusal). The rooms and their outboxes stay as they are.
   */
  private renewToken(code: 'token_expired' | 'invalid_token'): void {
    const auth = this.options.auth;
    if (!auth || this.renewing) return;
    // invalid_token right after a refresh, or refusals that go on: the session is over.
    if (this.authFailures >= MAX_AUTH_RETRIES || (code === 'invalid_token' && this.authFailures > 0)) {
      this.sessionEnded();
      return;
    }
    this.authFailures += 1;
    this.renewing = true;
    const attempt = (tries: number) => {
      auth.refresh().then(
        (token) => {
          this.renewing = false;
          if (this.stopped) return;
          if (!token) {
            this.sessionEnded();
            return;
          }
          this.lastToken = token;
          this.socket?.connect?.();
        },
        () => {
          // The account server could not answer: the session may still be valid; try again later.
          if (this.stopped) {
            this.renewing = false;
            return;
          }
          this.authTimer = setTimeout(() => {
            this.authTimer = null;
            if (!this.stopped) attempt(tries + 1);
          }, this.backoff(tries + 1));
        },
      );
    };
    attempt(0);
  }

  private sessionEnded(): void {
    this.stopWith({ message: this.describe('invalid_token', SESSION_ENDED), code: 'invalid_token', fatal: true, source: 'join' });
  }

  private onServerError(payload: ErrorPayload): void {
    if (this.stopped || !payload) return;
    const text = typeof payload.message === 'string' ? payload.message : '';
    const message = this.describe(payload.code, text);
    // Protocol 2 names the room when the error concerns one.
    const named = typeof payload.room === 'string' ? this.roomMap.get(payload.room) : undefined;
    const only = this.roomMap.size === 1 ? this.active : undefined;
    if (payload.code === 'name_taken' && (named ?? only)) {
      // The server lost our presence (Redis data loss) and someone took the name meanwhile.
      const room = (named ?? only) as RoomSession;
      room.close();
      const error: SessionError = { message, code: payload.code, fatal: true, source: 'join' };
      this.onRefused(room, this.protocol === 2 ? { ...error, room: room.name } : error);
      return;
    }
    const error: SessionError = { message, code: payload.code, fatal: false, source: 'server' };
    this.fire('error', named ? { ...error, room: named.name } : error);
    // The server forgot us (it restarted, or Redis lost our membership): join and resume.
    // An error naming no room may concern any: each joins again (cheap, exact).
    if (payload.code === 'not_in_room' || payload.code === 'name_taken') {
      for (const room of named ? [named] : [...this.roomMap.values()]) if (room.isJoined) room.rejoin();
    }
  }

  private describe(code: ErrorCode | undefined, text: string): string {
    return (this.options.describeError ?? ((_code, serverText) => serverText))(code, text);
  }

  private stopWith(error: SessionError): void {
    this.fire('error', error);
    this.closeSocket();
    this.setConnection('stopped');
  }

  private backoff(attempts: number): number {
    return Math.min(this.retryBaseDelayMs * 2 ** Math.max(0, attempts - 1), this.retryMaxDelayMs);
  }

  private setConnection(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.fire('connection', state);
  }

  /** Emit with an ack; resolves null when not connected, on disconnection or timeout. */
  private request<T>(event: string, payload: object, keepAlive = true): Promise<T | null> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      let done = false;
      const finish = (value: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.outstanding.delete(cancel);
        resolve(value && typeof value === 'object' ? (value as T) : null);
      };
      const cancel = () => finish(null);
      const timer = setTimeout(cancel, this.ackTimeoutMs);
      // Under Node, a goodbye alone must not keep a finished process (a bot, a test) alive.
      if (!keepAlive) (timer as { unref?: () => void }).unref?.();
      this.outstanding.add(cancel);
      if (typeof socket.timeout === 'function') {
        socket.timeout(this.ackTimeoutMs).emit(event, payload, (err: unknown, ack: unknown) => finish(err ? null : ack));
      } else {
        socket.emit(event, payload, (ack: unknown) => finish(ack));
      }
    });
  }

  private resolveOutstanding(): void {
    for (const cancel of [...this.outstanding]) cancel();
  }

  /** Stop for good: no more reconnections, timers or callbacks. */
  private closeSocket(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    if (this.focusTimer) clearInterval(this.focusTimer);
    this.focusTimer = null;
    for (const room of this.roomMap.values()) room.close();
    this.resolveOutstanding();
    const socket = this.socket;
    if (!socket) return;
    for (const [event, handler] of Object.entries(this.handlers)) socket.off?.(event, handler);
    socket.disconnect();
  }
}
