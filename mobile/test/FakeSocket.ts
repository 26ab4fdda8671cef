import type { SocketLike } from '../app/services/socket/ChatService';
import type { Message } from '../app/services/socket/protocol';

type Listener = (...args: any[]) => void;

export interface Emitted {
  event: string;
  payload: any;
  ack?: (response: any) => void;
}

/**
 * A stand-in for a socket.io-client Socket: records what the app emits and lets a test
 * play the server (connect, drop, push events, answer acks).
 */
export class FakeSocket implements SocketLike {
  connected = false;
  connectCalls = 0;
  disconnectCalls = 0;
  readonly emitted: Emitted[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();

  on(event: string, listener: Listener): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
    return this;
  }

  off(event: string, listener?: Listener): this {
    if (listener) this.listeners.get(event)?.delete(listener);
    else this.listeners.delete(event);
    return this;
  }

  emit(event: string, payload?: any, ack?: (response: any) => void): this {
    this.emitted.push({ event, payload, ack });
    return this;
  }

  connect(): this {
    this.connectCalls += 1;
    return this;
  }

  disconnect(): this {
    this.disconnectCalls += 1;
    this.connected = false;
    return this;
  }

  // ---- The server's side -------------------------------------------------------

  /** The transport is up: fires `connect`. */
  serverConnect(): void {
    this.connected = true;
    this.fire('connect');
  }

  /** The transport is gone: fires `disconnect`; unanswered acks are lost. */
  drop(reason = 'transport close'): void {
    this.connected = false;
    this.fire('disconnect', reason);
  }

  /** Push a server → client event. */
  fire(event: string, ...args: any[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(...args);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Every emit of this event so far. */
  sent(event: string): Emitted[] {
    return this.emitted.filter((e) => e.event === event);
  }

  /** The latest emit of this event (throws if none). */
  last(event: string): Emitted {
    const all = this.sent(event);
    if (all.length === 0) throw new Error(`no ${event} emitted`);
    return all[all.length - 1];
  }

  /** Forget what was emitted so far (keeps listeners). */
  clearEmitted(): void {
    this.emitted.length = 0;
  }
}

/** A stored message as the server would send it. */
export function makeMessage(
  n: number,
  username: string,
  text: string,
  extra: Partial<Message> = {},
): Message {
  return {
    id: String(n).padStart(12, '0'),
    username,
    message: text,
    timestamp: new Date(Date.UTC(2026, 10, 25, 14, 0, n)).toISOString(),
    room: 'general',
    type: 'message',
    ...extra,
  };
}

/** Let pending promise callbacks run (acks resolve through promises). */
export async function flushPromises(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}
