import { ApiError } from '@talkrooms/client';

import { getLanguage, plural, strings } from '../../i18n';

type Known = Exclude<keyof ReturnType<typeof strings>['accountErrors'], 'rateLimitedIn' | 'rateLimited' | 'network' | 'sessionEnded'>;

const KNOWN: ReadonlySet<string> = new Set<Known>([
  'invalid_credentials',
  'username_taken',
  'invalid_username',
  'invalid_password',
  'invalid_email',
  'invalid_display_name',
  'invalid_bio',
  'invalid_color',
  'not_found',
  'invalid_request',
  'blocked',
]);

/**
 * The words to show for a refused account request: a rate limit says when to try again
 * (Retry-After); otherwise the server's own text in English (it is authoritative, and knows
 * the exact rule), a translation in French; a request that never reached the server says so.
 */
export function accountErrorText(error: unknown): string {
  const t = strings().accountErrors;
  // The core's ApiError of status 0 (`network_error`): the request never reached the server.
  if (!(error instanceof ApiError) || error.code === 'network_error') return t.network;
  if (error.code === 'rate_limited') {
    const seconds = Math.ceil(error.retryAfter ?? 0);
    return seconds > 0 ? plural(t.rateLimitedIn, seconds) : t.rateLimited;
  }
  if (getLanguage() === 'en' && error.message) return error.message;
  if (KNOWN.has(error.code)) return t[error.code as Known];
  return error.message || t.network;
}
