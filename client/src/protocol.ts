/**
 * The TypeScript shapes of docs/protocol.md: payloads, acks and events. The names and
 * limits themselves come from ./generated/protocol.ts (made from the server's facts.json).
 */

export { EVENTS, ERROR_CODES, LIMITS, TYPING } from './generated/protocol.js';
export type { ErrorCode } from './generated/protocol.js';
import type { ErrorCode } from './generated/protocol.js';
import type { FileEntry } from './files.js';

/** The protocol a connection speaks, chosen in the handshake (`auth: {protocol: 2}`). */
export type ProtocolVersion = 1 | 2;

export type MessageType = 'message' | 'notification';

export interface Message {
  /** 12 decimal digits, zero-padded room sequence: "000000000042". */
  id: string;
  username: string;
  message: string;
  /** ISO 8601 UTC with milliseconds. */
  timestamp: string;
  room: string;
  /** Stored messages are always 'message'. */
  type: MessageType;
  /** Present when the sender gave one. */
  client_id?: string;
  // ---- protocol 2 ----
  /** Id of the message this one answers. */
  reply_to?: string;
  /** The @names of the text that were in the room, as written. */
  mentions?: string[];
  /** ISO time of the last edit ("edited"). */
  edited_at?: string;
  /** A tombstone: message "" and no reactions. */
  deleted?: true;
  deleted_at?: string;
  /** A tombstone of a moderator's removal (docs/moderation.md): show "removed by a moderator". */
  removed?: true;
  /** In history and room_joined only (live: room_event). */
  reactions?: Reaction[];
  /** In history and room_joined only, when reply_to is set. */
  reply_preview?: ReplyPreview;
  /** The files it shares (issue 19); `message` may be "" then. */
  files?: FileEntry[];
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
  /** The asking person reacted with it. */
  me: boolean;
}

/** The quoted message of a reply; excerpt: its first 100 characters ("" when deleted or gone). */
export interface ReplyPreview {
  id: string;
  username: string;
  excerpt: string;
  deleted: boolean;
}

interface RoomEventBase {
  /** The event's log position, "SSSSSSSSSSSS.NNNNNNNNNNNN". */
  id: string;
  room: string;
  message_id: string;
}
export interface EditEvent extends RoomEventBase {
  type: 'edit';
  /** The message's whole state after the edit (no reactions). */
  message: Message;
}
export interface DeleteEvent extends RoomEventBase {
  type: 'delete';
  message: Message;
}
export interface ReactionEvent extends RoomEventBase {
  type: 'reaction';
  emoji: string;
  username: string;
  added: boolean;
  /** The emoji's new count on that message (absolute). */
  count: number;
}
/** One entry of a room's event log (protocol 2): an edit, a deletion or a reaction. */
export type RoomEvent = EditEvent | DeleteEvent | ReactionEvent;

export interface RoomUser {
  username: string;
  color: string;
  /** A signed-in account's chosen display name (show the username next to it). */
  display_name?: string;
  /** True for a registered account (the server vouches for the name). */
  account?: boolean;
}

export type AckError = { ok: false; error: string; code: ErrorCode };
export type Ack<T> = ({ ok: true } & T) | AckError;

// ---- Client → server ------------------------------------------------------------

export interface JoinRoomPayload {
  username: string;
  room: string;
  client_key?: string;
  /** An invite-only room's code (from its invite link). */
  invite?: string;
}
export type JoinRoomAck = Ack<{ room: string; username: string }>;

/** Protocol 1: `{}`; protocol 2: `{room}`. */
export type LeaveRoomPayload = Record<string, never> | { room: string };
export type LeaveRoomAck = Ack<{ room: string }>;

export interface SendMessagePayload {
  message: string;
  client_id?: string;
  /** Protocol 2. */
  room?: string;
  reply_to?: string;
  /** Ids of this author's uploads waiting in this room (1..FILES_PER_MESSAGE). */
  files?: string[];
}
export type SendMessageAck = Ack<{ message: Message; duplicate: boolean }>;

export interface TypingPayload {
  is_typing: boolean;
  /** Protocol 2. */
  room?: string;
}

export interface EditMessagePayload {
  room: string;
  id: string;
  message: string;
}
export type EditMessageAck = Ack<{ event: RoomEvent }>;

export interface DeleteMessagePayload {
  room: string;
  id: string;
}
export type DeleteMessageAck = Ack<{ event: RoomEvent }>;

export interface ReactPayload {
  room: string;
  id: string;
  emoji: string;
  /** true adds, false removes, absent toggles. */
  add?: boolean;
}
/** `event: null` when the change changed nothing. */
export type ReactAck = Ack<{ event: RoomEvent | null }>;

export interface MarkReadPayload {
  room: string;
  id: string;
}
export type MarkReadAck = Ack<{ room: string; read_id: string }>;

