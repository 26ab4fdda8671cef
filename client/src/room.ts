/**
 * One room of a session: its join (and rejoin after every reconnection), catch-up, outbox,
 * typing, presence, and in protocol 2 its event log, read marker and unread counts. The
 * session (session.ts) owns the socket and routes each server event to its room; a room
 * talks to the server only through the RoomHost the session gives it.
 *
 * Catch-up (docs/protocol.md): the room keeps its log position, the highest position held
 * with no hole before it (message ids and event counters are contiguous). After every
 * (re)join, and whenever an id or a counter jumps, it asks get_history since that position,
 * page by page while has_more, from each page's cursor; messages come in their current
 * state and events apply idempotently (roomlog.ts), so nothing shows twice or is missed.
 */

import { parsePosition } from './log.js';
import { sameName } from './names.js';
import { Outbox, type OutboxEntry, type OutboxStore } from './outbox.js';
import type {
  AckError,
  DeleteMessageAck,
  EditMessageAck,
  ErrorCode,
  JoinRoomAck,
  LeaveRoomAck,
  MarkReadAck,
  Message,
  ProtocolVersion,
  ReactAck,
  ReadMarkerPayload,
  ReportMessageAck,
  ReplyPreview,
  RoomEvent,
  RoomJoinedPayload,
  RoomUser,
  RoomUsersPayload,
  SendMessageAck,
  SendMessagePayload,
  UserPresencePayload,
  UserTypingPayload,
} from './protocol.js';
import { EVENTS } from './protocol.js';
import { RoomHistory } from './history.js';
import type { ReviewCount, SanctionNotice } from './moderation.js';
import { parseRoomSettings, type RoomSettings } from './room-settings.js';
import { RoomLog } from './roomlog.js';
import { ReadState } from './unread.js';
import { Timeline, formatId, parseId, type MessageEntry, type TimelineChange } from './timeline.js';
import { TypingSender, TypingWatch } from './typing.js';
import { filesError, filesOf, type FileEntry } from './files.js';
import { strip, validateMessage } from './validation.js';


export interface SessionError {
  /** The server's text (or `describeError`'s wording of it). */
  message: string;
  code?: ErrorCode;
  /** True when the session (or, with several rooms, this room) stopped: the person must pick again. */
  fatal: boolean;
  /** What was refused: the join, one message, or an `error` event of the server. */
  source: 'join' | 'send' | 'server';
  clientId?: string;
  /** The room it concerns, when known. */
  room?: string;
}

/** What an edit, a deletion, a reaction or a read marker came to. */
export type ActionResult<T> = ({ ok: true } & T) | { ok: false; error: string; code?: ErrorCode };

/** What the session gives each room: the socket, the options, and its events. */
export interface RoomHost {
  readonly protocol: ProtocolVersion;
  readonly ackTimeoutMs: number;
  readonly messageMax: number;
  readonly resendRateLimited: boolean;
  readonly sendDuringGapFill: boolean;
  connected(): boolean;
  /** Emit with an ack; resolves null when not connected, on disconnection or timeout. */
  request<T>(event: string, payload: object, keepAlive?: boolean): Promise<T | null>;
  emit(event: string, payload: object): void;
  now(): number;
  makeClientId(): string;
  describe(code: ErrorCode | undefined, serverText: string): string;
  backoff(attempts: number): number;
  isActive(room: RoomSession): boolean;
  /** Events of this room, to the session's listeners. */
  timeline(room: RoomSession, changes: TimelineChange[], scroll: boolean): void;
  message(room: RoomSession, message: MessageEntry): void;
  roomJoined(room: RoomSession, info: { first: boolean; messages: number; username: string }): void;
  username(room: RoomSession): void;
  users(room: RoomSession): void;
  typing(room: RoomSession, names: string[]): void;
  selfTyping(room: RoomSession, active: boolean): void;
  roomEvent(room: RoomSession, event: RoomEvent): void;
  error(room: RoomSession, error: SessionError): void;
  /** The join succeeded (connection state, errors cleared). */
  joined(room: RoomSession): void;
  /** The join was refused for good (name taken, invalid room). */
  refused(room: RoomSession, error: SessionError): void;
  /** Unread counts, read marker or joined state changed. */
  summaryChanged(room: RoomSession): void;
  /** A `moderation` notice of this room. */
  moderation(room: RoomSession, notice: SanctionNotice): void;
  /** We were sanctioned in this room (a kick or ban: the session leaves it). */
  sanctioned(room: RoomSession, notice: SanctionNotice): void;
  /** The room's settings changed (null: the defaults). */
  settings(room: RoomSession, settings: RoomSettings | null): void;
  /** Staff: the number of items in the room's review queue changed. */
  review(room: RoomSession, count: ReviewCount): void;
}

