// Type-checked only (npm run typecheck): the README's usage compiles against socket.io-client's real `io`.
import { io } from 'socket.io-client';
import { ChatSession, newClientKey } from '../../src/index.js';

export const session = new ChatSession({
  url: 'https://chat.example.org',
  username: 'TalkRooms Bot',
  room: 'general',
  clientKey: newClientKey(),
  connect: io,
});
