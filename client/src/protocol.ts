/**
 * The TypeScript shapes of docs/protocol.md: payloads, acks and events. The names and
 * limits themselves come from ./generated/protocol.ts (made from the server's facts.json).
 */

import type { ErrorCode } from './generated/protocol.js';

export { EVENTS, ERROR_CODES, LIMITS, TYPING } from './generated/protocol.js';
export type { ErrorCode } from './generated/protocol.js';

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
}

export interface RoomUser {
  username: string;
  color: string;
}

export type AckError = { ok: false; error: string; code: ErrorCode };
export type Ack<T> = ({ ok: true } & T) | AckError;

// ---- Client → server ------------------------------------------------------------

export interface JoinRoomPayload {
  username: string;
  room: string;
  client_key?: string;
}
export type JoinRoomAck = Ack<{ room: string; username: string }>;

export type LeaveRoomPayload = Record<string, never>;
export type LeaveRoomAck = Ack<{ room: string }>;

export interface SendMessagePayload {
  message: string;
  client_id?: string;
}
export type SendMessageAck = Ack<{ message: Message; duplicate: boolean }>;

export interface TypingPayload {
  is_typing: boolean;
}

export interface GetHistoryPayload {
  room: string;
  before_id?: string;
  since_id?: string;
  limit?: number;
}
export type GetHistoryAck = Ack<{ room: string; messages: Message[]; has_more: boolean }>;

// ---- Server → client ------------------------------------------------------------

export interface ConnectedPayload {
  message: string;
  sid: string;
}
export interface RoomJoinedPayload {
  room: string;
  username: string;
  messages: Message[];
}
export interface UserPresencePayload {
  username: string;
  message: string;
}
export interface RoomUsersPayload {
  room: string;
  users: RoomUser[];
  count: number;
}
export interface UserTypingPayload {
  username: string;
  is_typing: boolean;
}
export interface ErrorPayload {
  message: string;
  code: ErrorCode;
}

/** Events the client emits, with their payload and ack types. */
export interface ClientToServerEvents {
  join_room: (payload: JoinRoomPayload, ack?: (res: JoinRoomAck) => void) => void;
  leave_room: (payload: LeaveRoomPayload, ack?: (res: LeaveRoomAck) => void) => void;
  send_message: (payload: SendMessagePayload, ack?: (res: SendMessageAck) => void) => void;
  typing: (payload: TypingPayload) => void;
  get_history: (payload: GetHistoryPayload, ack?: (res: GetHistoryAck) => void) => void;
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
