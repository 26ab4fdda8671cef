/** The 7-colour avatar hash of docs/protocol.md (32-bit FNV-1a over code points). */

export const AVATAR_COLORS = ['#FF6B6B', '#4ECDC4', '#45B7D1', '#F7B731', '#A55EEA', '#26DE81', '#FD9644'];

export function avatarColor(username) {
  let hash = 2166136261;
  for (const char of username) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return AVATAR_COLORS[hash % AVATAR_COLORS.length];
}

/** The first character (code point) of a name, upper-cased, for the avatar circle. */
export function avatarInitial(username) {
  const [first = '?'] = username;
  return first.toUpperCase();
}
