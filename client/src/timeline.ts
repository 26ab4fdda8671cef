/**
 * What a room's message list holds, in order: stored messages (sorted by id), local notices
 * (joins, leaves, anything the UI adds) placed after the newest message held when they
 * happened, and messages of this client still waiting for their ack, last.
 *
 * Pure (no socket, no timers): merges by id and by client_id so a message shows exactly
 * once, and tracks `lastId`, the id up to which the list has no hole, so the session knows
 * when to fetch a gap with get_history since_id. Every change is returned as a list of
 * `{op: 'upsert', item, replaces?}` / `{op: 'remove', key}` for a view to apply.
 */

import type { Message, ReplyPreview } from './protocol.js';
import { filesOf, type FileEntry } from './files.js';

export const ID_DIGITS = 12;
const ID_PATTERN = /^\d{12}$/;
/** Notices kept at most; the oldest go first (a long-lived tab in a busy room). */
export const MAX_NOTICES = 200;

/** 42 → "000000000042". */
export const formatId = (n: number): string => String(n).padStart(ID_DIGITS, '0');

/** "000000000042" → 42; NaN when it is not a message id. */
export function parseId(id: unknown): number {
  return typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : NaN;
}

const pad = (n: number): string => String(n).padStart(8, '0');

export interface MessageEntry extends Message {
  key: string;
  kind: 'message';
  /** 'sent' when this client sent it (its ack or echo replaced the pending entry). */
  status: 'sent' | null;
  /**
   * Protocol 2, set by the session: the quoted message of a reply (from the timeline, the
   * history's reply_preview or a fetch); null while it is being fetched.
   */
  quote?: ReplyPreview | null;
  /** Protocol 2, set by the session: one of `mentions` is our name (look-alike rules). */
  mentionsMe?: boolean;
}

export interface PendingEntry {
  key: string;
  kind: 'pending';
  client_id: string;
  username: string;
  message: string;
  timestamp: string;
  /** `held`: kept for a moderator's review (never sent again; `error` says why). */
  status: 'pending' | 'failed' | 'held';
  /** Why the server refused it (shown next to the message). */
  error: string | null;
  code?: string;
  /** True when retrying later may succeed (rate_limited). */
  retryable?: boolean;
  /** Protocol 2: the id of the message this one answers, and its quote. */
  reply_to?: string;
  quote?: ReplyPreview | null;
  /** The files it shares (as uploaded). */
  files?: FileEntry[];
}

export interface NoticeEntry {
  key: string;
  kind: 'notice';
  /** What happened: 'join' | 'leave' from the server, or any word the UI adds. */
  variant: string;
  params: Record<string, unknown>;
}

export type TimelineItem = MessageEntry | PendingEntry | NoticeEntry;

export type TimelineChange =
  | { op: 'upsert'; item: TimelineItem; replaces?: string }
  | { op: 'remove'; key: string };

/** The optional fields of a protocol 2 message, copied when present and well-formed. */
function copyProtocol2Fields(from: Partial<Message>, to: MessageEntry): void {
  if (typeof from.reply_to === 'string' && ID_PATTERN.test(from.reply_to)) to.reply_to = from.reply_to;
  if (Array.isArray(from.mentions)) to.mentions = from.mentions.filter((m): m is string => typeof m === 'string');
  if (typeof from.edited_at === 'string') to.edited_at = from.edited_at;
  if (from.deleted === true) {
    to.deleted = true;
    to.message = '';
    if (typeof from.deleted_at === 'string') to.deleted_at = from.deleted_at;
    if (from.removed === true) to.removed = true;
  }
  if (Array.isArray(from.reactions) && !to.deleted) to.reactions = from.reactions;
  // Files (protocol 1 and 2); a deleted message's files are detached on the server.
  const files = to.deleted ? [] : filesOf(from.files);
  if (files.length > 0) to.files = files;
}

export class Timeline {
  private readonly items = new Map<string, TimelineItem>();
  /** Keys sorted as strings: ids (12 digits) < notices ("<id>~n") < pending ("p…"). */
  private readonly order: string[] = [];
  /** Ids of stored messages seen (held, or dropped as a second copy of a client_id). */
  private readonly ids = new Set<string>();
  /** client_ids of the stored messages held. */
  private readonly clientIds = new Set<string>();
  /** client_id → key of a message not acknowledged yet. */
  private readonly pending = new Map<string, string>();
  /** client_ids this client sent (their messages show "sent"). */
  private readonly sentHere = new Set<string>();
  private readonly notices: string[] = [];
  /** The id up to which nothing is missing; null until the first room_joined. */
  lastId: number | null = null;
  maxId = 0;
  private localSeq = 0;

