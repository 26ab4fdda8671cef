/** "Names that look alike are one name" (docs/protocol.md, join_room), from the client core. */

export { isCombining, sameName, usernameIdentity } from '@talkrooms/client';
