/**
 * One person in one room over Socket.IO, with no UI: join (and rejoin after every
 * reconnection), gap filling with get_history since_id, the outbox of messages waiting for
 * their ack, typing. A UI (or a bot) listens with `on(...)` and calls the actions.
 *
 * How it keeps the delivery guarantee of docs/protocol.md:
 * - every message gets a client_id and stays in the outbox until the server acknowledged
 *   it (ack, echo or history); it goes again with the same client_id after a reconnection
 *   or an `unavailable` refusal, and the server stores it once;
 * - after every (re)join it fetches everything after the last id held without a hole
 *   (`since_id`), page by page while `has_more`; an id jump in `new_message` does the same;
 * - the timeline merges by id and by client_id, so nothing shows twice.
 */

import { EVENTS, LIMITS } from './generated/protocol.js';
import { newClientId } from './ids.js';
import { sameName } from './names.js';
import { Outbox, type OutboxEntry, type OutboxStore } from './outbox.js';
import type {
  AckError,
  ErrorCode,
  ErrorPayload,
  GetHistoryAck,
  JoinRoomAck,
  LeaveRoomAck,
  Message,
  RoomJoinedPayload,
  RoomUser,
  RoomUsersPayload,
  SendMessageAck,
  ServerEventName,
  UserPresencePayload,
  UserTypingPayload,
} from './protocol.js';
import { DEFAULT_SOCKET_OPTIONS, type SocketFactory, type SocketLike, type SocketOptions } from './socket.js';
import { Timeline, formatId, parseId, type MessageEntry, type TimelineChange } from './timeline.js';
import { TypingSender, TypingWatch } from './typing.js';
import { validateMessage } from './validation.js';

/** joining, in the room, trying to get back, refused for good, or left. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'left';

export interface SessionError {
  /** The server's text (or `describeError`'s wording of it). */
  message: string;
  code?: ErrorCode;
  /** True when the session stopped (name taken, invalid join): the person must pick again. */
  fatal: boolean;
  /** What was refused: the join, one message, or an `error` event of the server. */
  source: 'join' | 'send' | 'server';
  clientId?: string;
}

export interface SessionEvents {
  /** The list changed; `scroll` asks a view to follow (own message, welcome). */
  timeline: (changes: TimelineChange[], info: { scroll: boolean }) => void;
  /** A stored message shown for the first time (live, history or ack). */
  message: (message: MessageEntry) => void;
  /** `room_joined` merged; `first` on the first join (or after the numbering restarted). */
  roomJoined: (info: { first: boolean; messages: number; username: string }) => void;
  connection: (state: ConnectionState) => void;
  /** Our name as the server spells it, once joined. */
  username: (username: string) => void;
  users: (users: RoomUser[], count: number) => void;
  /** Others typing now, in the order they started. */
  typing: (names: string[]) => void;
  /** Whether the others are being told that we type. */
  selfTyping: (active: boolean) => void;
  error: (error: SessionError) => void;
  /** Joined again: any error shown before no longer holds. */
  errorCleared: () => void;
}

export type SendResult = { ok: true; value: string; clientId: string } | { ok: false; error: string };

export interface SessionOptions {
  /** The server (`https://chat.example.org`); the web UI passes its own origin. */
  url: string;
  username: string;
  room: string;
  /** The device's `client_key` (16–128 characters A-Za-z0-9_-). */
  clientKey?: string;
  /** `(url, options) => Socket`: socket.io-client's `io`. */
  connect: SocketFactory;
  /** Merged over DEFAULT_SOCKET_OPTIONS (e.g. `transports`). */
  socketOptions?: SocketOptions;
  makeClientId?: () => string;
  /** The server's MESSAGE_MAX when it differs from the protocol's default. */
  messageMax?: number;
  /** A timeline to fill (a view may hold it too); a new one by default. */
  timeline?: Timeline;
  /** Keeps unacknowledged messages across reloads (the web UI: sessionStorage). */
  outboxStore?: OutboxStore;
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
}

