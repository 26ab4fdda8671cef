/**
 * Messages sent but not acknowledged yet, in the order they were typed. Each keeps its
 * client_id for every attempt, so the server stores it once however often it goes out
 * (docs/protocol.md, "Delivery guarantee"). An optional store keeps them across reloads.
 */

import type { FileEntry } from './files.js';

export type OutboxState = 'queued' | 'inflight' | 'failed';

export interface OutboxEntry {
  clientId: string;
  text: string;
  timestamp: string;
  state: OutboxState;
  /** Attempts since the last success or manual retry (drives the backoff). */
  attempts: number;
  /** Every attempt ever made (never reset): tells a stale ack from the current one. */
  sends: number;
  /** The connection generation of the attempt awaiting its ack. */
  generation: number;
  timer: ReturnType<typeof setTimeout> | null;
  error?: string;
  /** Protocol 2: the message it answers. */
  replyTo?: string;
  /** The uploads it shares (their ids go in every attempt). */
  files?: FileEntry[];
}

/** What is kept of an entry across a reload. */
export interface SavedEntry {
  client_id: string;
  text: string;
  timestamp: string;
  reply_to?: string;
  files?: FileEntry[];
}

/** Where the outbox survives a reload (the web UI uses sessionStorage). */
export interface OutboxStore {
  load(): unknown;
  save(entries: SavedEntry[]): void;
}

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();

  constructor(private readonly store?: OutboxStore) {}

  get size(): number {
    return this.entries.size;
  }

  get(clientId: string): OutboxEntry | undefined {
    return this.entries.get(clientId);
  }

  has(clientId: string): boolean {
    return this.entries.has(clientId);
  }

  /** Every entry, oldest first. */
  values(): OutboxEntry[] {
    return [...this.entries.values()];
  }

  add(clientId: string, text: string, timestamp: string, replyTo?: string, files?: FileEntry[]): OutboxEntry {
    const entry: OutboxEntry = { clientId, text, timestamp, state: 'queued', attempts: 0, sends: 0, generation: -1, timer: null };
    if (replyTo) entry.replyTo = replyTo;
    if (files && files.length > 0) entry.files = files.map((file) => ({ ...file }));
    this.entries.set(clientId, entry);
    this.save();
    return entry;
  }

  /** The message is stored (ack, echo or history): forget it. True if it was here. */
  settle(clientId: string): boolean {
    const entry = this.entries.get(clientId);
    if (!entry) return false;
    if (entry.timer) clearTimeout(entry.timer);
    this.entries.delete(clientId);
    this.save();
    return true;
  }

  clear(): void {
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
    this.save();
  }

  /** Stop every retry timer (the session stops); the entries stay. */
  cancelTimers(): void {
    for (const entry of this.entries.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
    }
  }

  /** The entries saved before a reload, well-formed ones only. */
  restore(): SavedEntry[] {
    let saved: unknown;
    try {
      saved = this.store?.load();
    } catch {
      return [];
    }
    if (!Array.isArray(saved)) return [];
    return saved.filter(
      (e): e is SavedEntry => !!e && typeof e.client_id === 'string' && typeof e.text === 'string',
    );
  }

  private save(): void {
    if (!this.store) return;
    const saved = this.values().map(({ clientId, text, timestamp, replyTo, files }) => {
      const entry: SavedEntry = { client_id: clientId, text, timestamp };
      if (replyTo) entry.reply_to = replyTo;
      if (files) entry.files = files;
      return entry;
    });
    try {
      this.store.save(saved);
    } catch {
      // A full or disabled storage must not stop the chat; the entries stay in memory.
    }
  }
}
