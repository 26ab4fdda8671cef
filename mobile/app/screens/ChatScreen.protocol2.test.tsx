import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import { lightColors } from '../theme';
import { setLanguage } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import type { ChatServiceOptions } from '../services/socket/ChatService';
import { ROOM_ERROR } from '../services/socket/validation';
import { FakeSocket, flushPromises, ok } from '../../test/FakeSocket';
import {
  ackMarkRead,
  answerJoin,
  deleteEvent,
  editEvent,
  reactionEvent,
  roomMessage,
  roomMessages,
  type RoomOnServer,
} from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { ChatScreen } from './ChatScreen';

const KEY = 'device_key_0123456789abcdefghij';
const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };

/** The chat screen of alice in #general on a protocol 2 service (plus `options.rooms`). */
async function openChat(options: Partial<ChatServiceOptions> = {}) {
  const services = fakeChatServices({ protocol: 2, ...options });
  const props = {
    navigation,
    route: { key: 'Chat-1', name: 'Chat', params: { username: 'alice', room: 'general', serverUrl: 'http://chat.test:5000' } },
  } as unknown as ChatScreenProps;
  renderWithServices(<ChatScreen {...props} />, services.factory);
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  const socket = services.sockets[0];
  ackMarkRead(socket);
  return { ...services, socket };
}

/** The server accepts the joins of these rooms, in order. */
async function join(socket: FakeSocket, rooms: Record<string, RoomOnServer>) {
  await act(async () => {
    socket.serverConnect();
    for (const [room, state] of Object.entries(rooms)) answerJoin(socket, room, state);
    await flushPromises();
  });
}

/** Play the server: answer the last `event` emitted. */
async function answer(socket: FakeSocket, event: string, body: object) {
  await act(async () => {
    socket.last(event).ack!(ok(body));
    await flushPromises();
  });
}

async function fire(socket: FakeSocket, event: string, payload: object) {
  await act(async () => {
    socket.fire(event, payload);
    await flushPromises();
  });
}

const bubble = (n: number) => screen.getByTestId(`message-bubble-${String(n).padStart(12, '0')}`);
const row = (n: number) => screen.getByTestId(`message-${String(n).padStart(12, '0')}`);
const longPress = (n: number) => fireEvent(bubble(n), 'longPress');

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
});

