import { ChatService, type ChatItem, type ChatServiceOptions } from './ChatService';
import { FakeSocket, flushPromises, joinWith, makeMessage, ok } from '../../../test/FakeSocket';
import { MESSAGE_ERROR } from './validation';

function setup(overrides: Partial<ChatServiceOptions> = {}) {
  const sockets: FakeSocket[] = [];
  let n = 0;
  const service = new ChatService({
    serverUrl: 'http://chat.test:5000',
    username: 'alice',
    room: 'general',
    clientKey: 'key_ABCDEFGHIJKLMNOPQRSTUVWXYZ01',
    socketFactory: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    makeClientId: () => `cid-${++n}`,
    resendBaseDelayMs: 1000,
    resendMaxDelayMs: 8000,
    ...overrides,
  });
  service.start();
  const socket = sockets[0];
  return { service, socket, sockets };
}

/** A compact view of the list: ids for stored messages, p:<client id> for pending ones. */
function shape(items: ChatItem[]): string[] {
  return items.map((item) => {
    if (item.kind === 'message') return item.message.id.replace(/^0+/, '');
    if (item.kind === 'pending') return `p:${item.clientId}`;
    if (item.kind === 'moderation') return `${item.notice.action}:${item.notice.username}`;
    return `${item.event}:${item.username}`;
  });
}

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('joining', () => {
  it('joins the room with the device client_key once connected', async () => {
    const { service, socket } = setup();
    expect(socket.connectCalls).toBe(1);
    expect(service.getState().connection).toBe('connecting');

    socket.serverConnect();
    expect(socket.last('join_room').payload).toEqual({
      username: 'alice',
      room: 'general',
      client_key: 'key_ABCDEFGHIJKLMNOPQRSTUVWXYZ01',
    });

    await joinWith(socket, [makeMessage(1, 'bob', 'hi'), makeMessage(2, 'alice', 'yo')]);
    const state = service.getState();
    expect(state.connection).toBe('online');
    expect(shape(state.items)).toEqual(['1', '2']);
    expect(state.items.map((i) => i.kind === 'message' && i.own)).toEqual([false, true]);
    // The first join needs no gap fill: room_joined carries the history.
    expect(socket.sent('get_history')).toHaveLength(0);
  });

  it('stops for good when the name is taken', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    socket.last('join_room').ack!({
      ok: false,
      code: 'name_taken',
      error: 'Username alice is already taken in this room',
    });
    await flushPromises();
    expect(service.getState().connection).toBe('offline');
    expect(service.getState().error).toEqual({
      code: 'name_taken',
      message: 'Username alice is already taken in this room',
    });
    expect(socket.disconnectCalls).toBe(1);
    expect(socket.listenerCount('connect')).toBe(0);
  });

  it('stops for good when the server says the name was taken while it reconnected', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    socket.fire('error', {
      code: 'name_taken',
      message: 'Your name was taken while the server reconnected',
    });
    expect(service.getState().connection).toBe('offline');
    expect(service.getState().error?.message).toBe('Your name was taken while the server reconnected');
    expect(socket.disconnectCalls).toBe(1);
  });

  it('tracks who is online from room_users', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    socket.fire('room_users', {
      room: 'general',
      count: 2,
      users: [
        { username: 'alice', color: '#FD9644' },
        { username: 'bob', color: '#F7B731' },
      ],
    });
    expect(service.getState().userCount).toBe(2);
    expect(service.getState().users.map((u) => u.username)).toEqual(['alice', 'bob']);
  });

  it('shows join and leave notifications where they happened', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    socket.fire('user_joined', { username: 'carol', message: 'carol joined the room' });
    socket.fire('new_message', makeMessage(2, 'carol', 'hello'));
    socket.fire('user_left', { username: 'bob', message: 'bob left the room' });
    expect(shape(service.getState().items)).toEqual(['1', 'joined:carol', '2', 'left:bob']);
  });

  it('leaves the room and closes the connection', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    const left = service.leave();
    expect(socket.sent('leave_room')).toHaveLength(1);
    expect(service.getState().connection).toBe('left');
    // The connection closes once the server answered the leave (or the ack timed out).
    expect(socket.disconnectCalls).toBe(0);
    socket.last('leave_room').ack!(ok({ room: 'general' }));
    await left;
    expect(socket.disconnectCalls).toBe(1);
  });
});

