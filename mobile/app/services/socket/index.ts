export * from './protocol';
export * from './validation';
export * from './avatarColor';
export { ChatService, parseMessageId, formatMessageId } from './ChatService';
export type {
  ChatItem,
  ChatState,
  ChatError,
  ConnectionState,
  MessageItem,
  PendingItem,
  NotificationItem,
  SocketFactory,
  SocketLike,
  SendResult,
  JoinRoomResult,
  RoomSummary,
} from './ChatService';
