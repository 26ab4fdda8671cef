/**
 * A room's read marker and unread counts (docs/protocol.md, protocol 2). room_joined gives
 * the server's marker and counts (over every kept message, not only those the client
 * holds); messages that arrive after it count here, so the counts stay live for rooms not
 * shown. The "new messages" divider sits before the first message unread when the person
 * opened the room, and stays there while they read on. Pure: the session sends mark_read.
 */

import { sameName } from './names.js';
import type { RoomJoinedPayload } from './protocol.js';
import { formatId, parseId, type MessageEntry, type Timeline } from './timeline.js';

const NONE = formatId(0);

export class ReadState {
  /** Our marker: everything up to it was seen ("000000000000" when none). */
  marker = NONE;
  /** The marker the server acknowledged (or told in room_joined). */
  serverMarker = NONE;
  unread = 0;
  mentions = 0;
  /** Messages up to this id are in the counts room_joined gave; later ones are counted here. */
  private countedTo = 0;
  /** The divider goes after this id; null before the first join. */
  private dividerFrom: string | null = null;
  /**
   * True when something was unread when the divider was placed: it stays while the person
   * reads on. False: they were caught up, and reading moves it along (no divider above
   * messages that arrive while they watch).
   */
  private pinned = false;
  /** The room was shown before: with no marker, what came since is new all the same. */
  private opened = false;

  /** `me` is our name in the room as the server spells it. */
  constructor(
    private readonly timeline: Timeline,
    private readonly me: () => string,
  ) {}

  /** room_joined: the server's marker and counts, up to `newestId`. */
  joined(payload: RoomJoinedPayload, newestId: number): void {
    this.countedTo = newestId;
    if (typeof payload.read_id !== 'string' || Number.isNaN(parseId(payload.read_id))) return;
    const server = formatId(parseId(payload.read_id));
    if (server > this.serverMarker) this.serverMarker = server;
    if (server >= this.marker) {
      this.marker = server;
      this.unread = Math.max(0, Number(payload.unread) || 0);
      this.mentions = Math.max(0, Number(payload.mentions) || 0);
      // Live messages that came before room_joined (stored after its history was read).
      for (const m of this.timeline.messages()) if (Number(m.id) > newestId) this.countLive(m);
    }
    // Else we read further than the server knows (our mark_read was lost): our counts
    // stand, and the marker goes again (`behind`).
  }

  /** A message shown for the first time: true when it counts as unread. */
  count(item: MessageEntry): boolean {
    if (Number(item.id) <= this.countedTo) return false;
    return this.countLive(item);
  }

  private countLive(item: MessageEntry): boolean {
    if (item.deleted || item.id <= this.marker || this.mine(item)) return false;
    this.unread += 1;
    if (item.mentionsMe) this.mentions += 1;
    return true;
  }

  /** Seen up to `id` (default: the newest held): true when the marker moved forward. */
  mark(id?: string): boolean {
    const target = id ?? (this.timeline.maxId > 0 ? formatId(this.timeline.maxId) : null);
    if (target === null || Number.isNaN(parseId(target))) return false;
    const marker = formatId(parseId(target));
    if (marker <= this.marker) return false;
    this.marker = marker;
    this.recount();
    if (!this.pinned && this.dividerFrom !== null) this.dividerFrom = marker;
    return true;
  }

  /** The server acknowledged a marker. */
  acknowledged(readId: unknown): void {
    if (typeof readId === 'string' && !Number.isNaN(parseId(readId))) {
      const marker = formatId(parseId(readId));
      if (marker > this.serverMarker) this.serverMarker = marker;
    }
  }

  /** Another tab or device of ours read up to `readId` (read_marker): true when ours moved. */
  readElsewhere(readId: unknown): boolean {
    this.acknowledged(readId);
    if (this.serverMarker <= this.marker) return false;
    this.marker = this.serverMarker;
    this.recount();
    if (!this.pinned && this.dividerFrom !== null) this.dividerFrom = this.marker;
    return true;
  }

  /** True when the server has an older marker than ours: mark_read is due. */
  get behind(): boolean {
    return this.serverMarker < this.marker;
  }

  /**
   * Place the divider before the first message unread now (the room is opened). A person
   * opening a room for the first time with no marker gets none: all of it is new, and a
   * line above the first message would say nothing. A room shown before with no marker
   * (it was empty then) gets one above whatever came since.
   */
  placeDivider(): void {
    const firstVisit = this.marker === NONE && !this.opened;
    this.dividerFrom = firstVisit ? formatId(this.timeline.maxId) : this.marker;
    this.pinned = this.firstUnreadId !== null;
    this.opened = true;
  }

  /** No divider until the room is opened again. */
  clearDivider(): void {
    this.dividerFrom = this.marker;
    this.pinned = false;
  }

  /** The first message by someone else after the divider's marker; null when none. */
  get firstUnreadId(): string | null {
    if (this.dividerFrom === null) return null;
    for (const m of this.timeline.messages()) if (m.id > this.dividerFrom && !m.deleted && !this.mine(m)) return m.id;
    return null;
  }

  /** The room's numbering restarted. */
  reset(): void {
    this.marker = NONE;
    this.serverMarker = NONE;
    this.countedTo = 0;
  }

  /** The counts from the messages held after the marker. */
  private recount(): void {
    let unread = 0;
    let mentions = 0;
    for (const m of this.timeline.messages()) {
      if (m.id <= this.marker || m.deleted || this.mine(m)) continue;
      unread += 1;
      if (m.mentionsMe) mentions += 1;
    }
    this.unread = unread;
    this.mentions = mentions;
  }

  private mine(item: MessageEntry): boolean {
    return sameName(item.username, this.me());
  }
}
