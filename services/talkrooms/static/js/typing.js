/**
 * Typing indicators. TypingSender decides when to emit `typing` (true at most every
 * 2 s while typing, false after 3 s idle or on send); TypingWatch keeps who else is
 * typing and forgets anyone not refreshed within 6 s (docs/protocol.md).
 */

export const TYPING_REFRESH_MS = 2000;
export const TYPING_IDLE_MS = 3000;
export const TYPING_VISIBLE_MS = 6000;

export class TypingSender {
  /** @param {(isTyping: boolean) => void} emit */
  constructor(emit, { refreshMs = TYPING_REFRESH_MS, idleMs = TYPING_IDLE_MS, now = () => Date.now() } = {}) {
    this.emit = emit;
    this.refreshMs = refreshMs;
    this.idleMs = idleMs;
    this.now = now;
    this.active = false;
    this.sentAt = 0;
    this.idleTimer = null;
  }

  /** The user changed the input; `hasText` tells whether anything is left in it. */
  input(hasText) {
    if (!hasText) {
      this.stop();
      return;
    }
    const now = this.now();
    if (!this.active || now - this.sentAt >= this.refreshMs) {
      this.active = true;
      this.sentAt = now;
      this.emit(true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
  }

  /** Sent, emptied or idle: tell the others once. */
  stop() {
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.active) {
      this.active = false;
      this.emit(false);
    }
  }

  /** The connection dropped: the server forgot our state, so forget it too. */
  reset() {
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.active = false;
  }
}

export class TypingWatch {
  /** @param {(names: string[]) => void} onChange */
  constructor(onChange, visibleMs = TYPING_VISIBLE_MS) {
    this.onChange = onChange;
    this.visibleMs = visibleMs;
    this.timers = new Map();
  }

  set(username, isTyping) {
    clearTimeout(this.timers.get(username));
    if (isTyping) {
      this.timers.set(
        username,
        setTimeout(() => this.set(username, false), this.visibleMs),
      );
    } else {
      this.timers.delete(username);
    }
    this.onChange(this.names());
  }

  /** Forget someone who left or sent a message. */
  drop(username) {
    if (this.timers.has(username)) this.set(username, false);
  }

  clear() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.onChange([]);
  }

  names() {
    return [...this.timers.keys()].sort();
  }
}
