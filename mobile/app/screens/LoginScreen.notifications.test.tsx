import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';
import * as Notifications from 'expo-notifications';

import { refreshTokenKey, STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import { AppNavigator } from '../navigation/AppNavigator';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { clearLaunchRoom, setNotificationsFetch } from '../services/notifications/push';
import { conversationJson, fakeAccountClients, fakeApi, secureStoreMap, tokens } from '../../test/accounts';
import { flushPromises } from '../../test/FakeSocket';
import { ackMarkRead } from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';

const SERVER = 'http://chat.test:5000';
const KEY = 'device_key_0123456789abcdefghij';
const DM_BOB = `dm:${'bob'.padEnd(20, '0')}`;

/** A tap on the notification `identifier` about `room`, as expo-notifications hands it over. */
function tapOn(identifier: string, room: string): Notifications.NotificationResponse {
  return {
    actionIdentifier: 'expo.modules.notifications.actions.DEFAULT',
    notification: {
      date: 0,
      request: { identifier, trigger: null, content: { title: 'alice', body: 'hi', data: { room, message_id: '000000000001' } } },
    },
  } as unknown as Notifications.NotificationResponse;
}

/**
 * The app was started by a tap on `response`: the native side keeps it as the last response
 * until cleared (`keep`: a platform that hands it over again, as the listener may).
 */
function launchedBy(response: Notifications.NotificationResponse, { keep = false } = {}) {
  let last: Notifications.NotificationResponse | null = response;
  jest.mocked(Notifications.getLastNotificationResponse).mockImplementation(() => last);
  jest.mocked(Notifications.clearLastNotificationResponse).mockImplementation(() => {
    if (!keep) last = null;
  });
}

/** The app from its start on this device; `session`: alice's refresh token is stored. */
async function startApp({ session }: { session: boolean }) {
  const api = fakeApi({
    'POST /api/v1/auth/refresh': [200, tokens('alice', 2)],
    'POST /api/v1/auth/login': [200, tokens('alice')],
    'GET /api/v1/conversations': [200, { conversations: [conversationJson(DM_BOB, 'bob', 'Bob Builder')] }],
    'POST /api/v1/push/devices': [201, { id: 5, kind: 'expo' }],
  });
  setNotificationsFetch(api.fetch as unknown as typeof fetch);
  await AsyncStorage.setItem(STORAGE_KEYS.serverUrl, SERVER);
  if (session) secureStoreMap().set(refreshTokenKey(SERVER), 'refresh-alice-1');
  const accounts = fakeAccountClients(api);
  const services = fakeChatServices({ protocol: 2 });
  renderWithServices(
    <AccountClientFactoryContext.Provider value={accounts.factory}>
      <AppNavigator />
    </AccountClientFactoryContext.Provider>,
    services.factory,
  );
  return { api, services };
}

/** The chat's connection is up: the rooms it asks to join. */
async function joinedRooms(services: ReturnType<typeof fakeChatServices>) {
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  const socket = services.sockets[0];
  ackMarkRead(socket);
  await act(async () => {
    if (!socket.connected) socket.serverConnect();
    await flushPromises();
  });
  return socket.sent('join_room').map((e) => e.payload.room);
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
});

afterEach(async () => {
  jest.mocked(Notifications.getLastNotificationResponse).mockImplementation(() => null);
  clearLaunchRoom();
  setNotificationsFetch(undefined);
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

afterAll(() => setLanguage('en'));

describe('a notification tapped while the app was not running', () => {
  it('opens its room once the stored session is restored', async () => {
    launchedBy(tapOn('launch-room', 'tech'));
    const { api, services } = await startApp({ session: true });

    await waitFor(() => expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#tech'));
    expect(api.calls('POST', '/api/v1/auth/refresh')).toHaveLength(1);
    // First the tapped room (the listed conversations are joined as always).
    expect((await joinedRooms(services))[0]).toBe('tech');
    // Read once: a reload of the JS in the same process does not open it again.
    expect(Notifications.clearLastNotificationResponse).toHaveBeenCalled();
  });

  it('opens a private conversation the way a tap while running does', async () => {
    launchedBy(tapOn('launch-dm', DM_BOB));
    const { services } = await startApp({ session: true });

    await waitFor(() => expect(screen.getByTestId('chat-header-room')).toHaveTextContent('Bob Builder'));
    expect(await joinedRooms(services)).toEqual(expect.arrayContaining(['general', DM_BOB]));
    expect(services.services[0].getState().room).toBe(DM_BOB);
  });

  it('waits for the sign-in without a session, then opens its room rather than the form’s', async () => {
    launchedBy(tapOn('launch-signin', 'tech'));
    const { api, services } = await startApp({ session: false });

    expect(await screen.findByTestId('login-launch-room')).toHaveTextContent('#tech is waiting: sign in to open it.');
    fireEvent.changeText(screen.getByTestId('login-room'), 'random');
    fireEvent.press(screen.getByTestId('login-mode-login'));
    // The line stays on the account form.
    expect(screen.getByTestId('login-launch-room')).toHaveTextContent(/#tech/);
    fireEvent.changeText(screen.getByTestId('account-username'), 'alice');
    fireEvent.changeText(screen.getByTestId('account-password'), 'correct horse battery');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });

    await waitFor(() => expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#tech'));
    expect(api.calls('POST', '/api/v1/auth/login')).toHaveLength(1);
    const rooms = await joinedRooms(services);
    expect(rooms[0]).toBe('tech');
    expect(rooms).not.toContain('random');
  });

  it('says so in French for a conversation', async () => {
    setLanguage('fr');
    launchedBy(tapOn('launch-fr', DM_BOB));
    await startApp({ session: false });
    expect(await screen.findByTestId('login-launch-room')).toHaveTextContent(
      'Une conversation privée vous attend : connectez-vous pour l’ouvrir.',
    );
  });

  it('is handled once, and a tap while running still opens its room', async () => {
    // This platform keeps the launching response and hands it to the listener as well.
    const launch = tapOn('launch-once', 'tech');
    launchedBy(launch, { keep: true });
    const { services } = await startApp({ session: true });
    await waitFor(() => expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#tech'));
    await joinedRooms(services);
    const listener = jest.mocked(Notifications.addNotificationResponseReceivedListener).mock.calls.at(-1)![0];

    // A tap while running.
    act(() => listener(tapOn('running-1', 'music')));
    await waitFor(() => expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#music'));
    // The launching tap again: already opened, #music stays.
    act(() => listener(launch));
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#music');
    expect(services.services[0].getState().room).toBe('music');

    // Back on the Login screen: nothing waits, nothing opens by itself.
    fireEvent.press(screen.getByTestId('chat-leave'));
    expect(await screen.findByTestId('login-submit')).toBeTruthy();
    await act(flushPromises);
    expect(screen.queryByTestId('login-launch-room')).toBeNull();
    expect(screen.queryByTestId('chat-header-room')).toBeNull();
    expect(services.sockets).toHaveLength(1);
  });
});