// FlatList renders its cells in batches on a timer (updateCellsBatchingPeriod, 50 ms): let
// the last batch land inside act before teardown.
afterEach(async () => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

describe('ChatScreen, protocol 2: rooms', () => {
  it('shows the total unread in the header and each room with its unread and mention counts', async () => {
    const { socket } = await openChat({ rooms: ['random'] });
    expect(socket.options?.auth).toEqual({ protocol: 2 });
    await join(socket, {
      general: { messages: roomMessages('general', 1, 2), read: 2 },
      random: {
        messages: [
          roomMessage('random', 1, 'bob', 'one'),
          roomMessage('random', 2, 'bob', '@alice look', { mentions: ['alice'] }),
        ],
        unread: 2,
        mentions: 1,
      },
    });
    expect(screen.getByTestId('chat-unread-total')).toHaveTextContent('2');
    expect(screen.getByTestId('chat-rooms-toggle').props.accessibilityLabel).toBe('#general. Rooms, 2 unread messages');

    fireEvent.press(screen.getByTestId('chat-rooms-toggle'));
    expect(screen.getByTestId('room-general')).toBeSelected();
    expect(screen.queryByTestId('room-unread-general')).toBeNull();
    expect(screen.getByTestId('room-unread-random')).toHaveTextContent('2');
    expect(screen.getByTestId('room-mentions-random')).toHaveTextContent('@1');
    expect(screen.getByTestId('room-random').props.accessibilityLabel).toBe('#random, 2 unread, 1 mention');

    // Live: a message in the room not shown counts at once.
    await fire(socket, 'new_message', roomMessage('random', 3, 'carol', 'more'));
    expect(screen.getByTestId('room-unread-random')).toHaveTextContent('3');
    expect(screen.getByTestId('chat-unread-total')).toHaveTextContent('3');
  });

  it('switches rooms without reconnecting, reading the room it shows', async () => {
    const { socket } = await openChat({ rooms: ['random'] });
    await join(socket, {
      general: { messages: [roomMessage('general', 1, 'bob', 'in general')], read: 1 },
      random: { messages: [roomMessage('random', 1, 'carol', 'in random')], unread: 1, users: ['alice', 'carol', 'dave'] },
    });
    expect(screen.getByText('in general')).toBeTruthy();
    fireEvent.press(screen.getByTestId('chat-rooms-toggle'));
    fireEvent.press(screen.getByTestId('room-random'));

    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#random');
    expect(screen.queryByTestId('chat-rooms-panel')).toBeNull();
    expect(screen.getByText('in random')).toBeTruthy();
    expect(screen.queryByText('in general')).toBeNull();
    expect(screen.getByTestId('chat-user-count')).toHaveTextContent('3 online');
    expect(socket.connectCalls).toBe(1);
    await act(flushPromises);
    expect(socket.last('mark_read').payload).toEqual({ room: 'random', id: '000000000001' });
    expect(screen.queryByTestId('chat-unread-total')).toBeNull();

    fireEvent.changeText(screen.getByTestId('chat-input'), 'hi random');
    fireEvent.press(screen.getByTestId('chat-send'));
    expect(socket.last('send_message').payload).toMatchObject({ room: 'random', message: 'hi random' });
  });

  it('joins a room by id, refuses a bad id, and leaves one room', async () => {
    const { socket } = await openChat();
    await join(socket, { general: { messages: roomMessages('general', 1, 1), read: 1 } });
    fireEvent.press(screen.getByTestId('chat-rooms-toggle'));
    fireEvent.changeText(screen.getByTestId('rooms-join-input'), 'No Spaces!');
    fireEvent.press(screen.getByTestId('rooms-join'));
    expect(screen.getByTestId('rooms-join-error')).toHaveTextContent(ROOM_ERROR);
    expect(socket.sent('join_room')).toHaveLength(1);

    fireEvent.changeText(screen.getByTestId('rooms-join-input'), 'Tech');
    fireEvent(screen.getByTestId('rooms-join-input'), 'submitEditing');
    expect(socket.last('join_room').payload).toMatchObject({ room: 'tech', username: 'alice', client_key: KEY });
    await act(async () => {
      answerJoin(socket, 'tech', { messages: [roomMessage('tech', 1, 'erin', 'welcome to tech')] });
      await flushPromises();
    });
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#tech');
    expect(screen.getByText('welcome to tech')).toBeTruthy();

    fireEvent.press(screen.getByTestId('chat-rooms-toggle'));
    expect(screen.getByTestId('room-leave-tech').props.accessibilityLabel).toBe('Leave #tech');
    fireEvent.press(screen.getByTestId('room-leave-tech'));
    expect(socket.last('leave_room').payload).toEqual({ room: 'tech' });
    await answer(socket, 'leave_room', { room: 'tech' });
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#general');
    expect(screen.queryByTestId('room-tech')).toBeNull();
    expect(navigation.goBack).not.toHaveBeenCalled();
  });
});

describe('ChatScreen, protocol 2: what a person does to a message', () => {
  const mine = roomMessage('general', 1, 'alice', 'I wil be late');
  const theirs = roomMessage('general', 2, 'bob', 'No problem');

  async function openWithTwo() {
    const ctx = await openChat();
    await join(ctx.socket, { general: { messages: [mine, theirs], read: 2 } });
    return ctx;
  }

  it('offers edit and delete on own messages only', async () => {
    await openWithTwo();
    longPress(2);
    expect(screen.getByTestId('message-menu')).toBeTruthy();
    expect(screen.getByTestId('message-menu-reply')).toBeTruthy();
    expect(screen.queryByTestId('message-menu-edit')).toBeNull();
    expect(screen.queryByTestId('message-menu-delete')).toBeNull();
    fireEvent.press(screen.getByTestId('message-menu-close'));
    expect(screen.queryByTestId('message-menu')).toBeNull();

    longPress(1);
    expect(screen.getByTestId('message-menu-edit')).toBeTruthy();
    expect(screen.getByTestId('message-menu-delete')).toBeTruthy();
    expect(bubble(1).props.accessibilityHint).toBe('Long press for reactions, reply, edit or delete');
  });

  it('edits an own message in the edit bar, and both sides show it edited', async () => {
    const { socket } = await openWithTwo();
    longPress(1);
    fireEvent.press(screen.getByTestId('message-menu-edit'));
    expect(screen.getByTestId('chat-edit-bar')).toHaveTextContent(/Editing your message/);
    const input = screen.getByTestId('chat-input');
    expect(input.props.value).toBe('I wil be late');
    expect(screen.getByTestId('chat-send')).toHaveTextContent('Save');

    fireEvent.changeText(input, 'I will be late');
    expect(socket.sent('typing')).toHaveLength(0); // editing is not typing a new message
    fireEvent.press(screen.getByTestId('chat-send'));
    expect(socket.last('edit_message').payload).toEqual({ room: 'general', id: mine.id, message: 'I will be late' });
    expect(socket.sent('send_message')).toHaveLength(0);
    await answer(socket, 'edit_message', { event: editEvent(mine, 1, 'I will be late', 2) });

    expect(within(row(1)).getByText('I will be late')).toBeTruthy();
    expect(screen.getByTestId(`message-edited-${mine.id}`)).toHaveTextContent(/edited/);
    expect(screen.queryByTestId('chat-edit-bar')).toBeNull();
    expect(screen.getByTestId('chat-input').props.value).toBe('');
    expect(bubble(1).props.accessibilityLabel).toMatch(/^alice: I will be late, \d\d:\d\d, edited$/);
  });

  it('keeps the edit bar and shows the refusal when the server refuses an edit', async () => {
    const { socket } = await openWithTwo();
    fireEvent.changeText(screen.getByTestId('chat-input'), 'a draft');
    longPress(1);
    fireEvent.press(screen.getByTestId('message-menu-edit'));
    fireEvent.changeText(screen.getByTestId('chat-input'), 'too late');
    fireEvent.press(screen.getByTestId('chat-send'));
    await act(async () => {
      socket.last('edit_message').ack!({ ok: false, code: 'forbidden', error: 'The edit window has passed' });
      await flushPromises();
    });
    expect(screen.getByTestId('chat-error')).toHaveTextContent('The edit window has passed');
    expect(screen.getByTestId('chat-edit-bar')).toBeTruthy();
    fireEvent.press(screen.getByTestId('chat-edit-cancel'));
    expect(screen.queryByTestId('chat-edit-bar')).toBeNull();
    // The draft the composer held comes back.
    expect(screen.getByTestId('chat-input').props.value).toBe('a draft');
  });

  it('deletes an own message after asking once more: a tombstone stays', async () => {
    const { socket } = await openWithTwo();
    longPress(1);
    fireEvent.press(screen.getByTestId('message-menu-delete'));
    expect(screen.getByText('Delete this message for everyone?')).toBeTruthy();
    expect(socket.sent('delete_message')).toHaveLength(0);
    fireEvent.press(screen.getByTestId('message-menu-delete-confirm'));
    expect(socket.last('delete_message').payload).toEqual({ room: 'general', id: mine.id });
    await answer(socket, 'delete_message', { event: deleteEvent(mine, 1, 2) });
    expect(screen.getByTestId(`message-deleted-${mine.id}`)).toHaveTextContent('message deleted');
    expect(screen.queryByText('I wil be late')).toBeNull();
    // Nothing more to do to a tombstone.
    longPress(1);
    expect(screen.queryByTestId('message-menu')).toBeNull();
  });

  it('reacts from the menu; chips show the count, mine highlighted, tap toggles, long press shows who', async () => {
    const { socket } = await openWithTwo();
    longPress(2);
    fireEvent.press(screen.getByTestId('message-menu-react-👍'));
    expect(screen.queryByTestId('message-menu')).toBeNull();
    expect(socket.last('react').payload).toEqual({ room: 'general', id: theirs.id, emoji: '👍' });
    await answer(socket, 'react', { event: reactionEvent(theirs, 1, '👍', 'alice', { newest: 2 }) });
    await fire(socket, 'room_event', reactionEvent(theirs, 2, '👍', 'carol', { count: 2, newest: 2 }));
    await fire(socket, 'room_event', reactionEvent(theirs, 3, '🎉', 'carol', { newest: 2 }));

    const thumbs = screen.getByTestId(`reaction-${theirs.id}-👍`);
    expect(thumbs).toHaveTextContent('👍 2');
    expect(thumbs).toBeSelected();
    expect(thumbs.props.accessibilityLabel).toBe('👍: 2 reactions, yours included');
    expect(screen.getByTestId(`reaction-${theirs.id}-🎉`)).not.toBeSelected();

    fireEvent(thumbs, 'longPress');
    expect(screen.getByTestId('reaction-users')).toBeTruthy();
    expect(screen.getByTestId('reaction-user-alice')).toBeTruthy();
    expect(screen.getByTestId('reaction-user-carol')).toBeTruthy();
    fireEvent.press(screen.getByTestId('reaction-users-close'));

    fireEvent.press(screen.getByTestId(`reaction-${theirs.id}-👍`));
    expect(socket.last('react').payload).toEqual({ room: 'general', id: theirs.id, emoji: '👍' });
    await answer(socket, 'react', { event: reactionEvent(theirs, 4, '👍', 'alice', { added: false, count: 1, newest: 2 }) });
    expect(screen.getByTestId(`reaction-${theirs.id}-👍`)).toHaveTextContent('👍 1');
    expect(screen.getByTestId(`reaction-${theirs.id}-👍`)).not.toBeSelected();
  });

  it('replies with a quote bar, and the reply shows a quote of the original', async () => {
    const { socket } = await openWithTwo();
    longPress(2);
    fireEvent.press(screen.getByTestId('message-menu-reply'));
    expect(screen.getByTestId('chat-reply-bar')).toHaveTextContent(/Replying to bob/);
    expect(screen.getByTestId('chat-reply-bar')).toHaveTextContent(/No problem/);

    fireEvent.changeText(screen.getByTestId('chat-input'), 'Thanks!');
    fireEvent.press(screen.getByTestId('chat-send'));
    const sent = socket.last('send_message');
    expect(sent.payload).toEqual({ room: 'general', message: 'Thanks!', client_id: 'cid-1', reply_to: theirs.id });
    expect(screen.queryByTestId('chat-reply-bar')).toBeNull();
    expect(within(screen.getByTestId('message-pending-cid-1')).getByText('No problem')).toBeTruthy();

    await answer(socket, 'send_message', {
      message: roomMessage('general', 3, 'alice', 'Thanks!', { client_id: 'cid-1', reply_to: theirs.id }),
      duplicate: false,
    });
    const quote = screen.getByTestId('reply-quote-000000000003');
    expect(quote).toHaveTextContent(/bob/);
    expect(quote).toHaveTextContent(/No problem/);
    expect(quote.props.accessibilityLabel).toBe('Show the message this replies to');

    // The original deleted: the quote says so.
    await fire(socket, 'room_event', deleteEvent(theirs, 1, 3));
    expect(screen.getByTestId('reply-quote-000000000003')).toHaveTextContent(/deleted/);
  });

  it('cancels a reply from the quote bar', async () => {
    const { socket } = await openWithTwo();
    longPress(2);
    fireEvent.press(screen.getByTestId('message-menu-reply'));
    fireEvent.press(screen.getByTestId('chat-reply-cancel'));
    expect(screen.queryByTestId('chat-reply-bar')).toBeNull();
    fireEvent.changeText(screen.getByTestId('chat-input'), 'Just a message');
    fireEvent.press(screen.getByTestId('chat-send'));
    expect(socket.last('send_message').payload.reply_to).toBeUndefined();
  });

  it('speaks French in the menu and the bars', async () => {
    setLanguage('fr');
    try {
      await openWithTwo();
      longPress(1);
      expect(screen.getByTestId('message-menu-reply')).toHaveTextContent('Répondre');
      expect(screen.getByTestId('message-menu-edit')).toHaveTextContent('Modifier');
      expect(screen.getByTestId('message-menu-delete')).toHaveTextContent('Supprimer');
      fireEvent.press(screen.getByTestId('message-menu-reply'));
      expect(screen.getByTestId('chat-reply-bar')).toHaveTextContent(/Réponse à alice/);
    } finally {
      setLanguage('en');
    }
  });
});

describe('ChatScreen, protocol 2: mentions, the divider, replies far back', () => {
  it('sets apart the @names the server listed, and the messages that mention me', async () => {
    const { socket } = await openChat();
    await join(socket, {
      general: {
        messages: [
          roomMessage('general', 1, 'bob', 'hi @alice and @carol, not @nobody', { mentions: ['alice', 'carol'] }),
          roomMessage('general', 2, 'bob', 'just @carol', { mentions: ['carol'] }),
          roomMessage('general', 3, 'bob', '<b>@alice</b> stays text'),
        ],
        read: 3,
      },
    });
    expect(within(row(1)).getByTestId('mention-alice')).toHaveTextContent('@alice');
    expect(within(row(1)).getByTestId('mention-carol')).toHaveTextContent('@carol');
    expect(within(row(1)).queryByTestId('mention-nobody')).toBeNull();
    expect(within(row(1)).getByText(/not @nobody/)).toBeTruthy();
    expect(bubble(1).props.accessibilityLabel).toMatch(/, mentions you$/);
    expect(bubble(1)).toHaveStyle({ borderLeftColor: lightColors.mention });

    expect(within(row(2)).getByTestId('mention-carol')).toBeTruthy();
    expect(bubble(2).props.accessibilityLabel).not.toMatch(/mentions you/);
    // No mentions listed: the text is shown as it is, markup included.
    expect(within(row(3)).getByText('<b>@alice</b> stays text')).toBeTruthy();
    expect(within(row(3)).queryByTestId('mention-alice')).toBeNull();
  });

  it('puts a "new messages" divider above the first message unread when the room opened', async () => {
    const { socket } = await openChat();
    await join(socket, {
      general: {
        messages: [roomMessage('general', 1, 'bob', 'seen'), roomMessage('general', 2, 'bob', 'new one'), roomMessage('general', 3, 'bob', 'new two')],
        read: 1,
        unread: 2,
      },
    });
    const order = screen
      .getAllByTestId(/^(chat-new-messages|message-0)/)
      .map((node) => (node.props.testID as string).replace(/^message-0+/, 'm'));
    expect(order).toEqual(['m1', 'chat-new-messages', 'm2', 'm3']);
    expect(screen.getByTestId('chat-new-messages')).toHaveTextContent('New messages');
    // The room shown is read (the list is at its newest), and the divider stays.
    await act(flushPromises);
    expect(socket.last('mark_read').payload).toEqual({ room: 'general', id: '000000000003' });
    await fire(socket, 'new_message', roomMessage('general', 4, 'bob', 'while reading'));
    expect(screen.getAllByTestId('chat-new-messages')).toHaveLength(1);
  });

  it('scrolls to the original of a reply on a tap of its quote, loading history back to it', async () => {
    const { socket } = await openChat();
    // A full room_joined (HISTORY_LIMIT messages, 6-105): older ones may lie before.
    const history = roomMessages('general', 6, 105);
    history[0] = roomMessage('general', 6, 'carol', 'Agreed', {
      reply_to: '000000000005',
      reply_preview: { id: '000000000005', username: 'bob', excerpt: 'The plan is simple', deleted: false },
    });
    await join(socket, { general: { messages: history, read: 105 } });
    expect(screen.getByTestId('reply-quote-000000000006')).toHaveTextContent(/The plan is simple/);
    expect(screen.queryByTestId('message-000000000005')).toBeNull();

    fireEvent.press(screen.getByTestId('reply-quote-000000000006'));
    await act(flushPromises);
    const page = socket.last('get_history');
    expect(page.payload).toEqual({ room: 'general', before_id: '000000000006', limit: 100 });
    await answer(socket, 'get_history', {
      room: 'general',
      messages: [...roomMessages('general', 1, 4), roomMessage('general', 5, 'bob', 'The plan is simple')],
      has_more: false,
    });
    const original = await screen.findByTestId('message-000000000005');
    expect(within(original).getByText('The plan is simple')).toBeTruthy();
    expect(original).toHaveStyle({ backgroundColor: lightColors.highlight });
  });

  it('highlights an original already in the list without asking the server', async () => {
    const { socket } = await openChat();
    await join(socket, {
      general: {
        messages: [
          roomMessage('general', 1, 'bob', 'Where?'),
          roomMessage('general', 2, 'carol', 'Here', { reply_to: '000000000001' }),
        ],
        read: 2,
      },
    });
    fireEvent.press(screen.getByTestId('reply-quote-000000000002'));
    await act(flushPromises);
    expect(socket.sent('get_history')).toHaveLength(0);
    expect(row(1)).toHaveStyle({ backgroundColor: lightColors.highlight });
  });

  it('says so when the original of a reply is no longer kept', async () => {
    const { socket } = await openChat();
    const history = roomMessages('general', 6, 105);
    history[0] = roomMessage('general', 6, 'carol', 'Agreed', {
      reply_to: '000000000005',
      reply_preview: { id: '000000000005', username: '', excerpt: '', deleted: true },
    });
    await join(socket, { general: { messages: history, read: 105 } });
    expect(screen.getByTestId('reply-quote-000000000006')).toHaveTextContent(/deleted/);
    fireEvent.press(screen.getByTestId('reply-quote-000000000006'));
    await act(flushPromises);
    await answer(socket, 'get_history', { room: 'general', messages: [], has_more: false });
    expect(await screen.findByTestId('chat-error')).toHaveTextContent('The original message is no longer kept.');
  });
});