describe('sending', () => {
  it('shows a message as pending until the ack, then as sent with its id', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    const result = service.send('  hello  ');
    expect(result).toEqual({ ok: true, clientId: 'cid-1' });
    const emit = socket.last('send_message');
    expect(emit.payload).toEqual({ message: 'hello', client_id: 'cid-1' });
    expect(shape(service.getState().items)).toEqual(['1', 'p:cid-1']);

    emit.ack!(
      ok({ message: makeMessage(2, 'alice', 'hello', { client_id: 'cid-1' }), duplicate: false }),
    );
    await flushPromises();
    const items = service.getState().items;
    expect(shape(items)).toEqual(['1', '2']);
    expect(items[1].kind === 'message' && items[1].own).toBe(true);
  });

  it('shows a message once even if it comes back under a second id with the same client_id', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('hello');
    socket.fire('new_message', makeMessage(2, 'alice', 'hello', { client_id: 'cid-1' }));
    socket.fire('new_message', makeMessage(3, 'alice', 'hello', { client_id: 'cid-1' }));
    socket.fire('new_message', makeMessage(4, 'bob', 'next'));
    expect(shape(service.getState().items)).toEqual(['1', '2', '4']);
  });

  it('refuses an empty or too long message with the protocol message', () => {
    const { service } = setup();
    expect(service.send('   ')).toEqual({ ok: false, error: MESSAGE_ERROR });
    expect(service.send('x'.repeat(2001))).toEqual({ ok: false, error: MESSAGE_ERROR });
    expect(service.getState().items).toHaveLength(0);
  });

  it('queues messages typed before the join and sends them once joined', async () => {
    const { service, socket } = setup();
    service.send('early');
    expect(socket.sent('send_message')).toHaveLength(0);
    await joinWith(socket);
    expect(socket.last('send_message').payload).toEqual({ message: 'early', client_id: 'cid-1' });
  });

  it('retries with the same client_id after an unavailable error', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('hello');
    socket.last('send_message').ack!({ ok: false, code: 'unavailable', error: 'Storage down' });
    await flushPromises();
    expect(socket.sent('send_message')).toHaveLength(1);

    jest.advanceTimersByTime(1000);
    expect(socket.sent('send_message')).toHaveLength(2);
    expect(socket.last('send_message').payload.client_id).toBe('cid-1');

    // A second failure waits twice as long.
    socket.last('send_message').ack!({ ok: false, code: 'unavailable', error: 'Storage down' });
    await flushPromises();
    jest.advanceTimersByTime(1999);
    expect(socket.sent('send_message')).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(socket.sent('send_message')).toHaveLength(3);

    socket
      .last('send_message')
      .ack!(ok({ message: makeMessage(2, 'alice', 'hello', { client_id: 'cid-1' }), duplicate: true }));
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['1', '2']);
  });

  it('keeps a message refused as invalid, marked, and does not retry it', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('hello');
    socket.last('send_message').ack!({ ok: false, code: 'invalid', error: MESSAGE_ERROR });
    await flushPromises();
    jest.advanceTimersByTime(60000);
    expect(socket.sent('send_message')).toHaveLength(1);
    const pending = service.getState().items[1];
    expect(pending).toMatchObject({ kind: 'pending', clientId: 'cid-1', error: MESSAGE_ERROR });
  });

  it('rejoins and re-sends when the server says we are not in the room', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('hello');
    socket.clearEmitted();
    service.send('again');
    socket.last('send_message').ack!({ ok: false, code: 'not_in_room', error: 'Join a room first' });
    await flushPromises();
    const rejoin = socket.last('join_room');
    rejoin.ack!(ok({ room: 'general', username: 'alice' }));
    await flushPromises();
    // The rejoin resumes from the last id held.
    const history = socket.last('get_history');
    expect(history.payload).toMatchObject({ room: 'general', since_id: '000000000001' });
    history.ack!(ok({ room: 'general', messages: [], has_more: false }));
    await flushPromises();
    const resent = socket.sent('send_message').map((e) => e.payload.client_id);
    expect(resent).toEqual(['cid-2', 'cid-1', 'cid-2']);
  });
});

