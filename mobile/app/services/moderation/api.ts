/**
 * The moderation routes of /api/v1 (docs/moderation.md) for the app, through the client
 * core's ModerationClient: one per server, signed with the account's access token.
 */
import { ModerationClient, type AccountClient } from '@talkrooms/client';

export {
  canNameModerators,
  isStaff,
  parseSanctionNotice,
  roleIn,
  type AuditEntry,
  type ModerationClient,
  type Role,
  type RoomRoles,
  type SanctionAction,
  type SanctionEntry,
  type SanctionNotice,
  type SanctionRequest,
} from '@talkrooms/client';

/** How the app's tests hand in their fake fetch (the default: the platform's). */
let fetcher: typeof fetch | undefined;

/** Tests: the fetch every ModerationClient made from now on uses (undefined: the platform's). */
export function setModerationFetch(next: typeof fetch | undefined): void {
  fetcher = next;
}

/** The moderation client of a server, with the tokens of `accounts` (null: a guest, roles only). */
export function moderationClient(baseUrl: string, accounts: AccountClient | null): ModerationClient {
  return new ModerationClient({ baseUrl, tokens: accounts, ...(fetcher ? { fetch: fetcher } : {}) });
}
