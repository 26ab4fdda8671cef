/**
 * The app's binding of the client core (@talkrooms/client, client/ in the repository).
 * The core owns the chat logic — join and rejoin, gap fill with get_history since_id, the
 * outbox re-sent with the same client_ids, ack states, typing, and in protocol 2 several
 * rooms, the room event log (edits, deletions, reactions), replies, mentions, read markers
 * and unread counts (docs/protocol.md); this class turns its events into one immutable
 * `ChatState` of the room shown (the core's active room) plus the room list, that screens
 * read through `subscribe`/`getState` (useSyncExternalStore), and keeps the app's item shapes.
 */

import {
  ChatSession,
  formatId,
  parseSanctionNotice,
  isPrivateRoom,
  type Conversation,
  parseId,
  sameName,
  type ActionResult,
  type ConnectionState as CoreConnectionState,
  type ErrorCode,
  type FileEntry,
  type Message,
  type ProtocolVersion,
  type ReplyPreview,
  type RoomEvent,
  type RoomSummary,
  type RoomUser,
  type SessionError,
  type SocketFactory,
  type SocketLike,
  type TimelineItem,
} from '@talkrooms/client';

import type { RoomRoles, RoomSettings, SanctionNotice } from '../moderation/api';
import { strip } from './validation';

export type { Conversation, FileEntry, ProtocolVersion, Reaction, ReplyPreview, RoomSummary, SocketFactory, SocketLike } from '@talkrooms/client';

/** What the header shows: joining, in the room, trying to get back, or given up. */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'left';

export interface MessageItem {
  kind: 'message';
  key: string;
  /** The stored message in its current state (protocol 2: edited_at, deleted, reactions…). */
  message: Message;
  own: boolean;
  /** Protocol 2, a reply: the original's quote; null while the core fetches it. */
  quote?: ReplyPreview | null;
  /** Protocol 2: one of the message's `mentions` is our name (look-alike rules). */
  mentionsMe?: boolean;
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
  /** Protocol 2: the message it answers, and that message's quote. */
  replyTo?: string;
  quote?: ReplyPreview | null;
  /** The uploads it shares. */
  files?: FileEntry[];
  /**
   * Held for a moderator's review (the `held` refusal): nobody sees it until approved. It
   * stays here marked "waiting for review" and is never sent again.
   */
  held?: true;
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
/** A moderation action in the room (the `moderation` event), where it happened in the list. */
export interface ModerationItem {
  kind: 'moderation';
  key: string;
  notice: SanctionNotice;
  /** When it reached us (the event has no time of its own). */
  timestamp: string;
  /** `sanctioned`: it is about us. */
  self: boolean;
}
export type ChatItem = MessageItem | PendingItem | NotificationItem | ModerationItem;

export interface ChatError {
  message: string;
  code?: ErrorCode;
  /** Protocol 2: the room it concerns, when the core knows it. */
  room?: string;
}

export interface ChatState {
  /** 2: several rooms and the room event log; 1: the seed's protocol (one room). */
  protocol: ProtocolVersion;
  /** The room shown (protocol 2: the core's active room). */
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
  /** Every joined room in the order joined, with unread and mention counts (one in protocol 1). */
  rooms: RoomSummary[];
  /** Unread messages over every room (the header's count). */
  totalUnread: number;
  /** Protocol 2: the message the "new messages" divider goes above, or null. */
  firstUnreadId: string | null;
  /** Signed in: the private conversations (dm:… rooms), newest first. */
  conversations: Conversation[];
  /**
   * The last sanction addressed to us (`sanctioned`, or a `moderation` event naming us):
   * the screen shows it until dismissed. A kick or ban took us out of its room.
   */
  sanction: SanctionNotice | null;
  /** Staff: the open items of each room's review queue (the `review` event). */
  review: Record<string, number>;
  /**
   * Each room's owner and moderators as the `roles` event last told, with `you` worked out
   * from our name (an administrator is not listed: the screen keeps what it knew).
   */
  roles: Record<string, RoomRoles>;
  /** Each room's settings (room_joined's `settings`, then `room_settings`); absent: the defaults. */
  settings: Record<string, RoomSettings>;
}

export type ReportResult = { ok: true; report: number } | { ok: false; error: string; code?: string };

/** How a signed-in session gets its access token (an AccountClient fits). */
export interface SessionAuth {
  /** A valid access token; null: a guest. */
  token(): Promise<string | null>;
  /** After the server refused the token as expired: a new one; null when signed out. */
  refresh(): Promise<string | null>;
}

export interface ChatServiceOptions {
  serverUrl: string;
  username: string;
  room: string;
  clientKey?: string;
  /**
   * 2 (what the app speaks, Config.protocol): several rooms and the room event log.
   * 1, the core's default: the seed's protocol, one room and none of its actions.
   */
  protocol?: ProtocolVersion;
  /** Protocol 2: more rooms to join at start, after `room`. */
  rooms?: string[];
  socketFactory: SocketFactory;
  makeClientId: () => string;
  now?: () => number;
  /** First delay before re-sending after `unavailable`/`rate_limited`; doubles each try. */
  resendBaseDelayMs?: number;
  resendMaxDelayMs?: number;
  /** How long to wait for an ack before treating the request as lost. */
  ackTimeoutMs?: number;
  /** Signed in: the handshake carries the account's access token (the core renews it). */
  auth?: SessionAuth;
}

export type SendResult = { ok: true; clientId: string } | { ok: false; error: string };
export type JoinRoomResult = { ok: true; room: string } | { ok: false; error: string };

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
  /** The first room (the route's); `getState().room` is the one shown. */
  readonly room: string;
  readonly protocol: ProtocolVersion;
  /** The device's client_key: a guest's uploads are signed with it and the name joined with. */
  readonly clientKey: string | undefined;

