import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';

import { AppNavigator } from '../navigation/AppNavigator';
import type { ChatScreenProps } from '../navigation/types';
import { STORAGE_KEYS } from '../config/storage';
import { FakeSocket, flushPromises, makeMessage } from '../../test/FakeSocket';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { setLanguage } from '../i18n';
import { ChatScreen } from './ChatScreen';

const ok = <T extends object>(body: T) => ({ ok: true as const, ...body });
const KEY = 'device_key_0123456789abcdefghij';

const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };

async function openChat() {
  const services = fakeChatServices();
  const props = {
    navigation,
    route: {
      key: 'Chat-1',
      name: 'Chat',
      params: { username: 'alice', room: 'general', serverUrl: 'http://chat.test:5000' },
    },
  } as unknown as ChatScreenProps;
  renderWithServices(<ChatScreen {...props} />, services.factory);
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  return { ...services, socket: services.sockets[0] };
}

/** The server accepts the join and sends this history and presence. */
async function join(socket: FakeSocket, history = [makeMessage(1, 'bob', 'hello alice')]) {
  await act(async () => {
    socket.serverConnect();
    socket.fire('room_joined', { room: 'general', username: 'alice', messages: history });
    socket.last('join_room').ack!(ok({ room: 'general', username: 'alice' }));
    socket.fire('room_users', {
      room: 'general',
      count: 2,
      users: [
        { username: 'alice', color: '#FD9644' },
        { username: 'bob', color: '#F7B731' },
      ],
    });
    await flushPromises();
  });
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  global.fetch = jest.fn(async () => ({
    ok: true,
    status: 200,
    json: async () => ({ rooms: [], count: 0 }),
  })) as unknown as typeof fetch;
});

// FlatList measures and re-renders on a timer; let it settle inside act before teardown.
afterEach(async () => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
});