/** Report a message to the room's moderators (anyone in the room, guests too). */
export interface ReportMessagePayload {
  room?: string;
  id: string;
  reason?: string;
}
/** The same message reported twice gets the same report id. */
export type ReportMessageAck = Ack<{ report: number }>;

export interface GetHistoryPayload {
  room: string;
  before_id?: string;
  since_id?: string;
  limit?: number;
}
export type GetHistoryAck = Ack<{
  room: string;
  messages: Message[];
  has_more: boolean;
  /** Protocol 2 with since_id: the events after since_id whose message is not in `messages`. */
  events?: RoomEvent[];
  /** Protocol 2 with since_id: the position to ask from next. */
  cursor?: string;
}>;

// ---- Server → client ------------------------------------------------------------

export interface ConnectedPayload {
  message: string;
  sid: string;
}
export interface RoomJoinedPayload {
  room: string;
  username: string;
  messages: Message[];
  // ---- protocol 2 ----
  /** The room's log position at that moment. */
  log_id?: string;
  /** Your read marker ("000000000000" when none). */
  read_id?: string;
  /** Kept messages after read_id written by others, and those of them mentioning you. */
  unread?: number;
  mentions?: number;
  /** The room's settings view (room-settings.ts) when it has any; absent: the defaults. */
  settings?: unknown;
}
export interface UserPresencePayload {
  username: string;
  message: string;
  room?: string;
}
export interface RoomUsersPayload {
  room: string;
  users: RoomUser[];
  count: number;
}
export interface UserTypingPayload {
  username: string;
  is_typing: boolean;
  room?: string;
}
/** Protocol 2: another connection of the same person moved their read marker. */
export interface ReadMarkerPayload {
  room: string;
  read_id: string;
}
/** Signed in: a private conversation as this member sees it (`conversation` event, /api/v1/conversations). */
export interface ConversationPayload {
  room: string;
  with: { username: string; display_name: string; color: string };
  created_at: string;
  /** I blocked them. */
  blocked: boolean;
  /** False when either blocked the other. */
  can_write: boolean;
}
export interface ErrorPayload {
  message: string;
  code: ErrorCode;
  /** Protocol 2: the room it concerns, when one. */
  room?: string;
}

/** Events the client emits, with their payload and ack types. */
export interface ClientToServerEvents {
  join_room: (payload: JoinRoomPayload, ack?: (res: JoinRoomAck) => void) => void;
  leave_room: (payload: LeaveRoomPayload, ack?: (res: LeaveRoomAck) => void) => void;
  send_message: (payload: SendMessagePayload, ack?: (res: SendMessageAck) => void) => void;
  typing: (payload: TypingPayload) => void;
  get_history: (payload: GetHistoryPayload, ack?: (res: GetHistoryAck) => void) => void;
  edit_message: (payload: EditMessagePayload, ack?: (res: EditMessageAck) => void) => void;
  delete_message: (payload: DeleteMessagePayload, ack?: (res: DeleteMessageAck) => void) => void;
  react: (payload: ReactPayload, ack?: (res: ReactAck) => void) => void;
  mark_read: (payload: MarkReadPayload, ack?: (res: MarkReadAck) => void) => void;
  report_message: (payload: ReportMessagePayload, ack?: (res: ReportMessageAck) => void) => void;
}

/** Events the server emits to a client. */
export interface ServerToClientEvents {
  connected: (payload: ConnectedPayload) => void;
  room_joined: (payload: RoomJoinedPayload) => void;
  new_message: (payload: Message) => void;
  user_joined: (payload: UserPresencePayload) => void;
  user_left: (payload: UserPresencePayload) => void;
  room_users: (payload: RoomUsersPayload) => void;
  user_typing: (payload: UserTypingPayload) => void;
  error: (payload: ErrorPayload) => void;
  room_event: (payload: RoomEvent) => void;
  read_marker: (payload: ReadMarkerPayload) => void;
  conversation: (payload: ConversationPayload) => void;
  // ---- moderation (moderation.ts and room-settings.ts parse them) ----
  moderation: (payload: unknown) => void;
  sanctioned: (payload: unknown) => void;
  room_settings: (payload: unknown) => void;
  /** To the room's staff: `{room, open}`, the items waiting in its review queue. */
  review: (payload: unknown) => void;
  /** To the room: `{room, owner, moderators}` when they change. */
  roles: (payload: unknown) => void;
}

export type ServerEventName = keyof ServerToClientEvents;

/** `GET {server}/api/rooms` response. */
export interface ActiveRoom {
  room: string;
  users: number;
  messages: number;
  last_activity: string;
}
export interface ActiveRoomsResponse {
  rooms: ActiveRoom[];
  count: number;
}
