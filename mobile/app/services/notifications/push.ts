/**
 * The app's push notifications (docs/notifications.md) through expo-notifications: this
 * device's Expo push token registered for the signed-in account (POST at sign-in, DELETE at
 * log-out), the foreground handler that keeps quiet about the room on screen, the badge,
 * and each room's level and mute through the client core's NotificationsClient.
 *
 * The web export and simulators have no Expo push token: everything here then does nothing
 * and says nothing (notifications are a convenience, never a reason for an error).
 */
import AsyncStorage from '@react-native-async-storage/async-storage';
import { NotificationsClient, type AccountClient } from '@talkrooms/client';
import * as Notifications from 'expo-notifications';
import { Platform } from 'react-native';

export { NOTIFY_LEVELS, type NotifyLevel, type RoomNotifySetting } from '@talkrooms/client';

/** What the settings sheet needs of the core's NotificationsClient (tests hand in fakes). */
export type NotifySettingsTools = Pick<NotificationsClient, 'settings' | 'setRoom'>;

/** How the app's tests hand in their fake fetch (the default: the platform's). */
let fetcher: typeof fetch | undefined;

/** Tests: the fetch the notification requests use from now on (undefined: the platform's). */
export function setNotificationsFetch(next: typeof fetch | undefined): void {
  fetcher = next;
}

/** The notification settings client of a server, with the account's tokens. */
export function notificationsClient(baseUrl: string, accounts: AccountClient): NotificationsClient {
  return new NotificationsClient({ baseUrl, tokens: accounts, ...(fetcher ? { fetch: fetcher } : {}) });
}

/** Where the registered device's id is kept, per server, for the DELETE at log-out. */
export function deviceKey(serverUrl: string): string {
  return `talkrooms.pushDevice.${serverUrl}`;
}

/** Push works on phones only: the web export has no Expo push token. */
function pushAvailable(): boolean {
  return Platform.OS === 'ios' || Platform.OS === 'android';
}

/** The room whose messages are on screen with the app in front (null: none). */
let focusedRoom: string | null = null;
let handlerSet = false;

/** The room on screen, for the foreground handler; also sets the handler the first time. */
export function setShownRoom(room: string | null): void {
  focusedRoom = room;
  if (handlerSet || !pushAvailable()) return;
  handlerSet = true;
  Notifications.setNotificationHandler({ handleNotification: async (notification) => notificationBehavior(notification) });
}

/** A notification arriving in the foreground is shown unless it is about the room on screen. */
export function notificationBehavior(notification: Notifications.Notification): Notifications.NotificationBehavior {
  const room = roomOf(notification);
  const show = !(room !== null && room === focusedRoom);
  return { shouldShowBanner: show, shouldShowList: show, shouldPlaySound: show, shouldSetBadge: true };
}

/** The room a notification is about (its data, as the server sends it), or null. */
export function roomOf(notification: Notifications.Notification): string | null {
  const data = notification.request?.content?.data as Record<string, unknown> | null | undefined;
  const room = data?.room;
  return typeof room === 'string' && room ? room : null;
}

/** The app's badge follows the unread total (nothing on the web, a refusal ignored). */
export function setBadge(count: number): void {
  if (!pushAvailable()) return;
  Notifications.setBadgeCountAsync(Math.max(0, count)).catch(() => undefined);
}

/**
 * The identifiers of the taps acted on in this run: the tap that launched the app is both
 * read at start and (on some platforms) handed to the listener later; each is acted on once.
 */
const handledTaps = new Set<string>();

/** The room of a tap not acted on before (null: seen already, or no room in its data). */
function firstTap(response: Notifications.NotificationResponse): string | null {
  const id = response.notification.request?.identifier;
  if (id) {
    if (handledTaps.has(id)) return null;
    handledTaps.add(id);
  }
  return roomOf(response.notification);
}

/** A tap on a notification: `onRoom` gets its room. Returns the unsubscribe. */
export function onNotificationTap(onRoom: (room: string) => void): () => void {
  if (!pushAvailable()) return () => undefined;
  const subscription = Notifications.addNotificationResponseReceivedListener((response) => {
    const room = firstTap(response);
    if (room) onRoom(room);
  });
  return () => subscription.remove();
}

/** The room of the tap that launched the app, until a chat opens it (null: none). */
let launchRoom: string | null = null;
const launchListeners = new Set<() => void>();

