import {
  ApiError,
  ChatSession,
  ModerationClient,
  canNameModerators,
  isStaff,
  parseSanctionNotice,
  roleIn,
  type SanctionNotice,
  type SessionError,
  type SessionOptions,
} from '../../src/index.js';
import { FakeServer } from '../support/FakeServer.js';
import { fakeFetch, tokens } from '../support/fakeFetch.js';
import { FakeSocket, flushPromises } from '../support/FakeSocket.js';

describe('ModerationClient', () => {
  it('reads the roles with the token when signed in, and without one for a guest', async () => {
    const { fetch, calls } = fakeFetch(() => ({
      status: 200,
      body: { room: 'general', owner: { username: 'olga', display_name: 'Olga' }, moderators: [{ username: 'max', display_name: 'Max' }], you: 'moderator' },
    }));
    const client = new ModerationClient({ baseUrl: 'https://chat.test/', tokens: tokens(), fetch });
    const roles = await client.roles('general');
    expect(roles).toEqual({
      room: 'general',
      owner: { username: 'olga', displayName: 'Olga' },
      moderators: [{ username: 'max', displayName: 'Max' }],
      you: 'moderator',
    });
    expect(calls[0].url).toBe('https://chat.test/api/v1/rooms/general/roles');
    expect(calls[0].headers.Authorization).toBe('Bearer access-1');
    expect(roleIn(roles, 'olga')).toBe('owner');
    expect(roleIn(roles, 'max')).toBe('moderator');
    expect(roleIn(roles, 'guest')).toBeNull();

    const guest = new ModerationClient({ baseUrl: '', fetch });
    await guest.roles('general');
    expect(calls[1].url).toBe('/api/v1/rooms/general/roles');
    expect(calls[1].headers.Authorization).toBeUndefined();
  });

  it('treats an unknown role and a missing owner as nobody', async () => {
    const { fetch } = fakeFetch(() => ({ status: 200, body: { room: 'random', owner: null, moderators: [], you: 'emperor' } }));
    const roles = await new ModerationClient({ baseUrl: '', fetch }).roles('random');
    expect(roles.owner).toBeNull();
    expect(roles.you).toBeNull();
    expect(isStaff(roles.you)).toBe(false);
    expect(isStaff('moderator')).toBe(true);
    expect(canNameModerators('moderator')).toBe(false);
    expect(canNameModerators('owner')).toBe(true);
    expect(canNameModerators('admin')).toBe(true);
  });

  it('sends every action to its route with the Bearer token', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith('/remove')) return { status: 200, body: { ok: true, removed: true, by: 'olga' } };
      if (call.url.endsWith('/sanctions') && call.method === 'POST')
        return { status: 200, body: { ok: true, sanction: 4, room: 'general', action: 'ban', username: 'eve', reason: 'spam', until: null, by: 'olga' } };
      return { status: 200, body: { ok: true } };
    });
    const client = new ModerationClient({ baseUrl: '', tokens: tokens(), fetch });
    await client.addModerator('general', 'max b');
    await client.removeModerator('general', 'max');
    await client.handOver('general', 'zoe', '  ');
    expect(await client.removeMessage('general', '000000000042', 'off topic')).toEqual({ removed: true, by: 'olga' });
    const ban = await client.sanction('general', { action: 'ban', username: 'eve', reason: 'spam' });
    await client.sanction('general', { action: 'mute', username: 'bob', minutes: 30 });
    await client.lift('general', 4);
    expect(ban).toEqual({ sanction: 4, room: 'general', action: 'ban', username: 'eve', reason: 'spam', until: null, by: 'olga' });
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['PUT', '/api/v1/rooms/general/moderators/max%20b', undefined],
      ['DELETE', '/api/v1/rooms/general/moderators/max', undefined],
      ['PUT', '/api/v1/rooms/general/owner', { username: 'zoe' }],
      ['POST', '/api/v1/rooms/general/messages/000000000042/remove', { reason: 'off topic' }],
      ['POST', '/api/v1/rooms/general/sanctions', { action: 'ban', username: 'eve', reason: 'spam' }],
      ['POST', '/api/v1/rooms/general/sanctions', { action: 'mute', username: 'bob', minutes: 30 }],
      ['DELETE', '/api/v1/rooms/general/sanctions/4', undefined],
    ]);
    expect(calls.every((c) => c.headers.Authorization === 'Bearer access-1')).toBe(true);
  });

  it('lists the sanctions in force and pages the audit log', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.url.includes('/audit')
        ? {
            status: 200,
            body: { room: 'general', entries: [{ id: 9, actor: 'olga', action: 'mute', target: 'bob', reason: '', details: { minutes: 10, sanction: 3 }, at: '2026-12-06T11:00:00Z' }] },
          }
        : {
            status: 200,
            body: { room: 'general', sanctions: [{ id: 3, action: 'mute', username: 'bob', guest: true, until: '2026-12-06T11:10:00Z', reason: 'calm down', at: '2026-12-06T11:00:00Z' }] },
          },
    );
    const client = new ModerationClient({ baseUrl: '', tokens: tokens(), fetch });
    expect(await client.sanctions('general')).toEqual([
      { id: 3, action: 'mute', username: 'bob', guest: true, until: '2026-12-06T11:10:00Z', reason: 'calm down', at: '2026-12-06T11:00:00Z' },
    ]);
    const entries = await client.audit('general', { limit: 20, before: 9 });
    expect(entries[0]).toEqual({ id: 9, actor: 'olga', action: 'mute', target: 'bob', reason: '', details: { minutes: 10, sanction: 3 }, at: '2026-12-06T11:00:00Z' });
    expect(calls[1].url).toBe('/api/v1/rooms/general/audit?limit=20&before=9');
    await client.audit('general');
    expect(calls[2].url).toBe('/api/v1/rooms/general/audit');
  });

  it('rejects with the server text and code, and refreshes once after a 401', async () => {
    let first = true;
    const { fetch, calls } = fakeFetch((call) => {
      if (call.headers.Authorization === 'Bearer access-1' && first) {
        first = false;
        return { status: 401, body: { error: 'Token expired', code: 'token_expired' } };
      }
      return { status: 403, body: { error: 'You may not do that here', code: 'forbidden' } };
    });
    const source = tokens();
    const client = new ModerationClient({ baseUrl: '', tokens: source, fetch });
    const refusal = await client.sanctions('general').catch((e) => e);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ status: 403, code: 'forbidden', message: 'You may not do that here' });
    expect(source.refreshNow).toHaveBeenCalledTimes(1);
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
  });

  it('refuses actions for a guest without asking the server, and says when the server is unreachable', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: {} }));
    await expect(new ModerationClient({ baseUrl: '', tokens: tokens(null), fetch }).lift('general', 1)).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    await expect(new ModerationClient({ baseUrl: '', fetch }).audit('general')).rejects.toMatchObject({ status: 401 });
    expect(calls).toHaveLength(0);
    const broken = (async () => {
      throw new TypeError('offline');
    }) as unknown as typeof fetch;
    await expect(new ModerationClient({ baseUrl: '', tokens: tokens(), fetch: broken }).sanctions('general')).rejects.toMatchObject({
      status: 0,
      code: 'network_error',
    });
  });
});