describe('reconnecting', () => {
  it('rejoins, fills the gap, re-sends unacknowledged messages and shows each message once', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'bob', 'one'), makeMessage(2, 'bob', 'two')]);

    service.send('first');
    service.send('second');
    expect(socket.sent('send_message').map((e) => e.payload.client_id)).toEqual(['cid-1', 'cid-2']);

    // The connection drops before either ack arrives.
    socket.drop();
    expect(service.getState().connection).toBe('reconnecting');
    expect(shape(service.getState().items)).toEqual(['1', '2', 'p:cid-1', 'p:cid-2']);
    socket.clearEmitted();

    // socket.io reconnects by itself; the service rejoins.
    socket.serverConnect();
    const join = socket.last('join_room');
    expect(join.payload.client_key).toBe('key_ABCDEFGHIJKLMNOPQRSTUVWXYZ01');
    socket.fire('room_joined', {
      room: 'general',
      username: 'alice',
      messages: [makeMessage(2, 'bob', 'two'), makeMessage(3, 'bob', 'three')],
    });
    join.ack!(ok({ room: 'general', username: 'alice' }));
    await flushPromises();
    expect(service.getState().connection).toBe('online');

    // Gap fill from the last id held before the drop, page after page while has_more.
    const page1 = socket.last('get_history');
    // No limit: with since_id the server sends its largest page (HISTORY_LIMIT).
    expect(page1.payload).toEqual({ room: 'general', since_id: '000000000002' });
    expect(socket.sent('send_message')).toHaveLength(0); // resend waits for the fill
    page1.ack!(ok({ room: 'general', messages: [makeMessage(3, 'bob', 'three')], has_more: true }));
    await flushPromises();
    const page2 = socket.last('get_history');
    expect(page2.payload).toEqual({ room: 'general', since_id: '000000000003' });
    page2.ack!(ok({ room: 'general', messages: [makeMessage(4, 'bob', 'four')], has_more: false }));
    await flushPromises();
    expect(socket.sent('get_history')).toHaveLength(2);

    // Both unacknowledged messages go again, in order, with the same client ids.
    const resent = socket.sent('send_message');
    expect(resent.map((e) => e.payload)).toEqual([
      { message: 'first', client_id: 'cid-1' },
      { message: 'second', client_id: 'cid-2' },
    ]);

    // Every copy comes back: echoes, acks (one a duplicate) and a history page.
    const m5 = makeMessage(5, 'alice', 'first', { client_id: 'cid-1' });
    const m6 = makeMessage(6, 'alice', 'second', { client_id: 'cid-2' });
    socket.fire('new_message', m5);
    resent[0].ack!(ok({ message: m5, duplicate: false }));
    socket.fire('new_message', m6);
    resent[1].ack!(ok({ message: m6, duplicate: true }));
    socket.fire('new_message', m5);
    await flushPromises();

    const items = service.getState().items;
    expect(shape(items)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(items.filter((i) => i.kind === 'message' && i.own).map((i) => i.key)).toEqual([
      'm-000000000005',
      'm-000000000006',
    ]);
  });

  it('does not re-send a message the gap fill shows was stored', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('first');
    service.send('second');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket, [makeMessage(1, 'bob', 'hi')]);
    socket.last('get_history').ack!(
      ok({
        room: 'general',
        messages: [makeMessage(2, 'alice', 'first', { client_id: 'cid-1' })],
        has_more: false,
      }),
    );
    await flushPromises();
    expect(socket.sent('send_message').map((e) => e.payload.client_id)).toEqual(['cid-2']);
    expect(shape(service.getState().items)).toEqual(['1', '2', 'p:cid-2']);
  });

  it('re-sends after a reconnect when the first ack got lost with the connection', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.send('hello');
    const lost = socket.last('send_message');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket);
    socket.last('get_history').ack!(ok({ room: 'general', messages: [], has_more: false }));
    await flushPromises();
    // The old ack arriving late changes nothing harmful.
    lost.ack!(ok({ message: makeMessage(2, 'alice', 'hello', { client_id: 'cid-1' }), duplicate: false }));
    socket.last('send_message').ack!(
      ok({ message: makeMessage(2, 'alice', 'hello', { client_id: 'cid-1' }), duplicate: true }),
    );
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['1', '2']);
  });

  it('asks socket.io to reconnect after a server-side disconnect', async () => {
    const { socket } = setup();
    await joinWith(socket);
    socket.drop('io server disconnect');
    // After a pause, so a server that keeps closing us does not cause a reconnect loop.
    expect(socket.connectCalls).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(socket.connectCalls).toBe(2);
  });

  it('stops a gap fill cut by a drop and resumes it on the next join', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    socket.fire('new_message', makeMessage(3, 'bob', 'three'));
    expect(socket.last('get_history').payload.since_id).toBe('000000000001');
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket, [makeMessage(3, 'bob', 'three')]);
    const fill = socket.last('get_history');
    expect(fill.payload.since_id).toBe('000000000001');
    fill.ack!(
      ok({
        room: 'general',
        messages: [makeMessage(2, 'bob', 'two'), makeMessage(3, 'bob', 'three')],
        has_more: false,
      }),
    );
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['1', '2', '3']);
  });
});

