import AsyncStorage from '@react-native-async-storage/async-storage';
import type { AccountClient } from '@talkrooms/client';
import { act, fireEvent, render, renderHook, screen, waitFor } from '@testing-library/react-native';
import * as Notifications from 'expo-notifications';
import { AppState, Platform, type AppStateStatus } from 'react-native';

import { NotifySettingsSheet } from '../../components/NotifySettingsSheet';
import { lightColors } from '../../theme/colors';
import type { ChatService } from '../socket/ChatService';
import {
  clearLaunchRoom,
  deviceKey,
  notificationBehavior,
  notificationLaunchRoom,
  registerPushDevice,
  setBadge,
  setNotificationsFetch,
  setShownRoom,
  unregisterPushDevice,
  type NotifySettingsTools,
  type RoomNotifySetting,
} from './push';
import { useNotifications } from './useNotifications';

const SERVER = 'http://chat.test';
const accounts = { accessToken: async () => 'access-alice' } as unknown as AccountClient;

type Call = { method: string; url: string; body: unknown; auth: string | undefined };

/** A fetch answering every request with `status` and `answer`, keeping what it was asked. */
function fakeFetch(status: number, answer: unknown) {
  const calls: Call[] = [];
  const fetcher = jest.fn(async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ method: String(init.method), url, body: init.body ? JSON.parse(String(init.body)) : undefined, auth: headers.Authorization });
    return { ok: status < 400, status, json: async () => answer } as Response;
  });
  setNotificationsFetch(fetcher as unknown as typeof fetch);
  return calls;
}

/** Each notification has its own identifier (a tap is acted on once per identifier). */
let notificationSeq = 0;

function notificationFor(room: string): Notifications.Notification {
  return { date: 0, request: { identifier: `n${++notificationSeq}`, trigger: null, content: { title: 't', body: 'b', data: { room, message_id: '000000000001' } } } } as unknown as Notifications.Notification;
}

afterEach(async () => {
  setNotificationsFetch(undefined);
  await unregisterPushDevice('none', accounts);
  await AsyncStorage.clear();
});

describe('the push device', () => {
  it('registers the Expo push token after sign-in and deletes it at log-out', async () => {
    const calls = fakeFetch(201, { id: 7, kind: 'expo' });
    await expect(registerPushDevice(SERVER, accounts)).resolves.toBe(7);
    expect(calls).toEqual([
      {
        method: 'POST',
        url: `${SERVER}/api/v1/push/devices`,
        body: { kind: 'expo', token: 'ExponentPushToken[test-device]', label: 'TalkRooms ios' },
        auth: 'Bearer access-alice',
      },
    ]);
    expect(await AsyncStorage.getItem(deviceKey(SERVER))).toBe('7');

    await unregisterPushDevice(SERVER, accounts);
    expect(calls[1]).toEqual({ method: 'DELETE', url: `${SERVER}/api/v1/push/devices/7`, body: undefined, auth: 'Bearer access-alice' });
    expect(await AsyncStorage.getItem(deviceKey(SERVER))).toBeNull();
  });

  it('registers nothing when the person refuses notifications', async () => {
    const calls = fakeFetch(201, { id: 1 });
    const refused = { granted: false, status: 'denied', canAskAgain: false, expires: 'never' };
    jest.mocked(Notifications.getPermissionsAsync).mockResolvedValueOnce(refused as never);
    await expect(registerPushDevice(`${SERVER}/refused`, accounts)).resolves.toBeNull();
    expect(calls).toEqual([]);
  });

  it('degrades quietly where there is no push token (a simulator)', async () => {
    const calls = fakeFetch(201, { id: 1 });
    jest.mocked(Notifications.getExpoPushTokenAsync).mockRejectedValueOnce(new Error('Must use a physical device'));
    await expect(registerPushDevice(`${SERVER}/simulator`, accounts)).resolves.toBeNull();
    expect(calls).toEqual([]);
  });

  it('logs out without a request when no device was registered', async () => {
    const calls = fakeFetch(200, {});
    await unregisterPushDevice(`${SERVER}/never`, accounts);
    expect(calls).toEqual([]);
  });
});

describe('in the foreground', () => {
  afterEach(() => setShownRoom(null));

  it('keeps quiet about the room on screen and shows the others', () => {
    setShownRoom('tech');
    expect(notificationBehavior(notificationFor('tech'))).toMatchObject({ shouldShowBanner: false, shouldShowList: false, shouldPlaySound: false });
    expect(notificationBehavior(notificationFor('general'))).toMatchObject({ shouldShowBanner: true, shouldShowList: true });
    setShownRoom(null);
    expect(notificationBehavior(notificationFor('tech'))).toMatchObject({ shouldShowBanner: true });
  });

  it('puts the unread total on the badge', () => {
    setBadge(5);
    expect(Notifications.setBadgeCountAsync).toHaveBeenCalledWith(5);
  });
});

describe('the tap that launched the app', () => {
  afterEach(() => {
    jest.mocked(Notifications.getLastNotificationResponse).mockImplementation(() => null);
    clearLaunchRoom();
  });

  it('keeps its room until opened, reading each response once', () => {
    const response = { notification: notificationFor('tech'), actionIdentifier: 'default' } as never;
    jest.mocked(Notifications.getLastNotificationResponse).mockReturnValue(response);
    expect(notificationLaunchRoom()).toBe('tech');
    expect(notificationLaunchRoom()).toBe('tech');
    clearLaunchRoom();
    // The same response (its identifier) once more: already opened.
    expect(notificationLaunchRoom()).toBeNull();
  });

  it('is nothing on the web export', () => {
    const os = Platform.OS;
    Object.defineProperty(Platform, 'OS', { value: 'web', configurable: true });
    try {
      const response = { notification: notificationFor('tech'), actionIdentifier: 'default' } as never;
      jest.mocked(Notifications.getLastNotificationResponse).mockReturnValue(response);
      expect(notificationLaunchRoom()).toBeNull();
      expect(Notifications.getLastNotificationResponse).not.toHaveBeenCalled();
    } finally {
      Object.defineProperty(Platform, 'OS', { value: os, configurable: true });
    }
  });
});

