import { ChatSession, SESSION_ENDED, type Conversation, type SessionError, type SessionOptions } from '../../src/index.js';
import { FakeSocket, flushPromises, joinWith, makeMessage, ok } from '../support/FakeSocket.js';

// A signed-in session: the handshake carries the access token; a refused token is refreshed
// and the socket reconnects with the next one, the rooms and the outbox as they were.

type AuthCallback = (cb: (data: object) => void) => void;

function setup(tokens: { current: string | null; next: Array<string | null | Error> }, overrides: Partial<SessionOptions> = {}) {
  const socket = new FakeSocket();
  let n = 0;
  const refreshes: number[] = [];
  const session = new ChatSession({
    url: 'http://chat.test',
    username: 'alice',
    room: 'general',
    protocol: 2,
    clientKey: 'k'.repeat(32),
    connect: (_url, options) => {
      socket.options = options;
      return socket;
    },
    makeClientId: () => `cid-${++n}`,
    auth: {
      token: async () => tokens.current,
      refresh: async () => {
        refreshes.push(1);
        const next = tokens.next.shift();
        if (next instanceof Error) throw next;
        tokens.current = next ?? null;
        return tokens.current;
      },
    },
    ...overrides,
  });
  const errors: SessionError[] = [];
  const states: string[] = [];
  session.on('error', (e) => errors.push(e));
  session.on('connection', (s) => states.push(s));
  session.start();
  return { session, socket, errors, states, refreshes };
}

/** What the handshake would carry now (socket.io-client calls the auth function on every connect). */
async function handshake(socket: FakeSocket): Promise<object> {
  const auth = socket.options?.auth as AuthCallback;
  expect(typeof auth).toBe('function');
  return new Promise((resolve) => auth(resolve));
}

