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
  /** The protocol the app speaks (docs/protocol.md): 2, several rooms and the room event log. */
  protocol: 2,
  suggestedRooms: SUGGESTED_ROOMS,
  /** Timeout for GET /api/rooms on the Login screen. */
  roomsFetchTimeoutMs: 5000,
  /** First delay before re-sending a message the server refused with `unavailable`. */
  resendBaseDelayMs: 1000,
  /** Longest delay between re-sends. */
  resendMaxDelayMs: 15000,
  /** The emoji a message's menu offers (the web UI's row, in the same order). */
  quickEmoji: ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'],
  /** How long the original of a reply stays highlighted after a tap on its quote. */
  highlightMs: 2000,
  /** Files one message may share (the server's FILES_PER_MESSAGE default). */
  filesPerMessage: 10,
  /** The largest side (px) of a picture's thumbnail in a message. */
  thumbnailMax: 220,
} as const;
