/**
 * The signed-in account of each server (the client core's AccountClient, refresh token in
 * the keychain), shared by the screens: which factory builds it (tests inject one with a
 * fake fetch) and a hook that restores it once and follows its changes.
 */
import { AccountClient, type AccountInfo } from '@talkrooms/client';
import { createContext, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';

import { refreshStoreFor } from './refreshStore';

export type AccountClientFactory = (serverUrl: string) => AccountClient;

/** One client per server for the life of the app: the Login and Chat screens share it. */
const clients = new Map<string, AccountClient>();

export const defaultAccountClientFactory: AccountClientFactory = (serverUrl) => {
  let client = clients.get(serverUrl);
  if (!client) {
    client = new AccountClient({ baseUrl: serverUrl, refreshStore: refreshStoreFor(serverUrl) });
    clients.set(serverUrl, client);
  }
  return client;
};

export const AccountClientFactoryContext = createContext<AccountClientFactory>(defaultAccountClientFactory);

const restored = new WeakMap<AccountClient, Promise<AccountInfo | null>>();

/**
 * The stored refresh token exchanged once per client (at start, or when another server is
 * chosen): the account it belongs to, or null for a guest. A server out of reach is a guest
 * for now, not an error: the guest join works without it.
 */
export function restoreOnce(client: AccountClient): Promise<AccountInfo | null> {
  let pending = restored.get(client);
  if (!pending) {
    pending = client.restore().catch(() => null);
    restored.set(client, pending);
  }
  return pending;
}

/** The person signs in on this client before it was restored: there is nothing to restore. */
export function skipRestore(client: AccountClient): void {
  if (!restored.has(client)) restored.set(client, Promise.resolve(client.account));
}

const noSubscribe = () => () => {};
const noAccount = () => null;

/**
 * The AccountClient of `serverUrl` (null: no valid address yet) and its account, which
 * follows sign-in, sign-out and the end of a session. The stored session is restored once,
 * in the background: until it is, the person is a guest (the guest join needs nothing more).
 */
export function useAccount(serverUrl: string | null): {
  client: AccountClient | null;
  account: AccountInfo | null;
} {
  const factory = useContext(AccountClientFactoryContext);
  const client = useMemo(() => (serverUrl ? factory(serverUrl) : null), [factory, serverUrl]);

  useEffect(() => {
    if (client) void restoreOnce(client);
  }, [client]);

  const subscribe = useMemo(
    () => (client ? (listener: () => void) => client.onChange(() => listener()) : noSubscribe),
    [client],
  );
  const read = useMemo(() => (client ? () => client.account : noAccount), [client]);
  const account = useSyncExternalStore(subscribe, read, read);
  return { client, account };
}
