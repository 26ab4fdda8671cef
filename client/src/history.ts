/**
 * A room's history requests (get_history): the catch-up after every (re)join and after a
 * jump — since the log position held with no hole, page after page from each cursor while
 * has_more — older pages for scrolling back (to a reply's original, say), and the one
 * message a reply quotes when neither the timeline nor a reply_preview has it.
 */

import { LIMITS } from './generated/protocol.js';
import { parsePosition } from './log.js';
import { EVENTS, type GetHistoryAck, type ReplyPreview } from './protocol.js';
import { previewOf, type RoomLog } from './roomlog.js';
import { formatId, parseId, type Timeline, type TimelineChange } from './timeline.js';

/** Rounds of get_history since_id per fill (each round pages while has_more). */
const MAX_FILL_ROUNDS = 20;
/** Pages per round: bounded, in case a server kept answering has_more. */
const MAX_HISTORY_PAGES = 1000;
/** Pages of older history one `loadHistoryTo` may fetch. */
const MAX_BACK_PAGES = 200;
/** Quotes fetched at once. */
const QUOTE_FETCHES = 4;

/** What the history needs of its room. */
export interface HistoryRoom {
  readonly name: string;
  readonly log: RoomLog;
  readonly timeline: Timeline;
  /** Emit with an ack; null when not connected, on disconnection or timeout. */
  request<T>(event: string, payload: object): Promise<T | null>;
  backoff(attempts: number): number;
  /** Bumped on every connect, disconnect and forced rejoin: older answers are stale. */
  generation(): number;
  joined(): boolean;
  closed(): boolean;
  /** Merge messages in their state as of log position `at`. */
  merge(messages: readonly unknown[], at: string): void;
  applyEvent(event: unknown): void;
  apply(changes: TimelineChange[]): void;
}

export class RoomHistory {
  private fill: { generation: number; done: Promise<void> } | null = null;
  private fillTimer: ReturnType<typeof setTimeout> | null = null;
  private olderKnown: boolean | null = null;
  private olderLoad: Promise<number> | null = null;
  private readonly quoteFetches = new Set<string>();

  constructor(private readonly room: HistoryRoom) {}

  /** False once the oldest message of the room is held; null until known. */
  get hasOlder(): boolean | null {
    if (this.room.timeline.oldestId() === 1) return false;
    return this.olderKnown;
  }

  /** room_joined brought `count` messages: a full page means more may lie before. */
  joinedWith(count: number): void {
    if (this.olderKnown === null && count > 0) this.olderKnown = count >= LIMITS.historyLimit;
  }

  /** The connection dropped or the room closed: no retry pending. */
  cancel(): void {
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = null;
  }

  // ---- Catch-up --------------------------------------------------------------------

  fillIfGap(): void {
    if (this.room.joined() && this.room.log.hasGap()) void this.fillFrom(this.room.log.position());
  }

  /**
   * Fetch the log after `since` with get_history since_id, page after page while has_more.
   * One fill runs per connection: a jump seen while it runs is covered by it, or by one more
   * round from the new position.
   */
  fillFrom(since: string): Promise<void> {
    const generation = this.room.generation();
    if (this.fill && this.fill.generation === generation) return this.fill.done;
    const fill = { generation, done: Promise.resolve() };
    fill.done = (async () => {
      try {
        let from = since;
        for (let round = 0; round < MAX_FILL_ROUNDS; round += 1) {
          const reached = await this.fetchSince(from, generation);
          if (reached === null) {
            // The store is down or the ack timed out: try again; a new connection resumes anyway.
            if (generation === this.room.generation() && this.room.joined()) this.scheduleFillRetry();
            return;
          }
          if (reached <= from) {
            // Nothing after `from` any more: the missing ids or events expired.
            this.room.timeline.skipHole();
            this.room.log.cursor.skipHole();
          }
          if (!this.room.log.hasGap()) return;
          from = this.room.log.position();
        }
      } finally {
        if (this.fill === fill) this.fill = null;
      }
    })();
    this.fill = fill;
    return fill.done;
  }

  private scheduleFillRetry(): void {
    this.cancel();
    this.fillTimer = setTimeout(() => {
      this.fillTimer = null;
      if (!this.room.closed()) this.fillIfGap();
    }, this.room.backoff(1));
  }

