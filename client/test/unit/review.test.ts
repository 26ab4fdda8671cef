/**
 * The last slice of moderation in the client core: room settings (parsed from the join, the
 * `room_settings` event and the API), pins and invites, the review queue over HTTP, reports,
 * the `review` and `roles` events, and sends a rule holds (`held`) or refuses (`auto_moderated`).
 */

import {
  ApiError,
  ChatSession,
  ModerationClient,
  inviteLink,
  mayPost,
  parseReviewCount,
  parseRoomSettings,
  type ReviewCount,
  type RoomRoles,
  type RoomSettings,
  type SessionError,
  type SessionOptions,
} from '../../src/index.js';
import { FakeServer } from '../support/FakeServer.js';
import { FakeSocket, flushPromises } from '../support/FakeSocket.js';
import type { Emitted } from '../support/FakeSocket.js';
import { fakeFetch, tokens } from '../support/fakeFetch.js';

const VIEW = {
  room: 'general',
  topic: 'Be nice',
  post: 'registered',
  slow_mode: 30,
  invite_only: false,
  pins: ['000000000007', '000000000003'],
  automod: { rules: { words: 'hold', flood: 'mute', links: 'off', mentions: 'refuse' } },
};

describe('parseRoomSettings', () => {
  it('reads the view the server sends, automod rules included', () => {
    expect(parseRoomSettings(VIEW)).toEqual({
      room: 'general',
      topic: 'Be nice',
      post: 'registered',
      slowMode: 30,
      inviteOnly: false,
      pins: ['000000000007', '000000000003'],
      automod: { rules: { words: 'hold', flood: 'mute', links: 'off', mentions: 'refuse' } },
    });
  });

  it('fills what is missing or unknown with the defaults, keeps the staff-only fields', () => {
    const settings = parseRoomSettings({ topic: 7, post: 'nobody', slow_mode: -3, pins: ['1', 2], automod: { rules: { links: 'explode' } }, invite_code: 'abc', }, 'random');
    expect(settings).toEqual({
      room: 'random',
      topic: '',
      post: 'everyone',
      slowMode: 0,
      inviteOnly: false,
      pins: ['1'],
      inviteCode: 'abc',
      automod: { rules: { words: 'refuse', flood: 'mute', links: 'hold', mentions: 'refuse' } },
    });
    expect(parseRoomSettings({ ...VIEW, automod: { rules: {}, words: ['spam', 3] } })?.automod?.words).toEqual(['spam']);
    expect(parseRoomSettings({ topic: 'x' })).toBeNull();
    expect(parseRoomSettings(null, 'general')).toBeNull();
    expect(parseRoomSettings({ ...VIEW, automod: undefined })?.automod).toBeNull();
  });

  it('says early who may not post, and builds the invite link', () => {
    const registered = parseRoomSettings(VIEW);
    expect(mayPost(registered, { staff: false, account: false })).toBe(false);
    expect(mayPost(registered, { staff: false, account: true })).toBe(true);
    expect(mayPost(registered, { staff: true, account: false })).toBe(true);
    const members = parseRoomSettings({ ...VIEW, post: 'members' });
    expect(mayPost(members, { staff: false, account: true })).toBe(true);
    expect(mayPost(members, { staff: false, account: true, member: false })).toBe(false);
    expect(mayPost(null, { staff: false, account: false })).toBe(true);
    expect(inviteLink('https://chat.test/', 'my room', 'a+b')).toBe('https://chat.test/?room=my%20room&invite=a%2Bb');
  });
});