/** Follows the launching tap's room (the Login screen's line goes once it is opened). */
export function subscribeLaunchRoom(listener: () => void): () => void {
  launchListeners.add(listener);
  return () => {
    launchListeners.delete(listener);
  };
}

/**
 * The app was not running and a notification's tap started it: its room, kept until
 * `clearLaunchRoom` (at start no chat, hence no listener, is there to hear of it).
 * Safe to call on every render: a response is read once (its identifier remembered).
 */
export function notificationLaunchRoom(): string | null {
  if (!pushAvailable()) return null;
  try {
    const response = Notifications.getLastNotificationResponse();
    const room = response ? firstTap(response) : null;
    if (room) {
      launchRoom = room;
      // A reload of the JS (same native process) must not open it again.
      Notifications.clearLastNotificationResponse();
    }
  } catch {
    // No native module (an old build): the app starts as it always did.
  }
  return launchRoom;
}

/** The launching tap's room was opened (or given up): forget it. */
export function clearLaunchRoom(): void {
  launchRoom = null;
  for (const listener of launchListeners) listener();
}

/** Registrations under way or done in this run, per server (one POST per sign-in). */
const registering = new Map<string, Promise<number | null>>();

/**
 * Ask for permission, get this device's Expo push token and register it for the account
 * (`POST /api/v1/push/devices`); resolves to the device id, or null when push is not
 * available (web, simulator, permission refused, server refusal).
 */
export function registerPushDevice(serverUrl: string, accounts: AccountClient): Promise<number | null> {
  let pending = registering.get(serverUrl);
  if (!pending) {
    pending = register(serverUrl, accounts).catch(() => null);
    registering.set(serverUrl, pending);
    // A failure may be tried again at the next sign-in or chat.
    void pending.then((id) => {
      if (id === null) registering.delete(serverUrl);
    });
  }
  return pending;
}

async function register(serverUrl: string, accounts: AccountClient): Promise<number | null> {
  if (!pushAvailable()) return null;
  let permission = await Notifications.getPermissionsAsync();
  if (!permission.granted && permission.canAskAgain) permission = await Notifications.requestPermissionsAsync();
  if (!permission.granted) return null;
  if (Platform.OS === 'android') {
    // The server sends with `channelId: messages`.
    await Notifications.setNotificationChannelAsync('messages', {
      name: 'Messages',
      importance: Notifications.AndroidImportance.HIGH,
    }).catch(() => undefined);
  }
  // The projectId comes from the app config (extra.eas.projectId); a simulator throws here.
  const token = (await Notifications.getExpoPushTokenAsync()).data;
  if (!token) return null;
  const access = await accounts.accessToken();
  if (!access) return null;
  const answer = await request(serverUrl, 'POST', '/push/devices', access, {
    kind: 'expo',
    token,
    label: `TalkRooms ${Platform.OS}`,
  });
  const id = Number(answer?.id);
  if (!Number.isFinite(id)) return null;
  await AsyncStorage.setItem(deviceKey(serverUrl), String(id));
  return id;
}

/**
 * Log-out: forget this device on the server (`DELETE /api/v1/push/devices/<id>`) while the
 * access token still works. Never throws: log-out goes on whatever happens here.
 */
export async function unregisterPushDevice(serverUrl: string, accounts: AccountClient): Promise<void> {
  registering.delete(serverUrl);
  try {
    const id = await AsyncStorage.getItem(deviceKey(serverUrl));
    if (!id) return;
    await AsyncStorage.removeItem(deviceKey(serverUrl));
    const access = await accounts.accessToken();
    if (access) await request(serverUrl, 'DELETE', `/push/devices/${encodeURIComponent(id)}`, access);
  } catch {
    // Unreachable server: the push service's receipts drop the token once it stops working.
  }
}

async function request(
  serverUrl: string,
  method: string,
  path: string,
  token: string,
  body?: Record<string, unknown>,
): Promise<Record<string, unknown> | null> {
  const send = fetcher ?? fetch;
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (body) headers['Content-Type'] = 'application/json';
  const response = await send(`${serverUrl.replace(/\/+$/, '')}/api/v1${path}`, {
    method,
    headers,
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok && response.status !== 404) throw new Error(`HTTP ${response.status}`);
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}
