/**
 * The one owner of the chat connection. A plain TypeScript class with no UI code: screens
 * read its state through `subscribe`/`getState` and call its actions. The socket comes from
 * an injected factory, so tests drive it with a fake socket.
 *
 * Delivery rules it keeps (docs/protocol.md):
 * - every message the user sends gets a client_id and stays in a pending queue until the
 *   server acknowledges it (or echoes it back); the queue is re-sent with the same ids after
 *   a reconnect and on `unavailable` / `rate_limited` errors;
 * - after a reconnect it rejoins the room and fills the gap with `get_history since_id`,
 *   looping while `has_more`; an id jump in `new_message` triggers the same gap fill;
 * - messages are merged by id and by client_id and kept sorted by id, so nothing shows twice.
 */

import { sameName } from './names';
import { strip, validateMessage } from './validation';
import {
  PROTOCOL_LIMITS,
  type Ack,
  type AckError,
  type ErrorCode,
  type ErrorPayload,
  type GetHistoryAck,
  type JoinRoomAck,
  type Message,
  type RoomJoinedPayload,
  type RoomUser,
  type RoomUsersPayload,
  type SendMessageAck,
  type UserPresencePayload,
  type UserTypingPayload,
} from './protocol';

type Listener = (...args: any[]) => void;

/** The part of a socket.io-client `Socket` the service uses. */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener?: Listener): unknown;
  emit(event: string, ...args: any[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type SocketFactory = (serverUrl: string) => SocketLike;

/** What the header shows: joining, in the room, trying to get back, or given up. */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'left';

export interface MessageItem {
  kind: 'message';
  key: string;
  message: Message;
  own: boolean;
}
export interface PendingItem {
  kind: 'pending';
  key: string;
  clientId: string;
  username: string;
  message: string;
  timestamp: string;
  /** Set when the server refused the message for good (`invalid`). */
  error?: string;
}
export interface NotificationItem {
  kind: 'notification';
  key: string;
  event: 'joined' | 'left';
  username: string;
  /** The server's English sentence; the UI may render its own wording from `username`. */
  text: string;
  timestamp: string;
}
export type ChatItem = MessageItem | PendingItem | NotificationItem;

export interface ChatError {
  message: string;
  code?: ErrorCode;
}

export interface ChatState {
  room: string;
  /** Our name as the server spells it once joined. */
  username: string;
  connection: ConnectionState;
  /** Messages sorted by id, notifications where they happened, pending messages last. */
  items: ChatItem[];
  users: RoomUser[];
  userCount: number;
  /** Others typing now, in the order they started. */
  typing: string[];
  error: ChatError | null;
}

export interface ChatServiceOptions {
  serverUrl: string;
  username: string;
  room: string;
  clientKey?: string;
  socketFactory: SocketFactory;
  makeClientId: () => string;
  now?: () => number;
  /** First delay before re-sending after `unavailable`/`rate_limited`; doubles each try. */
  resendBaseDelayMs?: number;
  resendMaxDelayMs?: number;
  /** How long to wait for an ack before treating the request as lost. */
  ackTimeoutMs?: number;
}

export type SendResult = { ok: true; clientId: string } | { ok: false; error: string };

interface PendingMessage {
  clientId: string;
  message: string;
  timestamp: string;
  attempts: number;
  /** Connection generation of the attempt awaiting an ack, or null. */
  inFlight: number | null;
  retryTimer: ReturnType<typeof setTimeout> | null;
  error?: string;
}

interface StoredNotification {
  item: NotificationItem;
  /** Shown after the message with this id (the newest held when it arrived). */
  anchor: number;
  seq: number;
}

const ID_WIDTH = 12;
const MAX_NOTIFICATIONS = 200;
const MAX_GAP_FILL_ROUNDS = 3;
const MAX_HISTORY_PAGES = 1000;

/** "000000000042" → 42; NaN when it is not a message id. */
export function parseMessageId(id: unknown): number {
  return typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : NaN;
}

/** 42 → "000000000042". */
export function formatMessageId(n: number): string {
  return String(n).padStart(ID_WIDTH, '0');
}

function isMessage(value: unknown): value is Message {
  const m = value as Message | null;
  return (
    !!m &&
    typeof m === 'object' &&
    !Number.isNaN(parseMessageId(m.id)) &&
    typeof m.username === 'string' &&
    typeof m.message === 'string'
  );
}

export class ChatService {
  readonly serverUrl: string;
  readonly room: string;

  private readonly options: Required<Omit<ChatServiceOptions, 'clientKey'>> & {
    clientKey?: string;
  };
  private socket: SocketLike | null = null;
  private readonly listeners = new Set<() => void>();
  private state: ChatState;

  // Messages, sorted by numeric id, and the indexes that deduplicate them.
  private messages: Message[] = [];
  private readonly byId = new Map<string, MessageItem>();
  private readonly byClientId = new Map<string, string>();
  private readonly ownClientIds = new Set<string>();
  private readonly pending = new Map<string, PendingMessage>();
  private notifications: StoredNotification[] = [];
  private notificationSeq = 0;

  // Connection and sync bookkeeping.
  private username: string;
  private generation = 0;
  private joined = false;
  private everJoined = false;
  private stopped = false;
  private fatal = false;
  /** Every id up to this one that the server still has is held (null before the first join). */
  private syncedTo: number | null = null;
  /** Where to resume from after the current (re)join, or null on the first join. */
  private resumeFrom: number | null = null;
  private gapFill: Promise<void> | null = null;
  private joinRetryTimer: ReturnType<typeof setTimeout> | null = null;
  private joinAttempts = 0;
  private readonly outstanding = new Set<(value: null) => void>();

  // Typing, ours and others'.
  private typingActive = false;
  private lastTypingSentAt = 0;
  private typingIdleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly typers = new Map<string, ReturnType<typeof setTimeout>>();

  private readonly handlers: Record<string, Listener>;

  constructor(options: ChatServiceOptions) {
    this.options = {
      now: () => Date.now(),
      resendBaseDelayMs: 1000,
      resendMaxDelayMs: 15000,
      ackTimeoutMs: 10000,
      ...options,
    };
    this.serverUrl = options.serverUrl;
    this.room = options.room;
    this.username = options.username;
    this.state = {
      room: options.room,
      username: options.username,
      connection: 'connecting',
      items: [],
      users: [],
      userCount: 0,
      typing: [],
      error: null,
    };
    this.handlers = {
      connect: () => this.onConnect(),
      disconnect: (reason: string) => this.onDisconnect(reason),
      connect_error: () => this.onConnectError(),
      room_joined: (p: RoomJoinedPayload) => this.onRoomJoined(p),
      new_message: (m: Message) => this.onNewMessage(m),
      user_joined: (p: UserPresencePayload) => this.onPresence('joined', p),
      user_left: (p: UserPresencePayload) => this.onPresence('left', p),
      room_users: (p: RoomUsersPayload) => this.onRoomUsers(p),
      user_typing: (p: UserTypingPayload) => this.onUserTyping(p),
      error: (p: ErrorPayload) => this.onServerError(p),
    };
  }

  // ---- Public API ----------------------------------------------------------------

  /** Subscribe to state changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** The current immutable state snapshot. */
  getState = (): ChatState => this.state;

  /** Open the connection and join the room. */
  start(): void {
    if (this.socket || this.stopped) return;
    const socket = this.options.socketFactory(this.serverUrl);
    this.socket = socket;
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
    if (socket.connected) this.onConnect();
    else socket.connect();
  }

  /** Queue a message and send it when possible. The text is validated first. */
  send(text: string): SendResult {
    const checked = validateMessage(text);
    if (!checked.ok) return checked;
    this.stopTyping();
    const clientId = this.options.makeClientId();
    this.ownClientIds.add(clientId);
    const pending: PendingMessage = {
      clientId,
      message: checked.value,
      timestamp: new Date(this.options.now()).toISOString(),
      attempts: 0,
      inFlight: null,
      retryTimer: null,
    };
    this.pending.set(clientId, pending);
    this.publish();
    this.trySend(pending);
    return { ok: true, clientId };
  }

  /** Send a message again that the server refused for good, or drop it with `discard`. */
  retry(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p) return;
    p.error = undefined;
    p.attempts = 0;
    this.publish();
    this.trySend(p);
  }

  discard(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p) return;
    if (p.retryTimer) clearTimeout(p.retryTimer);
    this.pending.delete(clientId);
    this.publish();
  }

  /** Call on every change of the input: sends typing true at most every 2 s, false after 3 s idle. */
  setComposerText(text: string): void {
    if (!strip(text)) {
      this.stopTyping();
      return;
    }
    if (!this.joined || !this.socket) return;
    const now = this.options.now();
    if (!this.typingActive || now - this.lastTypingSentAt >= PROTOCOL_LIMITS.typingThrottleMs) {
      this.socket.emit('typing', { is_typing: true });
      this.typingActive = true;
      this.lastTypingSentAt = now;
    }
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(), PROTOCOL_LIMITS.typingIdleMs);
  }

  dismissError(): void {
    this.setState({ error: null });
  }

  /** Leave the room and close the connection for good. */
  leave(): void {
    if (this.stopped) return;
    this.stopTyping();
    const socket = this.socket;
    if (socket && this.joined) socket.emit('leave_room', {});
    this.closeSocket();
    this.setState({ connection: 'left', typing: [] });
  }

  // ---- Connection ----------------------------------------------------------------

  private onConnect(): void {
    if (this.stopped) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.setState({ connection: this.everJoined ? 'reconnecting' : 'connecting' });
    this.join();
  }

  private join(): void {
    const socket = this.socket;
    if (!socket || this.stopped) return;
    this.joined = false;
    // Where this connection must resume from: the last id held without a hole.
    this.resumeFrom = this.syncedTo;
    const generation = this.generation;
    this.joinAttempts += 1;
    const payload: { username: string; room: string; client_key?: string } = {
      username: this.options.username,
      room: this.room,
    };
    if (this.options.clientKey) payload.client_key = this.options.clientKey;
    void this.request<JoinRoomAck>('join_room', payload).then((ack) => {
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
    if (typeof username === 'string' && username) this.username = username;
    this.setState({ connection: 'online', username: this.username, error: null });
    const resumeFrom = this.resumeFrom;
    this.resumeFrom = null;
    if (resumeFrom !== null) await this.fillGap(resumeFrom);
    // A message seen between room_joined and this ack may have left a hole behind it.
    else if (this.syncedTo !== null && this.maxHeldId() > this.syncedTo) {
      await this.fillGap(this.syncedTo);
    }
    if (generation !== this.generation || !this.joined) return;
    this.flushPending();
  }

  private onJoinRefused(ack: AckError): void {
    this.setState({ error: { message: ack.error, code: ack.code } });
    if (ack.code === 'rate_limited' || ack.code === 'unavailable') {
      this.scheduleJoinRetry();
      return;
    }
    // name_taken / invalid: retrying cannot help; stop and let the user go back.
    this.fatal = true;
    this.closeSocket();
    this.setState({ connection: 'offline', typing: [] });
  }

  private scheduleJoinRetry(): void {
    if (this.joinRetryTimer) clearTimeout(this.joinRetryTimer);
    const delay = this.backoff(this.joinAttempts);
    this.joinRetryTimer = setTimeout(() => {
      this.joinRetryTimer = null;
      if (this.socket?.connected && !this.joined) this.join();
    }, delay);
  }

  private onDisconnect(reason: string): void {
    this.joined = false;
    this.generation += 1;
    this.resolveOutstanding();
    this.typingActive = false;
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    this.clearTypers();
    if (this.stopped) return;
    this.setState({ connection: 'reconnecting', typing: [] });
    // socket.io does not reconnect by itself after a server-side disconnect.
    if (reason === 'io server disconnect') this.socket?.connect();
  }

  private onConnectError(): void {
    if (this.stopped) return;
    this.setState({ connection: this.everJoined ? 'reconnecting' : 'connecting' });
  }

  // ---- Messages ------------------------------------------------------------------

  private onRoomJoined(payload: RoomJoinedPayload): void {
    if (!payload || payload.room !== this.room) return;
    const list = Array.isArray(payload.messages) ? payload.messages : [];
    if (this.numberingRestarted(list)) this.forgetMessages();
    this.mergeMany(list);
    if (this.syncedTo === null) {
      // First join: the server sent its newest messages; we hold everything from there on.
      this.syncedTo = list.reduce((max, m) => Math.max(max, parseMessageId(m?.id) || 0), 0);
      this.advanceSynced();
    }
    this.publish();
  }

  private onNewMessage(message: Message): void {
    if (!isMessage(message) || (message.room && message.room !== this.room)) return;
    const added = this.merge(message);
    if (added) this.dropTyper(message.username);
    if (this.syncedTo !== null) {
      this.advanceSynced();
      // An id jump: something was missed in between; fetch it.
      if (this.joined && this.maxHeldId() > this.syncedTo) void this.fillGap(this.syncedTo);
    }
    if (added) this.publish();
  }

  /**
   * `room_joined` carries the room's current history. Ids only grow, so a newest id below
   * one we hold, or a held id now naming another message, means the numbering restarted
   * (the whole history expired, or the store was wiped): the list must start again.
   */
  private numberingRestarted(list: unknown[]): boolean {
    if (this.messages.length === 0) return false;
    let newest = 0;
    for (const m of list) {
      if (!isMessage(m)) continue;
      newest = Math.max(newest, parseMessageId(m.id));
      const held = this.byId.get(m.id)?.message;
      if (held && (held.timestamp !== m.timestamp || held.username !== m.username)) return true;
    }
    return newest < this.maxHeldId();
  }

  /** Drop every stored message and notification; pending messages stay and go again. */
  private forgetMessages(): void {
    this.messages = [];
    this.byId.clear();
    this.byClientId.clear();
    this.notifications = [];
    this.syncedTo = null;
    this.resumeFrom = null;
  }

  private mergeMany(list: unknown[]): boolean {
    let changed = false;
    for (const m of list) if (isMessage(m) && this.merge(m)) changed = true;
    return changed;
  }

  /** Add a message unless held already (by id or client_id); settle its pending entry. */
  private merge(message: Message): boolean {
    if (message.client_id) this.settlePending(message.client_id);
    if (this.byId.has(message.id)) return false;
    if (message.client_id && this.byClientId.has(message.client_id)) return false;
    const own =
      (!!message.client_id && this.ownClientIds.has(message.client_id)) ||
      sameName(message.username, this.username);
    const item: MessageItem = {
      kind: 'message',
      key: `m-${message.id}`,
      message: { ...message, type: message.type ?? 'message' },
      own,
    };
    this.byId.set(message.id, item);
    if (message.client_id) this.byClientId.set(message.client_id, message.id);
    // Binary insertion keeps the list sorted by id; arrivals are nearly always at the end.
    const id = parseMessageId(message.id);
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (parseMessageId(this.messages[mid].id) < id) lo = mid + 1;
      else hi = mid;
    }
    this.messages.splice(lo, 0, item.message);
    return true;
  }

  private settlePending(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p) return;
    if (p.retryTimer) clearTimeout(p.retryTimer);
    this.pending.delete(clientId);
  }

  private maxHeldId(): number {
    const last = this.messages[this.messages.length - 1];
    return last ? parseMessageId(last.id) : 0;
  }

  /** Move syncedTo over every id we hold right after it. */
  private advanceSynced(): void {
    if (this.syncedTo === null) return;
    let next = this.syncedTo + 1;
    while (this.byId.has(formatMessageId(next))) next += 1;
    this.syncedTo = next - 1;
  }

  /**
   * Fetch everything after `since` with get_history since_id, page after page while
   * has_more. One fill runs per connection: a jump seen while it runs is covered by it, or
   * by one more round from the new high-water mark if messages came in behind it.
   */
  private fillGap(since: number): Promise<void> {
    if (this.gapFill && this.gapFillGeneration === this.generation) return this.gapFill;
    // A fill from an older connection stops by itself at its next page.
    const generation = this.generation;
    this.gapFillGeneration = generation;
    let fill: Promise<void> | null = null;
    fill = (async () => {
      try {
        let from = since;
        for (let round = 0; round < MAX_GAP_FILL_ROUNDS; round += 1) {
          const reached = await this.fetchSince(from, generation);
          // Connection lost or replaced: the next join resumes from syncedTo.
          if (reached === null) return;
          // Holes left below what the server just gave are gone on the server too.
          this.syncedTo = Math.max(this.syncedTo ?? 0, reached);
          this.advanceSynced();
          if (this.maxHeldId() <= this.syncedTo) return;
          from = this.syncedTo;
        }
        // Still a hole after several rounds: the server no longer has those messages.
        this.syncedTo = Math.max(this.syncedTo ?? 0, this.maxHeldId());
      } finally {
        if (this.gapFill === fill) this.gapFill = null;
      }
    })();
    this.gapFill = fill;
    return fill as Promise<void>;
  }

  private gapFillGeneration = 0;

  /** Pages get_history since_id from `from`; returns the last id reached, or null on failure. */
  private async fetchSince(from: number, generation: number): Promise<number | null> {
    let since = from;
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      // No `limit`: with since_id the server sends its largest page (HISTORY_LIMIT), and a
      // fixed number could exceed a server configured with a smaller one.
      const ack = await this.request<GetHistoryAck>('get_history', {
        room: this.room,
        since_id: formatMessageId(since),
      });
      if (ack === null || !ack.ok || generation !== this.generation) return null;
      const list = Array.isArray(ack.messages) ? ack.messages : [];
      if (this.mergeMany(list)) this.publish();
      for (const m of list) since = Math.max(since, parseMessageId(m?.id) || 0);
      if (!ack.has_more || list.length === 0) return since;
    }
    return since;
  }

  // ---- Sending -------------------------------------------------------------------

  private trySend(p: PendingMessage): void {
    if (!this.socket || !this.joined || p.error) return;
    if (p.inFlight === this.generation) return;
    if (p.retryTimer) clearTimeout(p.retryTimer);
    p.retryTimer = null;
    p.attempts += 1;
    const generation = this.generation;
    p.inFlight = generation;
    void this.request<SendMessageAck>('send_message', {
      message: p.message,
      client_id: p.clientId,
    }).then((ack) => {
      if (p.inFlight === generation) p.inFlight = null;
      if (!this.pending.has(p.clientId) || this.stopped) return;
      if (ack === null) {
        // Lost with the connection: the next join re-sends it. A timeout on a live one retries.
        if (generation === this.generation && this.joined) this.scheduleResend(p);
        return;
      }
      if (ack.ok) {
        if (isMessage(ack.message)) this.merge(ack.message);
        this.settlePending(p.clientId);
        this.onAfterSent();
        return;
      }
      switch (ack.code) {
        case 'unavailable':
        case 'rate_limited':
          this.scheduleResend(p);
          break;
        case 'not_in_room':
          if (generation === this.generation) this.rejoin();
          break;
        default:
          p.error = ack.error;
          this.state = { ...this.state, error: { message: ack.error, code: ack.code } };
          this.publish();
      }
    });
  }

  private onAfterSent(): void {
    if (this.syncedTo !== null) this.advanceSynced();
    this.publish();
  }

  private scheduleResend(p: PendingMessage): void {
    if (p.retryTimer) clearTimeout(p.retryTimer);
    p.retryTimer = setTimeout(() => {
      p.retryTimer = null;
      if (this.pending.has(p.clientId)) this.trySend(p);
    }, this.backoff(p.attempts));
  }

  private backoff(attempts: number): number {
    const { resendBaseDelayMs, resendMaxDelayMs } = this.options;
    return Math.min(resendBaseDelayMs * 2 ** Math.max(0, attempts - 1), resendMaxDelayMs);
  }

  /** Send, in order, every queued message not yet acknowledged. */
  private flushPending(): void {
    for (const p of this.pending.values()) this.trySend(p);
  }

  private rejoin(): void {
    if (this.stopped || !this.socket?.connected) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }

  // ---- Presence and typing ---------------------------------------------------------

  private onPresence(event: 'joined' | 'left', payload: UserPresencePayload): void {
    if (!payload || typeof payload.username !== 'string') return;
    if (event === 'left') this.dropTyper(payload.username);
    this.notificationSeq += 1;
    const seq = this.notificationSeq;
    this.notifications.push({
      anchor: this.maxHeldId(),
      seq,
      item: {
        kind: 'notification',
        key: `n-${seq}`,
        event,
        username: payload.username,
        text: typeof payload.message === 'string' ? payload.message : '',
        timestamp: new Date(this.options.now()).toISOString(),
      },
    });
    if (this.notifications.length > MAX_NOTIFICATIONS) this.notifications.shift();
    this.publish();
  }

  private onRoomUsers(payload: RoomUsersPayload): void {
    if (!payload || (payload.room && payload.room !== this.room)) return;
    const users = Array.isArray(payload.users) ? payload.users : [];
    this.setState({
      users,
      userCount: typeof payload.count === 'number' ? payload.count : users.length,
    });
  }

  private onUserTyping(payload: UserTypingPayload): void {
    if (!payload || typeof payload.username !== 'string') return;
    if (sameName(payload.username, this.username)) return;
    if (!payload.is_typing) {
      this.dropTyper(payload.username);
      return;
    }
    const existing = this.typers.get(payload.username);
    if (existing) clearTimeout(existing);
    this.typers.set(
      payload.username,
      setTimeout(() => this.dropTyper(payload.username), PROTOCOL_LIMITS.typingExpireMs),
    );
    if (!existing) this.setState({ typing: [...this.typers.keys()] });
  }

  private dropTyper(username: string): void {
    const timer = this.typers.get(username);
    if (!timer) return;
    clearTimeout(timer);
    this.typers.delete(username);
    this.setState({ typing: [...this.typers.keys()] });
  }

  private clearTypers(): void {
    for (const timer of this.typers.values()) clearTimeout(timer);
    this.typers.clear();
  }

  private stopTyping(): void {
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    if (!this.typingActive) return;
    this.typingActive = false;
    if (this.socket && this.joined) this.socket.emit('typing', { is_typing: false });
  }

  private onServerError(payload: ErrorPayload): void {
    if (!payload || typeof payload.message !== 'string') return;
    if (payload.code === 'name_taken') {
      // The server lost our presence (Redis data loss) and someone took the name meanwhile.
      this.onJoinRefused({ ok: false, error: payload.message, code: payload.code });
      return;
    }
    this.setState({ error: { message: payload.message, code: payload.code } });
    // The server forgot us (e.g. it restarted): join again and resume.
    if (payload.code === 'not_in_room' && this.joined) this.rejoin();
  }

  // ---- Plumbing ------------------------------------------------------------------

  /** Emit with an ack; resolves null if the connection drops or no ack comes in time. */
  private request<T extends Ack<object>>(event: string, payload: object): Promise<T | null> {
    const socket = this.socket;
    if (!socket) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      let done = false;
      const finish = (value: T | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.outstanding.delete(cancel);
        resolve(value);
      };
      const cancel = () => finish(null);
      const timer = setTimeout(cancel, this.options.ackTimeoutMs);
      this.outstanding.add(cancel);
      socket.emit(event, payload, (ack: T) => finish(ack && typeof ack === 'object' ? ack : null));
    });
  }

  /** Stop for good: no more reconnects, timers or callbacks. */
  private closeSocket(): void {
    this.stopped = true;
    this.joined = false;
    this.clearTimers();
    this.resolveOutstanding();
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    for (const [event, handler] of Object.entries(this.handlers)) socket.off(event, handler);
    socket.disconnect();
  }

  private resolveOutstanding(): void {
    for (const cancel of [...this.outstanding]) cancel(null);
  }

  private clearTimers(): void {
    if (this.joinRetryTimer) clearTimeout(this.joinRetryTimer);
    this.joinRetryTimer = null;
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    for (const p of this.pending.values()) {
      if (p.retryTimer) clearTimeout(p.retryTimer);
      p.retryTimer = null;
    }
    this.clearTypers();
  }

  private setState(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    this.emitChange();
  }

  /** Rebuild the item list from messages, notifications and the pending queue. */
  private publish(): void {
    const items: ChatItem[] = [];
    let n = 0;
    for (const message of this.messages) {
      const id = parseMessageId(message.id);
      while (n < this.notifications.length && this.notifications[n].anchor < id) {
        items.push(this.notifications[n].item);
        n += 1;
      }
      items.push(this.byId.get(message.id) as MessageItem);
    }
    for (; n < this.notifications.length; n += 1) items.push(this.notifications[n].item);
    for (const p of this.pending.values()) {
      items.push({
        kind: 'pending',
        key: `p-${p.clientId}`,
        clientId: p.clientId,
        username: this.username,
        message: p.message,
        timestamp: p.timestamp,
        error: p.error,
      });
    }
    this.state = { ...this.state, items };
    this.emitChange();
  }

  private emitChange(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** True once the server refused us for good (name taken, invalid). */
  get isFatal(): boolean {
    return this.fatal;
  }
}
