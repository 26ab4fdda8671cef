/**
 * One room's log applied to its Timeline (docs/protocol.md, protocol 2): messages in their
 * current state (history, room_joined) and room events (edit, delete, reaction), so that
 * catch-up after a disconnection converges to the state of a client that stayed:
 * - every change is idempotent: the last edit wins (by `edited_at`), a tombstone stays a
 *   tombstone and takes no edit or reaction, reaction counts are absolute and users a set;
 * - every state remembers the log position it is current as of, so an older snapshot or
 *   event arriving late changes nothing newer;
 * - the room's log position (messages: Timeline.lastId; events: LogCursor) tells the
 *   session where to catch up from and when a jump left a gap.
 * It also resolves the quote of each reply and marks the messages that mention us. Pure: no
 * socket, no timers.
 */

import { LIMITS } from './generated/protocol.js';
import { LogCursor, parsePosition } from './log.js';
import { mentionsMe } from './mentions.js';
import { usernameIdentity, sameName } from './names.js';
import type { Message, ReplyPreview, RoomEvent } from './protocol.js';
import { ReactionState } from './reactions.js';
import { Timeline, parseId, type MessageEntry, type TimelineChange } from './timeline.js';

/** Characters of a quote's excerpt, as the server's reply_preview (LIMITS.replyExcerpt). */
export const EXCERPT_LENGTH = LIMITS.replyExcerpt;
/** Events kept to re-apply on messages that arrive later (a history page racing an event). */
const RECENT_EVENTS = 500;

/** What the log says of a held message; the timeline entry is rendered from it. */
interface MessageState {
  text: string;
  mentions?: string[];
  editedAt: string;
  deleted: boolean;
  deletedAt?: string;
  /** Deleted by a moderator. */
  removed?: boolean;
  reactions: ReactionState;
}

/** The start of a text as a quote shows it: whole up to EXCERPT_LENGTH code points, else cut with "…" (the server's rule). */
export function excerpt(text: string): string {
  const chars = [...text];
  return chars.length <= EXCERPT_LENGTH ? text : `${chars.slice(0, EXCERPT_LENGTH - 1).join('')}…`;
}

/** The quote of a held message. */
export function previewOf(message: Pick<Message, 'id' | 'username' | 'message' | 'deleted'>): ReplyPreview {
  const deleted = message.deleted === true;
  return { id: message.id, username: message.username, excerpt: deleted ? '' : excerpt(message.message), deleted };
}

function isRoomEvent(value: unknown): value is RoomEvent {
  const e = value as RoomEvent | null;
  return (
    !!e &&
    typeof e === 'object' &&
    parsePosition(e.id)?.counter != null &&
    typeof e.message_id === 'string' &&
    !Number.isNaN(parseId(e.message_id)) &&
    (e.type === 'edit' || e.type === 'delete' || e.type === 'reaction')
  );
}

export class RoomLog {
  readonly cursor = new LogCursor();
  private readonly states = new Map<string, MessageState>();
  /** id of an original → ids of the held replies quoting it. */
  private readonly replies = new Map<string, Set<string>>();
  /** Quotes of originals not held: from reply_preview, a fetch, or events on them. */
  private readonly quotes = new Map<string, ReplyPreview>();
  private recent: RoomEvent[] = [];

  /** `me` is our name in this room as the server spells it. */
  constructor(
    readonly timeline: Timeline,
    private readonly me: () => string,
  ) {}

  // ---- Position ------------------------------------------------------------------

  /** Where catch-up starts: the highest log position held with no hole before it. */
  position(): string {
    return this.cursor.since(this.timeline.lastId ?? 0);
  }

  /** A message id or an event counter jumped: get_history since position() is due. */
  hasGap(): boolean {
    return this.timeline.hasGap() || this.cursor.hasGap();
  }

  /** The first room_joined (or after a restart): everything up to `logId` is in the list. */
  begin(logId: string | undefined): void {
    this.timeline.begin();
    this.cursor.start(logId);
  }

  /** A get_history page covered the log up to `cursor` with no hole. */
  covered(cursor: string): void {
    const parsed = parsePosition(cursor);
    if (!parsed) return;
    this.timeline.acceptFetched(parsed.messageId);
    this.cursor.covered(cursor);
  }

  /** The room's numbering restarted: forget every message and event. */
  reset(): TimelineChange[] {
    this.states.clear();
    this.replies.clear();
    this.quotes.clear();
    this.recent = [];
    this.cursor.reset();
    return this.timeline.reset();
  }

  // ---- Messages --------------------------------------------------------------------

