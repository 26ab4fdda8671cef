import { ChatSession, type MessageEntry, type RoomEvent, type SessionOptions } from '../../src/index.js';
import { FakeServer } from '../support/FakeServer.js';
import { FakeSocket, flushPromises } from '../support/FakeSocket.js';
import { readerView, roomView } from '../support/views.js';

const KEY = 'k'.repeat(32);

/** A protocol 2 session on its own socket, talking to `server`. */
function person(server: FakeServer, username: string, overrides: Partial<SessionOptions> = {}) {
  const socket = server.attach(new FakeSocket());
  let n = 0;
  const session = new ChatSession({
    url: 'http://chat.test',
    username,
    room: 'general',
    clientKey: `${username}-${KEY}`.slice(0, 40),
    protocol: 2,
    connect: (_url, options) => {
      socket.options = options;
      return socket;
    },
    makeClientId: () => `${username}-${++n}`,
    ...overrides,
  });
  session.start();
  return { session, socket };
}

async function online(...people: Array<{ socket: FakeSocket }>): Promise<void> {
  for (const p of people) p.socket.serverConnect();
  await flushPromises(30);
}

const view = (session: ChatSession, room = 'general') => roomView(session, room);
const serverView = (server: FakeServer, viewer: string, room = 'general') => server.state(room, viewer).map(readerView);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('protocol 2: the handshake and several rooms', () => {
  it('asks for protocol 2 in the handshake, and protocol 1 sessions do not', () => {
    const server = new FakeServer();
    const { socket } = person(server, 'alice', { socketOptions: { auth: { token: 't' } } });
    expect(socket.options?.auth).toEqual({ token: 't', protocol: 2 });
    const old = person(server, 'bob', { protocol: undefined });
    expect(old.socket.options?.auth).toBeUndefined();
  });

  it('joins several rooms on one connection, keeps a timeline per room, and sends with the room', async () => {
    const server = new FakeServer();
    server.post('random', 'carol', 'over here');
    const { session, socket } = person(server, 'alice', { rooms: ['random'] });
    await online({ socket });
    expect(socket.sent('join_room').map((e) => e.payload.room)).toEqual(['general', 'random']);
    expect(session.rooms.map((r) => [r.room, r.joined, r.active])).toEqual([
      ['general', true, true],
      ['random', true, false],
    ]);
    session.send('hello general');
    session.send('hello random', { room: 'random' });
    await flushPromises();
    expect(socket.sent('send_message').map((e) => [e.payload.room, e.payload.message])).toEqual([
      ['general', 'hello general'],
      ['random', 'hello random'],
    ]);
    expect(view(session, 'general').map((m) => m.text)).toEqual(['hello general']);
    expect(view(session, 'random').map((m) => m.text)).toEqual(['over here', 'hello random']);
  });

  it('switches the active room without reconnecting, and leaves one room', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice');
    await online({ socket });
    const active: string[] = [];
    session.on('activeRoom', (room) => active.push(room));
    expect(session.joinRoom('Random', { activate: true })).toEqual({ ok: true, room: 'random' });
    await flushPromises();
    expect([session.room, session.isJoined, socket.connectCalls]).toEqual(['random', true, 1]);
    session.send('in random');
    expect(socket.last('send_message').payload.room).toBe('random');
    expect(session.setActiveRoom('general')).toBe(true);
    expect(session.setActiveRoom('nowhere')).toBe(false);
    await session.leaveRoom('random');
    expect(socket.last('leave_room').payload).toEqual({ room: 'random' });
    expect(session.rooms.map((r) => r.room)).toEqual(['general']);
    expect(active).toEqual(['random', 'general']);
    expect(session.joinRoom('no spaces!')).toMatchObject({ ok: false });
  });

  it('refuses several rooms in protocol 1', () => {
    const server = new FakeServer();
    const { session } = person(server, 'alice', { protocol: 1 });
    expect(session.joinRoom('random')).toMatchObject({ ok: false });
  });

  it('joins every room again after a reconnection and fills each gap', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice', { rooms: ['random'] });
    await online({ socket });
    server.post('general', 'bob', 'g1');
    server.post('random', 'bob', 'r1');
    socket.drop();
    server.forget(socket);
    for (const room of ['general', 'random']) for (const n of [2, 3]) server.post(room, 'bob', `${room[0]}${n}`);
    server.joinHistory = 1; // room_joined alone would leave a hole: only get_history fills it
    socket.clearEmitted();
    socket.serverConnect();
    await flushPromises(40);
    expect(socket.sent('join_room').map((e) => e.payload.room)).toEqual(['general', 'random']);
    expect(socket.sent('get_history').map((e) => [e.payload.room, e.payload.since_id])).toEqual([
      ['general', '000000000001'],
      ['random', '000000000001'],
    ]);
    expect(view(session, 'general').map((m) => m.text)).toEqual(['g1', 'g2', 'g3']);
    expect(view(session, 'random').map((m) => m.text)).toEqual(['r1', 'r2', 'r3']);
    expect(session.roomState('random')!.log.hasGap()).toBe(false);
  });

  it('keeps the other rooms when one join is refused for good', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice', { rooms: ['random'] });
    socket.respond = null;
    socket.serverConnect();
    socket.sent('join_room')[1].ack!({ ok: false, code: 'name_taken', error: 'taken' });
    await flushPromises();
    expect(session.rooms.map((r) => r.room)).toEqual(['general']);
    expect(session.connection).not.toBe('stopped');
  });
});