type Listener = (...args: any[]) => void;
type Timer = ReturnType<typeof setTimeout>;

/** Rounds of get_history since_id per fill (each round pages while has_more). */
const MAX_FILL_ROUNDS = 20;
/** Pages per round: bounded, in case a server kept answering has_more. */
const MAX_HISTORY_PAGES = 1000;

function isMessage(value: unknown): value is Message {
  const m = value as Message | null;
  return (
    !!m &&
    typeof m === 'object' &&
    !Number.isNaN(parseId(m.id)) &&
    typeof m.username === 'string' &&
    typeof m.message === 'string'
  );
}

export class ChatSession {
  readonly room: string;
  readonly timeline: Timeline;
  readonly outbox: Outbox;

  private readonly options: SessionOptions;
  private readonly ackTimeoutMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly now: () => number;
  private readonly makeClientId: () => string;
  private readonly describe: (code: ErrorCode | undefined, serverText: string) => string;
  private readonly listeners = new Map<keyof SessionEvents, Set<Listener>>();
  private readonly handlers: Record<string, Listener>;
  private readonly typingSender: TypingSender;
  private readonly typingWatch: TypingWatch;

  private socket: SocketLike | null = null;
  private currentUsername: string;
  private state: ConnectionState | null = null;
  private roomUsers: RoomUser[] = [];
  private roomCount = 0;
  /** Bumped on every connect, disconnect and forced rejoin: older answers are stale. */
  private generation = 0;
  private joined = false;
  /** Joined and the outbox flushed: a new message may go at once without overtaking one. */
  private sending = false;
  private everJoined = false;
  private stopped = false;
  /** Where the current (re)join resumes from: the last id held without a hole. */
  private resumeFrom: number | null = null;
  private fill: { generation: number; done: Promise<void> } | null = null;
  private joinAttempts = 0;
  private joinTimer: Timer | null = null;
  private fillTimer: Timer | null = null;
  private reconnectTimer: Timer | null = null;
  private readonly outstanding = new Set<() => void>();

