/**
 * Positions in a room's event log (docs/protocol.md, protocol 2): a message sits at its id
 * "000000000042", an event at "SSSSSSSSSSSS.NNNNNNNNNNNN" (S: the newest message id when it
 * happened, N: the room's event counter). Both sort as strings, so they are compared as
 * strings. LogCursor keeps the event half of a room's position: the last counter held with
 * no hole before it, so a jump in N is seen as a gap, as an id jump is for messages.
 */

import { ID_DIGITS, formatId } from './timeline.js';

const POSITION = new RegExp(`^(\\d{${ID_DIGITS}})(?:\\.(\\d{${ID_DIGITS}}))?$`);

export interface ParsedPosition {
  /** The message id part, as a number. */
  messageId: number;
  /** The event counter, or null for a message position. */
  counter: number | null;
}

/** "000000000042.000000000007" → {messageId: 42, counter: 7}; null when malformed. */
export function parsePosition(position: unknown): ParsedPosition | null {
  if (typeof position !== 'string') return null;
  const match = POSITION.exec(position);
  if (!match) return null;
  return { messageId: Number(match[1]), counter: match[2] === undefined ? null : Number(match[2]) };
}

/** (42, 7) → "000000000042.000000000007"; (42) → "000000000042". */
export function formatPosition(messageId: number, counter?: number | null): string {
  const head = formatId(messageId);
  return counter === undefined || counter === null ? head : `${head}.${formatId(counter)}`;
}

/** The later of two positions (they sort as strings). */
export function laterPosition(a: string, b: string): string {
  return a >= b ? a : b;
}

/** The event counters of a room seen so far, and the last one held without a hole. */
export class LogCursor {
  /** The last counter held with no hole before it; null until the room told us one. */
  counter: number | null = null;
  /** Its position. */
  position: string | null = null;
  /** Counters held above `counter` (after a jump), with their positions. */
  private readonly ahead = new Map<number, string>();

  /** room_joined's log_id on a first join: the events up to it are in the messages' state. */
  start(logId: string | undefined): void {
    const parsed = parsePosition(logId);
    if (!parsed || parsed.counter === null) return;
    this.raise(parsed.counter, logId as string);
  }

  /**
   * An event arrived at `position`. True when it is new here (not a copy of one held); a
   * counter above the next one expected leaves a hole (`hasGap`).
   */
  note(position: string): boolean {
    const parsed = parsePosition(position);
    if (!parsed || parsed.counter === null) return false;
    const n = parsed.counter;
    if (this.counter === null) {
      // No baseline (the server's log_id named a message): the first event sets it.
      this.raise(n, position);
      return true;
    }
    if (n <= this.counter || this.ahead.has(n)) return false;
    if (n === this.counter + 1) this.raise(n, position);
    else this.ahead.set(n, position);
    return true;
  }

  /** True when a counter was seen above one still missing. */
  hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /**
   * get_history covered the log up to `cursor` without a hole: every event at or before it
   * is held or folded into a message's state, whether or not it came as an event.
   */
  covered(cursor: string): void {
    const parsed = parsePosition(cursor);
    if (!parsed) return;
    if (parsed.counter !== null) this.raise(parsed.counter, cursor);
    for (const [n, position] of [...this.ahead]) if (position <= cursor) this.raise(n, position);
  }

  /** The missing counters are gone for good (nothing came for them): jump to the next held. */
  skipHole(): void {
    if (this.ahead.size === 0) return;
    const next = Math.min(...this.ahead.keys());
    this.raise(next, this.ahead.get(next) as string);
  }

  /**
   * Where catch-up starts: the highest position held with no hole before it, given `lastId`,
   * the last message id held without a hole.
   */
  since(lastId: number): string {
    const messages = formatId(lastId);
    if (this.position === null || this.counter === null) return messages;
    const eventsAt = parsePosition(this.position)?.messageId ?? 0;
    // Our last event happened after a message we miss: only the messages' position is safe.
    if (lastId < eventsAt) return messages;
    // A missing event may lie anywhere after the last one held, even before `lastId`.
    if (this.hasGap()) return this.position;
    return laterPosition(messages, this.position);
  }

  /** The room's numbering restarted: forget everything. */
  reset(): void {
    this.counter = null;
    this.position = null;
    this.ahead.clear();
  }

  private raise(n: number, position: string): void {
    if (this.counter === null || n > this.counter) {
      this.counter = n;
      this.position = position;
    }
    for (const key of [...this.ahead.keys()]) if (key <= (this.counter as number)) this.ahead.delete(key);
    // Counters held beyond the hole just closed follow on.
    while (this.ahead.has((this.counter as number) + 1)) {
      const next: number = (this.counter as number) + 1;
      this.position = this.ahead.get(next) as string;
      this.counter = next;
      this.ahead.delete(next);
    }
  }
}
