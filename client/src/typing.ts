/**
 * Typing indicators (docs/protocol.md). TypingSender decides when to emit `typing`: true at
 * most every `throttleMs` while typing, false after `idleMs` without a keystroke or on
 * send. TypingWatch keeps who else is typing, in the order they started, and forgets
 * anyone not refreshed within `expireMs`.
 */

import { TYPING } from './generated/protocol.js';

export interface TypingSenderOptions {
  throttleMs?: number;
  idleMs?: number;
  now?: () => number;
  /** False while not in the room: nothing is sent and nothing is remembered as sent. */
  canSend?: () => boolean;
}

export class TypingSender {
  private readonly throttleMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly canSend: () => boolean;
  private active = false;
  private sentAt = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly emit: (isTyping: boolean) => void,
    { throttleMs = TYPING.throttleMs, idleMs = TYPING.idleMs, now = () => Date.now(), canSend = () => true }: TypingSenderOptions = {},
  ) {
    this.throttleMs = throttleMs;
    this.idleMs = idleMs;
    this.now = now;
    this.canSend = canSend;
  }

  /** True while the others were told we type. */
  get isActive(): boolean {
    return this.active;
  }

  /** The input changed; `hasText` tells whether anything (not blank) is left in it. */
  input(hasText: boolean): void {
    if (!hasText) {
      this.stop();
      return;
    }
    if (!this.canSend()) return;
    const now = this.now();
    if (!this.active || now - this.sentAt >= this.throttleMs) {
      this.active = true;
      this.sentAt = now;
      this.emit(true);
    }
    this.clearTimer();
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
  }

  /** Sent, emptied or idle: tell the others once. */
  stop(): void {
    this.clearTimer();
    if (!this.active) return;
    this.active = false;
    this.emit(false);
  }

  /** The connection dropped: the server forgot our state, so forget it too (no emit). */
  reset(): void {
    this.clearTimer();
    this.active = false;
  }

  private clearTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

export class TypingWatch {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** `onChange` runs when someone starts or stops typing (not on a mere refresh). */
  constructor(
    private readonly onChange: (names: string[]) => void,
    private readonly expireMs: number = TYPING.expireMs,
  ) {}

  set(username: string, isTyping: boolean): void {
    if (!isTyping) {
      this.drop(username);
      return;
    }
    const existing = this.timers.get(username);
    if (existing) clearTimeout(existing);
    this.timers.set(
      username,
      setTimeout(() => this.drop(username), this.expireMs),
    );
    if (!existing) this.onChange(this.names());
  }

  /** Forget someone who stopped, left or sent a message. */
  drop(username: string): void {
    const timer = this.timers.get(username);
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(username);
    this.onChange(this.names());
  }

  /** Forget everyone (the connection dropped). */
  clear(): void {
    const had = this.timers.size > 0;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (had) this.onChange([]);
  }

  /** Who types now, in the order they started. */
  names(): string[] {
    return [...this.timers.keys()];
  }
}