  /** Pages get_history since_id from `from`; the position reached, or null on failure. */
  private async fetchSince(from: string, generation: number): Promise<string | null> {
    let since = from;
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      // No `limit`: with since_id the server sends its largest page (HISTORY_LIMIT), and a
      // fixed number could exceed a server configured with a smaller one.
      const ack = await this.room.request<GetHistoryAck>(EVENTS.client.GET_HISTORY, { room: this.room.name, since_id: since });
      if (ack === null || !ack.ok || generation !== this.room.generation()) return null;
      const list = Array.isArray(ack.messages) ? ack.messages : [];
      let reached = since;
      for (const m of list) {
        const n = parseId(m?.id);
        if (!Number.isNaN(n) && formatId(n) > reached) reached = formatId(n);
      }
      // Protocol 2 names where the page ends (past its last message when events follow it).
      const cursor = typeof ack.cursor === 'string' && parsePosition(ack.cursor) ? ack.cursor : null;
      if (cursor && cursor > reached) reached = cursor;
      // The messages' state is current as of the page: at least its end.
      this.room.merge(list, reached);
      for (const event of Array.isArray(ack.events) ? ack.events : []) this.room.applyEvent(event);
      // Messages and events together cover the log up to `reached` without a hole.
      if (reached > since) this.room.log.covered(reached);
      const stuck = reached <= since;
      since = reached;
      // A page that moved nothing cannot be followed by one that does.
      if (!ack.has_more || stuck) return since;
    }
    return since;
  }

  // ---- Older history ---------------------------------------------------------------

  /** Fetch the page of history before the oldest message held; resolves to how many were new. */
  loadOlder(): Promise<number> {
    if (this.olderLoad) return this.olderLoad;
    const oldest = this.room.timeline.oldestId();
    if (oldest === null || oldest <= 1 || this.olderKnown === false || !this.room.joined()) return Promise.resolve(0);
    const generation = this.room.generation();
    // A page carries no position: the one held when asking is a lower bound of its state.
    const at = this.room.log.position();
    const load = (async () => {
      try {
        const ack = await this.room.request<GetHistoryAck>(EVENTS.client.GET_HISTORY, {
          room: this.room.name,
          before_id: formatId(oldest),
          limit: LIMITS.historyLimit,
        });
        if (ack === null || !ack.ok || generation !== this.room.generation()) return 0;
        const list = Array.isArray(ack.messages) ? ack.messages : [];
        const before = this.room.timeline.messages().length;
        this.room.merge(list, at);
        this.olderKnown = Boolean(ack.has_more) && list.length > 0;
        return this.room.timeline.messages().length - before;
      } finally {
        this.olderLoad = null;
      }
    })();
    this.olderLoad = load;
    return load;
  }

  /** Load older history until message `id` is held (to scroll to a reply's original). */
  async loadHistoryTo(id: string): Promise<boolean> {
    const target = parseId(id);
    if (Number.isNaN(target)) return false;
    const key = formatId(target);
    for (let page = 0; page < MAX_BACK_PAGES; page += 1) {
      if (this.room.timeline.message(key)) return true;
      const oldest = this.room.timeline.oldestId();
      if (oldest !== null && oldest < target) return false; // inside what is held: gone
      const added = await this.loadOlder();
      if (added === 0 && (this.olderKnown === false || !this.room.joined())) break;
    }
    return Boolean(this.room.timeline.message(key));
  }

  // ---- Quotes ----------------------------------------------------------------------

  /** The quote of original `id`: known, else fetched (get_history before_id id+1, limit 1). */
  async fetchQuote(id: string): Promise<ReplyPreview | null> {
    const n = parseId(id);
    if (Number.isNaN(n)) return null;
    const key = formatId(n);
    const known = this.room.log.quote(key);
    if (known) return known;
    if (!this.room.joined() || this.quoteFetches.has(key)) return null;
    this.quoteFetches.add(key);
    try {
      const ack = await this.room.request<GetHistoryAck>(EVENTS.client.GET_HISTORY, { room: this.room.name, before_id: formatId(n + 1), limit: 1 });
      if (ack === null || !ack.ok || this.room.closed()) return null;
      const found = (Array.isArray(ack.messages) ? ack.messages : []).find((m) => m?.id === key);
      // Not there any more (expired): it shows as gone.
      const preview: ReplyPreview = found ? previewOf(found) : { id: key, username: '', excerpt: '', deleted: true };
      this.room.apply(this.room.log.setQuote(key, preview));
      return this.room.log.quote(key);
    } finally {
      this.quoteFetches.delete(key);
    }
  }

  /** Fetch the quotes the held replies still lack, a few at a time. */
  fetchMissingQuotes(): void {
    if (!this.room.joined()) return;
    for (const id of this.room.log.missingQuotes()) {
      if (this.quoteFetches.size >= QUOTE_FETCHES) return;
      if (!this.quoteFetches.has(id)) void this.fetchQuote(id);
    }
  }
}
