/**
 * Avatar colour of docs/protocol.md: 32-bit FNV-1a over the username's code points, mod 7.
 * Web, mobile and server must agree, so the table and the hash live only here in the app.
 */

export const AVATAR_COLORS = [
  '#FF6B6B',
  '#4ECDC4',
  '#45B7D1',
  '#F7B731',
  '#A55EEA',
  '#26DE81',
  '#FD9644',
] as const;

export type AvatarColor = (typeof AVATAR_COLORS)[number];

/** FNV-1a 32-bit hash over Unicode code points (not UTF-16 units). */
export function fnv1a32(text: string): number {
  let h = 2166136261;
  for (const ch of text) {
    h ^= ch.codePointAt(0) as number;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

/** The colour for a username exactly as the server returns it. */
export function avatarColor(username: string): AvatarColor {
  return AVATAR_COLORS[fnv1a32(username) % AVATAR_COLORS.length];
}

/** The letter shown in the avatar circle (first code point, upper-cased). */
export function avatarInitial(username: string): string {
  const first = Array.from(username.trim())[0];
  return first ? first.toUpperCase() : '?';
}
