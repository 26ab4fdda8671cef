/** The 7-colour avatar hash of docs/protocol.md, from the client core. */

export { AVATAR_COLORS, avatarColor, avatarInitial } from '../vendor/talkrooms-client/talkrooms-client.js';