  constructor(options: SessionOptions) {
    this.options = options;
    this.room = options.room;
    this.currentUsername = options.username;
    this.timeline = options.timeline ?? new Timeline();
    this.outbox = new Outbox(options.outboxStore);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 15000;
    this.now = options.now ?? (() => Date.now());
    this.makeClientId = options.makeClientId ?? (() => newClientId());
    this.describe = options.describeError ?? ((_code, text) => text);
    this.typingSender = new TypingSender((isTyping) => this.emitTyping(isTyping), {
      now: this.now,
      canSend: () => this.joined && !!this.socket?.connected,
    });
    this.typingWatch = new TypingWatch((names) => this.fire('typing', names));
    const { server } = EVENTS;
    this.handlers = {
      connect: () => this.onConnect(),
      disconnect: (reason: string) => this.onDisconnect(reason),
      connect_error: () => this.onConnectError(),
      [server.ROOM_JOINED]: (p: RoomJoinedPayload) => this.onRoomJoined(p),
      [server.NEW_MESSAGE]: (m: Message) => this.onNewMessage(m),
      [server.USER_JOINED]: (p: UserPresencePayload) => this.onPresence('join', p),
      [server.USER_LEFT]: (p: UserPresencePayload) => this.onPresence('leave', p),
      [server.ROOM_USERS]: (p: RoomUsersPayload) => this.onRoomUsers(p),
      [server.USER_TYPING]: (p: UserTypingPayload) => this.onUserTyping(p),
      [server.ERROR]: (p: ErrorPayload) => this.onServerError(p),
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

  get username(): string {
    return this.currentUsername;
  }

  get connection(): ConnectionState {
    return this.state ?? 'connecting';
  }

  get isJoined(): boolean {
    return this.joined;
  }

  get users(): RoomUser[] {
    return this.roomUsers;
  }

  get userCount(): number {
    return this.roomCount;
  }

  /** Others typing now, in the order they started. */
  get typingNames(): string[] {
    return this.typingWatch.names();
  }

  // ---- Actions ---------------------------------------------------------------------

  /** Open the connection and join the room; messages kept from before a reload go out again. */
  start(): void {
    if (this.socket || this.stopped) return;
    for (const saved of this.outbox.restore()) {
      if (this.outbox.has(saved.client_id)) continue;
      const timestamp = typeof saved.timestamp === 'string' ? saved.timestamp : new Date(this.now()).toISOString();
      this.queue(saved.client_id, saved.text, timestamp);
    }
    this.setConnection('connecting');
    const socket = this.options.connect(this.options.url, { ...DEFAULT_SOCKET_OPTIONS, ...this.options.socketOptions });
    this.socket = socket;
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
    if (socket.connected) this.onConnect();
    else socket.connect?.();
  }

  /** Queue a message (it shows at once as pending) and send it when possible. */
  send(text: string): SendResult {
    const check = validateMessage(text, this.options.messageMax ?? LIMITS.messageMax);
    if (!check.ok) return check;
    this.typingSender.stop();
    const clientId = this.makeClientId();
    const entry = this.queue(clientId, check.value, new Date(this.now()).toISOString());
    this.transmit(entry);
    return { ok: true, value: check.value, clientId };
  }

  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId: string): void {
    const entry = this.outbox.get(clientId);
    if (!entry || this.stopped) return;
    if (entry.state === 'inflight' && entry.generation === this.generation) return;
    entry.state = 'queued';
    entry.attempts = 0;
    entry.error = undefined;
    this.apply(this.timeline.updatePending(clientId, { status: 'pending', error: null, code: undefined, retryable: undefined }));
    this.transmit(entry);
  }

  /** Give up a message that was not acknowledged. */
  discard(clientId: string): void {
    this.outbox.settle(clientId);
    this.apply(this.timeline.removePending(clientId));
  }

  /** The input changed; `hasText` tells whether anything not blank is left in it. */
  typing(hasText: boolean): void {
    if (!this.stopped) this.typingSender.input(hasText);
  }

  /**
   * Leave the room for good: unsent messages are dropped, the server is told, and the
   * connection closes once it answered (or the ack timed out).
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.typingSender.stop();
    const wasJoined = this.joined;
    this.stopped = true;
    this.joined = false;
    this.sending = false;
    this.clearTimers();
    // Answers still awaited are moot now; their timers must not outlive the session.
    this.resolveOutstanding();
    this.outbox.clear();
    this.setConnection('left');
    if (wasJoined) await this.request<LeaveRoomAck>(EVENTS.client.LEAVE_ROOM, {}, false);
    this.closeSocket();
  }

  /** Feed a server event by hand, as if the socket delivered it (tests, custom transports). */
  receive(event: ServerEventName, payload: unknown): void {
    this.handlers[event]?.(payload);
  }

  // ---- Joining ---------------------------------------------------------------------

  private onConnect(): void {
    if (this.stopped) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.setConnection(this.everJoined ? 'reconnecting' : 'connecting');
    this.join();
  }

  private join(): void {
    if (!this.socket || this.stopped) return;
    this.joined = false;
    this.sending = false;
    this.resumeFrom = this.timeline.lastId;
    const generation = this.generation;
    this.joinAttempts += 1;
    const payload: { username: string; room: string; client_key?: string } = {
      username: this.options.username,
      room: this.room,
    };
    if (this.options.clientKey) payload.client_key = this.options.clientKey;
    void this.request<JoinRoomAck>(EVENTS.client.JOIN_ROOM, payload).then((ack) => {
      if (generation !== this.generation || this.stopped) return;
      if (ack === null) {
        if (this.socket?.connected) this.scheduleJoinRetry();
        return;
      }
      if (ack.ok) void this.onJoined(ack.username, generation);
      else this.onJoinRefused(ack);
    });
  }

  private async onJoined(username: string, generation: number): Promise<void> {
    this.joined = true;
    this.everJoined = true;
    this.joinAttempts = 0;
    if (typeof username === 'string' && username && username !== this.currentUsername) {
      this.currentUsername = username;
    }
    this.fire('username', this.currentUsername);
    this.setConnection('connected');
    this.fire('errorCleared');
    const resumeFrom = this.resumeFrom;
    this.resumeFrom = null;
    let filled: Promise<void> | null = null;
    if (resumeFrom !== null) filled = this.fillGap(resumeFrom);
    // A message seen between room_joined and this ack may have left a hole behind it.
    else if (this.timeline.hasGap()) filled = this.fillGap(this.timeline.lastId as number);
    if (filled && !this.options.sendDuringGapFill) await filled;
    if (generation !== this.generation || !this.joined) return;
    this.flushOutbox();
  }

  private onJoinRefused(ack: AckError): void {
    const retryable = ack.code === 'rate_limited' || ack.code === 'unavailable';
    const error: SessionError = { message: this.describe(ack.code, ack.error), code: ack.code, fatal: !retryable, source: 'join' };
    if (retryable) {
      this.fire('error', error);
      this.scheduleJoinRetry();
      return;
    }
    // name_taken / invalid: waiting cannot help; the person must pick again.
    this.stopWith(error);
  }

  private stopWith(error: SessionError): void {
    this.fire('error', error);
    this.closeSocket();
    this.setConnection('stopped');
  }

  private scheduleJoinRetry(): void {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.socket?.connected && !this.joined && !this.stopped) this.join();
    }, this.backoff(this.joinAttempts));
  }

  /** Join again on the same connection (the server forgot us). */
  private rejoin(): void {
    if (this.stopped || !this.socket?.connected) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }

  private onDisconnect(reason: string): void {
    this.joined = false;
    this.sending = false;
    this.generation += 1;
    this.resolveOutstanding();
    if (this.typingSender.isActive) this.fire('selfTyping', false);
    this.typingSender.reset();
    this.typingWatch.clear();
    for (const entry of this.outbox.values()) if (entry.state === 'inflight') entry.state = 'queued';
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = null;
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

  private onConnectError(): void {
    if (this.stopped) return;
    this.setConnection(this.everJoined ? 'reconnecting' : 'connecting');
  }

  // ---- Receiving -------------------------------------------------------------------

  private onRoomJoined(payload: RoomJoinedPayload): void {
    if (this.stopped || !payload || payload.room !== this.room) return;
    const list = Array.isArray(payload.messages) ? payload.messages : [];
    if (this.timeline.restartedBy(list)) {
      // The room's numbering restarted: start the list again; pending messages go again.
      this.apply(this.timeline.reset());
      this.resumeFrom = null;
    }
    const first = this.timeline.lastId === null;
    this.merge(list);
    if (first) this.timeline.begin();
    this.fire('roomJoined', { first, messages: list.length, username: typeof payload.username === 'string' ? payload.username : this.currentUsername });
  }

  private onNewMessage(message: Message): void {
    if (this.stopped || !isMessage(message) || message.room !== this.room) return;
    this.typingWatch.drop(message.username);
    this.merge([message], sameName(message.username, this.currentUsername));
    this.fillIfGap();
  }

  /** Merge stored messages; any that came back from the outbox leave it. */
  private merge(messages: readonly unknown[], scroll = false): void {
    const changes = this.timeline.addMessages(messages);
    for (const message of messages) {
      const clientId = (message as Message | null)?.client_id;
      if (typeof clientId === 'string' && clientId) this.outbox.settle(clientId);
    }
    this.apply(changes, scroll);
    for (const change of changes) {
      if (change.op === 'upsert' && change.item.kind === 'message') this.fire('message', change.item);
    }
  }

  private onPresence(variant: 'join' | 'leave', payload: UserPresencePayload): void {
    if (this.stopped || !payload || typeof payload.username !== 'string') return;
    if (variant === 'leave') this.typingWatch.drop(payload.username);
    this.apply(
      this.timeline.addNotice(variant, {
        name: payload.username,
        text: typeof payload.message === 'string' ? payload.message : '',
        timestamp: new Date(this.now()).toISOString(),
      }),
    );
  }

  private onRoomUsers(payload: RoomUsersPayload): void {
    if (this.stopped || !payload || payload.room !== this.room || !Array.isArray(payload.users)) return;
    this.roomUsers = payload.users;
    this.roomCount = typeof payload.count === 'number' ? payload.count : payload.users.length;
    this.fire('users', this.roomUsers, this.roomCount);
  }

  private onUserTyping(payload: UserTypingPayload): void {
    if (this.stopped || !payload || typeof payload.username !== 'string') return;
    if (sameName(payload.username, this.currentUsername)) return;
    this.typingWatch.set(payload.username, Boolean(payload.is_typing));
  }

  private onServerError(payload: ErrorPayload): void {
    if (this.stopped || !payload) return;
    const text = typeof payload.message === 'string' ? payload.message : '';
    if (payload.code === 'name_taken') {
      // The server lost our presence (Redis data loss) and someone took the name meanwhile.
      this.stopWith({ message: this.describe(payload.code, text), code: payload.code, fatal: true, source: 'join' });
      return;
    }
    this.fire('error', { message: this.describe(payload.code, text), code: payload.code, fatal: false, source: 'server' });
    // The server forgot us (it restarted, or Redis lost our membership): join and resume.
    if (payload.code === 'not_in_room' && this.joined) this.rejoin();
  }

  // ---- Gap fill --------------------------------------------------------------------

  private fillIfGap(): void {
    if (this.joined && this.timeline.hasGap()) void this.fillGap(this.timeline.lastId as number);
  }

  /**
   * Fetch everything after `since` with get_history since_id, page after page while
   * has_more. One fill runs per connection: a jump seen while it runs is covered by it, or
   * by one more round from the new high-water mark.
   */
  private fillGap(since: number): Promise<void> {
    if (this.fill && this.fill.generation === this.generation) return this.fill.done;
    const generation = this.generation;
    const fill = { generation, done: Promise.resolve() };
    fill.done = (async () => {
      try {
        let from = since;
        for (let round = 0; round < MAX_FILL_ROUNDS; round += 1) {
          const reached = await this.fetchSince(from, generation);
          if (reached === null) {
            // The store is down or the ack timed out: try again; a new connection resumes anyway.
            if (generation === this.generation && this.joined) this.scheduleFillRetry();
            return;
          }
          if (reached > from) this.timeline.acceptFetched(reached);
          else this.timeline.skipHole(); // the server no longer has those ids
          if (!this.timeline.hasGap()) return;
          from = this.timeline.lastId as number;
        }
      } finally {
        if (this.fill === fill) this.fill = null;
      }
    })();
    this.fill = fill;
    return fill.done;
  }

  private scheduleFillRetry(): void {
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = setTimeout(() => {
      this.fillTimer = null;
      if (!this.stopped) this.fillIfGap();
    }, this.backoff(1));
  }

  /** Pages get_history since_id from `from`; the last id reached, or null on failure. */
  private async fetchSince(from: number, generation: number): Promise<number | null> {
    let since = from;
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      // No `limit`: with since_id the server sends its largest page (HISTORY_LIMIT), and a
      // fixed number could exceed a server configured with a smaller one.
      const ack = await this.request<GetHistoryAck>(EVENTS.client.GET_HISTORY, {
        room: this.room,
        since_id: formatId(since),
      });
      if (ack === null || !ack.ok || generation !== this.generation) return null;
      const list = Array.isArray(ack.messages) ? ack.messages : [];
      this.merge(list);
      for (const m of list) since = Math.max(since, parseId(m?.id) || 0);
      if (!ack.has_more || list.length === 0) return since;
    }
    return since;
  }

  // ---- Sending ---------------------------------------------------------------------

  private queue(clientId: string, text: string, timestamp: string): OutboxEntry {
    const entry = this.outbox.add(clientId, text, timestamp);
    this.apply(this.timeline.addPending({ client_id: clientId, message: text, username: this.currentUsername, timestamp }), true);
    return entry;
  }

  private transmit(entry: OutboxEntry): void {
    // Never emit while disconnected: socket.io-client would replay its buffer before our
    // join_room on reconnection, and the server would answer not_in_room.
    if (!this.socket?.connected || !this.joined || !this.sending || this.stopped) return;
    if (!this.outbox.has(entry.clientId) || entry.state === 'failed') return;
    if (entry.state === 'inflight' && entry.generation === this.generation) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.state = 'inflight';
    entry.attempts += 1;
    entry.sends += 1;
    const send = entry.sends;
    const generation = this.generation;
    entry.generation = generation;
    void this.request<SendMessageAck>(EVENTS.client.SEND_MESSAGE, {
      message: entry.text,
      client_id: entry.clientId,
    }).then((ack) => this.onSendAck(entry, send, generation, ack));
  }

  private onSendAck(entry: OutboxEntry, send: number, generation: number, ack: SendMessageAck | null): void {
    if (this.stopped) return;
    if (ack?.ok) {
      // Even a late ack (an older attempt) is the stored message: merge it.
      if (isMessage(ack.message)) this.merge([ack.message]);
      if (this.outbox.settle(entry.clientId)) this.apply(this.timeline.removePending(entry.clientId));
      this.fillIfGap();
      return;
    }
    if (!this.outbox.has(entry.clientId) || send !== entry.sends) return;
    entry.state = 'queued';
    if (ack === null) {
      // No answer in time on a live connection: send again. Lost with the connection:
      // the next join re-sends it.
      if (generation === this.generation && this.joined) this.scheduleResend(entry);
      return;
    }
    switch (ack.code) {
      case 'unavailable':
        this.scheduleResend(entry);
        break;
      case 'rate_limited':
        if (this.options.resendRateLimited === false) this.fail(entry, ack, true);
        else this.scheduleResend(entry);
        break;
      case 'not_in_room':
        if (generation === this.generation) this.rejoin();
        break;
      default:
        this.fail(entry, ack, false);
    }
  }

  private fail(entry: OutboxEntry, ack: AckError, retryable: boolean): void {
    entry.state = 'failed';
    entry.error = this.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: 'failed', error: entry.error, code: ack.code, retryable }));
    this.fire('error', { message: entry.error, code: ack.code, fatal: false, source: 'send', clientId: entry.clientId });
  }

  private scheduleResend(entry: OutboxEntry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.outbox.has(entry.clientId)) this.transmit(entry);
    }, this.backoff(entry.attempts));
  }

  /** Send, in order, every queued message not acknowledged yet; later ones go at once. */
  private flushOutbox(): void {
    this.sending = true;
    for (const entry of this.outbox.values()) this.transmit(entry);
  }

  private backoff(attempts: number): number {
    return Math.min(this.retryBaseDelayMs * 2 ** Math.max(0, attempts - 1), this.retryMaxDelayMs);
  }

  // ---- Typing ----------------------------------------------------------------------

  private emitTyping(isTyping: boolean): void {
    this.fire('selfTyping', isTyping);
    if (this.joined && this.socket?.connected) this.socket.emit(EVENTS.client.TYPING, { is_typing: isTyping });
  }

  // ---- Plumbing --------------------------------------------------------------------

  private apply(changes: TimelineChange[], scroll = false): void {
    if (changes.length) this.fire('timeline', changes, { scroll });
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

  private clearTimers(): void {
    for (const timer of [this.joinTimer, this.fillTimer, this.reconnectTimer]) if (timer) clearTimeout(timer);
    this.joinTimer = null;
    this.fillTimer = null;
    this.reconnectTimer = null;
    this.typingSender.reset();
    this.typingWatch.clear();
    this.outbox.cancelTimers();
  }

  /** Stop for good: no more reconnections, timers or callbacks. */
  private closeSocket(): void {
    this.stopped = true;
    this.joined = false;
    this.clearTimers();
    this.resolveOutstanding();
    const socket = this.socket;
    if (!socket) return;
    for (const [event, handler] of Object.entries(this.handlers)) socket.off?.(event, handler);
    socket.disconnect();
  }
}
