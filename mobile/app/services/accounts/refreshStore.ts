import type { RefreshStore } from '@talkrooms/client';
import { Platform } from 'react-native';
import * as SecureStore from 'expo-secure-store';

import { loadWebRefreshToken, refreshTokenKey, saveWebRefreshToken } from '../../config/storage';

/** The refresh token in the phone's keychain / keystore (expo-secure-store), one per server. */
export function secureRefreshStore(serverUrl: string): RefreshStore {
  const key = refreshTokenKey(serverUrl);
  return {
    load: async () => {
      try {
        return await SecureStore.getItemAsync(key);
      } catch {
        // A keystore that cannot be read (restored on another phone, lock changed): a guest again.
        return null;
      }
    },
    save: async (refreshToken) => {
      if (refreshToken) await SecureStore.setItemAsync(key, refreshToken);
      else await SecureStore.deleteItemAsync(key);
    },
  };
}

/**
 * The web export's store. expo-secure-store has no web implementation (its web module is
 * empty and every call throws) and a browser has no keychain to offer, so the token goes to
 * the device storage of the server address and client_key (AsyncStorage: localStorage on
 * the web). That is weaker than a keychain, any script of the page's origin can read it,
 * which is why the web UI uses an httpOnly cookie instead; the app's web export exists for
 * development and the end-to-end tests, which need "still signed in after a reload" to
 * behave as on a phone.
 */
export function webRefreshStore(serverUrl: string): RefreshStore {
  return {
    load: () => loadWebRefreshToken(serverUrl),
    save: (refreshToken) => saveWebRefreshToken(serverUrl, refreshToken),
  };
}

/** The store of this platform: the keychain on a phone, the fallback on the web. */
export function refreshStoreFor(serverUrl: string): RefreshStore {
  return Platform.OS === 'web' ? webRefreshStore(serverUrl) : secureRefreshStore(serverUrl);
}