describe('ChatScreen', () => {
  it('joins with the device key and shows the room, the connection state and the history', async () => {
    const { socket } = await openChat();
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#general');
    expect(screen.getByTestId('chat-connection-state')).toHaveTextContent('Connecting…');
    expect(socket.connectCalls).toBe(1);

    await join(socket);
    expect(socket.sent('join_room')[0].payload).toEqual({
      username: 'alice',
      room: 'general',
      client_key: KEY,
    });
    expect(screen.getByTestId('chat-connection-state')).toHaveTextContent('Connected');
    expect(screen.getByTestId('chat-user-count')).toHaveTextContent('2 online');
    const first = screen.getByTestId('message-000000000001');
    expect(within(first).getByText('hello alice')).toBeTruthy();
    expect(within(first).getByText('bob')).toBeTruthy();
    // Local time of the message, HH:MM.
    const at = new Date(makeMessage(1, 'bob', '').timestamp);
    const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
    expect(within(first).getByText(hhmm)).toBeTruthy();
    // The avatar: bob's initial.
    expect(within(first).getByText('B')).toBeTruthy();
  });

  it('shows a sent message as pending, then as stored once acknowledged', async () => {
    const { socket } = await openChat();
    await join(socket);

    fireEvent.changeText(screen.getByTestId('chat-input'), 'hi bob');
    expect(socket.last('typing').payload).toEqual({ is_typing: true });
    fireEvent.press(screen.getByTestId('chat-send'));

    expect(screen.getByTestId('message-pending-cid-1')).toHaveTextContent(/hi bob/);
    expect(screen.getByTestId('chat-input').props.value).toBe('');
    const sent = socket.last('send_message');
    expect(sent.payload).toEqual({ message: 'hi bob', client_id: 'cid-1' });
    expect(socket.last('typing').payload).toEqual({ is_typing: false });

    const stored = makeMessage(2, 'alice', 'hi bob', { client_id: 'cid-1' });
    await act(async () => {
      sent.ack!(ok({ message: stored, duplicate: false }));
      socket.fire('new_message', stored);
      await flushPromises();
    });
    expect(screen.queryByTestId('message-pending-cid-1')).toBeNull();
    expect(screen.getAllByTestId('message-000000000002')).toHaveLength(1);
  });

  it('refuses an empty message with the protocol message', async () => {
    const { socket } = await openChat();
    await join(socket);
    fireEvent.changeText(screen.getByTestId('chat-input'), '   ');
    fireEvent(screen.getByTestId('chat-input'), 'submitEditing');
    expect(screen.getByTestId('chat-input-error')).toHaveTextContent(
      'Message must be 1-2000 characters',
    );
    expect(socket.sent('send_message')).toHaveLength(0);
  });

  it('shows who is typing, join and leave notifications', async () => {
    const { socket } = await openChat();
    await join(socket);
    expect(screen.queryByTestId('chat-typing')).toBeNull();

    act(() => socket.fire('user_typing', { username: 'bob', is_typing: true }));
    expect(screen.getByTestId('chat-typing')).toHaveTextContent('bob is typing…');
    act(() => socket.fire('user_joined', { username: 'carol', message: 'carol joined the room' }));
    act(() => socket.fire('user_typing', { username: 'carol', is_typing: true }));
    expect(screen.getByTestId('chat-typing')).toHaveTextContent('bob and carol are typing…');
    act(() => socket.fire('user_typing', { username: 'bob', is_typing: false }));
    act(() => socket.fire('user_left', { username: 'carol', message: 'carol left the room' }));
    expect(screen.queryByTestId('chat-typing')).toBeNull();

    expect(screen.getByText(/carol joined the room/)).toBeTruthy();
    expect(screen.getByText(/carol left the room/)).toBeTruthy();
  });

  it('toggles the list of online users', async () => {
    const { socket } = await openChat();
    await join(socket);
    expect(screen.queryByTestId('chat-user-bob')).toBeNull();
    fireEvent.press(screen.getByTestId('chat-users-toggle'));
    expect(screen.getByTestId('chat-user-alice')).toHaveTextContent(/alice \(you\)/);
    expect(screen.getByTestId('chat-user-bob')).toBeTruthy();
    fireEvent.press(screen.getByTestId('chat-users-toggle'));
    expect(screen.queryByTestId('chat-user-bob')).toBeNull();
  });

  it('shows the connection being lost and regained', async () => {
    const { socket } = await openChat();
    await join(socket);
    act(() => socket.drop());
    expect(screen.getByTestId('chat-connection-state')).toHaveTextContent('Reconnecting…');
    await join(socket);
    expect(screen.getByTestId('chat-connection-state')).toHaveTextContent('Connected');
    expect(socket.last('get_history').payload.since_id).toBe('000000000001');
  });

  it("explains a refused name in the server's words", async () => {
    const { socket } = await openChat();
    await act(async () => {
      socket.serverConnect();
      socket.last('join_room').ack!({
        ok: false,
        code: 'name_taken',
        error: 'The name alice is already taken in this room',
      });
      await flushPromises();
    });
    expect(screen.getByTestId('chat-error')).toHaveTextContent(
      'The name alice is already taken in this room',
    );
    expect(screen.getByTestId('chat-connection-state')).toHaveTextContent('Offline');
  });

  it('translates a refused name in French', async () => {
    setLanguage('fr');
    try {
      const { socket } = await openChat();
      await act(async () => {
        socket.serverConnect();
        socket.last('join_room').ack!({
          ok: false,
          code: 'name_taken',
          error: 'The name alice is already taken in this room',
        });
        await flushPromises();
      });
      expect(screen.getByTestId('chat-error')).toHaveTextContent(
        'Ce nom est déjà utilisé dans cette room. Choisissez-en un autre.',
      );
    } finally {
      setLanguage('en');
    }
  });

  it("keeps Send off for text the server would trim to nothing (Python's blanks)", async () => {
    const { socket } = await openChat();
    await join(socket);
    const send = screen.getByTestId('chat-send');
    fireEvent.changeText(screen.getByTestId('chat-input'), '\u001c\u0085 \u3000');
    expect(send.props.accessibilityState).toMatchObject({ disabled: true });
    fireEvent(screen.getByTestId('chat-input'), 'submitEditing');
    expect(screen.getByTestId('chat-input-error')).toHaveTextContent(
      'Message must be 1-2000 characters',
    );
    // U+FEFF is not blank for the server: it is a message.
    fireEvent.changeText(screen.getByTestId('chat-input'), '\ufeff');
    expect(screen.getByTestId('chat-send').props.accessibilityState).toMatchObject({
      disabled: false,
    });
    expect(socket.sent('send_message')).toHaveLength(0);
  });

  it('lists people in the order of the language and finds "me" in any spelling', async () => {
    const { socket } = await openChat();
    await join(socket);
    act(() =>
      socket.fire('room_users', {
        room: 'general',
        count: 4,
        // The server's order: case-folded code points, so "Élodie" comes last.
        users: ['ALICE', 'bob', 'Zoë', 'Élodie'].map((username) => ({ username, color: '#FF6B6B' })),
      }),
    );
    fireEvent.press(screen.getByTestId('chat-users-toggle'));
    const names = screen
      .getAllByTestId(/^chat-user-/)
      .filter((node) => node.props.testID !== 'chat-user-count')
      .map((node) => node.props.testID);
    expect(names).toEqual(['chat-user-ALICE', 'chat-user-bob', 'chat-user-Élodie', 'chat-user-Zoë']);
    expect(screen.getByTestId('chat-user-ALICE')).toHaveTextContent(/ALICE \(you\)/);
    expect(screen.getByTestId('chat-user-bob')).not.toHaveTextContent(/you/);
  });

  it('leaves the room and goes back', async () => {
    const { socket } = await openChat();
    await join(socket);
    fireEvent.press(screen.getByTestId('chat-leave'));
    expect(socket.sent('leave_room')).toHaveLength(1);
    expect(navigation.goBack).toHaveBeenCalled();
    // The connection closes once the server answered the leave.
    await act(async () => socket.last('leave_room').ack!({ ok: true, room: 'general' }));
    expect(socket.disconnectCalls).toBe(1);
  });
});

describe('navigation', () => {
  it('goes from the login form to the chat of the chosen room and back', async () => {
    const services = fakeChatServices();
    renderWithServices(<AppNavigator />, services.factory);
    fireEvent.changeText(await screen.findByTestId('login-username'), 'alice');
    fireEvent.press(screen.getByTestId('suggested-room-random'));
    fireEvent.press(screen.getByTestId('login-submit'));

    expect(await screen.findByTestId('chat-header-room')).toHaveTextContent('#random');
    await waitFor(() => expect(services.sockets).toHaveLength(1));
    const socket = services.sockets[0];
    act(() => socket.serverConnect());
    expect(socket.last('join_room').payload).toMatchObject({ username: 'alice', room: 'random' });

    fireEvent.press(screen.getByTestId('chat-leave'));
    expect(await screen.findByTestId('login-submit')).toBeTruthy();
    expect(socket.disconnectCalls).toBe(1);
  });
});