describe('parseSanctionNotice', () => {
  it('keeps well-formed notices and drops the rest', () => {
    expect(parseSanctionNotice({ room: 'general', action: 'mute', username: 'bob', reason: 'calm', until: '2026-12-06T11:10:00Z', by: 'olga', until_ms: 1 })).toEqual({
      room: 'general',
      action: 'mute',
      username: 'bob',
      reason: 'calm',
      until: '2026-12-06T11:10:00Z',
      by: 'olga',
    });
    expect(parseSanctionNotice({ room: 'general', action: 'kick', username: 'bob', reason: null, until: null, by: 'olga' })?.reason).toBe('');
    expect(parseSanctionNotice({ room: 'general', action: 'explode', username: 'bob' })).toBeNull();
    expect(parseSanctionNotice('ban')).toBeNull();
    expect(parseSanctionNotice({ action: 'ban', username: 'bob' })).toBeNull();
  });
});

// ---- The socket side -----------------------------------------------------------------

const KEY = 'k'.repeat(32);

function person(server: FakeServer, username: string, overrides: Partial<SessionOptions> = {}) {
  const socket = server.attach(new FakeSocket());
  let n = 0;
  const session = new ChatSession({
    url: 'http://chat.test',
    username,
    room: 'general',
    clientKey: `${username}-${KEY}`.slice(0, 40),
    protocol: 2,
    connect: () => socket,
    makeClientId: () => `${username}-${++n}`,
    retryBaseDelayMs: 10,
    ...overrides,
  });
  const seen = { moderation: [] as SanctionNotice[], sanctioned: [] as SanctionNotice[], errors: [] as SessionError[], roomsWhenSanctioned: [] as string[][] };
  session.on('moderation', (notice) => seen.moderation.push(notice));
  session.on('sanctioned', (notice) => {
    seen.sanctioned.push(notice);
    seen.roomsWhenSanctioned.push(session.rooms.map((r) => r.room));
  });
  session.on('error', (error) => seen.errors.push(error));
  session.start();
  return { session, socket, seen };
}

