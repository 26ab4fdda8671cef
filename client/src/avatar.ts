/**
 * Avatar colour of docs/protocol.md: 32-bit FNV-1a over the username's code points, modulo
 * the number of colours. The table and the FNV constants are the server's facts.
 */

import { AVATAR_COLORS, FNV_OFFSET, FNV_PRIME } from './generated/protocol.js';

export { AVATAR_COLORS };
export type AvatarColor = (typeof AVATAR_COLORS)[number];

/** FNV-1a 32-bit hash over Unicode code points (not UTF-16 units). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const char of text) {
    hash ^= char.codePointAt(0) as number;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/** The colour for a username exactly as the server returns it. */
export function avatarColor(username: string): AvatarColor {
  return AVATAR_COLORS[fnv1a32(username) % AVATAR_COLORS.length];
}

/** The letter shown in the avatar circle: first code point after blanks, upper-cased. */
export function avatarInitial(username: string): string {
  const first = Array.from(username.trim())[0];
  return first ? first.toUpperCase() : '?';
}
