/** Avatar colour of docs/protocol.md, from the client core (one table for web, app, server). */

export { AVATAR_COLORS, avatarColor, avatarInitial, fnv1a32 } from '@talkrooms/client';
export type { AvatarColor } from '@talkrooms/client';
