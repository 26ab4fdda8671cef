/**
 * App configuration. The server address comes from EXPO_PUBLIC_SERVER_URL at build time
 * (Expo inlines EXPO_PUBLIC_* variables); the user can change it on the Login screen and
 * the choice is remembered on the device (see ./storage).
 */

export const DEFAULT_SERVER_URL: string =
  (process.env.EXPO_PUBLIC_SERVER_URL || '').trim().replace(/\/+$/, '') || 'http://localhost:5000';

/** Rooms offered on the Login screen before any are active. */
export const SUGGESTED_ROOMS = ['general', 'random', 'tech'] as const;

export const Config = {
  defaultServerUrl: DEFAULT_SERVER_URL,
  suggestedRooms: SUGGESTED_ROOMS,
  /** Timeout for GET /api/rooms on the Login screen. */
  roomsFetchTimeoutMs: 5000,
  /** First delay before re-sending a message the server refused with `unavailable`. */
  resendBaseDelayMs: 1000,
  /** Longest delay between re-sends. */
  resendMaxDelayMs: 15000,
} as const;
