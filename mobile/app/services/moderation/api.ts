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

// ---- Room settings, automatic moderation and the review queue (issue 20, last slice) ----

export {
  AUTOMOD_ACTIONS,
  AUTOMOD_RULES,
  POST_POLICIES,
  inviteLink,
  type AutomodAction,
  type AutomodRule,
  type PostPolicy,
  type QueueAction,
  type QueueItem,
  type RoomSettings,
  type RoomSettingsPatch,
} from '@talkrooms/client';

/**
 * The settings and review-queue requests the screens make: the core's ModerationClient has
 * them; the components take any object with these methods, so their tests hand in fakes.
 */
export type RoomTools = Pick<ModerationClient, 'settings' | 'updateSettings' | 'renewInvite' | 'pin' | 'unpin' | 'queue' | 'decide'>;

/** The room and code of an invite link (`<origin>/?room=<room>&invite=<code>`), or null. */
export function parseInviteLink(text: string): { room: string; invite: string } | null {
  const query = text.trim().split('#')[0].split('?')[1];
  if (!query) return null;
  const params = new Map<string, string>();
  try {
    for (const pair of query.split('&')) {
      const [key, value = ''] = pair.split('=');
      params.set(decodeURIComponent(key), decodeURIComponent(value.replace(/\+/g, ' ')));
    }
  } catch {
    return null;
  }
  const room = params.get('room');
  const invite = params.get('invite');
  return room && invite ? { room, invite } : null;
}