describe('history restarts and holes', () => {
  it('asks for everything with since_id 000000000000 after joining an empty room', async () => {
    const { service, socket } = setup();
    await joinWith(socket, []);
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket, [makeMessage(1, 'bob', 'one'), makeMessage(2, 'bob', 'two')]);
    const fill = socket.last('get_history');
    expect(fill.payload).toEqual({ room: 'general', since_id: '000000000000' });
    fill.ack!(
      ok({
        room: 'general',
        messages: [makeMessage(1, 'bob', 'one'), makeMessage(2, 'bob', 'two')],
        has_more: false,
      }),
    );
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['1', '2']);
  });

  it('starts the list again when room_joined shows the numbering restarted', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(7, 'bob', 'old seven'), makeMessage(8, 'bob', 'old eight')]);
    service.send('unsent');
    socket.drop();
    socket.clearEmitted();
    // The whole history expired while we were away: the room starts again at 1.
    await joinWith(socket, [makeMessage(1, 'carol', 'new one')]);
    expect(socket.sent('get_history')).toHaveLength(0);
    expect(shape(service.getState().items)).toEqual(['1', 'p:cid-1']);
    expect(socket.last('send_message').payload).toEqual({ message: 'unsent', client_id: 'cid-1' });
    socket.fire('new_message', makeMessage(2, 'alice', 'unsent', { client_id: 'cid-1' }));
    expect(shape(service.getState().items)).toEqual(['1', '2']);
  });

  it('starts the list again when a held id now names another message', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'bob', 'old one')]);
    socket.drop();
    const renumbered = [1, 2, 3].map((n) =>
      makeMessage(n, 'carol', `new ${n}`, { timestamp: `2026-12-0${n}T10:00:00.000Z` }),
    );
    await joinWith(socket, renumbered);
    const texts = service
      .getState()
      .items.map((i) => (i.kind === 'message' ? i.message.message : i.kind));
    expect(texts).toEqual(['new 1', 'new 2', 'new 3']);
  });

  it('keeps the list when room_joined only repeats what is held', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'bob', 'one'), makeMessage(2, 'bob', 'two')]);
    socket.fire('user_joined', { username: 'carol', message: 'carol joined the room' });
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket, [makeMessage(2, 'bob', 'two'), makeMessage(3, 'bob', 'three')]);
    expect(shape(service.getState().items)).toEqual(['1', '2', 'joined:carol', '3']);
  });

  it('fills a hole seen between room_joined and the ack of the first join', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    const join = socket.last('join_room');
    socket.fire('room_joined', { room: 'general', username: 'alice', messages: [makeMessage(1, 'bob', 'a')] });
    socket.fire('new_message', makeMessage(3, 'bob', 'c'));
    expect(socket.sent('get_history')).toHaveLength(0);
    join.ack!(ok({ room: 'general', username: 'alice' }));
    await flushPromises();
    const fill = socket.last('get_history');
    expect(fill.payload).toEqual({ room: 'general', since_id: '000000000001' });
    fill.ack!(
      ok({ room: 'general', messages: [makeMessage(2, 'bob', 'b'), makeMessage(3, 'bob', 'c')], has_more: false }),
    );
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['1', '2', '3']);
  });
});

describe('names that look alike', () => {
  it('treats a look-alike spelling of our name as us (typing, own messages)', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'ALICE', 'from my other tab'), makeMessage(2, 'bob', 'hi')]);
    const own = service.getState().items.map((i) => i.kind === 'message' && i.own);
    expect(own).toEqual([true, false]);
    socket.fire('user_typing', { username: 'Ａｌｉｃｅ', is_typing: true });
    socket.fire('user_typing', { username: 'alicia', is_typing: true });
    expect(service.getState().typing).toEqual(['alicia']);
  });
});

