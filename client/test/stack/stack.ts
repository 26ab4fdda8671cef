/**
 * What the stack suites share: clients of the real socket.io-client against TALKROOMS_URL,
 * waiting on their events with a timeout, and cutting a connection under a client.
 */
import { randomBytes } from 'node:crypto';

import { io, type Socket } from 'socket.io-client';

import { ChatSession, type SessionEvents, type SessionOptions } from '../../src/index.js';

export const URL = process.env.TALKROOMS_URL ?? '';
export const WAIT_MS = 15000;

export interface Client {
  session: ChatSession;
  socket: () => Socket;
  /** Events this client sent to the server, in order. */
  outgoing: Array<[string, unknown]>;
}

/** Every client made, for the suites' afterEach to leave. */
export const open: Client[] = [];

export function roomName(): string {
  return `core-${randomBytes(5).toString('hex')}`;
}

export function client(username: string, room: string, options: Partial<SessionOptions> = {}): Client {
  let socket: any = null;
  const outgoing: Array<[string, unknown]> = [];
  const factory = options.connect ?? ((url: string, socketOptions: object) => io(url, socketOptions));
  const session = new ChatSession({
    url: URL,
    username,
    room,
    clientKey: randomBytes(24).toString('base64url'),
    ...options,
    connect: (url, socketOptions) => {
      socket = factory(url, socketOptions);
      socket.onAnyOutgoing?.((event: string, payload: unknown) => outgoing.push([event, payload]));
      return socket;
    },
  });
  const made = { session, socket: () => socket as Socket, outgoing };
  open.push(made);
  return made;
}

const EVENTS: Array<keyof SessionEvents> = ['timeline', 'connection', 'typing', 'message', 'users', 'error', 'rooms'];

/** Resolves once `check()` holds, re-checked on every event of these clients; fails after `ms`. */
export function until(clients: Client[], what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: Array<() => void> = [];
    const done = (error?: Error) => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    const test = () => {
      if (check()) done();
    };
    for (const c of clients) for (const event of EVENTS) offs.push(c.session.on(event, test as never));
    test();
  });
}

export async function joined(c: Client): Promise<void> {
  c.session.start();
  await until([c], 'the join', () => c.session.rooms.every((r) => r.joined) && c.session.isJoined);
}

export function dropConnection(c: Client): void {
  // The transport closes under the client (a network drop): socket.io-client reconnects.
  c.socket().io.engine.close();
}
