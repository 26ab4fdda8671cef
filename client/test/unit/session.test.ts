import { ChatSession, type SessionError, type SessionOptions, type SavedEntry } from '../../src/index.js';
import { FakeSocket, flushPromises, joinWith, makeMessage, ok } from '../support/FakeSocket.js';

function setup(overrides: Partial<SessionOptions> = {}) {
  const socket = new FakeSocket();
  let n = 0;
  const urls: string[] = [];
  const session = new ChatSession({
    url: 'http://chat.test',
    username: 'alice',
    room: 'general',
    clientKey: 'k'.repeat(32),
    connect: (url) => {
      urls.push(url);
      return socket;
    },
    makeClientId: () => `cid-${++n}`,
    ...overrides,
  });
  const errors: SessionError[] = [];
  const states: string[] = [];
  session.on('error', (e) => errors.push(e));
  session.on('connection', (s) => states.push(s));
  session.start();
  return { session, socket, errors, states, urls };
}

const shown = (session: ChatSession) =>
  session.timeline.list().map((i) => (i.kind === 'message' ? Number(i.id) : i.kind === 'pending' ? `p:${i.client_id}:${i.status}` : i.variant));

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ChatSession', () => {
  it('connects to the url it was given, joins with the client_key and shows the history', async () => {
    const { session, socket, states, urls } = setup();
    expect(urls).toEqual(['http://chat.test']);
    expect(socket.connectCalls).toBe(1);
    await joinWith(socket, [makeMessage(1, 'bob', 'a'), makeMessage(2, 'bob', 'b')]);
    expect(socket.sent('join_room')[0].payload).toEqual({ username: 'alice', room: 'general', client_key: 'k'.repeat(32) });
    expect(shown(session)).toEqual([1, 2]);
    expect(states).toEqual(['connecting', 'connected']);
    expect(socket.sent('get_history')).toHaveLength(0);
  });

  it('fills the gap and re-sends the outbox after a reconnection, once the fill ended', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.send('first');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket, [makeMessage(3, 'bob', 'c')]);
    expect(socket.sent('send_message')).toHaveLength(0);
    socket.last('get_history').ack!(ok({ room: 'general', messages: [makeMessage(2, 'bob', 'b'), makeMessage(3, 'bob', 'c')], has_more: false }));
    await flushPromises();
    const resend = socket.last('send_message');
    expect(resend.payload).toEqual({ message: 'first', client_id: 'cid-1' });
    resend.ack!(ok({ message: makeMessage(4, 'alice', 'first', { client_id: 'cid-1' }), duplicate: false }));
    socket.fire('new_message', makeMessage(4, 'alice', 'first', { client_id: 'cid-1' }));
    await flushPromises();
    expect(shown(session)).toEqual([1, 2, 3, 4]);
    expect(session.outbox.size).toBe(0);
  });

  it('never lets a message typed during the gap fill overtake the queued ones', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.send('queued');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket);
    session.send('typed during the fill');
    expect(socket.sent('send_message')).toHaveLength(0);
    socket.last('get_history').ack!(ok({ room: 'general', messages: [], has_more: false }));
    await flushPromises();
    expect(socket.sent('send_message').map((e) => e.payload.message)).toEqual(['queued', 'typed during the fill']);
    session.send('later');
    expect(socket.last('send_message').payload.message).toBe('later');
  });

  it('re-sends at once after a rejoin when told not to wait for the fill', async () => {
    const { session, socket } = setup({ sendDuringGapFill: true });
    await joinWith(socket);
    session.send('first');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket);
    expect(socket.sent('get_history')).toHaveLength(1);
    expect(socket.sent('send_message')).toHaveLength(1);
  });

  it('marks a rate-limited message failed and retryable when it must not re-send by itself', async () => {
    const { session, socket, errors } = setup({ resendRateLimited: false });
    await joinWith(socket);
    const sent = session.send('too fast');
    socket.last('send_message').ack!({ ok: false, code: 'rate_limited', error: 'Too many messages' });
    await flushPromises();
    jest.advanceTimersByTime(60000);
    expect(socket.sent('send_message')).toHaveLength(1);
    expect(shown(session)).toEqual([1, 'p:cid-1:failed']);
    expect(errors.map((e) => [e.source, e.code, e.fatal])).toEqual([['send', 'rate_limited', false]]);
    session.retry(sent.ok ? sent.clientId : '');
    expect(socket.sent('send_message').map((e) => e.payload.client_id)).toEqual(['cid-1', 'cid-1']);
    expect(shown(session)).toEqual([1, 'p:cid-1:pending']);
  });

  it('re-sends a rate-limited message after the backoff by default', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.send('too fast');
    socket.last('send_message').ack!({ ok: false, code: 'rate_limited', error: 'Too many messages' });
    await flushPromises();
    jest.advanceTimersByTime(1000);
    expect(socket.sent('send_message')).toHaveLength(2);
  });

  it('keeps unacknowledged messages in its store and sends them after a reload', async () => {
    let saved: SavedEntry[] = [];
    const store = { load: () => saved, save: (entries: SavedEntry[]) => (saved = entries) };
    const first = setup({ outboxStore: store });
    first.session.send('typed before the reload');
    expect(saved.map((e) => e.text)).toEqual(['typed before the reload']);
    const second = setup({ outboxStore: store, makeClientId: () => 'unused' });
    await joinWith(second.socket);
    expect(second.socket.last('send_message').payload).toEqual({ message: 'typed before the reload', client_id: 'cid-1' });
    second.socket.last('send_message').ack!(ok({ message: makeMessage(2, 'alice', 'typed before the reload', { client_id: 'cid-1' }), duplicate: false }));
    await flushPromises();
    expect(saved).toEqual([]);
  });

  it('stops for good when the name is taken', async () => {
    const { session, socket, errors, states } = setup();
    socket.serverConnect();
    socket.last('join_room').ack!({ ok: false, code: 'name_taken', error: 'taken' });
    await flushPromises();
    expect(errors).toEqual([{ message: 'taken', code: 'name_taken', fatal: true, source: 'join' }]);
    expect(states.at(-1)).toBe('stopped');
    expect(session.connection).toBe('stopped');
    expect(socket.listenerCount('connect')).toBe(0);
    expect(socket.disconnectCalls).toBe(1);
  });

  it('tries the join again after rate_limited, with a backoff', async () => {
    const { socket, errors } = setup();
    socket.serverConnect();
    socket.last('join_room').ack!({ ok: false, code: 'rate_limited', error: 'slow down' });
    await flushPromises();
    expect(errors[0]).toMatchObject({ fatal: false, source: 'join' });
    jest.advanceTimersByTime(999);
    expect(socket.sent('join_room')).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(socket.sent('join_room')).toHaveLength(2);
  });

  it('comes back after a server-side disconnect after a pause, and not once it left', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    socket.drop('io server disconnect');
    jest.advanceTimersByTime(999);
    const before = socket.connectCalls;
    jest.advanceTimersByTime(1);
    expect([before, socket.connectCalls]).toEqual([1, 2]);
    socket.drop('io server disconnect');
    void session.leave();
    jest.advanceTimersByTime(60000);
    expect(socket.connectCalls).toBe(2);
  });

  it('leaves: tells the server, waits for its answer, then closes', async () => {
    const { session, socket, states } = setup();
    await joinWith(socket);
    session.send('unsent');
    const left = session.leave();
    expect(states.at(-1)).toBe('left');
    expect(socket.disconnectCalls).toBe(0);
    socket.last('leave_room').ack!(ok({ room: 'general' }));
    await left;
    expect(socket.disconnectCalls).toBe(1);
    expect(session.outbox.size).toBe(0);
  });

  it('tells who types, in the order they started, never itself', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    const seen: string[][] = [];
    session.on('typing', (names) => seen.push(names));
    socket.fire('user_typing', { username: 'carol', is_typing: true });
    socket.fire('user_typing', { username: 'ALICE', is_typing: true });
    socket.fire('user_typing', { username: 'bob', is_typing: true });
    socket.fire('new_message', makeMessage(2, 'carol', 'done'));
    expect(seen).toEqual([['carol'], ['carol', 'bob'], ['bob']]);
    socket.drop();
    expect(session.typingNames).toEqual([]);
  });

  it('emits each stored message once to a bot', async () => {
    const { session, socket } = setup();
    const texts: string[] = [];
    session.on('message', (m) => texts.push(m.message));
    await joinWith(socket);
    socket.fire('new_message', makeMessage(2, 'bob', 'two'));
    socket.fire('new_message', makeMessage(2, 'bob', 'two'));
    expect(texts).toEqual(['hi', 'two']);
  });
});