export interface RoomOptions {
  username: string;
  clientKey?: string;
  timeline?: Timeline;
  outboxStore?: OutboxStore;
  /** An invite-only room's code: sent with every join (a guest needs it after each reconnection). */
  invite?: string;
}

type Timer = ReturnType<typeof setTimeout>;

function isMessage(value: unknown): value is Message {
  const m = value as Message | null;
  return !!m && typeof m === 'object' && !Number.isNaN(parseId(m.id)) && typeof m.username === 'string' && typeof m.message === 'string';
}

export class RoomSession {
  readonly name: string;
  readonly timeline: Timeline;
  readonly outbox: Outbox;
  readonly log: RoomLog;

  private readonly host: RoomHost;
  private readonly options: RoomOptions;
  private readonly typingSender: TypingSender;
  private readonly typingWatch: TypingWatch;
  private currentUsername: string;
  private roomUsers: RoomUser[] = [];
  private roomCount = 0;
  /** Bumped on every connect, disconnect and forced rejoin: older answers are stale. */
  private generation = 0;
  private joined = false;
  /** Joined and the outbox flushed: a new message may go at once without overtaking one. */
  private sending = false;
  /** The first room_joined is merged and the divider placed: reading may move the marker. */
  private listed = false;
  /** A view marked read while the first history was shown: done once it is listed. */
  private earlyMark: { id?: string } | null = null;
  private closed = false;
  /** Where the current (re)join resumes from: the log position held with no hole. */
  private resumeFrom: string | null = null;
  private joinAttempts = 0;
  private joinTimer: Timer | null = null;
  // ---- protocol 2: read marker and unread counts, older history, quotes ----
  private readonly reads: ReadState;
  private markInFlight = false;
  private readonly history: RoomHistory;
  // ---- moderation: what the room's settings and review queue are now ----
  private roomSettings: RoomSettings | null = null;
  private reviewOpen: number | null = null;

  constructor(name: string, host: RoomHost, options: RoomOptions) {
    this.name = name;
    this.host = host;
    this.options = options;
    this.currentUsername = options.username;
    this.timeline = options.timeline ?? new Timeline();
    this.outbox = new Outbox(options.outboxStore);
    this.log = new RoomLog(this.timeline, () => this.currentUsername);
    this.reads = new ReadState(this.timeline, () => this.currentUsername);
    this.history = new RoomHistory({
      name,
      log: this.log,
      timeline: this.timeline,
      request: (event, payload) => host.request(event, payload),
      backoff: (attempts) => host.backoff(attempts),
      generation: () => this.generation,
      joined: () => this.joined,
      closed: () => this.closed,
      merge: (messages, at) => this.merge(messages, at),
      applyEvent: (event) => this.applyEvent(event),
      apply: (changes) => this.apply(changes),
    });
    this.typingSender = new TypingSender((isTyping) => this.emitTyping(isTyping), {
      now: () => host.now(),
      canSend: () => this.joined && host.connected(),
    });
    this.typingWatch = new TypingWatch((names) => host.typing(this, names));
  }

  // ---- State -----------------------------------------------------------------------

