import { ChatService, type ChatItem, type ChatServiceOptions, type MessageItem } from './ChatService';
import { FakeSocket, flushPromises, ok } from '../../../test/FakeSocket';
import {
  ackMarkRead,
  answerJoin,
  deleteEvent,
  editEvent,
  reactionEvent,
  roomMessage,
  roomMessages,
} from '../../../test/protocol2';
import { defaultChatServiceFactory } from './ChatServiceContext';
import { ROOM_ERROR } from './validation';

const KEY = 'key_ABCDEFGHIJKLMNOPQRSTUVWXYZ01';

function setup(overrides: Partial<ChatServiceOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const handshakes: Record<string, unknown>[] = [];
  let n = 0;
  const service = new ChatService({
    serverUrl: 'http://chat.test:5000',
    username: 'alice',
    room: 'general',
    clientKey: KEY,
    protocol: 2,
    socketFactory: (_url, options) => {
      handshakes.push(options as Record<string, unknown>);
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    makeClientId: () => `cid-${++n}`,
    ...overrides,
  });
  service.start();
  const socket = sockets[0];
  ackMarkRead(socket);
  return { service, socket, handshakes };
}

/** The ids (without zeros) of the stored messages shown. */
function ids(items: ChatItem[]): string[] {
  return items.flatMap((item) => (item.kind === 'message' ? [item.message.id.replace(/^0+/, '')] : []));
}

function shown(service: ChatService, id: number): MessageItem {
  const key = String(id).padStart(12, '0');
  const item = service.getState().items.find((i) => i.kind === 'message' && i.message.id === key);
  if (!item || item.kind !== 'message') throw new Error(`message ${key} is not shown`);
  return item;
}

const roomsOf = (service: ChatService) =>
  service.getState().rooms.map(({ room, unread, mentions, active }) => ({ room, unread, mentions, active }));

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('protocol 2: the connection and the room list', () => {
  it('asks for protocol 2 in the handshake', () => {
    const { service, handshakes } = setup();
    expect(handshakes[0].auth).toEqual({ protocol: 2 });
    expect(service.getState().protocol).toBe(2);
  });

  it('is what the app builds: its factory speaks protocol 2', () => {
    const service = defaultChatServiceFactory({ serverUrl: 'http://chat.test:5000', username: 'alice', room: 'general', clientKey: KEY });
    expect(service.protocol).toBe(2);
  });

  it('lists the joined rooms with their unread and mention counts, and the total', async () => {
    const { service, socket } = setup({ rooms: ['random'] });
    socket.serverConnect();
    answerJoin(socket, 'general', { messages: roomMessages('general', 1, 2), read: 2 });
    answerJoin(socket, 'random', {
      messages: [
        roomMessage('random', 1, 'bob', 'read already'),
        roomMessage('random', 2, 'bob', 'new'),
        roomMessage('random', 3, 'bob', 'hey @alice', { mentions: ['alice'] }),
      ],
      read: 1,
      unread: 2,
      mentions: 1,
    });
    await flushPromises();
    expect(socket.sent('join_room').map((e) => e.payload.room)).toEqual(['general', 'random']);
    expect(roomsOf(service)).toEqual([
      { room: 'general', unread: 0, mentions: 0, active: true },
      { room: 'random', unread: 2, mentions: 1, active: false },
    ]);
    expect(service.getState().totalUnread).toBe(2);

    // A room not shown counts what arrives; the room shown keeps its own list.
    socket.fire('new_message', roomMessage('random', 4, 'carol', '@alice again', { mentions: ['alice'] }));
    socket.fire('new_message', roomMessage('random', 5, 'alice', 'mine does not count'));
    expect(roomsOf(service)[1]).toEqual({ room: 'random', unread: 3, mentions: 2, active: false });
    expect(service.getState().totalUnread).toBe(3);
    expect(service.getState().room).toBe('general');
    expect(ids(service.getState().items)).toEqual(['1', '2']);
  });

  it('switches rooms on the same connection: list, people, sending and reading follow', async () => {
    const { service, socket } = setup({ rooms: ['random'] });
    socket.serverConnect();
    answerJoin(socket, 'general', { messages: roomMessages('general', 1, 1), users: ['alice', 'bob'] });
    answerJoin(socket, 'random', { messages: roomMessages('random', 1, 3, 'carol'), unread: 3, users: ['alice', 'carol', 'dave'] });
    await flushPromises();
    socket.fire('user_typing', { room: 'random', username: 'carol', is_typing: true });
    expect(service.getState().typing).toEqual([]);

    expect(service.switchRoom('random')).toBe(true);
    const state = service.getState();
    expect([state.room, state.userCount, state.typing]).toEqual(['random', 3, ['carol']]);
    expect(ids(state.items)).toEqual(['1', '2', '3']);
    expect(state.rooms.map((r) => [r.room, r.active])).toEqual([
      ['general', false],
      ['random', true],
    ]);
    expect(socket.connectCalls).toBe(1);

    service.send('hello random');
    expect(socket.last('send_message').payload).toEqual({ room: 'random', message: 'hello random', client_id: 'cid-1' });
    service.markRead();
    await flushPromises();
    expect(socket.last('mark_read').payload).toEqual({ room: 'random', id: '000000000003' });
    expect([service.getState().rooms[1].unread, service.getState().totalUnread]).toEqual([0, 0]);
    expect(service.switchRoom('nowhere')).toBe(false);
  });

  it('joins another room by id and shows it, and leaves one room keeping the others', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general', { messages: roomMessages('general', 1, 1) });
    await flushPromises();

    expect(service.joinRoom('no spaces!')).toEqual({ ok: false, error: ROOM_ERROR });
    expect(service.joinRoom('Tech')).toEqual({ ok: true, room: 'tech' });
    expect(socket.last('join_room').payload).toEqual({ username: 'alice', room: 'tech', client_key: KEY });
    answerJoin(socket, 'tech', { messages: roomMessages('tech', 1, 2, 'erin') });
    await flushPromises();
    expect(service.getState().room).toBe('tech');
    expect(ids(service.getState().items)).toEqual(['1', '2']);

    const left = service.leaveRoom('tech');
    expect(socket.last('leave_room').payload).toEqual({ room: 'tech' });
    socket.last('leave_room').ack!(ok({ room: 'tech' }));
    await left;
    expect(service.getState().rooms.map((r) => r.room)).toEqual(['general']);
    expect(service.getState().room).toBe('general');
    expect(service.getState().connection).toBe('online');

    // The last room: the chat ends, as with Leave.
    void service.leaveRoom('general');
    expect(service.getState().connection).toBe('left');
  });

  it('speaks protocol 1 unless asked: no handshake field, one room', () => {
    const { service, handshakes } = setup({ protocol: undefined });
    expect(handshakes[0].auth).toBeUndefined();
    expect(service.getState().protocol).toBe(1);
    expect(service.joinRoom('random')).toMatchObject({ ok: false });
  });
});