describe('id jumps', () => {
  it('fetches the missing messages when an id jumps', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(41, 'bob', 'a')]);
    socket.fire('new_message', makeMessage(42, 'bob', 'b'));
    expect(socket.sent('get_history')).toHaveLength(0);

    socket.fire('new_message', makeMessage(44, 'bob', 'd'));
    const fill = socket.last('get_history');
    expect(fill.payload).toEqual({ room: 'general', since_id: '000000000042' });
    // Another jump while the fill runs does not start a second fill.
    socket.fire('new_message', makeMessage(46, 'bob', 'f'));
    expect(socket.sent('get_history')).toHaveLength(1);

    fill.ack!(
      ok({
        room: 'general',
        messages: [makeMessage(43, 'bob', 'c'), makeMessage(44, 'bob', 'd')],
        has_more: false,
      }),
    );
    await flushPromises();
    // 45 is still missing: one more round from the new high-water mark.
    const again = socket.last('get_history');
    expect(again.payload.since_id).toBe('000000000044');
    again.ack!(
      ok({
        room: 'general',
        messages: [makeMessage(45, 'bob', 'e'), makeMessage(46, 'bob', 'f')],
        has_more: false,
      }),
    );
    await flushPromises();
    expect(shape(service.getState().items)).toEqual(['41', '42', '43', '44', '45', '46']);
    socket.fire('new_message', makeMessage(47, 'bob', 'g'));
    expect(socket.sent('get_history')).toHaveLength(2);
  });

  it('gives up on ids the server no longer has', async () => {
    const { service, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'bob', 'a')]);
    socket.fire('new_message', makeMessage(5, 'bob', 'e'));
    socket.last('get_history').ack!(
      ok({ room: 'general', messages: [makeMessage(5, 'bob', 'e')], has_more: false }),
    );
    await flushPromises();
    socket.fire('new_message', makeMessage(6, 'bob', 'f'));
    expect(socket.sent('get_history')).toHaveLength(1);
    expect(shape(service.getState().items)).toEqual(['1', '5', '6']);
  });
});

describe('typing', () => {
  it('sends typing true at most every 2 s and false after 3 s idle', async () => {
    const { service, socket } = setup({ now: () => Date.now() });
    await joinWith(socket);
    const typing = () => socket.sent('typing').map((e) => e.payload.is_typing);

    service.setComposerText('h');
    service.setComposerText('he');
    expect(typing()).toEqual([true]);
    jest.advanceTimersByTime(1500);
    service.setComposerText('hel');
    expect(typing()).toEqual([true]);
    jest.advanceTimersByTime(600);
    service.setComposerText('hell');
    expect(typing()).toEqual([true, true]);
    jest.advanceTimersByTime(2999);
    expect(typing()).toEqual([true, true]);
    jest.advanceTimersByTime(1);
    expect(typing()).toEqual([true, true, false]);
  });

  it("sends nothing for text that is blank for the server (Python's strip set)", async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.setComposerText('\u0085\u001c ');
    expect(socket.sent('typing')).toHaveLength(0);
    expect(service.send('\u0085\u001c ')).toEqual({ ok: false, error: MESSAGE_ERROR });
    expect(service.send('\u001chi\u0085')).toEqual({ ok: true, clientId: 'cid-1' });
    expect(socket.last('send_message').payload.message).toBe('hi');
  });

  it('sends typing false on send and when the input is cleared', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    service.setComposerText('hi');
    service.send('hi');
    service.setComposerText('x');
    service.setComposerText('');
    expect(socket.sent('typing').map((e) => e.payload.is_typing)).toEqual([true, false, true, false]);
  });

  it('drops someone typing after 6 s without a refresh', async () => {
    const { service, socket } = setup();
    await joinWith(socket);
    socket.fire('user_typing', { username: 'bob', is_typing: true });
    socket.fire('user_typing', { username: 'carol', is_typing: true });
    expect(service.getState().typing).toEqual(['bob', 'carol']);
    jest.advanceTimersByTime(4000);
    socket.fire('user_typing', { username: 'bob', is_typing: true });
    jest.advanceTimersByTime(2000);
    expect(service.getState().typing).toEqual(['bob']);
    socket.fire('user_typing', { username: 'bob', is_typing: false });
    expect(service.getState().typing).toEqual([]);
  });
});