  private readonly core: ChatSession;
  private readonly listeners = new Set<() => void>();
  private state: ChatState;
  private fatal = false;
  /** The app's item for each stored message or notice of the core (same object each time). */
  private readonly shown = new WeakMap<TimelineItem, ChatItem | null>();
  /** Ids of messages a moderator removed, per room (tombstones with `removed: true`). */
  private readonly removed = new Map<string, Set<string>>();

  constructor(options: ChatServiceOptions) {
    this.serverUrl = options.serverUrl;
    this.room = options.room;
    this.protocol = options.protocol === 2 ? 2 : 1;
    this.clientKey = options.clientKey;
    this.core = new ChatSession({
      url: options.serverUrl,
      username: options.username,
      room: options.room,
      clientKey: options.clientKey,
      // Sent in the handshake as auth: {protocol: 2} by the core.
      protocol: this.protocol,
      rooms: options.rooms,
      // Removals are read off the socket too: the core keeps no `removed` on its tombstones yet.
      connect: (url, socketOptions) => this.watchRemovals(options.socketFactory(url, socketOptions)),
      // WebSocket only: no sticky sessions needed, and React Native avoids polling quirks.
      socketOptions: { transports: ['websocket'] },
      makeClientId: options.makeClientId,
      now: options.now,
      ackTimeoutMs: options.ackTimeoutMs,
      retryBaseDelayMs: options.resendBaseDelayMs,
      retryMaxDelayMs: options.resendMaxDelayMs,
      ...(options.auth ? { auth: options.auth } : {}),
    });
    this.state = {
      protocol: this.protocol,
      room: options.room,
      username: options.username,
      connection: 'connecting',
      items: [],
      users: [],
      userCount: 0,
      typing: [],
      error: null,
      rooms: this.core.rooms,
      totalUnread: 0,
      firstUnreadId: null,
      conversations: [],
      sanction: null,
      review: {},
      roles: {},
      settings: {},
    };
    const { core } = this;
    // Events of rooms not shown only move the room list's counts ('rooms').
    const shown = (room: string) => room === core.activeRoom;
    core.on('timeline', (_changes, { room }) => {
      if (shown(room)) this.publish();
    });
    core.on('connection', (connection) => {
      if (connection === 'stopped') this.fatal = true;
      const over = connection === 'stopped' || connection === 'left';
      this.setState(over ? { connection: CONNECTION[connection], typing: [] } : { connection: CONNECTION[connection] });
    });
    core.on('username', (username, room) => {
      if (!shown(room) || username === this.state.username) return;
      this.state = { ...this.state, username };
      this.publish();
    });
    core.on('errorCleared', () => this.setState({ error: null }));
    core.on('error', (error) => this.setState({ error: this.errorOf(error) }));
    core.on('users', (users, userCount, room) => {
      if (shown(room)) this.setState({ users, userCount });
    });
    core.on('typing', (typing, room) => {
      if (shown(room)) this.setState({ typing });
    });
    // Counts and markers moved (a join placed the divider after its history showed, say).
    core.on('rooms', (rooms) => this.setState({ rooms, totalUnread: core.totalUnread, firstUnreadId: this.divider() }));
    core.on('activeRoom', () => this.showActiveRoom());
    // Opened by either member (on any device), or a block changed whether it can be written to.
    core.on('conversation', (conversation) => this.addConversations([conversation]));
    // Moderation: the notices are in the timeline (the core's); what concerns us is held apart.
    core.on('moderation', (notice) => this.onModeration(notice));
    // A kick or ban: the core has left the room (it is not joined again by itself).
    core.on('sanctioned', (notice) => this.setState({ sanction: notice }));
    // Staff: the open items of a room's review queue (on joining, and when it moves).
    core.on('review', ({ room, open }) => this.setState({ review: { ...this.state.review, [room]: open } }));
    // The owner or moderators changed (anyone in the room hears it).
    core.on('roles', (roles) => this.setState({ roles: { ...this.state.roles, [roles.room]: roles } }));
    core.on('settings', (settings, room) => {
      const next = { ...this.state.settings };
      if (settings) next[room] = settings;
      else delete next[room];
      this.setState({ settings: next });
    });
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

  /**
   * Queue a message to the room shown and send it when possible. The text is validated
   * first; `replyTo` (protocol 2) is the id of the message it answers; `files` are uploads
   * made for the room shown (uploadFile), shared with it: the text may be empty then.
   */
  send(text: string, options: { replyTo?: string; files?: FileEntry[] } = {}): SendResult {
    const sendOptions: { replyTo?: string; files?: FileEntry[] } = {};
    if (options.replyTo !== undefined) sendOptions.replyTo = options.replyTo;
    if (options.files?.length) sendOptions.files = options.files;
    const result = this.core.send(text, sendOptions);
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

  /** Leave every room and close the connection for good (once the server answered). */
  leave(): Promise<void> {
    // No focus any more (and the core's repeat timer stops now, not when the leave is answered).
    this.core.setFocus(null);
    return this.core.leave();
  }

  // ---- Protocol 2: rooms -------------------------------------------------------------

  /**
   * Join another room on this connection and show it. The room id is validated first;
   * `invite` is an invite-only room's code (from its invite link).
   */
  joinRoom(room: string, invite?: string): JoinRoomResult {
    const result = this.core.joinRoom(room, { activate: true, ...(invite ? { invite } : {}) });
    return result.ok ? { ok: true, room: result.room } : { ok: false, error: result.error };
  }

  /** Show another joined room; no reconnection. False when not in that room. */
  switchRoom(room: string): boolean {
    return this.core.setActiveRoom(room);
  }

  /**
   * Leave one room; the connection stays with the others (leaving the shown room shows the
   * first one left). Leaving the last room is `leave()`: the chat ends.
   */
  leaveRoom(room: string): Promise<void> {
    if (this.core.rooms.length <= 1) return this.leave();
    return this.core.leaveRoom(room);
  }

  /**
   * The room shown has been read up to its newest message (the list is at the bottom and
   * the app in front): the read marker moves and the counts follow.
   */
  markRead(): void {
    this.core.markRead();
  }

  /**
   * Notifications: the room the person is looking at (the app in front on its screen), or
   * null. The core sends `focus` (signed in only) and repeats it every minute.
   */
  setFocus(room: string | null): void {
    this.core.setFocus(room);
  }

  /** The person is back (the app was in the background): the divider marks what is unread now. */
  placeDivider(): void {
    this.core.placeDivider();
    this.publish();
  }

  // ---- Private conversations (signed in, protocol 2) ----------------------------------

  /**
   * The conversations the server listed at start: each is joined (so its unread count
   * shows), none is shown. Later ones (the `conversation` event) are merged the same way.
   */
  setConversations(conversations: Conversation[]): void {
    this.addConversations(conversations);
  }

  /** A conversation opened here ("Message" on a profile): joined if needed, and shown. */
  openConversation(conversation: Conversation): JoinRoomResult {
    this.addConversations([conversation]);
    return this.joinRoom(conversation.room);
  }

  /** The conversation of a `dm:…` room, when known. */
  conversationOf(room: string): Conversation | undefined {
    return this.state.conversations.find((c) => c.room === room);
  }

  private addConversations(incoming: Conversation[]): void {
    if (this.protocol !== 2) return;
    const fresh = incoming.filter((c) => isPrivateRoom(c.room));
    if (fresh.length === 0) return;
    // An update (a block) replaces its copy where it is; a new one goes first (newest first,
    // the server's order).
    const byRoom = new Map(fresh.map((c) => [c.room, c]));
    const kept = this.state.conversations.map((c) => byRoom.get(c.room) ?? c);
    const known = new Set(kept.map((c) => c.room));
    const added = fresh.filter((c) => !known.has(c.room));
    this.setState({ conversations: [...added, ...kept] });
    const joined = new Set(this.core.rooms.map((r) => r.room));
    for (const conversation of fresh) {
      if (!joined.has(conversation.room)) this.core.joinRoom(conversation.room);
    }
  }

  // ---- Protocol 2: what a person does to a message -------------------------------------

  /** Edit one of our messages in the room shown. False (and `error` set) when refused. */
  edit(id: string, text: string): Promise<boolean> {
    return this.report(this.core.edit(id, text));
  }

  /** Delete one of our messages: it stays as a tombstone. */
  deleteMessage(id: string): Promise<boolean> {
    return this.report(this.core.deleteMessage(id));
  }

  /** Toggle our reaction `emoji` on message `id`. */
  react(id: string, emoji: string): Promise<boolean> {
    return this.report(this.core.react(id, emoji));
  }

  /**
   * Make sure message `id` of the room shown is in the list, loading older history back
   * to it when needed (a reply's original). False when it is gone.
   */
  loadHistoryTo(id: string): Promise<boolean> {
    return this.core.loadHistoryTo(id);
  }

  // ---- Moderation ---------------------------------------------------------------------

  /** The sanction notice was read: it goes away. */
  dismissSanction(): void {
    this.setState({ sanction: null });
  }

  /** A kicked room may be joined again (a ban refuses the join with `banned`). */
  rejoin(room: string): JoinRoomResult {
    this.setState({ sanction: null });
    return this.joinRoom(room);
  }

  /**
   * Report someone's message in the room shown to its moderators (guests too), with an
   * optional reason. Resolves to the report's id, or the refusal in the server's words.
   */
  async reportMessage(id: string, reason?: string): Promise<ReportResult> {
    const result = await this.core.report(id, reason ? { reason } : {});
    return result.ok ? { ok: true, report: result.report } : { ok: false, error: result.error, code: result.code };
  }

  /**
   * The review count read over HTTP (someone just made staff gets no `review` event until the
   * queue moves); an event already heard wins.
   */
  noteReviewCount(room: string, open: number): void {
    if (this.state.review[room] !== undefined) return;
    this.setState({ review: { ...this.state.review, [room]: open } });
  }

  /** Settings saved here: shown at once (the `room_settings` event brings the same). */
  applySettings(settings: RoomSettings): void {
    this.setState({ settings: { ...this.state.settings, [settings.room]: settings } });
  }

  /** Tombstones a moderator made (`removed: true`) are remembered by id. */
  private watchRemovals(socket: SocketLike): SocketLike {
    socket.on('room_event', (payload: unknown) => {
      const event = payload as { type?: unknown; room?: unknown; message_id?: unknown; message?: { removed?: unknown } } | null;
      if (event?.type === 'delete' && event.message?.removed === true && typeof event.room === 'string' && typeof event.message_id === 'string') {
        let ids = this.removed.get(event.room);
        if (!ids) {
          ids = new Set();
          this.removed.set(event.room, ids);
        }
        ids.add(event.message_id);
      }
    });
    return socket;
  }

  /** A moderation notice naming us: a mute (or its end) explains the composer's refusals. */
  private onModeration(notice: SanctionNotice): void {
    if (!sameName(notice.username, this.core.username)) return;
    if (notice.action === 'mute' || notice.action === 'unmute' || notice.action === 'unban') this.setState({ sanction: notice });
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

  /** Rebuild the item list (and where the divider goes) from the core's active timeline. */
  private publish(): void {
    const items: ChatItem[] = [];
    for (const entry of this.core.timeline.list()) {
      const item = this.toItem(entry);
      if (item) items.push(item);
    }
    this.state = { ...this.state, items, firstUnreadId: this.divider(), totalUnread: this.core.totalUnread };
    this.emitChange();
  }

  /** Where the "new messages" divider goes in the room shown; protocol 1 keeps no read marker. */
  private divider(): string | null {
    return this.protocol === 2 ? this.core.firstUnreadId() : null;
  }

  /** Another room became the one shown: its list, people, typing and our name there. */
  private showActiveRoom(): void {
    const { core } = this;
    this.state = {
      ...this.state,
      room: core.activeRoom,
      username: core.username,
      users: core.users,
      userCount: core.userCount,
      typing: core.typingNames,
      rooms: core.rooms,
    };
    this.publish();
  }

  private errorOf({ message, code, room }: SessionError): ChatError {
    const error: ChatError = { message, code };
    if (room) error.room = room;
    return error;
  }

  /** An action's refusal becomes the error the screen shows (a value, never silence). */
  private async report(action: Promise<ActionResult<{ event: RoomEvent | null }>>): Promise<boolean> {
    const result = await action;
    if (result.ok) return true;
    this.setState({ error: { message: result.error, code: result.code, room: this.core.activeRoom } });
    return false;
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
        ...(entry.reply_to ? { replyTo: entry.reply_to, quote: entry.quote ?? null } : {}),
        ...(entry.files?.length ? { files: entry.files } : {}),
        ...(entry.status === 'held' ? { held: true as const } : {}),
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
      copyMessageState(entry, message);
      if (message.deleted && ((entry as { removed?: unknown }).removed === true || this.removed.get(entry.room)?.has(entry.id))) {
        (message as Message & { removed?: true }).removed = true;
      }
      const own = entry.status === 'sent' || sameName(entry.username, this.state.username);
      const stored: MessageItem = { kind: 'message', key: `m-${entry.id}`, message, own };
      if (entry.reply_to) stored.quote = entry.quote ?? null;
      if (entry.mentionsMe) stored.mentionsMe = true;
      item = stored;
    } else if (entry.variant === 'moderation' || entry.variant === 'sanctioned') {
      const notice = parseSanctionNotice(entry.params);
      const timestamp = typeof entry.params.timestamp === 'string' ? entry.params.timestamp : '';
      if (notice) item = { kind: 'moderation', key: `n-${entry.key}`, notice, timestamp, self: entry.variant === 'sanctioned' };
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

/** The state of a stored message beyond its text (protocol 2, files), as the core holds it now. */
function copyMessageState(from: Message, to: Message): void {
  if (from.reply_to) to.reply_to = from.reply_to;
  if (from.mentions?.length) to.mentions = from.mentions;
  if (from.edited_at) to.edited_at = from.edited_at;
  if (from.deleted) {
    to.deleted = true;
    if (from.deleted_at) to.deleted_at = from.deleted_at;
  }
  if (from.reactions?.length) to.reactions = from.reactions;
  // Shared files are a fact of the message in both protocols (a deleted one has none left).
  if (from.files?.length && !from.deleted) to.files = from.files;
}