  get keys(): readonly string[] {
    return this.order;
  }

  get(key: string): TimelineItem | undefined {
    return this.items.get(key);
  }

  indexOf(key: string): number {
    const index = this.search(key);
    return this.order[index] === key ? index : -1;
  }

  /** Every item, in display order. */
  list(): TimelineItem[] {
    return this.order.map((key) => this.items.get(key) as TimelineItem);
  }

  /** The stored messages, oldest first. */
  messages(): MessageEntry[] {
    return this.list().filter((item): item is MessageEntry => item.kind === 'message');
  }

  /** The stored message with this id, if held. */
  message(id: string): MessageEntry | undefined {
    const item = this.items.get(id);
    return item?.kind === 'message' ? item : undefined;
  }

  /** The smallest message id held, or null when none. */
  oldestId(): number | null {
    for (const key of this.order) if (this.items.get(key)?.kind === 'message') return Number(key);
    return null;
  }

  /** A held message's new state (an edit, a deletion, reactions); nothing when not held. */
  replaceMessage(item: MessageEntry): TimelineChange[] {
    if (this.items.get(item.key)?.kind !== 'message') return [];
    this.items.set(item.key, item);
    return [{ op: 'upsert', item }];
  }

  /** Merge stored messages (history, live, acks); returns the changes. */
  addMessages(messages: readonly unknown[]): TimelineChange[] {
    const changes: TimelineChange[] = [];
    for (const raw of messages) {
      const message = raw as Partial<Message> | null;
      if (!message || typeof message.id !== 'string' || !ID_PATTERN.test(message.id)) continue;
      const clientId = typeof message.client_id === 'string' && message.client_id ? message.client_id : undefined;
      const pendingKey = clientId ? this.pending.get(clientId) : undefined;
      const seen = this.ids.has(message.id) || (clientId !== undefined && this.clientIds.has(clientId));
      this.ids.add(message.id);
      this.maxId = Math.max(this.maxId, Number(message.id));
      if (seen) {
        // Held already (by id, or a second copy of a client_id): only settle its pending.
        if (pendingKey) changes.push(this.remove(pendingKey));
        if (clientId) this.pending.delete(clientId);
        continue;
      }
      const item: MessageEntry = {
        key: message.id,
        kind: 'message',
        id: message.id,
        username: String(message.username ?? ''),
        message: String(message.message ?? ''),
        timestamp: String(message.timestamp ?? ''),
        room: String(message.room ?? ''),
        type: message.type ?? 'message',
        status: clientId && this.sentHere.has(clientId) ? 'sent' : null,
      };
      if (clientId) {
        item.client_id = clientId;
        this.clientIds.add(clientId);
      }
      copyProtocol2Fields(message, item);
      if (pendingKey) {
        this.drop(pendingKey);
        this.pending.delete(clientId as string);
      }
      this.put(item);
      changes.push(pendingKey ? { op: 'upsert', item, replaces: pendingKey } : { op: 'upsert', item });
    }
    this.advance();
    return changes;
  }

  /** The first room_joined: from here on every id after `lastId` is expected. */
  begin(): void {
    if (this.lastId === null) this.lastId = this.maxId;
    this.advance();
  }

  /** True when an id above `lastId` is held but one between is missing. */
  hasGap(): boolean {
    return this.lastId !== null && this.maxId > this.lastId;
  }

  /** get_history since_id answered up to `id`: nothing before it is missing any more. */
  acceptFetched(id: number): void {
    if (this.lastId === null) return;
    this.lastId = Math.max(this.lastId, id);
    this.advance();
  }

  /** The server no longer has the missing ids (capped/expired): jump to the next held. */
  skipHole(): void {
    if (this.lastId === null) return;
    let next = Infinity;
    for (const id of this.ids) {
      const n = Number(id);
      if (n > this.lastId && n < next) next = n;
    }
    if (next !== Infinity) this.lastId = next;
    this.advance();
  }

