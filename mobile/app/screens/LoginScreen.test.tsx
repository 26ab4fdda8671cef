import AsyncStorage from '@react-native-async-storage/async-storage';
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import type { LoginScreenProps } from '../navigation/types';
import { LoginScreen } from './LoginScreen';

const ROOMS = {
  rooms: [
    { room: 'general', users: 3, messages: 42, last_activity: '2026-11-25T14:03:07.412Z' },
    { room: 'lobby', users: 1, messages: 2, last_activity: '2026-11-25T14:00:00.000Z' },
  ],
  count: 2,
};

const fetchMock = jest.fn();
const navigate = jest.fn();

function renderLogin() {
  const props = {
    navigation: { navigate },
    route: { key: 'Login-1', name: 'Login' },
  } as unknown as LoginScreenProps;
  return render(<LoginScreen {...props} />);
}

beforeEach(async () => {
  await AsyncStorage.clear();
  fetchMock.mockReset();
  fetchMock.mockResolvedValue({ ok: true, status: 200, json: async () => ROOMS });
  global.fetch = fetchMock as unknown as typeof fetch;
});

describe('LoginScreen', () => {
  it('shows the form, the suggested rooms and the active rooms with user counts', async () => {
    renderLogin();
    expect(screen.getByTestId('login-username')).toBeTruthy();
    expect(screen.getByTestId('login-room')).toBeTruthy();
    expect(screen.getByTestId('login-server-url').props.value).toBe('http://localhost:5000');
    for (const name of ['general', 'random', 'tech']) {
      expect(screen.getByTestId(`suggested-room-${name}`)).toHaveTextContent(`#${name}`);
    }
    await waitFor(() => expect(screen.getByTestId('active-room-general')).toBeTruthy());
    expect(fetchMock).toHaveBeenCalledWith('http://localhost:5000/api/rooms', expect.anything());
    expect(screen.getByTestId('active-room-general')).toHaveTextContent('#general3 users');
    expect(screen.getByTestId('active-room-lobby')).toHaveTextContent('#lobby1 user');
    expect(screen.queryByTestId('login-error')).toBeNull();
  });

  it('says when the active rooms cannot be loaded', async () => {
    fetchMock.mockRejectedValue(new Error('offline'));
    renderLogin();
    expect(await screen.findByText('Could not load the active rooms')).toBeTruthy();
  });

  it('shows the server message for a bad username', async () => {
    renderLogin();
    fireEvent.changeText(screen.getByTestId('login-room'), 'general');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(screen.getByTestId('login-error')).toHaveTextContent(
      'Username must be 1-32 characters: letters, digits, spaces, - _ .',
    );
    fireEvent.changeText(screen.getByTestId('login-username'), 'bob!');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(screen.getByTestId('login-error')).toHaveTextContent(
      'Username must be 1-32 characters: letters, digits, spaces, - _ .',
    );
    expect(navigate).not.toHaveBeenCalled();
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
  });

  it('shows the server message for a bad room id', async () => {
    renderLogin();
    fireEvent.changeText(screen.getByTestId('login-username'), 'alice');
    fireEvent.changeText(screen.getByTestId('login-room'), 'my room');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(screen.getByTestId('login-error')).toHaveTextContent(
      'Room id must be 1-32 characters: a-z, 0-9, - _',
    );
    expect(navigate).not.toHaveBeenCalled();
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
  });

  it('refuses a server address that is not http(s)', async () => {
    renderLogin();
    fireEvent.changeText(screen.getByTestId('login-username'), 'alice');
    fireEvent.changeText(screen.getByTestId('login-room'), 'general');
    fireEvent.changeText(screen.getByTestId('login-server-url'), 'localhost:5000');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(screen.getByTestId('login-error')).toHaveTextContent(
      'Server URL must start with http:// or https://',
    );
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
  });

  it('fills the room from a suggested or an active room', async () => {
    renderLogin();
    fireEvent.press(screen.getByTestId('suggested-room-tech'));
    expect(screen.getByTestId('login-room').props.value).toBe('tech');
    fireEvent.press(await screen.findByTestId('active-room-lobby'));
    expect(screen.getByTestId('login-room').props.value).toBe('lobby');
  });

  it('goes to the chat with the normalised name, room and server, and remembers them', async () => {
    renderLogin();
    fireEvent.changeText(screen.getByTestId('login-username'), '  Alice ');
    fireEvent.changeText(screen.getByTestId('login-room'), ' General ');
    fireEvent.changeText(screen.getByTestId('login-server-url'), 'http://192.168.1.20:5000/');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(navigate).toHaveBeenCalledWith('Chat', {
      username: 'Alice',
      room: 'general',
      serverUrl: 'http://192.168.1.20:5000',
    });
    await waitFor(async () =>
      expect(await AsyncStorage.getItem(STORAGE_KEYS.serverUrl)).toBe('http://192.168.1.20:5000'),
    );
    expect(await AsyncStorage.getItem(STORAGE_KEYS.username)).toBe('Alice');
  });

  it('starts from the server address and name remembered on the device', async () => {
    await AsyncStorage.setItem(STORAGE_KEYS.serverUrl, 'http://10.0.0.7:5000');
    await AsyncStorage.setItem(STORAGE_KEYS.username, 'zoë');
    renderLogin();
    await waitFor(() =>
      expect(screen.getByTestId('login-server-url').props.value).toBe('http://10.0.0.7:5000'),
    );
    expect(screen.getByTestId('login-username').props.value).toBe('zoë');
    await waitFor(() =>
      expect(fetchMock).toHaveBeenCalledWith('http://10.0.0.7:5000/api/rooms', expect.anything()),
    );
  });
});
