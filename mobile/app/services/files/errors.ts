import { ApiError } from '@talkrooms/client';

import { getLanguage, strings } from '../../i18n';

type Known = keyof ReturnType<typeof strings>['fileErrors'];

/**
 * The words to show for a refused upload: the server's own text in English (it knows the
 * exact limit: "at most 10 MB"), a translation of its `code` in French; an upload that never
 * reached the server says so.
 */
export function uploadErrorText(error: unknown): string {
  const t = strings().fileErrors;
  if (!(error instanceof ApiError) || error.code === 'network_error' || error.status === 0) return t.network;
  if (getLanguage() === 'en' && error.message) return error.message;
  if (error.code in t) return t[error.code as Known];
  return error.message || t.invalid_request;
}
