/**
 * The page's account (client core's AccountClient in cookie mode): the refresh token is an
 * httpOnly cookie the page never sees; the access token lives in memory only. Pages call
 * `restoreAccount()` at load: one refresh through the cookie says whether this browser is
 * signed in. A local hint skips that request for people who never signed in here (a 401
 * per page load would be noise in every guest's console).
 */

import { AccountClient } from '../vendor/talkrooms-client/talkrooms-client.js';
import { t } from './i18n.js';
import { read, write } from './storage.js';

const HINT_KEY = 'talkrooms.signed_in';

export const accounts = new AccountClient({ baseUrl: '' });

accounts.onChange((account) => write(HINT_KEY, account ? '1' : null));

/** The signed-in account after a reload, or null (a guest, or the server is unreachable). */
export async function restoreAccount() {
  if (read(HINT_KEY) !== '1') return null;
  try {
    return await accounts.restore();
  } catch {
    // The server could not answer: a guest for this page; the cookie stays for the next one.
    return null;
  }
}

/** The words to show for a refused account request: the server's text, and when to try again. */
export function apiErrorText(error) {
  if (!error || typeof error !== 'object') return t('error_unavailable');
  if (error.code === 'network_error') return t('error_network');
  const text = error.message || t('error_unavailable');
  if (error.code === 'rate_limited' && Number.isFinite(error.retryAfter)) {
    return `${text} ${t('retry_in', { seconds: Math.max(1, Math.ceil(error.retryAfter)) })}`;
  }
  return text;
}