  /**
   * Merge messages in their state as of log position `at` (room_joined's log_id, a page's
   * cursor, or, for a page with no cursor, the position when it was asked for: a lower
   * bound, which is enough since every change is idempotent).
   */
  addMessages(messages: readonly unknown[], at: string): { changes: TimelineChange[]; added: Set<string> } {
    const changes = this.timeline.addMessages(messages);
    const added = new Set(changes.flatMap((c) => (c.op === 'upsert' && c.item.kind === 'message' ? [c.item.key] : [])));
    const touched = new Set<string>();
    for (const raw of messages) {
      const message = raw as Partial<Message> | null;
      if (!message || typeof message.id !== 'string') continue;
      const held = this.timeline.message(message.id);
      if (!held) continue;
      if (typeof message.reply_to === 'string' && held.reply_to === message.reply_to) {
        this.indexReply(message.reply_to, held.id);
        const preview = message.reply_preview;
        if (preview && typeof preview === 'object' && !this.timeline.message(message.reply_to)) this.keepQuote(message.reply_to, preview);
      }
      if (added.has(message.id)) {
        this.states.set(message.id, this.stateOf(message, at));
        touched.add(message.id);
      } else if (this.mergeState(message.id, message, at)) {
        touched.add(message.id);
      }
    }
    // Events that raced this page may be newer than its snapshot: apply them again.
    for (const event of this.recent) if (touched.has(event.message_id) && event.id > at) this.applyToState(event);
    for (const id of [...touched]) for (const reply of this.replies.get(id) ?? []) touched.add(reply);
    for (const id of touched) {
      const held = this.timeline.message(id);
      if (!held) continue;
      const item = this.render(held);
      if (added.has(id)) Object.assign(held, item); // still the object in `changes`
      else changes.push(...this.timeline.replaceMessage(item));
    }
    return { changes: compact(changes), added };
  }

  // ---- Events ----------------------------------------------------------------------

  /** Apply one room event; `fresh` is false for a copy of one held already. */
  applyEvent(raw: unknown): { changes: TimelineChange[]; fresh: boolean } {
    if (!isRoomEvent(raw)) return { changes: [], fresh: false };
    const event = raw;
    const fresh = this.cursor.note(event.id);
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent = this.recent.slice(-RECENT_EVENTS);
    const changes: TimelineChange[] = [];
    const held = this.timeline.message(event.message_id);
    if (held) {
      if (!this.applyToState(event)) return { changes, fresh };
      changes.push(...this.timeline.replaceMessage(this.render(held)));
    } else if (event.type !== 'reaction' && this.quotes.has(event.message_id)) {
      // An original we only quote: its quote follows the edit or the deletion.
      this.quotes.set(event.message_id, previewOf(event.message));
    } else {
      return { changes, fresh };
    }
    if (event.type !== 'reaction') changes.push(...this.rerenderReplies(event.message_id));
    return { changes, fresh };
  }

  // ---- Quotes ------------------------------------------------------------------------

  /** The quote of message `id`: held, else a preview or a fetched copy; null when unknown. */
  quote(id: string): ReplyPreview | null {
    const held = this.timeline.message(id);
    if (held) return previewOf(held);
    return this.quotes.get(id) ?? null;
  }

  /** Originals quoted by held replies whose quote is unknown (to fetch). */
  missingQuotes(): string[] {
    const out: string[] = [];
    for (const id of this.replies.keys()) if (this.quote(id) === null) out.push(id);
    return out;
  }

  /** A fetched original (or a stand-in saying it is gone): the replies quoting it show it. */
  setQuote(id: string, preview: ReplyPreview): TimelineChange[] {
    if (this.timeline.message(id)) return [];
    this.quotes.set(id, preview);
    return this.rerenderReplies(id);
  }

  /** The replies quoting `id` render again (the original changed or arrived). */
  rerenderReplies(id: string): TimelineChange[] {
    const changes: TimelineChange[] = [];
    for (const reply of this.replies.get(id) ?? []) {
      const held = this.timeline.message(reply);
      if (held) changes.push(...this.timeline.replaceMessage(this.render(held)));
    }
    return changes;
  }

  /** Our name changed (the server's spelling): `mentionsMe` is worked out again. */
  refreshMentions(): TimelineChange[] {
    const changes: TimelineChange[] = [];
    for (const held of this.timeline.messages()) {
      if (!held.mentions?.length) continue;
      const mine = mentionsMe(held.mentions, this.me());
      if (mine !== Boolean(held.mentionsMe)) changes.push(...this.timeline.replaceMessage({ ...held, mentionsMe: mine }));
    }
    return changes;
  }

  // ---- State -------------------------------------------------------------------------

