import type { SocketFactory, SocketLike } from '@talkrooms/client';
import { io } from 'socket.io-client';

/**
 * The real socket: socket.io-client with the client core's options (its own reconnection;
 * the core rejoins and resumes on every `connect`; WebSocket only, set by ChatService).
 */
export const createSocketIo: SocketFactory = (serverUrl, options): SocketLike =>
  io(serverUrl, options) as unknown as SocketLike;