describe('protocol 2: errors that name a room', () => {
  it('rejoins only the room the server forgot, and drops only the room whose name was taken', async () => {
    const server = new FakeServer();
    const { session, socket } = person(server, 'alice', { rooms: ['random'] });
    await online({ socket });
    const errors: Array<{ room?: string; fatal: boolean }> = [];
    session.on('error', (e) => errors.push(e));
    socket.clearEmitted();
    socket.fire('error', { message: 'You are not in that room', code: 'not_in_room', room: 'random' });
    await flushPromises(20);
    expect(socket.sent('join_room').map((e) => e.payload.room)).toEqual(['random']);
    socket.fire('error', { message: 'Your name was taken', code: 'name_taken', room: 'general' });
    expect(session.rooms.map((r) => [r.room, r.active])).toEqual([['random', true]]);
    expect(errors.map((e) => [e.room, e.fatal])).toEqual([
      ['random', false],
      ['general', true],
    ]);
    expect(session.connection).toBe('connected');
  });
});

describe('protocol 2: the room event log', () => {
  it('converges after a disconnection to the state of a client that stayed', async () => {
    const server = new FakeServer();
    server.pageSize = 2;
    const alice = person(server, 'alice');
    const bob = person(server, 'bob');
    await online(alice, bob);
    for (const n of [1, 2, 3, 4]) server.post('general', 'carol', `m${n}`);
    server.react('general', '000000000001', 'carol', '👍');
    await flushPromises();

    bob.socket.drop();
    server.forget(bob.socket);
    // While bob is away: edits, a deletion, reactions on old and new messages, new messages.
    server.edit('general', '000000000001', 'm1 (edited)');
    server.react('general', '000000000001', 'alice', '👍');
    server.react('general', '000000000002', 'carol', '🎉');
    server.remove('general', '000000000003');
    server.post('general', 'carol', 'm5');
    server.react('general', '000000000005', 'carol', '❤️');
    server.react('general', '000000000002', 'carol', '🎉'); // toggled off again
    server.edit('general', '000000000004', 'm4 once');
    server.edit('general', '000000000004', 'm4 twice');
    server.react('general', '000000000004', 'alice', '😂');
    server.post('general', 'carol', 'm6');
    server.joinHistory = 2; // the rejoin shows m5, m6: the rest comes from get_history since

    bob.socket.serverConnect();
    await flushPromises(60);
    expect(view(bob.session)).toEqual(serverView(server, 'bob'));
    expect(view(alice.session)).toEqual(view(bob.session));
    expect(bob.session.timeline.message('000000000003')).toMatchObject({ deleted: true, message: '' });
    expect(bob.socket.sent('get_history')[0].payload.since_id).toBe('000000000004.000000000001');
    const late = person(server, 'dave');
    server.joinHistory = 100;
    await online(late);
    expect(view(late.session)).toEqual(view(alice.session));
  });

  it('ignores duplicates: an event or a message applied twice leaves the same state, shown once', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    const events: RoomEvent[] = [];
    alice.session.on('roomEvent', (e) => events.push(e));
    const posted = server.post('general', 'bob', 'hi');
    const reaction = server.react('general', posted.id, 'bob', '👍')!;
    const edit = server.edit('general', posted.id, 'hi!');
    const before = view(alice.session);
    alice.session.receive('room_event', reaction);
    alice.session.receive('room_event', edit);
    alice.session.receive('new_message', posted);
    expect(view(alice.session)).toEqual(before);
    expect(events.map((e) => e.type)).toEqual(['reaction', 'edit']);
    expect(before).toEqual([{ id: posted.id, text: 'hi!', deleted: false, edited: edit.type === 'edit' ? edit.message.edited_at : null, reactions: ['👍1:bob'] }]);
  });

  it('keeps the last edit when an older one arrives late, and a tombstone takes no more', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    server.deaf.add(alice.socket);
    const posted = server.post('general', 'bob', 'v0');
    const first = server.edit('general', posted.id, 'v1');
    const second = server.edit('general', posted.id, 'v2');
    server.deaf.delete(alice.socket);
    alice.session.receive('new_message', posted);
    alice.session.receive('room_event', second);
    alice.session.receive('room_event', first);
    expect(alice.session.timeline.message(posted.id)?.message).toBe('v2');
    const deleted = server.remove('general', posted.id);
    alice.session.receive('room_event', second);
    alice.session.receive('room_event', { ...deleted, id: deleted.id });
    expect(alice.session.timeline.message(posted.id)).toMatchObject({ message: '', deleted: true });
    await flushPromises(30);
  });

  it('fetches the gap when an event counter jumps, from the last event held', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    const posted = server.post('general', 'bob', 'hi');
    server.react('general', posted.id, 'bob', '👍');
    server.deaf.add(alice.socket); // this one is lost in transit
    server.react('general', posted.id, 'carol', '👍');
    server.deaf.delete(alice.socket);
    alice.socket.clearEmitted();
    server.react('general', posted.id, 'dave', '🎉');
    await flushPromises(30);
    expect(alice.socket.sent('get_history').map((e) => e.payload.since_id)).toEqual(['000000000001.000000000001']);
    expect(view(alice.session)).toEqual(serverView(server, 'alice'));
    expect(view(alice.session)[0].reactions).toEqual(['🎉1:dave', '👍2:bob+carol']);
  });

  it('fetches the gap when a message id jumps', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    server.post('general', 'bob', 'one');
    server.deaf.add(alice.socket);
    server.post('general', 'bob', 'lost');
    server.deaf.delete(alice.socket);
    alice.socket.clearEmitted();
    server.post('general', 'bob', 'three');
    await flushPromises(30);
    expect(alice.socket.sent('get_history').map((e) => e.payload.since_id)).toEqual(['000000000001']);
    expect(view(alice.session).map((m) => m.text)).toEqual(['one', 'lost', 'three']);
  });

  it('edits, deletes and reacts, showing the stored event at once; refusals come back as values', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    const own = server.post('general', 'alice', 'tpyo');
    const other = server.post('general', 'bob', 'not yours');
    expect(await alice.session.edit(own.id, 'typo')).toMatchObject({ ok: true, event: { type: 'edit' } });
    expect(alice.session.timeline.message(own.id)).toMatchObject({ message: 'typo', edited_at: expect.any(String) });
    expect(await alice.session.edit(other.id, 'mine now')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await alice.session.edit(own.id, '   ')).toMatchObject({ ok: false });
    expect(await alice.session.react(other.id, '👍')).toMatchObject({ ok: true });
    expect(alice.session.timeline.message(other.id)?.reactions).toEqual([{ emoji: '👍', count: 1, users: ['alice'], me: true }]);
    expect(await alice.session.react(other.id, '👍', { add: true })).toEqual({ ok: true, event: null });
    await alice.session.react(other.id, '👍'); // toggles off
    expect(alice.session.timeline.message(other.id)?.reactions).toEqual([]);
    expect(await alice.session.deleteMessage(own.id)).toMatchObject({ ok: true });
    expect(alice.session.timeline.message(own.id)).toMatchObject({ deleted: true, message: '' });
    expect(await alice.session.deleteMessage('000000000099')).toMatchObject({ ok: false, code: 'not_found' });
    alice.socket.drop();
    expect(await alice.session.react(other.id, '👍')).toMatchObject({ ok: false, code: 'unavailable' });
  });

  it('says a reaction is mine by the look-alike name rules', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    const posted = server.post('general', 'bob', 'hi');
    server.react('general', posted.id, 'ALICE', '👍');
    expect(alice.session.timeline.message(posted.id)?.reactions).toEqual([{ emoji: '👍', count: 1, users: ['ALICE'], me: true }]);
  });
});