const refusal = (code: string) => Object.assign(new Error(code), { data: { code } });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ChatSession signed in with an account', () => {
  it('sends the access token in the handshake of every connection', async () => {
    const tokens = { current: 'access-1', next: [] };
    const { socket } = setup(tokens);
    expect(await handshake(socket)).toEqual({ protocol: 2, token: 'access-1' });
    tokens.current = 'access-2';
    expect(await handshake(socket)).toEqual({ protocol: 2, token: 'access-2' });
  });

  it('connects as a guest when there is no token', async () => {
    const { socket } = setup({ current: null, next: [] });
    expect(await handshake(socket)).toEqual({ protocol: 2 });
  });

  it('refreshes an expired token once and reconnects, re-sending the outbox with the same client_id', async () => {
    const tokens = { current: 'access-1', next: ['access-2'] };
    const { session, socket, refreshes, errors } = setup(tokens);
    await joinWith(socket);
    session.send('typed while the token expired');
    socket.last('send_message');
    socket.drop();
    socket.clearEmitted();
    const connectsBefore = socket.connectCalls;
    socket.fire('connect_error', refusal('token_expired'));
    socket.fire('connect_error', refusal('token_expired'));
    await flushPromises();
    expect(refreshes).toHaveLength(1);
    expect(socket.connectCalls).toBe(connectsBefore + 1);
    expect(await handshake(socket)).toEqual({ protocol: 2, token: 'access-2' });
    await joinWith(socket, [makeMessage(1, 'bob', 'hi')]);
    socket.last('get_history').ack!(ok({ room: 'general', messages: [], has_more: false, cursor: '000000000001' }));
    await flushPromises();
    expect(socket.last('send_message').payload).toMatchObject({ message: 'typed while the token expired', client_id: 'cid-1', room: 'general' });
    expect(session.connection).toBe('connected');
    expect(errors).toEqual([]);
  });

  it('stops with "session ended" when the refresh says it is signed out', async () => {
    const { session, socket, errors, states } = setup({ current: 'access-1', next: [null] });
    socket.fire('connect_error', refusal('token_expired'));
    await flushPromises();
    expect(errors).toEqual([{ message: SESSION_ENDED, code: 'invalid_token', fatal: true, source: 'join' }]);
    expect(states.at(-1)).toBe('stopped');
    expect(session.connection).toBe('stopped');
    expect(socket.disconnectCalls).toBe(1);
  });

  it('gives up when the token is invalid even after a refresh', async () => {
    const { socket, errors, refreshes } = setup({ current: 'access-1', next: ['access-2'] });
    socket.fire('connect_error', refusal('invalid_token'));
    await flushPromises();
    expect(refreshes).toHaveLength(1);
    expect(errors).toEqual([]);
    socket.fire('connect_error', refusal('invalid_token'));
    await flushPromises();
    expect(refreshes).toHaveLength(1);
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([['invalid_token', true]]);
  });

  it('does not refresh forever when every new token is refused', async () => {
    const { socket, errors, refreshes } = setup({ current: 'access-1', next: ['access-2', 'access-3', 'access-4'] });
    for (let i = 0; i < 4; i += 1) {
      socket.fire('connect_error', refusal('token_expired'));
      await flushPromises();
    }
    expect(refreshes).toHaveLength(2);
    expect(errors.map((e) => e.code)).toEqual(['invalid_token']);
  });

  it('tries the refresh again later when the account server cannot be reached', async () => {
    const { socket, refreshes, errors } = setup({ current: 'access-1', next: [new Error('offline'), 'access-2'] });
    const connectsBefore = socket.connectCalls;
    socket.fire('connect_error', refusal('token_expired'));
    await flushPromises();
    expect(refreshes).toHaveLength(1);
    expect(socket.connectCalls).toBe(connectsBefore);
    jest.advanceTimersByTime(2000);
    await flushPromises();
    expect(refreshes).toHaveLength(2);
    expect(socket.connectCalls).toBe(connectsBefore + 1);
    expect(errors).toEqual([]);
  });

  it('stops instead of coming back as a guest when signed out between connections', async () => {
    const tokens = { current: 'access-1' as string | null, next: [] };
    const { socket, errors, states } = setup(tokens);
    expect(await handshake(socket)).toEqual({ protocol: 2, token: 'access-1' });
    await joinWith(socket);
    socket.drop();
    tokens.current = null;
    const auth = socket.options?.auth as AuthCallback;
    const sent: object[] = [];
    auth((data) => sent.push(data));
    await flushPromises();
    expect(sent).toEqual([]);
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([['invalid_token', true]]);
    expect(states.at(-1)).toBe('stopped');
  });

  it('ignores connection errors that are not about the token', async () => {
    const { socket, refreshes } = setup({ current: 'access-1', next: [] });
    socket.fire('connect_error', new Error('xhr poll error'));
    await flushPromises();
    expect(refreshes).toHaveLength(0);
  });

  it('tells of conversations and joins a private room like any other', async () => {
    const { session, socket } = setup({ current: 'access-1', next: [] });
    await joinWith(socket);
    const seen: Conversation[] = [];
    session.on('conversation', (c) => seen.push(c));
    const room = 'dm:abcdefghij0123456789';
    socket.fire('conversation', { room, with: { username: 'bob', display_name: 'Bobby', color: '#F7B731' }, created_at: 't', blocked: false, can_write: true });
    socket.fire('conversation', { room: 'general', with: { username: 'bob' } });
    expect(seen).toEqual([{ room, with: { username: 'bob', displayName: 'Bobby', color: '#F7B731' }, createdAt: 't', blocked: false, canWrite: true }]);
    expect(session.joinRoom(room)).toEqual({ ok: true, room });
    expect(socket.last('join_room').payload).toMatchObject({ room });
    expect(session.joinRoom('dm:NOT-A-ROOM').ok).toBe(false);
  });

  it('shows a message refused because of a block as failed, with its code', async () => {
    const { session, socket, errors } = setup({ current: 'access-1', next: [] });
    await joinWith(socket);
    session.send('hello?');
    socket.last('send_message').ack!({ ok: false, code: 'blocked', error: 'You cannot write to bob' });
    await flushPromises();
    expect(errors.map((e) => [e.source, e.code, e.message])).toEqual([['send', 'blocked', 'You cannot write to bob']]);
    const pending = session.timeline.list().find((i) => i.kind === 'pending');
    expect(pending).toMatchObject({ status: 'failed', code: 'blocked' });
  });
});