describe('useNotifications', () => {
  function fakeService() {
    return { setFocus: jest.fn(), switchRoom: jest.fn(() => true), joinRoom: jest.fn(() => ({ ok: true, room: 'x' })) };
  }

  it('reports focus while the app is in front, and none in the background or after leaving', () => {
    let onChange: ((state: AppStateStatus) => void) | undefined;
    const spy = jest.spyOn(AppState, 'addEventListener').mockImplementation((_type, listener) => {
      onChange = listener as (state: AppStateStatus) => void;
      return { remove: jest.fn() } as never;
    });
    const service = fakeService();
    const props = { service: service as unknown as ChatService, serverUrl: SERVER, accounts: null, shownRoom: 'tech', totalUnread: 0, joined: ['tech'] };
    const { rerender, unmount } = renderHook((p: typeof props) => useNotifications(p), { initialProps: props });
    expect(service.setFocus).toHaveBeenLastCalledWith('tech');

    act(() => onChange?.('background'));
    expect(service.setFocus).toHaveBeenLastCalledWith(null);
    act(() => onChange?.('active'));
    expect(service.setFocus).toHaveBeenLastCalledWith('tech');

    rerender({ ...props, shownRoom: 'general' });
    expect(service.setFocus).toHaveBeenLastCalledWith('general');
    unmount();
    expect(service.setFocus).toHaveBeenLastCalledWith(null);
    spy.mockRestore();
  });

  it('shows the room of a tapped notification, joining it when needed', () => {
    const service = fakeService();
    const props = { service: service as unknown as ChatService, serverUrl: SERVER, accounts: null, shownRoom: 'tech', totalUnread: 0, joined: ['tech', 'general'] };
    renderHook(() => useNotifications(props));
    const listener = jest.mocked(Notifications.addNotificationResponseReceivedListener).mock.calls[0][0];
    act(() => listener({ notification: notificationFor('general'), actionIdentifier: 'default' } as never));
    expect(service.switchRoom).toHaveBeenCalledWith('general');
    act(() => listener({ notification: notificationFor('music'), actionIdentifier: 'default' } as never));
    expect(service.joinRoom).toHaveBeenCalledWith('music');
  });

  it('registers the device and sets the badge when signed in', async () => {
    const calls = fakeFetch(201, { id: 3 });
    const props = { service: null, serverUrl: `${SERVER}/hook`, accounts, shownRoom: 'tech', totalUnread: 4, joined: ['tech'] };
    renderHook(() => useNotifications(props));
    expect(Notifications.setBadgeCountAsync).toHaveBeenCalledWith(4);
    await waitFor(() => expect(calls.map((c) => c.method)).toEqual(['POST']));
    await unregisterPushDevice(`${SERVER}/hook`, accounts);
  });
});

describe('NotifySettingsSheet', () => {
  function fakeTools(stored: RoomNotifySetting[]) {
    return {
      settings: jest.fn(async () => stored),
      setRoom: jest.fn(async (room: string, change: { level?: string; muteMinutes?: number }) => ({
        room,
        level: (change.level ?? 'all') as RoomNotifySetting['level'],
        mutedUntil: change.muteMinutes ? new Date(Date.now() + change.muteMinutes * 60_000).toISOString() : null,
      })),
    };
  }

  it('reads the room’s level and writes a new level and a mute', async () => {
    const tools = fakeTools([{ room: 'tech', level: 'all', mutedUntil: null }]);
    render(<NotifySettingsSheet room="tech" title="#tech" tools={tools as unknown as NotifySettingsTools} colors={lightColors} onClose={() => undefined} />);
    await waitFor(() => expect(screen.getByTestId('notify-level-all').props.accessibilityState).toMatchObject({ checked: true }));
    expect(screen.getByTestId('notify-muted')).toHaveTextContent('Not muted');

    fireEvent.press(screen.getByTestId('notify-level-none'));
    await waitFor(() => expect(tools.setRoom).toHaveBeenCalledWith('tech', { level: 'none' }));

    fireEvent.press(screen.getByTestId('notify-mute-480'));
    await waitFor(() => expect(tools.setRoom).toHaveBeenLastCalledWith('tech', { muteMinutes: 480 }));
    await waitFor(() => expect(screen.getByTestId('notify-muted')).toHaveTextContent(/Muted until/));
  });

  it('starts from the server’s default and says when a change fails', async () => {
    const tools = fakeTools([]);
    tools.setRoom.mockRejectedValueOnce(new Error('offline'));
    render(<NotifySettingsSheet room="tech" title="#tech" tools={tools as unknown as NotifySettingsTools} colors={lightColors} onClose={() => undefined} />);
    await waitFor(() => expect(screen.getByTestId('notify-level-mentions').props.accessibilityState).toMatchObject({ checked: true }));
    fireEvent.press(screen.getByTestId('notify-level-all'));
    expect(await screen.findByTestId('notify-error')).toHaveTextContent('Could not change the notifications. Try again.');
  });
});