describe('protocol 2: mentions, unread counts and the read marker', () => {
  it('takes the counts from room_joined and keeps them live for rooms not shown', async () => {
    const server = new FakeServer();
    server.post('random', 'bob', 'one');
    server.post('random', 'bob', 'two');
    const alice = person(server, 'alice', { rooms: ['random'] });
    await online(alice);
    expect(alice.session.rooms.find((r) => r.room === 'random')).toMatchObject({ unread: 2, mentions: 0 });
    server.post('random', 'bob', 'hey @alice.');
    server.post('random', 'alice', 'my own does not count');
    server.post('random', 'bob', '@carol is not here');
    const random = alice.session.roomState('random')!;
    expect([random.unread, random.mentions]).toEqual([4, 1]);
    expect(random.timeline.messages().map((m) => Boolean(m.mentionsMe))).toEqual([false, false, true, false, false]);
    expect(random.timeline.message('000000000003')?.mentions).toEqual(['alice']);
    expect(alice.session.totalUnread).toBe(4);
  });

  it('marks the active room read, places the divider at the first unread, and tells the server once', async () => {
    const server = new FakeServer();
    for (const n of [1, 2, 3]) server.post('general', 'bob', `m${n}`);
    server.room('general').reads.set('alice', 1);
    const alice = person(server, 'alice');
    await online(alice);
    expect(alice.session.firstUnreadId()).toBe('000000000002');
    expect(alice.session.rooms[0]).toMatchObject({ unread: 2, readId: '000000000001' });
    alice.session.markRead();
    alice.session.markRead();
    await flushPromises();
    expect(alice.socket.sent('mark_read').map((e) => e.payload)).toEqual([{ room: 'general', id: '000000000003' }]);
    expect(alice.session.rooms[0]).toMatchObject({ unread: 0, readId: '000000000003' });
    // The divider stays while the person reads on.
    server.post('general', 'bob', 'm4');
    alice.session.markRead();
    expect(alice.session.firstUnreadId()).toBe('000000000002');
    // Opened again later: only what came meanwhile is new.
    alice.session.joinRoom('random', { activate: true });
    server.post('general', 'bob', 'm5');
    alice.session.setActiveRoom('general');
    expect(alice.session.firstUnreadId()).toBe('000000000005');
    await flushPromises();
    expect(server.room('general').reads.get('alice')).toBe(4);
  });

  it('counts a live message that overtook room_joined once', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice', { rooms: ['random'] });
    alice.socket.respond = null; // this test plays the server by hand
    alice.socket.serverConnect();
    const joins = alice.socket.sent('join_room');
    const msg = (n: number) => ({ id: String(n).padStart(12, '0'), username: 'bob', message: `m${n}`, timestamp: 't', room: 'random', type: 'message' });
    alice.socket.fire('new_message', msg(3)); // stored after the join read its history
    alice.socket.fire('room_joined', { room: 'random', username: 'alice', messages: [msg(1), msg(2)], log_id: '000000000002', read_id: '000000000000', unread: 2, mentions: 0 });
    joins[1].ack!({ ok: true, room: 'random', username: 'alice' });
    alice.socket.fire('new_message', msg(3)); // and its copy, live again
    await flushPromises();
    expect(alice.session.roomState('random')!.unread).toBe(3);
  });

  it('follows the marker another tab or device of ours moved', async () => {
    const server = new FakeServer();
    for (const n of [1, 2, 3]) server.post('random', 'bob', `m${n}`);
    const alice = person(server, 'alice', { rooms: ['random'] });
    await online(alice);
    expect(alice.session.roomState('random')!.unread).toBe(3);
    alice.socket.fire('read_marker', { room: 'random', read_id: '000000000002' });
    expect(alice.session.rooms[1]).toMatchObject({ unread: 1, readId: '000000000002' });
    alice.socket.fire('read_marker', { room: 'random', read_id: '000000000001' }); // never back
    expect(alice.session.rooms[1]).toMatchObject({ unread: 1, readId: '000000000002' });
    expect(alice.socket.sent('mark_read')).toHaveLength(0); // nothing to tell the server
  });

  it('places the divider even when a view marks the room read as the history shows', async () => {
    const server = new FakeServer();
    for (const n of [1, 2, 3]) server.post('general', 'bob', `m${n}`);
    server.room('general').reads.set('alice', 2);
    const alice = person(server, 'alice');
    alice.session.on('timeline', () => alice.session.markRead());
    await online(alice);
    expect(alice.session.firstUnreadId()).toBe('000000000003');
    expect(alice.session.rooms[0]).toMatchObject({ unread: 0, readId: '000000000003' });
  });

  it('shows no divider to someone who never read the room, until something comes while away', async () => {
    const server = new FakeServer();
    for (const n of [1, 2]) server.post('general', 'bob', `m${n}`);
    const alice = person(server, 'alice');
    await online(alice);
    expect([alice.session.firstUnreadId(), alice.session.rooms[0].unread]).toEqual([null, 2]);
    server.post('general', 'bob', 'while scrolled up');
    expect(alice.session.firstUnreadId()).toBe('000000000003');
  });

  it('places the divider in a room that was empty when shown, once messages came while away', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice', { rooms: ['random'] });
    await online(alice);
    alice.session.setActiveRoom('random'); // shown while still empty: no marker to keep
    alice.session.setActiveRoom('general');
    server.post('random', 'bob', 'first while away');
    server.post('random', 'bob', 'second while away');
    alice.session.setActiveRoom('random');
    expect(alice.session.firstUnreadId()).toBe('000000000001');
  });

  it('shows no divider above messages that arrive while the person is caught up', async () => {
    const server = new FakeServer();
    server.post('general', 'bob', 'old');
    server.room('general').reads.set('alice', 1);
    const alice = person(server, 'alice');
    await online(alice);
    expect(alice.session.firstUnreadId()).toBeNull();
    server.post('general', 'bob', 'while watching');
    alice.session.markRead();
    expect(alice.session.firstUnreadId()).toBeNull();
  });
});

