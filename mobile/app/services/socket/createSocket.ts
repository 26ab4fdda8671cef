import { io } from 'socket.io-client';

import type { SocketFactory, SocketLike } from './ChatService';

/**
 * The real socket: socket.io-client with its own reconnection (the service rejoins and
 * resumes on every `connect`). WebSocket only, so no sticky sessions are needed behind a
 * proxy with several workers, and React Native avoids long-polling quirks.
 */
export const createSocketIo: SocketFactory = (serverUrl: string): SocketLike =>
  io(serverUrl, {
    path: '/socket.io/',
    transports: ['websocket'],
    autoConnect: false,
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10000,
  }) as unknown as SocketLike;
