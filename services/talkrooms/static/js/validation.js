/**
 * The validation rules of docs/protocol.md, exactly as the server applies them
 * (talkrooms/protocol.py). Pure functions: they run in the browser and under Node
 * (services/tests/unit/test_pages_js.py checks them against the Python rules).
 */

export const USERNAME_MAX = 32;
export const ROOM_MAX = 32;
export const MESSAGE_MAX = 2000;

export const USERNAME_ERROR = 'Username must be 1-32 characters: letters, digits, spaces, - _ .';
export const ROOM_ERROR = 'Room id must be 1-32 characters: a-z, 0-9, - _';
export const messageError = (max) => `Message must be 1-${max} characters`;

const USERNAME_PATTERN = /^[\p{L}\p{M}\p{N} ._-]{1,32}$/u;
const USERNAME_NEEDS = /[\p{L}\p{N}]/u;
const ROOM_PATTERN = /^[a-z0-9_-]{1,32}$/;

// Python's str.strip() removes what str.isspace() accepts; String.prototype.trim() differs
// (it keeps U+001C-U+001F and U+0085 and removes U+FEFF), so the server's set is spelled out.
const PY_SPACE = '\\t\\n\\v\\f\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');

/** The server's `str.strip()`. */
export function strip(text) {
  return text.replace(PY_STRIP, '');
}

/** Number of Unicode code points (the server's `len`). */
export function codePointLength(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** @returns {{ok: true, value: string} | {ok: false, error: string}} */
export function validateUsername(value) {
  if (typeof value !== 'string') return { ok: false, error: USERNAME_ERROR };
  const name = strip(value).normalize('NFC');
  if (!USERNAME_PATTERN.test(name) || !USERNAME_NEEDS.test(name)) {
    return { ok: false, error: USERNAME_ERROR };
  }
  return { ok: true, value: name };
}

/** @returns {{ok: true, value: string} | {ok: false, error: string}} */
export function validateRoom(value) {
  if (typeof value !== 'string') return { ok: false, error: ROOM_ERROR };
  const room = strip(value).toLowerCase();
  if (!ROOM_PATTERN.test(room)) return { ok: false, error: ROOM_ERROR };
  return { ok: true, value: room };
}

/** @returns {{ok: true, value: string} | {ok: false, error: string}} */
export function validateMessage(value, max = MESSAGE_MAX) {
  if (typeof value !== 'string') return { ok: false, error: messageError(max) };
  const text = strip(value);
  const length = codePointLength(text);
  if (length < 1 || length > max) return { ok: false, error: messageError(max) };
  return { ok: true, value: text };
}