describe('protocol 2: replies', () => {
  const quoteOf = (m: MessageEntry | undefined) => m?.quote;

  it('sends reply_to and quotes the original from the timeline, live as it changes', async () => {
    const server = new FakeServer();
    const alice = person(server, 'alice');
    await online(alice);
    const original = server.post('general', 'bob', 'question?');
    const sent = alice.session.send('answer', { replyTo: original.id });
    expect(alice.socket.last('send_message').payload).toMatchObject({ room: 'general', reply_to: original.id });
    const pending = alice.session.timeline.list().find((i) => i.kind === 'pending');
    expect(pending).toBeUndefined(); // the fake server answered at once
    const reply = alice.session.timeline.messages().find((m) => m.client_id === (sent.ok && sent.clientId));
    expect(reply?.quote).toEqual({ id: original.id, username: 'bob', excerpt: 'question?', deleted: false });
    server.edit('general', original.id, 'question, edited?');
    expect(quoteOf(alice.session.timeline.message(reply!.id))?.excerpt).toBe('question, edited?');
    server.remove('general', original.id);
    expect(quoteOf(alice.session.timeline.message(reply!.id))).toEqual({ id: original.id, username: 'bob', excerpt: '', deleted: true });
  });

  it('quotes from reply_preview when the original is not held, else fetches it', async () => {
    const server = new FakeServer();
    const original = server.post('general', 'bob', 'x'.repeat(150));
    for (const n of [2, 3, 4]) server.post('general', 'bob', `filler ${n}`);
    server.post('general', 'carol', 'a reply', { reply_to: original.id });
    server.joinHistory = 1;
    const alice = person(server, 'alice');
    await online(alice);
    expect(alice.socket.sent('get_history')).toHaveLength(0); // the preview was enough
    expect(quoteOf(alice.session.timeline.message('000000000005'))).toEqual({ id: original.id, username: 'bob', excerpt: `${'x'.repeat(99)}…`, deleted: false });

    // A live reply carries no preview: the quote is fetched (one message before id + 1).
    server.post('general', 'carol', 'another reply', { reply_to: '000000000002' });
    expect(quoteOf(alice.session.timeline.message('000000000006'))).toBeNull();
    await flushPromises(20);
    expect(alice.socket.sent('get_history').map((e) => e.payload)).toEqual([{ room: 'general', before_id: '000000000003', limit: 1 }]);
    expect(quoteOf(alice.session.timeline.message('000000000006'))).toMatchObject({ id: '000000000002', excerpt: 'filler 2' });
    expect(await alice.session.quote('000000000002')).toMatchObject({ username: 'bob' });
  });

  it('loads history back to a reply’s original', async () => {
    const server = new FakeServer();
    for (let n = 1; n <= 250; n += 1) server.post('general', 'bob', `m${n}`);
    server.joinHistory = 100;
    const alice = person(server, 'alice');
    await online(alice);
    expect(alice.session.timeline.oldestId()).toBe(151);
    expect(alice.session.roomState('general')!.hasOlder).toBe(true);
    const found = alice.session.loadHistoryTo('000000000020');
    await flushPromises(40);
    expect(await found).toBe(true);
    expect(alice.session.timeline.oldestId()).toBe(1);
    expect(alice.socket.sent('get_history').map((e) => e.payload.before_id)).toEqual(['000000000151', '000000000051']);
    expect(alice.session.timeline.hasGap()).toBe(false);
    expect(alice.session.roomState('general')!.hasOlder).toBe(false);
  });
});

describe('protocol 2: the outbox across rooms', () => {
  it('keeps replies and rooms in the saved outbox and sends them after a reload', async () => {
    const server = new FakeServer();
    const stores = new Map<string, unknown>();
    const outboxStoreFor = (room: string) => ({ load: () => stores.get(room), save: (entries: unknown) => void stores.set(room, entries) });
    const first = person(server, 'alice', { rooms: ['random'], outboxStoreFor });
    first.session.send('offline reply', { room: 'random', replyTo: '000000000001' });
    expect(stores.get('random')).toEqual([{ client_id: 'alice-1', text: 'offline reply', timestamp: expect.any(String), reply_to: '000000000001' }]);
    server.post('random', 'bob', 'the original');
    const second = person(server, 'alice', { rooms: ['random'], outboxStoreFor });
    await online(second);
    expect(second.socket.last('send_message').payload).toEqual({ room: 'random', message: 'offline reply', client_id: 'alice-1', reply_to: '000000000001' });
    expect(stores.get('random')).toEqual([]);
  });
});
