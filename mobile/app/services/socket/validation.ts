/**
 * Field rules of docs/protocol.md ("Validation"), with the server's exact error messages:
 * the client core's (made from the server's facts), plus the app's own server-URL check.
 */

import { LIMITS, messageError, strip, type ValidationResult } from '@talkrooms/client';

export {
  USERNAME_ERROR,
  ROOM_ERROR,
  PY_WHITESPACE,
  strip,
  codePointLength,
  validateUsername,
  validateRoom,
  validateMessage,
} from '@talkrooms/client';
export type { ValidationResult } from '@talkrooms/client';

export const MESSAGE_MAX_CHARS: number = LIMITS.messageMax;
export const MESSAGE_ERROR = messageError(LIMITS.messageMax);
/** The server's text for the default MESSAGE_RATE_LIMIT (10 per 5 s). */
export const RATE_LIMIT_ERROR = 'Too many messages: at most 10 per 5 s';

/** The server address typed on the Login screen: http(s) URL, no trailing slash. */
export function validateServerUrl(raw: string): ValidationResult {
  const value = strip(raw).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(value)) {
    return { ok: false, error: 'Server URL must start with http:// or https://' };
  }
  return { ok: true, value };
}