describe('ModerationClient: settings, pins, invites, the review queue', () => {
  it('reads the settings with the token when signed in (staff see the words and the invite code)', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { ...VIEW, invite_only: true, invite_code: 'c0de', automod: { ...VIEW.automod, words: ['spam'] } } }));
    const settings = await new ModerationClient({ baseUrl: 'https://chat.test', tokens: tokens(), fetch }).settings('general');
    expect(calls[0]).toMatchObject({ method: 'GET', url: 'https://chat.test/api/v1/rooms/general/settings' });
    expect(calls[0].headers.Authorization).toBe('Bearer access-1');
    expect(settings).toMatchObject({ inviteOnly: true, inviteCode: 'c0de', automod: { words: ['spam'] } });
    await new ModerationClient({ baseUrl: '', fetch }).settings('general');
    expect(calls[1].headers.Authorization).toBeUndefined();
  });

  it('sends changes, pins, unpins and renewals to their routes', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith('/invite')) return { status: 200, body: { room: 'general', invite_code: 'n3w' } };
      return { status: 200, body: VIEW };
    });
    const client = new ModerationClient({ baseUrl: '', tokens: tokens(), fetch });
    const changed = await client.updateSettings('general', { topic: 'Hi', slowMode: 10, inviteOnly: true, post: 'members', automod: { rules: { links: 'hold' }, words: ['spam', 'scam'] } });
    expect(calls[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/rooms/general/settings',
      body: { topic: 'Hi', slow_mode: 10, invite_only: true, post: 'members', automod: { rules: { links: 'hold' }, words: ['spam', 'scam'] } },
    });
    expect(changed.topic).toBe('Be nice');
    await client.updateSettings('general', { topic: '' });
    expect(calls[1].body).toEqual({ topic: '' });
    expect(await client.renewInvite('general')).toBe('n3w');
    expect(calls[2]).toMatchObject({ method: 'POST', url: '/api/v1/rooms/general/invite' });
    expect((await client.pin('general', '000000000007')).pins[0]).toBe('000000000007');
    await client.unpin('general', '000000000007');
    expect(calls.slice(3).map((c) => [c.method, c.url])).toEqual([
      ['PUT', '/api/v1/rooms/general/pins/000000000007'],
      ['DELETE', '/api/v1/rooms/general/pins/000000000007'],
    ]);
    for (const call of calls) expect(call.headers.Authorization).toBe('Bearer access-1');
  });

  it('lists the queue and decides on an item; an item already decided is a not_found refusal', async () => {
    const items = [
      {
        id: 4,
        kind: 'report',
        at: '2026-12-06T14:00:00Z',
        rule: null,
        message: { id: '000000000009', username: 'eve', message: 'buy now', timestamp: '2026-12-06T13:59:00Z' },
        reports: [{ by: 'bob', reason: 'spam', at: '2026-12-06T14:00:00Z' }, { by: 'Guest1', reason: '', at: '2026-12-06T14:01:00Z' }],
      },
      { id: 5, kind: 'held', at: '2026-12-06T14:02:00Z', rule: 'links', message: { id: null, username: 'newbie', message: 'see http://x.test', timestamp: '2026-12-06T14:02:00Z' }, reports: [] },
      'junk',
    ];
    const { fetch, calls } = fakeFetch((call) => {
      if (call.method === 'GET') return { status: 200, body: { room: 'general', items } };
      if (call.url.endsWith('/queue/5')) return { status: 404, body: { error: 'This item was already decided', code: 'not_found' } };
      return { status: 200, body: { ok: true, id: 4, action: 'remove' } };
    });
    const client = new ModerationClient({ baseUrl: '', tokens: tokens(), fetch });
    const queue = await client.queue('general');
    expect(calls[0].url).toBe('/api/v1/rooms/general/queue');
    expect(queue).toHaveLength(2);
    expect(queue[0]).toMatchObject({ id: 4, kind: 'report', rule: null, message: { id: '000000000009', username: 'eve' } });
    expect(queue[0].reports.map((r) => r.by)).toEqual(['bob', 'Guest1']);
    expect(queue[1]).toMatchObject({ id: 5, kind: 'held', rule: 'links', message: { id: null, message: 'see http://x.test' }, reports: [] });

    expect(await client.decide('general', 4, 'remove', '  spam  ')).toEqual({ id: 4, action: 'remove' });
    expect(calls[1]).toMatchObject({ method: 'POST', url: '/api/v1/rooms/general/queue/4', body: { action: 'remove', reason: 'spam' } });
    const late = client.decide('general', 5, 'approve');
    await expect(late).rejects.toBeInstanceOf(ApiError);
    await expect(late).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(calls[2].body).toEqual({ action: 'approve' });
  });

  it('asks nothing of the server for a guest', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: {} }));
    const guest = new ModerationClient({ baseUrl: '', fetch });
    await expect(guest.queue('general')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    await expect(guest.updateSettings('general', { topic: 'x' })).rejects.toMatchObject({ status: 401 });
    expect(calls).toEqual([]);
  });

  it('parses review counts', () => {
    expect(parseReviewCount({ room: 'general', open: 3 })).toEqual({ room: 'general', open: 3 });
    expect(parseReviewCount({ room: 'general', open: -1 })).toBeNull();
    expect(parseReviewCount({ open: 1 })).toBeNull();
  });
});

