/**
 * The reactions of one message, kept so that applying the room log is idempotent and order
 * proof (docs/protocol.md, protocol 2): a reaction event's `count` is absolute and its user
 * joins or leaves a set. Each emoji's count, each (emoji, person) mark and our own `me`
 * remember the log position that set them, so an event or a history snapshot older than
 * what is held changes nothing: a catch-up page that arrives after a live event cannot undo
 * it, and the same event applied twice leaves the same state.
 */

import type { Reaction } from './protocol.js';

interface Mark {
  name: string;
  on: boolean;
  /** Log position that set it. */
  at: string;
}

interface EmojiState {
  count: number;
  at: string;
  /** identity of the person → their mark. */
  users: Map<string, Mark>;
  me: { on: boolean; at: string };
}

export class ReactionState {
  private readonly emoji = new Map<string, EmojiState>();

  /** `identity` folds look-alike names into one key (usernameIdentity). */
  constructor(private readonly identity: (name: string) => string) {}

  /**
   * The message's reactions as of log position `at` (a history page or room_joined).
   * True when anything changed.
   */
  snapshot(reactions: readonly Reaction[] | undefined, at: string): boolean {
    const before = this.signature();
    const listed = new Set<string>();
    for (const reaction of Array.isArray(reactions) ? reactions : []) {
      if (!reaction || typeof reaction.emoji !== 'string') continue;
      listed.add(reaction.emoji);
      const state = this.state(reaction.emoji);
      if (at >= state.at) {
        state.count = Math.max(0, Number(reaction.count) || 0);
        state.at = at;
      }
      const names = new Set<string>();
      for (const name of Array.isArray(reaction.users) ? reaction.users : []) {
        if (typeof name !== 'string') continue;
        const key = this.identity(name);
        names.add(key);
        const mark = state.users.get(key);
        if (!mark || at >= mark.at) state.users.set(key, { name, on: true, at });
      }
      for (const [key, mark] of state.users) if (!names.has(key) && at >= mark.at) state.users.set(key, { ...mark, on: false, at });
      if (at >= state.me.at) state.me = { on: Boolean(reaction.me), at };
    }
    for (const [emoji, state] of this.emoji) {
      if (listed.has(emoji)) continue;
      if (at >= state.at) state.count = 0;
      for (const [key, mark] of state.users) if (at >= mark.at) state.users.set(key, { ...mark, on: false, at });
      if (at >= state.me.at) state.me = { on: false, at };
    }
    return this.signature() !== before;
  }

  /** One reaction event at log position `at`; `mine` when its user is us. True when it changed anything. */
  event(emoji: string, username: string, added: boolean, count: number, at: string, mine: boolean): boolean {
    const before = this.signature();
    const state = this.state(emoji);
    if (at > state.at) {
      state.count = Math.max(0, Number(count) || 0);
      state.at = at;
    }
    const key = this.identity(username);
    const mark = state.users.get(key);
    if (!mark || at > mark.at) state.users.set(key, { name: username, on: added, at });
    if (mine && at > state.me.at) state.me = { on: added, at };
    return this.signature() !== before;
  }

  /** The message was deleted: its reactions are gone. */
  clear(): void {
    this.emoji.clear();
  }

  /** What a view shows: every emoji with a count, in the order they first appeared. */
  list(): Reaction[] {
    const out: Reaction[] = [];
    for (const [emoji, state] of this.emoji) {
      if (state.count <= 0) continue;
      const users = [...state.users.values()].filter((m) => m.on).map((m) => m.name);
      out.push({ emoji, count: state.count, users, me: state.me.on });
    }
    return out;
  }

  private state(emoji: string): EmojiState {
    let state = this.emoji.get(emoji);
    if (!state) {
      state = { count: 0, at: '', users: new Map(), me: { on: false, at: '' } };
      this.emoji.set(emoji, state);
    }
    return state;
  }

  private signature(): string {
    return JSON.stringify(this.list());
  }
}
