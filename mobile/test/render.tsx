import type { ReactElement } from 'react';
import { render } from '@testing-library/react-native';

import { ChatService, type ChatServiceOptions } from '../app/services/socket/ChatService';
import {
  ChatServiceFactoryContext,
  type ChatServiceFactory,
} from '../app/services/socket/ChatServiceContext';
import { FakeSocket } from './FakeSocket';

/**
 * A ChatService factory whose services talk to fake sockets the test can reach; `options`
 * go to each service (`{protocol: 2}` for the app's protocol; the core's default is 1).
 */
export function fakeChatServices(options: Partial<ChatServiceOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const services: ChatService[] = [];
  let n = 0;
  const factory: ChatServiceFactory = (params) => {
    const service = new ChatService({
      ...params,
      socketFactory: (_url, socketOptions) => {
        const socket = new FakeSocket();
        socket.options = socketOptions as Record<string, unknown>;
        sockets.push(socket);
        return socket;
      },
      makeClientId: () => `cid-${++n}`,
      ...options,
    });
    services.push(service);
    return service;
  };
  return { factory, sockets, services };
}

/** Render with the given ChatService factory in context. */
export function renderWithServices(ui: ReactElement, factory: ChatServiceFactory) {
  return render(
    <ChatServiceFactoryContext.Provider value={factory}>{ui}</ChatServiceFactoryContext.Provider>,
  );
}
