import type { ReactElement } from 'react';
import { render } from '@testing-library/react-native';

import { ChatService } from '../app/services/socket/ChatService';
import {
  ChatServiceFactoryContext,
  type ChatServiceFactory,
} from '../app/services/socket/ChatServiceContext';
import { FakeSocket } from './FakeSocket';

/** A ChatService factory whose services talk to fake sockets the test can reach. */
export function fakeChatServices() {
  const sockets: FakeSocket[] = [];
  const services: ChatService[] = [];
  let n = 0;
  const factory: ChatServiceFactory = (params) => {
    const service = new ChatService({
      ...params,
      socketFactory: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
      makeClientId: () => `cid-${++n}`,
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
