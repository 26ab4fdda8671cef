import type { Message, SocketLike } from '../../src/index.js';

// The app's tests use this file too (mobile/test/FakeSocket.ts): keep its imports type-only.

type Listener = (...args: any[]) => void;

export interface Emitted {
  event: string;
  payload: any;
  ack?: (response: any) => void;
}

/** A stand-in for a socket.io-client Socket: records emits; the test plays the server. */
export class FakeSocket implements SocketLike {
  connected = false;
  connectCalls = 0;
  disconnectCalls = 0;
  readonly emitted: Emitted[] = [];
  /** Optional: a fake server that answers what is emitted (see FakeServer.ts). */
  respond: ((emitted: Emitted) => void) | null = null;
  /** The options the session passed to the factory (auth among them). */
  options: Record<string, unknown> | null = null;
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
    if (!this.connected) throw new Error(`emitted ${event} while disconnected`);
    const emitted = { event, payload, ack };
    this.emitted.push(emitted);
    this.respond?.(emitted);
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

  serverConnect(): void {
    this.connected = true;
    this.fire('connect');
  }

  drop(reason = 'transport close'): void {
    this.connected = false;
    this.fire('disconnect', reason);
  }

  fire(event: string, ...args: any[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(...args);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  sent(event: string): Emitted[] {
    return this.emitted.filter((e) => e.event === event);
  }

  last(event: string): Emitted {
    const all = this.sent(event);
    if (all.length === 0) throw new Error(`no ${event} emitted`);
    return all[all.length - 1];
  }

  clearEmitted(): void {
    this.emitted.length = 0;
  }
}

export function makeMessage(n: number, username: string, text: string, extra: Partial<Message> = {}): Message {
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

export async function flushPromises(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}

export const ok = <T extends object>(body: T) => ({ ok: true as const, ...body });

/** Connect and join as alice in `general`, the server answering with this history. */
export async function joinWith(socket: FakeSocket, history = [makeMessage(1, 'bob', 'hi')]): Promise<void> {
  socket.serverConnect();
  const join = socket.last('join_room');
  socket.fire('room_joined', { room: 'general', username: 'alice', messages: history });
  join.ack!(ok({ room: 'general', username: 'alice' }));
  await flushPromises();
}