// ---- The socket side -----------------------------------------------------------------

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

interface Rules {
  /** The settings view room_joined carries (absent: none). */
  settings?: (room: string) => object | undefined;
  /** The ack of a send (absent: the fake server stores it). */
  send?: (emitted: Emitted) => object | undefined;
  report?: (emitted: Emitted) => object;
}

/** A protocol 2 person on a FakeServer whose answers the test may change. */
function person(server: FakeServer, username: string, rules: Rules = {}, overrides: Partial<SessionOptions> = {}) {
  const socket = server.attach(new FakeSocket());
  const inner = socket.respond!;
  socket.respond = (emitted) => {
    if (emitted.event === 'join_room') {
      const settings = rules.settings?.(emitted.payload.room);
      if (settings) {
        // The fake server's room_joined, with the settings added the way the real one does.
        const fire = socket.fire.bind(socket);
        socket.fire = (event: string, ...args: any[]) => fire(event, ...(event === 'room_joined' ? [{ ...args[0], settings }] : args));
        inner(emitted);
        socket.fire = fire;
        return;
      }
    }
    if (emitted.event === 'send_message') {
      const answer = rules.send?.(emitted);
      if (answer) return emitted.ack?.(answer);
    }
    if (emitted.event === 'report_message' && rules.report) return emitted.ack?.(rules.report(emitted));
    inner(emitted);
  };
  let n = 0;
  const session = new ChatSession({
    url: 'http://chat.test',
    username,
    room: 'general',
    protocol: 2,
    connect: () => socket,
    makeClientId: () => `${username}-${++n}`,
    retryBaseDelayMs: 10,
    ...overrides,
  });
  const seen = {
    settings: [] as Array<[RoomSettings | null, string]>,
    review: [] as ReviewCount[],
    roles: [] as RoomRoles[],
    errors: [] as SessionError[],
  };
  session.on('settings', (settings, room) => seen.settings.push([settings, room]));
  session.on('review', (count) => seen.review.push(count));
  session.on('roles', (roles) => seen.roles.push(roles));
  session.on('error', (error) => seen.errors.push(error));
  session.start();
  return { session, socket, seen };
}

const HELD = { ok: false, code: 'held', error: 'Your message waits for a moderator: links from newcomers are reviewed' };
const REFUSED = { ok: false, code: 'auto_moderated', error: 'Your message was refused: it contains a word this room does not allow' };

describe('ChatSession: room settings', () => {
  it('takes the settings from the join, follows room_settings, and tells only of changes', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'alice', { settings: (room) => (room === 'general' ? VIEW : undefined) }, { rooms: ['random'] });
    socket.serverConnect();
    await flushPromises(30);
    expect(session.settings()?.topic).toBe('Be nice');
    expect(session.settings('random')).toBeNull();
    expect(seen.settings.map(([s, room]) => [s?.slowMode, room])).toEqual([[30, 'general']]);

    socket.fire('room_settings', { ...VIEW, topic: 'New topic', pins: [] });
    socket.fire('room_settings', { ...VIEW, room: 'elsewhere' });
    socket.fire('room_settings', { topic: 'no room named' });
    expect(session.settings('general')).toMatchObject({ topic: 'New topic', pins: [] });
    expect(seen.settings).toHaveLength(2);

    // A reconnection repeats the join: the same view is no news.
    socket.fire('room_settings', VIEW);
    socket.drop();
    socket.serverConnect();
    await flushPromises(30);
    expect(seen.settings).toHaveLength(3);
  });

  it('a join without settings means the defaults again', async () => {
    const server = new FakeServer();
    let view: object | undefined = VIEW;
    const { session, socket, seen } = person(server, 'alice', { settings: () => view });
    socket.serverConnect();
    await flushPromises(30);
    view = undefined;
    socket.drop();
    socket.serverConnect();
    await flushPromises(30);
    expect(session.settings()).toBeNull();
    expect(seen.settings.at(-1)).toEqual([null, 'general']);
  });

  it('sends an invite code with every join of its room', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice', {}, { invite: 'c0de' });
    socket.serverConnect();
    await flushPromises(30);
    session.joinRoom('secret', { invite: 's3cr3t' });
    session.joinRoom('open');
    await flushPromises(30);
    socket.drop();
    socket.serverConnect();
    await flushPromises(30);
    const joins = socket.sent('join_room').map((e) => [e.payload.room, e.payload.invite]);
    expect(joins).toEqual([
      ['general', 'c0de'],
      ['secret', 's3cr3t'],
      ['open', undefined],
      ['general', 'c0de'],
      ['secret', 's3cr3t'],
      ['open', undefined],
    ]);
  });
});