  private stateOf(message: Partial<Message>, at: string): MessageState {
    const state: MessageState = {
      text: typeof message.message === 'string' ? message.message : '',
      editedAt: typeof message.edited_at === 'string' ? message.edited_at : '',
      deleted: false,
      reactions: new ReactionState(usernameIdentity),
    };
    if (Array.isArray(message.mentions)) state.mentions = message.mentions;
    if (message.deleted === true) this.tombstone(state, message);
    else state.reactions.snapshot(message.reactions, at);
    return state;
  }

  /** A held message's state from a snapshot; true when it changed. */
  private mergeState(id: string, message: Partial<Message>, at: string): boolean {
    const state = this.states.get(id);
    if (!state || state.deleted) return false; // a tombstone takes nothing more
    if (message.deleted === true) return this.tombstone(state, message);
    let changed = false;
    if (typeof message.edited_at === 'string' && message.edited_at > state.editedAt) changed = this.takeEdit(state, message);
    if (Array.isArray(message.reactions) && state.reactions.snapshot(message.reactions, at)) changed = true;
    return changed;
  }

  /** Apply an event to its held message's state; true when it changed. */
  private applyToState(event: RoomEvent): boolean {
    const state = this.states.get(event.message_id);
    if (!state || state.deleted) return false;
    if (event.type === 'delete') return this.tombstone(state, event.message ?? {});
    if (event.type === 'edit') {
      const message = event.message ?? {};
      if (message.deleted === true) return this.tombstone(state, message);
      // The last edit wins: an older one arriving late changes nothing.
      if (typeof message.edited_at !== 'string' || message.edited_at <= state.editedAt) return false;
      return this.takeEdit(state, message);
    }
    const mine = sameName(event.username, this.me());
    return state.reactions.event(event.emoji, event.username, Boolean(event.added), event.count, event.id, mine);
  }

  private takeEdit(state: MessageState, message: Partial<Message>): boolean {
    state.editedAt = message.edited_at as string;
    if (typeof message.message === 'string') state.text = message.message;
    if (Array.isArray(message.mentions)) state.mentions = message.mentions;
    else delete state.mentions;
    return true;
  }

  private tombstone(state: MessageState, message: Partial<Message>): boolean {
    state.deleted = true;
    state.text = '';
    delete state.mentions;
    if (typeof message.deleted_at === 'string') state.deletedAt = message.deleted_at;
    if (message.removed === true) state.removed = true;
    state.reactions.clear();
    return true;
  }

  /** The entry a view shows: the state's reactions, the quote, whether it mentions us. */
  private render(held: MessageEntry): MessageEntry {
    const state = this.states.get(held.id);
    const item: MessageEntry = { ...held };
    if (state) {
      item.message = state.text;
      if (state.editedAt) item.edited_at = state.editedAt;
      if (state.mentions) item.mentions = state.mentions;
      else delete item.mentions;
      if (state.deleted) {
        item.deleted = true;
        if (state.deletedAt) item.deleted_at = state.deletedAt;
        if (state.removed) item.removed = true;
        delete item.reactions;
        delete item.files;
      } else {
        item.reactions = state.reactions.list();
      }
    }
    if (item.reply_to) item.quote = this.quote(item.reply_to);
    item.mentionsMe = !item.deleted && mentionsMe(item.mentions, this.me());
    return item;
  }

  private indexReply(original: string, reply: string): void {
    let set = this.replies.get(original);
    if (!set) {
      set = new Set();
      this.replies.set(original, set);
    }
    set.add(reply);
  }

  private keepQuote(id: string, preview: Partial<ReplyPreview>): void {
    const known = this.quotes.get(id);
    if (known?.deleted) return; // a deletion is final
    this.quotes.set(id, {
      id,
      username: typeof preview.username === 'string' ? preview.username : '',
      excerpt: typeof preview.excerpt === 'string' ? preview.excerpt : '',
      deleted: preview.deleted === true,
    });
  }
}

/** One upsert per key (the last state), at the place of the first; removes kept in order. */
function compact(changes: TimelineChange[]): TimelineChange[] {
  const out: TimelineChange[] = [];
  const at = new Map<string, number>();
  for (const change of changes) {
    if (change.op === 'remove') {
      out.push(change);
      continue;
    }
    const index = at.get(change.item.key);
    if (index === undefined) {
      at.set(change.item.key, out.length);
      out.push(change);
    } else {
      const first = out[index] as Extract<TimelineChange, { op: 'upsert' }>;
      out[index] = first.replaces ? { op: 'upsert', item: change.item, replaces: first.replaces } : { op: 'upsert', item: change.item };
    }
  }
  return out;
}