  /**
   * Ids only grow, so a history whose newest id is below one held, or a held id now naming
   * another message, means the room's numbering restarted (history expired, store wiped).
   */
  restartedBy(history: readonly unknown[]): boolean {
    if (this.ids.size === 0) return false;
    let newest = 0;
    for (const raw of history) {
      const m = raw as Partial<Message> | null;
      const n = parseId(m?.id);
      if (Number.isNaN(n)) continue;
      newest = Math.max(newest, n);
      const held = this.message(m?.id as string);
      if (held && (held.timestamp !== m?.timestamp || held.username !== m?.username)) return true;
    }
    return newest < this.maxId;
  }

  /** Forget every stored message and notice; pending messages stay (they go again). */
  reset(): TimelineChange[] {
    const changes: TimelineChange[] = [];
    for (const key of [...this.order]) {
      if (this.items.get(key)?.kind !== 'pending') changes.push(this.remove(key));
    }
    this.ids.clear();
    this.clientIds.clear();
    this.notices.length = 0;
    this.lastId = null;
    this.maxId = 0;
    return changes;
  }

  /** A message this client sends, shown at the bottom until its ack. */
  addPending({
    client_id,
    message,
    username,
    timestamp,
    reply_to,
    quote,
    files,
  }: {
    client_id: string;
    message: string;
    username: string;
    timestamp: string;
    reply_to?: string;
    quote?: ReplyPreview | null;
    files?: FileEntry[];
  }): TimelineChange[] {
    this.sentHere.add(client_id);
    this.localSeq += 1;
    const key = `p${pad(this.localSeq)}`;
    const item: PendingEntry = { key, kind: 'pending', client_id, username, message, timestamp, status: 'pending', error: null };
    if (reply_to) {
      item.reply_to = reply_to;
      item.quote = quote ?? null;
    }
    if (files && files.length > 0) item.files = files;
    this.put(item);
    this.pending.set(client_id, key);
    return [{ op: 'upsert', item }];
  }

  /** Change the state of a pending message ('pending' | 'failed', with an error). */
  updatePending(clientId: string, patch: Partial<Omit<PendingEntry, 'key' | 'kind' | 'client_id'>>): TimelineChange[] {
    const key = this.pending.get(clientId);
    if (!key) return [];
    const item = { ...(this.items.get(key) as PendingEntry), ...patch };
    this.items.set(key, item);
    return [{ op: 'upsert', item }];
  }

  removePending(clientId: string): TimelineChange[] {
    const key = this.pending.get(clientId);
    if (!key) return [];
    this.pending.delete(clientId);
    return [this.remove(key)];
  }

  isPending(clientId: string): boolean {
    return this.pending.has(clientId);
  }

  /** A local notice placed after the newest message held now; the view words it. */
  addNotice(variant: string, params: Record<string, unknown> = {}): TimelineChange[] {
    this.localSeq += 1;
    const key = `${formatId(this.maxId)}~${pad(this.localSeq)}`;
    const item: NoticeEntry = { key, kind: 'notice', variant, params };
    this.put(item);
    this.notices.push(key);
    const changes: TimelineChange[] = [{ op: 'upsert', item }];
    while (this.notices.length > MAX_NOTICES) {
      const oldest = this.notices.shift() as string;
      if (this.items.has(oldest)) changes.push(this.remove(oldest));
    }
    return changes;
  }

  removeNotice(key: string): TimelineChange[] {
    if (!this.items.has(key)) return [];
    const index = this.notices.indexOf(key);
    if (index >= 0) this.notices.splice(index, 1);
    return [this.remove(key)];
  }

  private advance(): void {
    if (this.lastId === null) return;
    while (this.ids.has(formatId(this.lastId + 1))) this.lastId += 1;
  }

  private search(key: string): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.order[mid] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private put(item: TimelineItem): void {
    const index = this.search(item.key);
    if (this.order[index] !== item.key) this.order.splice(index, 0, item.key);
    this.items.set(item.key, item);
  }

  private drop(key: string): void {
    const index = this.indexOf(key);
    if (index >= 0) this.order.splice(index, 1);
    this.items.delete(key);
  }

  private remove(key: string): TimelineChange {
    this.drop(key);
    return { op: 'remove', key };
  }
}
