// Type-checked only (npm run typecheck): the README's "Accounts" usage compiles against the real `io` and `fetch`.
import { io } from 'socket.io-client';
import { AccountClient, ChatSession, type RefreshStore } from '../../src/index.js';

declare const store: RefreshStore;

export async function signedIn(): Promise<ChatSession | null> {
  const accounts = new AccountClient({ baseUrl: 'https://chat.example.org', refreshStore: store });
  const account = (await accounts.restore()) ?? (await accounts.login('alice', 'correct horse battery'));
  const session = new ChatSession({
    url: 'https://chat.example.org',
    username: account.username,
    room: 'general',
    protocol: 2,
    connect: io,
    auth: { token: () => accounts.accessToken(), refresh: () => accounts.refreshNow() },
  });
  session.on('conversation', (c) => session.joinRoom(c.room));
  for (const c of await accounts.conversations()) session.joinRoom(c.room);
  const { room } = await accounts.openConversation('bob');
  session.joinRoom(room, { activate: true });
  return session;
}
