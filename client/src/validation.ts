/**
 * The field rules of docs/protocol.md ("Validation"), exactly as the server applies them:
 * trimming is Python's `str.strip()`, lengths are code points. Every limit, pattern and
 * error text comes from the generated facts; nothing is spelled out here.
 */

import { ERRORS, LIMITS, PATTERNS, PY_WHITESPACE } from './generated/protocol.js';

export type ValidationResult = { ok: true; value: string } | { ok: false; error: string };

export const USERNAME_ERROR: string = ERRORS.username;
export const ROOM_ERROR: string = ERRORS.room;

/** The server's message error for a limit of `max` code points. */
export function messageError(max: number = LIMITS.messageMax): string {
  return ERRORS.message.replace('{max}', String(max));
}

const PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu');
const PY_SPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'u');

/** The server's `str.strip()` (JavaScript's `trim()` keeps U+001C–U+001F and U+0085). */
export function strip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** Python's `str.split()` with no argument: words between runs of its whitespace. */
export function splitWords(text: string): string[] {
  return text.split(PY_SPACE_RUN).filter((part) => part !== '');
}

/** Length in Unicode code points, as the server (Python `len`) counts it. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _char of text) count += 1;
  return count;
}

function nfc(text: string): string {
  // Some JS engines ship without normalisation tables; the server normalises anyway.
  return typeof text.normalize === 'function' ? text.normalize('NFC') : text;
}

/** Trimmed, NFC-normalised, 1–32 letters/marks/digits/space/-/_/., with a letter or digit. */
export function validateUsername(raw: unknown): ValidationResult {
  if (typeof raw !== 'string') return { ok: false, error: USERNAME_ERROR };
  const value = nfc(strip(raw));
  if (!PATTERNS.username.test(value) || !PATTERNS.usernameNeeds.test(value)) {
    return { ok: false, error: USERNAME_ERROR };
  }
  return { ok: true, value };
}

/** Trimmed and lower-cased, 1–32 characters a-z 0-9 - _. */
export function validateRoom(raw: unknown): ValidationResult {
  if (typeof raw !== 'string') return { ok: false, error: ROOM_ERROR };
  const value = strip(raw).toLowerCase();
  if (!PATTERNS.room.test(value)) return { ok: false, error: ROOM_ERROR };
  return { ok: true, value };
}

/** Trimmed, 1–`max` code points (the server's MESSAGE_MAX unless it says otherwise). */
export function validateMessage(raw: unknown, max: number = LIMITS.messageMax): ValidationResult {
  if (typeof raw !== 'string') return { ok: false, error: messageError(max) };
  const value = strip(raw);
  const length = codePointLength(value);
  if (length < 1 || length > max) return { ok: false, error: messageError(max) };
  return { ok: true, value };
}

/** A `client_key` the server accepts (16–128 characters A-Za-z0-9_-). */
export function isClientKey(value: unknown): value is string {
  return typeof value === 'string' && PATTERNS.clientKey.test(value);
}

/** A `client_id` the server accepts (1–64 characters A-Za-z0-9_-). */
export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && PATTERNS.clientId.test(value);
}