describe('ChatSession: review counts and live roles', () => {
  it('surfaces review counts of rooms it is in', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'olga');
    socket.serverConnect();
    await flushPromises(30);
    expect(session.reviewCount()).toBeNull();
    socket.fire('review', { room: 'general', open: 2 });
    socket.fire('review', { room: 'elsewhere', open: 9 });
    socket.fire('review', { room: 'general' });
    expect(seen.review).toEqual([{ room: 'general', open: 2 }]);
    expect(session.reviewCount('general')).toBe(2);
  });

  it('surfaces roles with our own rank worked out from our name', async () => {
    const server = new FakeServer();
    const { socket, seen } = person(server, 'max');
    socket.serverConnect();
    await flushPromises(30);
    socket.fire('roles', { room: 'general', owner: { username: 'olga', display_name: 'Olga' }, moderators: [{ username: 'max', display_name: 'Max' }] });
    socket.fire('roles', { room: 'general', owner: null, moderators: [] });
    socket.fire('roles', { room: 'elsewhere', owner: null, moderators: [] });
    expect(seen.roles.map((r) => [r.owner?.username ?? null, r.moderators.map((m) => m.username), r.you])).toEqual([
      ['olga', ['max'], 'moderator'],
      [null, [], null],
    ]);
  });
});

describe('ChatSession: reports', () => {
  it('reports a message with its reason and returns the report id', async () => {
    const server = new FakeServer();
    const message = server.post('general', 'eve', 'buy now');
    const { session, socket } = person(server, 'Guest7', { report: () => ({ ok: true, report: 12 }) });
    socket.serverConnect();
    await flushPromises(30);
    const result = await session.report(message.id, { reason: '  spam ' });
    expect(result).toEqual({ ok: true, report: 12 });
    expect(socket.last('report_message').payload).toEqual({ room: 'general', id: message.id, reason: 'spam' });
    await session.report(message.id);
    expect(socket.last('report_message').payload).toEqual({ room: 'general', id: message.id });
  });

  it('gives the refusal in the server words, and says when not connected or not in the room', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice', { report: () => ({ ok: false, code: 'not_found', error: 'No such message' }) });
    expect(await session.report('000000000001')).toMatchObject({ ok: false, code: 'unavailable' });
    socket.serverConnect();
    await flushPromises(30);
    expect(await session.report('000000000001')).toEqual({ ok: false, code: 'not_found', error: 'No such message' });
    expect(await session.report('000000000001', { room: 'nowhere' })).toMatchObject({ ok: false, code: 'not_in_room' });
  });
});