  get username(): string {
    return this.currentUsername;
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

  get isTyping(): boolean {
    return this.typingSender.isActive;
  }

  /** Protocol 2: messages after the read marker written by others. */
  get unread(): number {
    return this.reads.unread;
  }

  /** Protocol 2: those of them that mention us. */
  get mentions(): number {
    return this.reads.mentions;
  }

  /** Protocol 2: the read marker ("000000000000" when none). */
  get readId(): string {
    return this.reads.marker;
  }

  /**
   * Where a view puts its "new messages" divider: the first message by someone else after
   * the read marker as it was when the room was opened; null when there is none.
   */
  get firstUnreadId(): string | null {
    return this.reads.firstUnreadId;
  }

  /** The room's settings (topic, post, slow mode, pins…); null while they are the defaults. */
  get settings(): RoomSettings | null {
    return this.roomSettings;
  }

  /** Staff: the items waiting in the room's review queue; null until the server said. */
  get reviewCount(): number | null {
    return this.reviewOpen;
  }

  /** The quote of message `id` as known now (held, preview or fetched), or null. */
  quote(id: string): ReplyPreview | null {
    return this.log.quote(id);
  }

  // ---- Lifecycle -------------------------------------------------------------------

  /** Messages kept from before a reload go out again once joined. */
  restoreOutbox(): void {
    for (const saved of this.outbox.restore()) {
      if (this.outbox.has(saved.client_id)) continue;
      const timestamp = typeof saved.timestamp === 'string' ? saved.timestamp : new Date(this.host.now()).toISOString();
      const replyTo = typeof saved.reply_to === 'string' ? saved.reply_to : undefined;
      const files = filesOf(saved.files);
      if (saved.text === '' && files.length === 0) continue;
      this.queue(saved.client_id, saved.text, timestamp, replyTo, files);
    }
  }

  /** The socket (re)connected: join again. */
  connect(): void {
    if (this.closed) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }

  /** The socket dropped: every answer awaited is moot; queued messages wait for the rejoin. */
  disconnect(): void {
    this.joined = false;
    this.sending = false;
    this.generation += 1;
    if (this.typingSender.isActive) this.host.selfTyping(this, false);
    this.typingSender.reset();
    this.typingWatch.clear();
    for (const entry of this.outbox.values()) if (entry.state === 'inflight') entry.state = 'queued';
    this.history.cancel();
    this.host.summaryChanged(this);
  }

  /** This room became the one shown: the divider marks what was unread then. */
  activate(): void {
    if (this.listed) this.reads.placeDivider();
  }

  /**
   * Place the "new messages" divider before the first message unread now: when the room is
   * opened, and when the person comes back to it (the page was hidden).
   */
  placeDivider(): void {
    if (this.listed) this.reads.placeDivider();
  }

  /** The room stopped being shown: our typing stops. */
  deactivate(): void {
    this.typingSender.stop();
  }

  /** Join again on the same connection (the server forgot us). */
  rejoin(): void {
    if (this.closed || !this.host.connected()) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }

  /** Leave this room: unsent messages are dropped; tell the server and wait for its answer. */
  async leave(): Promise<void> {
    this.typingSender.stop();
    this.close();
    this.outbox.clear();
    // Even while its join is on its way: the server may have us in the room already.
    if (this.host.connected()) await this.goodbye();
  }

  /** Tell the server we leave (resolves on its answer or the ack timeout). */
  async goodbye(): Promise<void> {
    const payload = this.host.protocol === 2 ? { room: this.name } : {};
    await this.host.request<LeaveRoomAck>(EVENTS.client.LEAVE_ROOM, payload, false);
  }

  /** Stop for good: no more timers or callbacks. */
  close(): void {
    this.closed = true;
    this.joined = false;
    this.sending = false;
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = null;
    this.history.cancel();
    this.typingSender.reset();
    this.typingWatch.clear();
    this.outbox.cancelTimers();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- Joining ---------------------------------------------------------------------

  private join(): void {
    if (!this.host.connected() || this.closed) return;
    this.joined = false;
    this.sending = false;
    this.resumeFrom = this.timeline.lastId === null ? null : this.log.position();
    const generation = this.generation;
    this.joinAttempts += 1;
    const payload: { username: string; room: string; client_key?: string; invite?: string } = { username: this.options.username, room: this.name };
    if (this.options.clientKey) payload.client_key = this.options.clientKey;
    if (this.options.invite) payload.invite = this.options.invite;
    void this.host.request<JoinRoomAck>(EVENTS.client.JOIN_ROOM, payload).then((ack) => {
      if (generation !== this.generation || this.closed) return;
      if (ack === null) {
        if (this.host.connected()) this.scheduleJoinRetry();
        return;
      }
      if (ack.ok) void this.onJoined(ack.username, generation);
      else this.onJoinRefused(ack);
    });
  }

  private async onJoined(username: string, generation: number): Promise<void> {
    this.joined = true;
    this.joinAttempts = 0;
    if (typeof username === 'string' && username && username !== this.currentUsername) {
      this.currentUsername = username;
      this.apply(this.log.refreshMentions());
    }
    this.host.username(this);
    this.host.joined(this);
    this.host.summaryChanged(this);
    if (this.reads.behind) void this.sendMarkRead();
    const resumeFrom = this.resumeFrom;
    this.resumeFrom = null;
    let filled: Promise<void> | null = null;
    if (resumeFrom !== null) filled = this.history.fillFrom(resumeFrom);
    // A message seen between room_joined and this ack may have left a hole behind it.
    else if (this.log.hasGap()) filled = this.history.fillFrom(this.log.position());
    if (this.host.protocol === 2) this.history.fetchMissingQuotes();
    if (filled && !this.host.sendDuringGapFill) await filled;
    if (generation !== this.generation || !this.joined) return;
    this.flushOutbox();
  }

  private onJoinRefused(ack: AckError): void {
    const retryable = ack.code === 'rate_limited' || ack.code === 'unavailable';
    const error = this.errorOf({ message: this.host.describe(ack.code, ack.error), code: ack.code, fatal: !retryable, source: 'join' });
    if (retryable) {
      this.host.error(this, error);
      this.scheduleJoinRetry();
      return;
    }
    // name_taken / invalid: waiting cannot help; the person must pick again.
    this.close();
    this.host.refused(this, error);
  }

  private scheduleJoinRetry(): void {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.host.connected() && !this.joined && !this.closed) this.join();
    }, this.host.backoff(this.joinAttempts));
  }

  // ---- Receiving -------------------------------------------------------------------

  onRoomJoined(payload: RoomJoinedPayload): void {
    if (this.closed) return;
    const list = Array.isArray(payload.messages) ? payload.messages : [];
    if (this.timeline.restartedBy(list)) {
      // The room's numbering restarted: start the list again; pending messages go again.
      this.apply(this.log.reset());
      this.resumeFrom = null;
      this.reads.reset();
    }
    const first = this.timeline.lastId === null;
    // Our name as the server spells it: own messages and mentions are recognised by it.
    if (typeof payload.username === 'string' && payload.username) this.currentUsername = payload.username;
    const logId = typeof payload.log_id === 'string' && parsePosition(payload.log_id) ? payload.log_id : undefined;
    const newest = list.reduce((max, m) => Math.max(max, parseId((m as Message | null)?.id) || 0), 0);
    // Messages up to the join are in the server's counts: only later ones count here.
    if (this.host.protocol === 2) this.reads.joined(payload, Math.max(newest, parsePosition(logId)?.messageId ?? 0));
    this.merge(list, logId ?? formatId(newest));
    if (first) {
      this.log.begin(logId);
      // Placed before anything may count as read (a view marks read as the list shows).
      if (this.host.isActive(this)) this.reads.placeDivider();
      this.listed = true;
    }
    const early = this.earlyMark;
    this.earlyMark = null;
    if (early) this.markRead(early.id);
    this.history.joinedWith(list.length);
    // Protocol 2 carries the settings of rooms that have any: none means the defaults now.
    if (this.host.protocol === 2) this.setSettings(parseRoomSettings(payload.settings, this.name));
    const username = typeof payload.username === 'string' ? payload.username : this.currentUsername;
    this.host.roomJoined(this, { first, messages: list.length, username });
    this.host.summaryChanged(this);
  }

  onNewMessage(message: Message): void {
    if (this.closed || !isMessage(message)) return;
    this.typingWatch.drop(message.username);
    this.merge([message], message.id, sameName(message.username, this.currentUsername));
    this.history.fillIfGap();
  }

  onRoomEvent(event: RoomEvent): void {
    if (this.closed) return;
    this.applyEvent(event);
    this.history.fillIfGap();
  }

  /** Another tab or device of ours read further: the counts follow. */
  onReadMarker(payload: ReadMarkerPayload): void {
    if (this.closed || this.host.protocol !== 2) return;
    if (this.reads.readElsewhere(payload.read_id)) this.host.summaryChanged(this);
  }

  onPresence(variant: 'join' | 'leave', payload: UserPresencePayload): void {
    if (this.closed) return;
    if (variant === 'leave') this.typingWatch.drop(payload.username);
    this.apply(
      this.timeline.addNotice(variant, {
        name: payload.username,
        text: typeof payload.message === 'string' ? payload.message : '',
        timestamp: new Date(this.host.now()).toISOString(),
      }),
    );
  }

  /** A moderator acted on someone here: a `moderation` notice in the timeline (the view words it). */
  onModeration(notice: SanctionNotice): void {
    if (this.closed) return;
    // Our own kick or ban: the `sanctioned` that follows says it, once.
    const removesUs = (notice.action === 'kick' || notice.action === 'ban') && sameName(notice.username, this.currentUsername);
    if (!removesUs) this.apply(this.timeline.addNotice('moderation', { ...notice, timestamp: new Date(this.host.now()).toISOString() }));
    this.host.moderation(this, notice);
  }

  /** We were sanctioned here: a `sanctioned` notice in the timeline, then the session decides. */
  onSanctioned(notice: SanctionNotice): void {
    if (this.closed) return;
    this.apply(this.timeline.addNotice('sanctioned', { ...notice, timestamp: new Date(this.host.now()).toISOString() }), true);
    this.host.sanctioned(this, notice);
  }

  /** `room_settings`: a moderator changed the topic, who may post, slow mode, pins or rules. */
  onRoomSettings(payload: unknown): void {
    if (this.closed) return;
    const settings = parseRoomSettings(payload, this.name);
    if (settings) this.setSettings(settings);
  }

  /** `review` (staff only): the room's queue holds `open` items now. */
  onReview(count: ReviewCount): void {
    if (this.closed) return;
    this.reviewOpen = count.open;
    this.host.review(this, count);
  }

  private setSettings(settings: RoomSettings | null): void {
    // A rejoin repeats the same view: listeners hear of changes only.
    if (JSON.stringify(settings) === JSON.stringify(this.roomSettings)) return;
    this.roomSettings = settings;
    this.host.settings(this, settings);
  }

  onRoomUsers(payload: RoomUsersPayload): void {
    if (this.closed || !Array.isArray(payload.users)) return;
    this.roomUsers = payload.users;
    this.roomCount = typeof payload.count === 'number' ? payload.count : payload.users.length;
    this.host.users(this);
  }

  onUserTyping(payload: UserTypingPayload): void {
    if (this.closed || sameName(payload.username, this.currentUsername)) return;
    this.typingWatch.set(payload.username, Boolean(payload.is_typing));
  }

  /** Merge stored messages in their state as of `at`; any that came back from the outbox leave it. */
  private merge(messages: readonly unknown[], at: string, scroll = false): void {
    const { changes, added } = this.log.addMessages(messages, at);
    for (const message of messages) {
      const clientId = (message as Message | null)?.client_id;
      if (typeof clientId === 'string' && clientId) this.outbox.settle(clientId);
      else if (isMessage(message)) changes.push(...this.releaseHeld(message));
    }
    this.apply(changes, scroll);
    let counted = false;
    for (const change of changes) {
      // Shown for the first time (not a new state of a held message).
      if (change.op !== 'upsert' || change.item.kind !== 'message' || !added.has(change.item.key)) continue;
      this.host.message(this, change.item);
      if (this.host.protocol === 2) counted = this.reads.count(change.item) || counted;
    }
    if (counted) this.host.summaryChanged(this);
    if (this.host.protocol === 2) this.history.fetchMissingQuotes();
  }

  /** Apply one room event (live, from history or an ack); listeners hear of it once. */
  private applyEvent(event: unknown): void {
    const { changes, fresh } = this.log.applyEvent(event);
    this.apply(changes);
    if (fresh) this.host.roomEvent(this, event as RoomEvent);
  }

  // ---- History (history.ts) ---------------------------------------------------------

  /** False once the oldest message of the room is held; null until known. */
  get hasOlder(): boolean | null {
    return this.history.hasOlder;
  }

  /** Fetch the page of history before the oldest message held; resolves to how many were new. */
  loadOlder(): Promise<number> {
    return this.history.loadOlder();
  }

  /** Load older history until message `id` is held (to scroll to a reply's original). */
  loadHistoryTo(id: string): Promise<boolean> {
    return this.history.loadHistoryTo(id);
  }

  /** The quote of original `id`: known, else fetched. */
  fetchQuote(id: string): Promise<ReplyPreview | null> {
    return this.history.fetchQuote(id);
  }

  // ---- Edits, deletions, reactions, read marker -------------------------------------

  /** Edit one of our messages (protocol 2). */
  edit(id: string, text: string): Promise<ActionResult<{ event: RoomEvent | null }>> {
    const check = validateMessage(text, this.host.messageMax);
    if (!check.ok) return Promise.resolve(check);
    return this.act<EditMessageAck>(EVENTS.client.EDIT_MESSAGE, { room: this.name, id, message: check.value });
  }

  /** Delete one of our messages (protocol 2): it becomes a tombstone. */
  deleteMessage(id: string): Promise<ActionResult<{ event: RoomEvent | null }>> {
    return this.act<DeleteMessageAck>(EVENTS.client.DELETE_MESSAGE, { room: this.name, id });
  }

  /** Add (`add: true`), remove (`false`) or toggle (absent) our reaction (protocol 2). */
  react(id: string, emoji: string, add?: boolean): Promise<ActionResult<{ event: RoomEvent | null }>> {
    const payload: { room: string; id: string; emoji: string; add?: boolean } = { room: this.name, id, emoji };
    if (typeof add === 'boolean') payload.add = add;
    return this.act<ReactAck>(EVENTS.client.REACT, payload);
  }

  /**
   * Report message `id` to the room's moderators (protocol 2; guests too). Reporting it
   * again is harmless: the server answers with the same report id.
   */
  async report(id: string, reason?: string): Promise<ActionResult<{ report: number }>> {
    const refused = this.refuseAction();
    if (refused) return refused;
    const payload: { room: string; id: string; reason?: string } = { room: this.name, id };
    const trimmed = typeof reason === 'string' ? reason.trim() : '';
    if (trimmed) payload.reason = trimmed;
    const ack = await this.host.request<ReportMessageAck>(EVENTS.client.REPORT_MESSAGE, payload);
    if (ack === null) return { ok: false, error: this.host.describe('unavailable', 'No answer from the server; try again.'), code: 'unavailable' };
    if (!ack.ok) return { ok: false, error: this.host.describe(ack.code, ack.error), code: ack.code };
    return { ok: true, report: Number(ack.report) };
  }

  private async act<A extends EditMessageAck | DeleteMessageAck | ReactAck>(
    event: string,
    payload: object,
  ): Promise<ActionResult<{ event: RoomEvent | null }>> {
    const refused = this.refuseAction();
    if (refused) return refused;
    const generation = this.generation;
    const ack = await this.host.request<A>(event, payload);
    if (ack === null) return { ok: false, error: this.host.describe('unavailable', 'No answer from the server; try again.'), code: 'unavailable' };
    if (!ack.ok) {
      if (ack.code === 'not_in_room' && generation === this.generation) this.rejoin();
      return { ok: false, error: this.host.describe(ack.code, ack.error), code: ack.code };
    }
    const stored = (ack as { event?: RoomEvent | null }).event ?? null;
    if (stored) {
      this.applyEvent(stored);
      this.history.fillIfGap();
    }
    return { ok: true, event: stored };
  }

  private refuseAction(): { ok: false; error: string; code: ErrorCode } | null {
    if (this.host.protocol !== 2) return { ok: false, error: 'This needs protocol 2 (the `protocol: 2` option).', code: 'invalid' };
    if (!this.joined || !this.host.connected()) return { ok: false, error: this.host.describe('unavailable', 'Not connected; try again.'), code: 'unavailable' };
    return null;
  }

  /**
   * Everything up to `id` (default: the newest message held) has been seen: move the read
   * marker forward (never back). The counts follow at once; the server is told.
   */
  markRead(id?: string): void {
    if (this.host.protocol !== 2) return;
    if (!this.listed) {
      this.earlyMark = { id };
      return;
    }
    if (!this.reads.mark(id)) return;
    this.host.summaryChanged(this);
    void this.sendMarkRead();
  }

  /** Forget the divider (the person answered, or dismissed it). */
  clearDivider(): void {
    this.reads.clearDivider();
  }

  /** One mark_read at a time; a marker moved meanwhile goes next. */
  private async sendMarkRead(): Promise<void> {
    if (this.markInFlight || !this.joined || !this.reads.behind) return;
    this.markInFlight = true;
    const sent = this.reads.marker;
    let answered = false;
    try {
      const ack = await this.host.request<MarkReadAck>(EVENTS.client.MARK_READ, { room: this.name, id: sent });
      if (ack?.ok) {
        this.reads.acknowledged(ack.read_id);
        answered = true;
      }
    } finally {
      this.markInFlight = false;
    }
    if (answered && this.reads.behind) void this.sendMarkRead();
  }

  // ---- Sending ---------------------------------------------------------------------

  /**
   * Queue a message (it shows at once as pending) and send it when possible. With `files`
   * (uploads for this room) the text may be empty.
   */
  send(text: string, replyTo?: string, files?: FileEntry[]): { ok: true; value: string; clientId: string } | { ok: false; error: string } {
    const sharing = files !== undefined && files.length > 0;
    if (sharing) {
      const error = filesError(files);
      if (error) return { ok: false, error };
    }
    const check = sharing && typeof text === 'string' && strip(text) === '' ? { ok: true as const, value: '' } : validateMessage(text, this.host.messageMax);
    if (!check.ok) return check;
    let reply: string | undefined;
    if (replyTo !== undefined) {
      const n = parseId(replyTo);
      if (Number.isNaN(n) || n < 1) return { ok: false, error: 'reply_to must be a message id' };
      reply = formatId(n);
    }
    this.typingSender.stop();
    const clientId = this.host.makeClientId();
    const entry = this.queue(clientId, check.value, new Date(this.host.now()).toISOString(), reply, sharing ? files : undefined);
    this.transmit(entry);
    return { ok: true, value: check.value, clientId };
  }

  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId: string): void {
    const entry = this.outbox.get(clientId);
    if (!entry || this.closed) return;
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
    if (!this.closed) this.typingSender.input(hasText);
  }

  private queue(clientId: string, text: string, timestamp: string, replyTo?: string, files?: FileEntry[]): OutboxEntry {
    const entry = this.outbox.add(clientId, text, timestamp, replyTo, files);
    const pending: Parameters<Timeline['addPending']>[0] = { client_id: clientId, message: text, username: this.currentUsername, timestamp };
    if (entry.files) pending.files = entry.files;
    if (replyTo) {
      pending.reply_to = replyTo;
      pending.quote = this.log.quote(replyTo);
    }
    this.apply(this.timeline.addPending(pending), true);
    return entry;
  }

  private transmit(entry: OutboxEntry): void {
    // Never emit while disconnected: socket.io-client would replay its buffer before our
    // join_room on reconnection, and the server would answer not_in_room.
    if (!this.host.connected() || !this.joined || !this.sending || this.closed) return;
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
    const payload: SendMessagePayload = { message: entry.text, client_id: entry.clientId };
    // Every attempt carries the same ids: the server attaches them once, with the message.
    if (entry.files) payload.files = entry.files.map((file) => file.id);
    if (this.host.protocol === 2) {
      payload.room = this.name;
      if (entry.replyTo) payload.reply_to = entry.replyTo;
    }
    void this.host.request<SendMessageAck>(EVENTS.client.SEND_MESSAGE, payload).then((ack) => this.onSendAck(entry, send, generation, ack));
  }

  private onSendAck(entry: OutboxEntry, send: number, generation: number, ack: SendMessageAck | null): void {
    if (this.closed) return;
    if (ack?.ok) {
      // Even a late ack (an older attempt) is the stored message: merge it.
      if (isMessage(ack.message)) this.merge([ack.message], ack.message.id);
      if (this.outbox.settle(entry.clientId)) this.apply(this.timeline.removePending(entry.clientId));
      this.history.fillIfGap();
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
        if (!this.host.resendRateLimited) this.fail(entry, ack, true);
        else this.scheduleResend(entry);
        break;
      case 'not_in_room':
        if (generation === this.generation) this.rejoin();
        break;
      case 'slow_mode':
        // Allowed again once the room's delay has passed: the person retries when they like.
        this.fail(entry, ack, true);
        break;
      case 'held':
        this.hold(entry, ack);
        break;
      case 'auto_moderated':
        // A rule refused this text: sending it again (even after a reload) cannot help.
        this.outbox.settle(entry.clientId);
        this.fail(entry, ack, false);
        break;
      default:
        this.fail(entry, ack, false);
    }
  }

  /**
   * The server holds the message for a moderator's review: nobody sees it until approved
   * (then it comes back as a new message with its client_id and replaces this copy). It
   * leaves the outbox, so it is never sent again; the author's copy stays, marked held.
   * Not an error: nothing went wrong from the author's side.
   */
  private hold(entry: OutboxEntry, ack: AckError): void {
    this.outbox.settle(entry.clientId);
    const note = this.host.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: 'held', error: note, code: ack.code, retryable: false }));
  }

  /**
   * A moderator approved a held message: the server publishes it as ours with a new id and
   * no client_id, so the held copy with the same text gives way to it (the oldest first).
   */
  private releaseHeld(message: Message): TimelineChange[] {
    if (!sameName(message.username, this.currentUsername)) return [];
    for (const item of this.timeline.list()) {
      if (item.kind === 'pending' && item.status === 'held' && item.message === message.message) return this.timeline.removePending(item.client_id);
    }
    return [];
  }

  private fail(entry: OutboxEntry, ack: AckError, retryable: boolean): void {
    entry.state = 'failed';
    entry.error = this.host.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: 'failed', error: entry.error, code: ack.code, retryable }));
    this.host.error(this, this.errorOf({ message: entry.error, code: ack.code, fatal: false, source: 'send', clientId: entry.clientId }));
  }

  private scheduleResend(entry: OutboxEntry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.outbox.has(entry.clientId)) this.transmit(entry);
    }, this.host.backoff(entry.attempts));
  }

  /** Send, in order, every queued message not acknowledged yet; later ones go at once. */
  private flushOutbox(): void {
    this.sending = true;
    for (const entry of this.outbox.values()) this.transmit(entry);
  }

  // ---- Typing ----------------------------------------------------------------------

  private emitTyping(isTyping: boolean): void {
    this.host.selfTyping(this, isTyping);
    if (!this.joined || !this.host.connected()) return;
    this.host.emit(EVENTS.client.TYPING, this.host.protocol === 2 ? { room: this.name, is_typing: isTyping } : { is_typing: isTyping });
  }

  // ---- Plumbing --------------------------------------------------------------------

  /** Protocol 2 errors name their room (protocol 1 has one). */
  private errorOf(error: SessionError): SessionError {
    return this.host.protocol === 2 ? { ...error, room: this.name } : error;
  }

  private apply(changes: TimelineChange[], scroll = false): void {
    if (changes.length) this.host.timeline(this, changes, scroll);
  }
}
