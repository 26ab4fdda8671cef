/**
 * The TalkRooms Socket.IO protocol (docs/protocol.md): the client core's types and facts,
 * re-exported for the app's screens.
 */

export type {
  MessageType,
  Message,
  RoomUser,
  ErrorCode,
  AckError,
  Ack,
  JoinRoomPayload,
  JoinRoomAck,
  LeaveRoomPayload,
  LeaveRoomAck,
  SendMessagePayload,
  SendMessageAck,
  TypingPayload,
  GetHistoryPayload,
  GetHistoryAck,
  ConnectedPayload,
  RoomJoinedPayload,
  UserPresencePayload,
  RoomUsersPayload,
  UserTypingPayload,
  ErrorPayload,
  ClientToServerEvents,
  ServerToClientEvents,
  ActiveRoom,
  ActiveRoomsResponse,
  // Protocol 2
  ProtocolVersion,
  Reaction,
  ReplyPreview,
  RoomEvent,
} from '@talkrooms/client';
export { EVENTS, ERROR_CODES, LIMITS, TYPING } from '@talkrooms/client';
