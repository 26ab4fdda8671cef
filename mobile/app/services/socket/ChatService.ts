/**
 * The app's binding of the client core (@talkrooms/client, client/ in the repository).
 * The core owns the chat logic — join and rejoin, gap fill with get_history since_id, the
 * outbox re-sent with the same client_ids, ack states, typing (docs/protocol.md); this class
 * turns its events into one immutable `ChatState` that screens read through
 * `subscribe`/`getState` (useSyncExternalStore), and keeps the app's item shapes.
 */

import {
  ChatSession,
  formatId,
  parseId,
  sameName,
  type ConnectionState as CoreConnectionState,
  type ErrorCode,
  type Message,
  type RoomUser,
  type SocketFactory,
  type TimelineItem,
} from '@talkrooms/client';

import { strip } from './validation';

export type { SocketFactory, SocketLike } from '@talkrooms/client';

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

const CONNECTION: Record<CoreConnectionState, ConnectionState> = {
  connecting: 'connecting',
  connected: 'online',
  reconnecting: 'reconnecting',
  stopped: 'offline',
  left: 'left',
};

/** "000000000042" → 42; NaN when it is not a message id. */
export const parseMessageId = parseId;
/** 42 → "000000000042". */
export const formatMessageId = formatId;

export class ChatService {
  readonly serverUrl: string;
  readonly room: string;

  private readonly core: ChatSession;
  private readonly listeners = new Set<() => void>();
  private state: ChatState;
  private fatal = false;
  /** The app's item for each stored message or notice of the core (same object each time). */
  private readonly shown = new WeakMap<TimelineItem, ChatItem | null>();

  constructor(options: ChatServiceOptions) {
    this.serverUrl = options.serverUrl;
    this.room = options.room;
    this.core = new ChatSession({
      url: options.serverUrl,
      username: options.username,
      room: options.room,
      clientKey: options.clientKey,
      connect: options.socketFactory,
      // WebSocket only: no sticky sessions needed, and React Native avoids polling quirks.
      socketOptions: { transports: ['websocket'] },
      makeClientId: options.makeClientId,
      now: options.now,
      ackTimeoutMs: options.ackTimeoutMs,
      retryBaseDelayMs: options.resendBaseDelayMs,
      retryMaxDelayMs: options.resendMaxDelayMs,
    });
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
    const { core } = this;
    core.on('timeline', () => this.publish());
    core.on('connection', (connection) => {
      if (connection === 'stopped') this.fatal = true;
      const over = connection === 'stopped' || connection === 'left';
      this.setState(over ? { connection: CONNECTION[connection], typing: [] } : { connection: CONNECTION[connection] });
    });
    core.on('username', (username) => {
      if (username === this.state.username) return;
      this.state = { ...this.state, username };
      this.publish();
    });
    core.on('errorCleared', () => this.setState({ error: null }));
    core.on('error', ({ message, code }) => this.setState({ error: { message, code } }));
    core.on('users', (users, userCount) => this.setState({ users, userCount }));
    core.on('typing', (typing) => this.setState({ typing }));
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
    this.core.start();
  }

  /** Queue a message and send it when possible. The text is validated first. */
  send(text: string): SendResult {
    const result = this.core.send(text);
    return result.ok ? { ok: true, clientId: result.clientId } : result;
  }

  /** Send a message again that the server refused for good, or drop it with `discard`. */
  retry(clientId: string): void {
    this.core.retry(clientId);
  }

  discard(clientId: string): void {
    this.core.discard(clientId);
  }

  /** Call on every change of the input: sends typing true at most every 2 s, false after 3 s idle. */
  setComposerText(text: string): void {
    this.core.typing(strip(text) !== '');
  }

  dismissError(): void {
    this.setState({ error: null });
  }

  /** Leave the room and close the connection for good (once the server answered). */
  leave(): Promise<void> {
    return this.core.leave();
  }

  /** True once the server refused us for good (name taken, invalid). */
  get isFatal(): boolean {
    return this.fatal;
  }

  // ---- State -----------------------------------------------------------------------

  private setState(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    this.emitChange();
  }

  /** Rebuild the item list from the core's timeline. */
  private publish(): void {
    const items: ChatItem[] = [];
    for (const entry of this.core.timeline.list()) {
      const item = this.toItem(entry);
      if (item) items.push(item);
    }
    this.state = { ...this.state, items };
    this.emitChange();
  }

  private toItem(entry: TimelineItem): ChatItem | null {
    if (entry.kind === 'pending') {
      return {
        kind: 'pending',
        key: `p-${entry.client_id}`,
        clientId: entry.client_id,
        username: this.state.username,
        message: entry.message,
        timestamp: entry.timestamp,
        error: entry.status === 'failed' ? (entry.error ?? undefined) : undefined,
      };
    }
    const known = this.shown.get(entry);
    if (known !== undefined) return known;
    let item: ChatItem | null = null;
    if (entry.kind === 'message') {
      const message: Message = {
        id: entry.id,
        username: entry.username,
        message: entry.message,
        timestamp: entry.timestamp,
        room: entry.room,
        type: entry.type,
      };
      if (entry.client_id) message.client_id = entry.client_id;
      const own = entry.status === 'sent' || sameName(entry.username, this.state.username);
      item = { kind: 'message', key: `m-${entry.id}`, message, own };
    } else if (entry.variant === 'join' || entry.variant === 'leave') {
      const { name, text, timestamp } = entry.params as { name: string; text: string; timestamp: string };
      item = {
        kind: 'notification',
        key: `n-${entry.key}`,
        event: entry.variant === 'join' ? 'joined' : 'left',
        username: name,
        text,
        timestamp,
      };
    }
    this.shown.set(entry, item);
    return item;
  }

  private emitChange(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
