/**
 * @talkrooms/client: the TalkRooms client core (docs/protocol.md) for the web UI, the app,
 * third-party clients and bots. No UI and no runtime dependency: pass socket.io-client's `io`.
 */

export { ChatSession, SESSION_ENDED } from './session.js';
export type {
  ActionResult,
  ConnectionState,
  JoinResult,
  RoomSummary,
  SendResult,
  SessionError,
  SessionEvents,
  SessionAuth,
  SessionOptions,
} from './session.js';
export { AccountClient, ApiError, isPrivateRoom, parseConversation } from './accounts.js';
export type {
  AccountClientOptions,
  AccountInfo,
  BlockedAccount,
  Conversation,
  LockRunner,
  Profile,
  ProfilePatch,
  RefreshStore,
} from './accounts.js';
export {
  ModerationClient,
  canNameModerators,
  isStaff,
  parseReviewCount,
  parseRoles,
  parseRolesEvent,
  parseSanctionNotice,
  roleIn,
} from './moderation.js';
export type {
  AuditEntry,
  QueueAction,
  QueueItem,
  QueueReport,
  ReviewCount,
  ModerationClientOptions,
  NoticeAction,
  Role,
  RolePerson,
  RoomRoles,
  SanctionAction,
  SanctionEntry,
  SanctionNotice,
  SanctionRequest,
  SanctionResult,
  TokenSource,
} from './moderation.js';
export {
  AUTOMOD_ACTIONS,
  AUTOMOD_DEFAULTS,
  AUTOMOD_RULES,
  POST_POLICIES,
  inviteLink,
  mayPost,
  parseRoomSettings,
} from './room-settings.js';
export type { AutomodAction, AutomodRule, AutomodSettings, PostPolicy, RoomSettings, RoomSettingsPatch } from './room-settings.js';
export {
  FILES_PER_MESSAGE,
  fetchFile,
  fileUrl,
  filesError,
  filesOf,
  formatSize,
  isAbortError,
  isImage,
  parseFileEntry,
  uploadFile,
  variantOf,
} from './files.js';
export type { FileEntry, FileVariant, NativeFile, UploadOptions } from './files.js';
export { RoomSession } from './room.js';
export { RoomLog, EXCERPT_LENGTH, excerpt, previewOf } from './roomlog.js';
export { LogCursor, parsePosition, formatPosition, laterPosition } from './log.js';
export type { ParsedPosition } from './log.js';
export { ReactionState } from './reactions.js';
export { mentionsMe, mentionParts } from './mentions.js';
export type { MentionPart } from './mentions.js';
export { Timeline, formatId, parseId, ID_DIGITS, MAX_NOTICES } from './timeline.js';
export type { MessageEntry, NoticeEntry, PendingEntry, TimelineChange, TimelineItem } from './timeline.js';
export { Outbox } from './outbox.js';
export type { OutboxEntry, OutboxState, OutboxStore, SavedEntry } from './outbox.js';
export { TypingSender, TypingWatch } from './typing.js';
export type { TypingSenderOptions } from './typing.js';
export {
  USERNAME_ERROR,
  ROOM_ERROR,
  messageError,
  strip,
  splitWords,
  codePointLength,
  validateUsername,
  validateRoom,
  validateMessage,
  isClientKey,
  isClientId,
} from './validation.js';
export type { ValidationResult } from './validation.js';
export { AVATAR_COLORS, avatarColor, avatarInitial, fnv1a32 } from './avatar.js';
export type { AvatarColor } from './avatar.js';
export { newClientId, newClientKey, defaultRandomBytes } from './ids.js';
export type { RandomBytes } from './ids.js';
export { sameName, usernameIdentity, isCombining } from './names.js';
export { DEFAULT_SOCKET_OPTIONS } from './socket.js';
export type { SocketFactory, SocketLike, SocketOptions } from './socket.js';
export { EVENTS, ERROR_CODES, LIMITS, TYPING } from './protocol.js';
export { ERRORS, PATTERNS, PY_WHITESPACE } from './generated/protocol.js';
export type * from './protocol.js';
export { NotificationsClient, NOTIFY_LEVELS } from './notifications.js';
export type { NotificationsClientOptions, NotifyLevel, RoomNotifySetting, WebPushSubscriptionJSON } from './notifications.js';
