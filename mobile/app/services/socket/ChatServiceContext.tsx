/**
 * React binding of the ChatService: which factory builds it (tests inject one with a fake
 * socket) and a hook that owns one service for the life of a chat screen.
 */
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';

import { Config } from '../../config';
import { loadOrCreateClientKey } from '../../config/storage';
import { ChatService, type ChatState, type SessionAuth } from './ChatService';
import { createSocketIo } from './createSocket';
import { makeClientId } from './ids';

export interface ChatSessionParams {
  serverUrl: string;
  username: string;
  room: string;
  clientKey: string;
  /** Signed in: where the handshake's access token comes from. */
  auth?: SessionAuth;
}

export type ChatServiceFactory = (params: ChatSessionParams) => ChatService;

export const defaultChatServiceFactory: ChatServiceFactory = (params) =>
  new ChatService({
    ...params,
    protocol: Config.protocol,
    socketFactory: createSocketIo,
    makeClientId,
    resendBaseDelayMs: Config.resendBaseDelayMs,
    resendMaxDelayMs: Config.resendMaxDelayMs,
  });

export const ChatServiceFactoryContext = createContext<ChatServiceFactory>(defaultChatServiceFactory);

const noSubscribe = () => () => {};
const noState = () => null;

/** Creates, starts and (on unmount or new params) leaves the chat service. */
export function useChatService(params: Omit<ChatSessionParams, 'clientKey'>): {
  service: ChatService | null;
  state: ChatState | null;
} {
  const factory = useContext(ChatServiceFactoryContext);
  const [service, setService] = useState<ChatService | null>(null);
  const { serverUrl, username, room, auth } = params;

  useEffect(() => {
    let cancelled = false;
    let created: ChatService | null = null;
    void loadOrCreateClientKey().then((clientKey) => {
      if (cancelled) return;
      created = factory(auth ? { serverUrl, username, room, clientKey, auth } : { serverUrl, username, room, clientKey });
      created.start();
      setService(created);
    });
    return () => {
      cancelled = true;
      void created?.leave();
      setService(null);
    };
    // A new auth (signed in or out) is a new session: the handshake is what signs it in.
  }, [factory, serverUrl, username, room, auth]);

  const state = useSyncExternalStore(
    service ? service.subscribe : noSubscribe,
    service ? service.getState : noState,
    service ? service.getState : noState,
  );
  return { service, state };
}