describe('protocol 2: edit, delete, react', () => {
  async function joined(messages = [roomMessage('general', 1, 'alice', 'I wil be late'), roomMessage('general', 2, 'bob', 'ok')]) {
    const ctx = setup();
    ctx.socket.serverConnect();
    answerJoin(ctx.socket, 'general', { messages, read: messages.length });
    await flushPromises();
    return { ...ctx, messages };
  }

  it('edits an own message: the stored edit shows the new text, marked edited', async () => {
    const { service, socket, messages } = await joined();
    const done = service.edit(messages[0].id, 'I will be late');
    const emitted = socket.last('edit_message');
    expect(emitted.payload).toEqual({ room: 'general', id: '000000000001', message: 'I will be late' });
    emitted.ack!(ok({ event: editEvent(messages[0], 1, 'I will be late', 2) }));
    expect(await done).toBe(true);
    expect(shown(service, 1).message).toMatchObject({ message: 'I will be late', edited_at: expect.any(String) });
  });

  it("shows a refused edit as the server's error, naming the room", async () => {
    const { service, socket, messages } = await joined();
    const done = service.edit(messages[1].id, 'mine now');
    socket.last('edit_message').ack!({ ok: false, code: 'forbidden', error: 'Only the author can edit a message' });
    expect(await done).toBe(false);
    expect(service.getState().error).toEqual({ message: 'Only the author can edit a message', code: 'forbidden', room: 'general' });
    expect(shown(service, 2).message.message).toBe('ok');
  });

  it('deletes an own message: a tombstone stays in its place', async () => {
    const { service, socket, messages } = await joined();
    const done = service.deleteMessage(messages[0].id);
    expect(socket.last('delete_message').payload).toEqual({ room: 'general', id: '000000000001' });
    socket.last('delete_message').ack!(ok({ event: deleteEvent(messages[0], 1, 2) }));
    expect(await done).toBe(true);
    expect(ids(service.getState().items)).toEqual(['1', '2']);
    expect(shown(service, 1).message).toMatchObject({ deleted: true, message: '' });
  });

  it('toggles a reaction and follows the reactions of others live', async () => {
    const { service, socket, messages } = await joined();
    const done = service.react(messages[1].id, '👍');
    expect(socket.last('react').payload).toEqual({ room: 'general', id: '000000000002', emoji: '👍' });
    socket.last('react').ack!(ok({ event: reactionEvent(messages[1], 1, '👍', 'alice', { newest: 2 }) }));
    await done;
    expect(shown(service, 2).message.reactions).toEqual([{ emoji: '👍', count: 1, users: ['alice'], me: true }]);

    socket.fire('room_event', reactionEvent(messages[1], 2, '👍', 'carol', { count: 2, newest: 2 }));
    socket.fire('room_event', reactionEvent(messages[1], 3, '🎉', 'carol', { newest: 2 }));
    expect(shown(service, 2).message.reactions).toEqual([
      { emoji: '👍', count: 2, users: ['alice', 'carol'], me: true },
      { emoji: '🎉', count: 1, users: ['carol'], me: false },
    ]);

    // Tapping again takes ours back.
    void service.react(messages[1].id, '👍');
    socket.last('react').ack!(ok({ event: reactionEvent(messages[1], 4, '👍', 'alice', { added: false, count: 1, newest: 2 }) }));
    await flushPromises();
    expect(shown(service, 2).message.reactions?.[0]).toEqual({ emoji: '👍', count: 1, users: ['carol'], me: false });
  });
});