describe('ChatSession: messages a rule holds or refuses', () => {
  it('held: the author keeps the copy marked held, never sent again, and no error is raised', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'newbie', { send: () => HELD });
    socket.serverConnect();
    await flushPromises(30);
    const sent = session.send('see http://x.test');
    await flushPromises(30);
    expect(sent.ok).toBe(true);
    const held = session.timeline.list().find((i) => i.kind === 'pending');
    expect(held).toMatchObject({ status: 'held', code: 'held', error: HELD.error, retryable: false, message: 'see http://x.test' });
    expect(session.outbox.size).toBe(0);
    expect(seen.errors).toEqual([]);

    // Neither a retry nor a reconnection sends it again.
    session.retry('newbie-1');
    socket.drop();
    socket.serverConnect();
    await flushPromises(30);
    jest.advanceTimersByTime(60_000);
    await flushPromises(30);
    expect(socket.sent('send_message')).toHaveLength(1);
    expect(session.timeline.list().find((i) => i.kind === 'pending')).toMatchObject({ status: 'held' });
  });

  it('held then approved: the published message (same client_id) replaces the held copy', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'newbie', { send: () => HELD });
    socket.serverConnect();
    await flushPromises(30);
    session.send('see http://x.test');
    await flushPromises(30);
    const published = server.post('general', 'newbie', 'see http://x.test', { client_id: 'newbie-1' });
    socket.fire('new_message', published);
    await flushPromises(30);
    const items = session.timeline.list();
    expect(items.filter((i) => i.kind === 'pending')).toEqual([]);
    expect(items.filter((i) => i.kind === 'message').map((i) => (i.kind === 'message' ? i.id : ''))).toEqual([published.id]);
  });

  it('held then approved without its client_id: the published message (ours, same text) takes the held copy\'s place', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'newbie', { send: () => HELD });
    socket.serverConnect();
    await flushPromises(30);
    session.send('first link http://a.test');
    session.send('second link http://b.test');
    await flushPromises(30);
    socket.fire('new_message', server.post('general', 'someone', 'second link http://b.test'));
    socket.fire('new_message', server.post('general', 'newbie', 'second link http://b.test'));
    await flushPromises(30);
    const pending = session.timeline.list().filter((i) => i.kind === 'pending');
    expect(pending.map((i) => (i.kind === 'pending' ? [i.message, i.status] : []))).toEqual([['first link http://a.test', 'held']]);
    expect(session.timeline.list().filter((i) => i.kind === 'message')).toHaveLength(2);
  });

  it('auto_moderated: the outbox drops it, the copy shows the server text, and an error says it', async () => {
    const server = new FakeServer();
    const { session, socket, seen } = person(server, 'alice', { send: () => REFUSED });
    socket.serverConnect();
    await flushPromises(30);
    session.send('a forbidden word');
    await flushPromises(30);
    expect(session.outbox.size).toBe(0);
    expect(session.timeline.list().find((i) => i.kind === 'pending')).toMatchObject({ status: 'failed', error: REFUSED.error, code: 'auto_moderated', retryable: false });
    expect(seen.errors).toEqual([{ message: REFUSED.error, code: 'auto_moderated', fatal: false, source: 'send', clientId: 'alice-1', room: 'general' }]);
    socket.drop();
    socket.serverConnect();
    await flushPromises(30);
    expect(socket.sent('send_message')).toHaveLength(1);
    session.discard('alice-1');
    expect(session.timeline.list().filter((i) => i.kind === 'pending')).toEqual([]);
  });

  it('a reload does not send a held or refused message again', async () => {
    const saved: unknown[] = [];
    const store = { load: () => saved[saved.length - 1] ?? [], save: (entries: unknown) => void saved.push(entries) };
    const server = new FakeServer();
    let answer: object = HELD;
    const { session, socket } = person(server, 'alice', { send: () => answer }, { outboxStore: store });
    socket.serverConnect();
    await flushPromises(30);
    session.send('one');
    await flushPromises(30);
    answer = REFUSED;
    session.send('two');
    await flushPromises(30);
    expect(saved[saved.length - 1]).toEqual([]);
  });

  it('slow_mode: the message waits, retryable, and goes again with the same client_id on Retry', async () => {
    const server = new FakeServer();
    let slow = true;
    const { session, socket, seen } = person(server, 'alice', { send: () => (slow ? { ok: false, code: 'slow_mode', error: 'Slow mode: wait 12 s' } : undefined) });
    socket.serverConnect();
    await flushPromises(30);
    session.send('again');
    await flushPromises(30);
    expect(session.timeline.list().find((i) => i.kind === 'pending')).toMatchObject({ status: 'failed', retryable: true, error: 'Slow mode: wait 12 s' });
    expect(seen.errors.at(-1)).toMatchObject({ code: 'slow_mode', source: 'send' });
    slow = false;
    session.retry('alice-1');
    await flushPromises(30);
    expect(socket.sent('send_message').map((e) => e.payload.client_id)).toEqual(['alice-1', 'alice-1']);
    expect(session.timeline.list().filter((i) => i.kind === 'pending')).toEqual([]);
  });
});