/** Make the fake server refuse some joins (a ban) and sends (a mute). */
function refusing(socket: FakeSocket, rule: { join?: (room: string) => boolean; send?: (room: string) => boolean }): void {
  const inner = socket.respond!;
  socket.respond = (emitted) => {
    if (emitted.event === 'join_room' && rule.join?.(emitted.payload.room)) {
      emitted.ack?.({ ok: false, code: 'banned', error: 'You are banned from this room until 12:00.' });
      return;
    }
    if (emitted.event === 'send_message' && rule.send?.(emitted.payload.room)) {
      emitted.ack?.({ ok: false, code: 'muted', error: 'You are muted in this room until 11:10.' });
      return;
    }
    inner(emitted);
  };
}

const notice = (action: string, extra: object = {}) => ({ room: 'general', action, username: 'bob', reason: 'spam', until: null, by: 'olga', ...extra });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ChatSession: moderation events', () => {
  it('surfaces a moderation notice and puts it in the room timeline', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'alice');
    socket.serverConnect();
    await flushPromises(30);
    socket.fire('moderation', { ...notice('mute', { until: '2026-12-06T11:10:00Z' }), sanction: 3, until_ms: 5 });
    socket.fire('moderation', { room: 'elsewhere', action: 'kick', username: 'x', by: 'y' });
    expect(seen.moderation).toEqual([notice('mute', { until: '2026-12-06T11:10:00Z' })]);
    const items = session.timeline.list().filter((i) => i.kind === 'notice' && i.variant === 'moderation');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ params: { action: 'mute', username: 'bob', by: 'olga', reason: 'spam' } });
  });

  it('a message removed by a moderator is a tombstone marked removed, live and in history', async () => {
    const server = new FakeServer();
    const message = server.post('general', 'eve', 'buy my stuff');
    const { session, socket } = person(server, 'alice');
    socket.serverConnect();
    await flushPromises(30);
    server.remove('general', message.id, { byModerator: true });
    expect(session.timeline.message(message.id)).toMatchObject({ deleted: true, removed: true, message: '' });
    const later = person(server, 'bob');
    later.socket.serverConnect();
    await flushPromises(30);
    expect(later.session.timeline.message(message.id)).toMatchObject({ deleted: true, removed: true });
  });

  it('a kicked person leaves the room here and is not joined again after a reconnection, but may join it again', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'bob', { rooms: ['random'] });
    socket.serverConnect();
    await flushPromises(30);
    const general = session.roomState('general')!;
    socket.fire('moderation', notice('kick'));
    socket.fire('sanctioned', notice('kick'));
    expect(seen.moderation).toEqual([notice('kick')]);
    expect(seen.sanctioned).toEqual([notice('kick')]);
    // Told once, by the `sanctioned` notice.
    const notices = general.timeline.list().filter((i) => i.kind === 'notice' && (i.variant === 'moderation' || i.variant === 'sanctioned'));
    expect(notices.map((i) => (i.kind === 'notice' ? i.variant : ''))).toEqual(['sanctioned']);
    expect(session.rooms.map((r) => r.room)).toEqual(['random']);
    expect(session.activeRoom).toBe('random');
    expect(session.connection).toBe('connected');

    socket.drop();
    const before = socket.sent('join_room').length;
    socket.serverConnect();
    await flushPromises(30);
    expect(socket.sent('join_room').slice(before).map((e) => e.payload.room)).toEqual(['random']);

    expect(session.joinRoom('general', { activate: true })).toEqual({ ok: true, room: 'general' });
    await flushPromises(30);
    expect(session.rooms.map((r) => [r.room, r.joined])).toEqual([
      ['random', true],
      ['general', true],
    ]);
  });

  it('a banned person is out of the only room, the connection stays, and a join again is refused as banned', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'bob');
    socket.serverConnect();
    await flushPromises(30);
    refusing(socket, { join: (room) => room === 'general' });
    socket.fire('sanctioned', notice('ban', { until: '2026-12-06T12:00:00Z' }));
    expect(seen.sanctioned[0].action).toBe('ban');
    expect(seen.roomsWhenSanctioned).toEqual([[]]);
    expect(session.rooms).toEqual([]);
    expect(seen.errors).toEqual([]);

    socket.drop();
    const before = socket.sent('join_room').length;
    socket.serverConnect();
    await flushPromises(30);
    expect(socket.sent('join_room').length).toBe(before);

    session.joinRoom('general', { activate: true });
    await flushPromises(30);
    expect(seen.errors.at(-1)).toMatchObject({ code: 'banned', fatal: true, message: 'You are banned from this room until 12:00.' });
    expect(session.rooms.map((r) => r.joined)).toEqual([false]);
  });

  it('a mute only tells: the room stays and sends are refused with the server text', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'bob');
    socket.serverConnect();
    await flushPromises(30);
    refusing(socket, { send: () => true });
    socket.fire('sanctioned', notice('mute', { until: '2026-12-06T11:10:00Z' }));
    expect(session.rooms.map((r) => r.room)).toEqual(['general']);
    const sent = session.send('hello?');
    expect(sent.ok).toBe(true);
    await flushPromises(30);
    expect(seen.errors.at(-1)).toMatchObject({ code: 'muted', source: 'send', fatal: false, message: 'You are muted in this room until 11:10.' });
    const pending = session.timeline.list().find((i) => i.kind === 'pending');
    expect(pending).toMatchObject({ status: 'failed', error: 'You are muted in this room until 11:10.' });
  });

  it('protocol 1: a kick stops the session without an error and no reconnection joins again', async () => {
    const socket = new FakeSocket();
    const session = new ChatSession({ url: 'http://chat.test', username: 'bob', room: 'general', connect: () => socket });
    const states: string[] = [];
    const errors: SessionError[] = [];
    session.on('connection', (s) => states.push(s));
    session.on('error', (e) => errors.push(e));
    session.start();
    socket.serverConnect();
    socket.last('join_room').ack?.({ ok: true, username: 'bob' });
    await flushPromises(10);
    socket.fire('sanctioned', { room: 'general', action: 'kick', username: 'bob', reason: '', until: null, by: 'olga' });
    expect(session.connection).toBe('stopped');
    expect(socket.disconnectCalls).toBe(1);
    expect(errors).toEqual([]);
    expect(socket.listenerCount('connect')).toBe(0);
  });
});
