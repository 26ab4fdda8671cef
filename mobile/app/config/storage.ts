import AsyncStorage from '@react-native-async-storage/async-storage';

import { makeClientKey, CLIENT_KEY_PATTERN } from '../services/socket/ids';
import { DEFAULT_SERVER_URL } from './index';

/** Every AsyncStorage key the app uses. */
export const STORAGE_KEYS = {
  serverUrl: 'talkrooms.serverUrl',
  clientKey: 'talkrooms.clientKey',
  username: 'talkrooms.username',
  /** + the server address (see refreshTokenKey): the web export's refresh token. */
  refreshToken: 'talkrooms.refresh.',
} as const;

/**
 * Where the refresh token of an account is kept, one per server (an account of one server
 * means nothing to another). expo-secure-store keys may hold only A-Za-z0-9 . - _, hence the
 * address is spelled with those.
 */
export function refreshTokenKey(serverUrl: string): string {
  return STORAGE_KEYS.refreshToken + serverUrl.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The web export's refresh token (the phone keeps it in its keychain instead: see
 * services/accounts/refreshStore.ts for why the web build cannot).
 */
export async function loadWebRefreshToken(serverUrl: string): Promise<string | null> {
  try {
    return await AsyncStorage.getItem(refreshTokenKey(serverUrl));
  } catch {
    return null;
  }
}

export async function saveWebRefreshToken(serverUrl: string, refreshToken: string | null): Promise<void> {
  if (refreshToken) await AsyncStorage.setItem(refreshTokenKey(serverUrl), refreshToken);
  else await AsyncStorage.removeItem(refreshTokenKey(serverUrl));
}

/** The server URL the user last used on this device, else the configured default. */
export async function loadServerUrl(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(STORAGE_KEYS.serverUrl)) || DEFAULT_SERVER_URL;
  } catch {
    return DEFAULT_SERVER_URL;
  }
}

export async function saveServerUrl(url: string): Promise<void> {
  await AsyncStorage.setItem(STORAGE_KEYS.serverUrl, url);
}

export async function loadUsername(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(STORAGE_KEYS.username)) || '';
  } catch {
    return '';
  }
}

export async function saveUsername(username: string): Promise<void> {
  await AsyncStorage.setItem(STORAGE_KEYS.username, username);
}

/**
 * The device's client_key, made once and kept: with it the server knows two tabs or
 * devices with the same name are one person rather than a name clash.
 */
export async function loadOrCreateClientKey(make: () => string = makeClientKey): Promise<string> {
  try {
    const stored = await AsyncStorage.getItem(STORAGE_KEYS.clientKey);
    if (stored && CLIENT_KEY_PATTERN.test(stored)) return stored;
  } catch {
    // Storage unreadable: fall through and use a fresh key for this session.
  }
  const key = make();
  try {
    await AsyncStorage.setItem(STORAGE_KEYS.clientKey, key);
  } catch {
    // Not fatal: the key still works for this session.
  }
  return key;
}
