/**
 * Field rules of docs/protocol.md ("Validation"), with the server's exact error messages.
 * The app checks the same rules before sending so the user sees the error at once:
 * trimming is Python's `str.strip()` and lengths are code points, as on the server.
 */

export const USERNAME_ERROR = 'Username must be 1-32 characters: letters, digits, spaces, - _ .';
export const ROOM_ERROR = 'Room id must be 1-32 characters: a-z, 0-9, - _';
export const MESSAGE_ERROR = 'Message must be 1-2000 characters';
export const RATE_LIMIT_ERROR = 'Too many messages: at most 10 per 5 s';

export const MESSAGE_MAX_CHARS = 2000;

const USERNAME_CHARS = /^[\p{L}\p{M}\p{N} ._-]{1,32}$/u;
const USERNAME_NEEDS = /[\p{L}\p{N}]/u;
const ROOM_CHARS = /^[a-z0-9_-]{1,32}$/;

/**
 * The characters Python's `str.strip()` removes (`str.isspace()`), as the server trims.
 * JavaScript's `trim()` differs: it keeps U+001C–U+001F and U+0085 and removes U+FEFF.
 */
export const PY_WHITESPACE =
  '\\t\\n\\v\\f\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu');

/** The server's `str.strip()`: what counts as blank at both ends of a field. */
export function strip(text: string): string {
  return text.replace(PY_STRIP, '');
}

export type ValidationResult = { ok: true; value: string } | { ok: false; error: string };

function nfc(text: string): string {
  // Some JS engines ship without normalisation tables; the server normalises anyway.
  return typeof text.normalize === 'function' ? text.normalize('NFC') : text;
}

/** Length in Unicode code points, as the server (Python `len`) counts it. */
export function codePointLength(text: string): number {
  return Array.from(text).length;
}

/** Trimmed, NFC-normalised, 1–32 letters/marks/digits/space/-/_/., with a letter or digit. */
export function validateUsername(raw: string): ValidationResult {
  const value = nfc(strip(raw));
  if (!USERNAME_CHARS.test(value) || !USERNAME_NEEDS.test(value)) {
    return { ok: false, error: USERNAME_ERROR };
  }
  return { ok: true, value };
}

/** Trimmed and lower-cased, 1–32 characters a-z 0-9 - _. */
export function validateRoom(raw: string): ValidationResult {
  const value = strip(raw).toLowerCase();
  if (!ROOM_CHARS.test(value)) return { ok: false, error: ROOM_ERROR };
  return { ok: true, value };
}

/** Trimmed, 1–2000 characters (code points). */
export function validateMessage(raw: string): ValidationResult {
  const value = strip(raw);
  const length = codePointLength(value);
  if (length < 1 || length > MESSAGE_MAX_CHARS) return { ok: false, error: MESSAGE_ERROR };
  return { ok: true, value };
}

/** The server address typed on the Login screen: http(s) URL, no trailing slash. */
export function validateServerUrl(raw: string): ValidationResult {
  const value = strip(raw).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(value)) {
    return { ok: false, error: 'Server URL must start with http:// or https://' };
  }
  return { ok: true, value };
}
