import { ApiError, ChatSession, NotificationsClient, type SessionOptions } from '../../src/index.js';
import { fakeFetch, tokens } from '../support/fakeFetch.js';
import { FakeSocket, joinWith, ok } from '../support/FakeSocket.js';

// The notification routes of /api/v1, and the focus a signed-in session reports so that the
// server does not notify a person of the room they are looking at.

describe('NotificationsClient', () => {
  it('asks for the VAPID key without a token', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { public_key: 'BPk' } }));
    const client = new NotificationsClient({ baseUrl: 'http://chat.test/', tokens: tokens(), fetch });
    expect(await client.key()).toBe('BPk');
    expect(calls[0].url).toBe('http://chat.test/api/v1/push/key');
    expect(calls[0].headers.Authorization).toBeUndefined();
  });

  it('registers a Web Push subscription with the Bearer token and answers its id', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 201, body: { id: 7, kind: 'webpush', label: 'Firefox' } }));
    const client = new NotificationsClient({ baseUrl: '', tokens: tokens(), fetch });
    const subscription = { endpoint: 'https://push.test/abc', keys: { p256dh: 'p', auth: 'a' } };
    expect(await client.addWebPushDevice(subscription, 'Firefox')).toBe(7);
    expect(calls[0]).toMatchObject({
      url: '/api/v1/push/devices',
      method: 'POST',
      headers: { Authorization: 'Bearer access-1' },
      body: { kind: 'webpush', subscription, label: 'Firefox' },
    });
  });

  it('removes a device, a device already gone counting as removed', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 404, body: { error: 'Not found', code: 'not_found' } }));
    const client = new NotificationsClient({ baseUrl: '', tokens: tokens(), fetch });
    await expect(client.removeDevice(7)).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ url: '/api/v1/push/devices/7', method: 'DELETE' });
  });

  it('reads the settings and sets a level and a mute', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.method === 'GET'
        ? { status: 200, body: { rooms: [{ room: 'tech', level: 'all', muted_until: null }, { room: 'dm:x', level: 'none', muted_until: '2026-12-06T16:00:00Z' }] } }
        : { status: 200, body: { room: 'tech', level: 'none', muted_until: '2026-12-06T16:00:00Z' } },
    );
    const client = new NotificationsClient({ baseUrl: '', tokens: tokens(), fetch });
    expect(await client.settings()).toEqual([
      { room: 'tech', level: 'all', mutedUntil: null },
      { room: 'dm:x', level: 'none', mutedUntil: '2026-12-06T16:00:00Z' },
    ]);
    expect(await client.setRoom('tech', { level: 'none', muteMinutes: 60 })).toEqual({ room: 'tech', level: 'none', mutedUntil: '2026-12-06T16:00:00Z' });
    expect(calls[1]).toMatchObject({ url: '/api/v1/notifications/tech', method: 'PUT', body: { level: 'none', mute_minutes: 60 } });
  });

  it('refreshes the token once after a 401', async () => {
    let n = 0;
    const { fetch, calls } = fakeFetch(() => (++n === 1 ? { status: 401, body: { error: 'expired', code: 'token_expired' } } : { status: 200, body: { rooms: [] } }));
    const source = tokens();
    const client = new NotificationsClient({ baseUrl: '', tokens: source, fetch });
    expect(await client.settings()).toEqual([]);
    expect(source.refreshNow).toHaveBeenCalledTimes(1);
    expect(calls[1].headers.Authorization).toBe('Bearer access-2');
  });

  it('refuses signed out', async () => {
    const { fetch } = fakeFetch(() => ({ status: 200, body: {} }));
    const client = new NotificationsClient({ baseUrl: '', tokens: tokens(null, null), fetch });
    await expect(client.settings()).rejects.toBeInstanceOf(ApiError);
  });
});

describe('ChatSession focus', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup(overrides: Partial<SessionOptions> = {}) {
    const socket = new FakeSocket();
    const session = new ChatSession({
      url: 'http://chat.test',
      username: 'alice',
      room: 'general',
      protocol: 2,
      connect: () => socket,
      auth: { token: async () => 'access-1', refresh: async () => 'access-2' },
      ...overrides,
    });
    session.start();
    return { session, socket };
  }

  const focusSent = (socket: FakeSocket) => socket.sent('focus').map((e) => e.payload);

  it('says focused for the room shown, then unfocused when the person looks away', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.setFocus('general');
    session.setFocus('general');
    session.setFocus(null);
    expect(focusSent(socket)).toEqual([
      { room: 'general', focused: true },
      { room: 'general', focused: false },
    ]);
    socket.last('focus').ack!(ok({ room: 'general', focused: false }));
  });

  it('says it again every minute while it lasts, and stops after', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.setFocus('general');
    jest.advanceTimersByTime(60_000);
    jest.advanceTimersByTime(60_000);
    expect(focusSent(socket)).toHaveLength(3);
    session.setFocus(null);
    jest.advanceTimersByTime(180_000);
    expect(focusSent(socket)).toHaveLength(4);
  });

  it('tells the previous room it lost the focus when another one gets it', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.joinRoom('tech');
    const join = socket.last('join_room');
    socket.fire('room_joined', { room: 'tech', username: 'alice', messages: [] });
    join.ack!(ok({ room: 'tech', username: 'alice' }));
    await Promise.resolve();
    session.setFocus('general');
    session.setFocus('tech');
    expect(focusSent(socket)).toEqual([
      { room: 'general', focused: true },
      { room: 'general', focused: false },
      { room: 'tech', focused: true },
    ]);
  });

  it('says it again once joined after a reconnection', async () => {
    const { session, socket } = setup();
    session.setFocus('general');
    expect(focusSent(socket)).toEqual([]);
    await joinWith(socket);
    expect(focusSent(socket)).toEqual([{ room: 'general', focused: true }]);
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket);
    expect(focusSent(socket)).toEqual([{ room: 'general', focused: true }]);
  });

  it('sends nothing as a guest', async () => {
    const { session, socket } = setup({ auth: undefined });
    await joinWith(socket);
    session.setFocus('general');
    jest.advanceTimersByTime(60_000);
    expect(focusSent(socket)).toEqual([]);
  });
});