describe('protocol 2: replies, mentions, the divider', () => {
  it('sends a reply with reply_to and shows the quote of the original, pending and stored', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    const original = roomMessage('general', 1, 'bob', 'Lunch at noon?');
    answerJoin(socket, 'general', { messages: [original], read: 1 });
    await flushPromises();

    expect(service.send('Yes!', { replyTo: original.id })).toEqual({ ok: true, clientId: 'cid-1' });
    const sent = socket.last('send_message');
    expect(sent.payload).toEqual({ room: 'general', message: 'Yes!', client_id: 'cid-1', reply_to: '000000000001' });
    const quote = { id: original.id, username: 'bob', excerpt: 'Lunch at noon?', deleted: false };
    expect(service.getState().items[1]).toMatchObject({ kind: 'pending', replyTo: original.id, quote });

    sent.ack!(ok({ message: roomMessage('general', 2, 'alice', 'Yes!', { client_id: 'cid-1', reply_to: original.id }), duplicate: false }));
    await flushPromises();
    expect(shown(service, 2)).toMatchObject({ own: true, quote, message: { reply_to: original.id } });

    // The original deleted: the quote says so.
    socket.fire('room_event', deleteEvent(original, 1, 2));
    expect(shown(service, 2).quote).toEqual({ id: original.id, username: 'bob', excerpt: '', deleted: true });
  });

  it('marks the messages that mention me, by the look-alike rules', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general', {
      messages: [
        roomMessage('general', 1, 'bob', 'hi @ALICE', { mentions: ['ALICE'] }),
        roomMessage('general', 2, 'bob', 'hi @carol', { mentions: ['carol'] }),
        roomMessage('general', 3, 'bob', 'mail me@alice.org'),
      ],
      read: 3,
    });
    await flushPromises();
    expect([1, 2, 3].map((n) => Boolean(shown(service, n).mentionsMe))).toEqual([true, false, false]);
    expect(shown(service, 2).message.mentions).toEqual(['carol']);
  });

  it('puts the divider at the first message unread when the room was opened', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general', {
      messages: [roomMessage('general', 1, 'bob', 'seen'), roomMessage('general', 2, 'alice', 'mine'), ...roomMessages('general', 3, 4)],
      read: 1,
      unread: 2,
    });
    await flushPromises();
    expect(service.getState().firstUnreadId).toBe('000000000003');
    // Reading does not move it while the room is open.
    service.markRead();
    await flushPromises();
    expect(service.getState().firstUnreadId).toBe('000000000003');
    expect(service.getState().totalUnread).toBe(0);
  });

  it('loads older history back to the original of a reply', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    // A full room_joined (HISTORY_LIMIT messages): older ones may lie before.
    answerJoin(socket, 'general', { messages: roomMessages('general', 6, 105), read: 105 });
    await flushPromises();
    const found = service.loadHistoryTo('000000000005');
    const page = socket.last('get_history');
    expect(page.payload).toEqual({ room: 'general', before_id: '000000000006', limit: 100 });
    page.ack!(ok({ room: 'general', messages: roomMessages('general', 1, 5), has_more: false }));
    expect(await found).toBe(true);
    expect(ids(service.getState().items).slice(0, 6)).toEqual(['1', '2', '3', '4', '5', '6']);
  });
});
