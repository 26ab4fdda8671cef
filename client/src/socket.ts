/**
 * The socket the session talks through, injected so the library has no runtime dependency:
 * pass socket.io-client's `io` (or a stand-in in tests) as the factory.
 */

type Listener = (...args: any[]) => void;

/** The part of a socket.io-client `Socket` the session uses. */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, listener: Listener): unknown;
  off?(event: string, listener?: Listener): unknown;
  emit(event: string, ...args: any[]): unknown;
  /** socket.io-client ≥ 4.4: acks that fail with an error on timeout or disconnection. */
  timeout?(ms: number): { emit(event: string, ...args: any[]): unknown };
  connect?(): unknown;
  disconnect(): unknown;
}

/** Options handed to the factory (socket.io-client's ManagerOptions & SocketOptions). */
export interface SocketOptions {
  path?: string;
  transports?: string[];
  tryAllTransports?: boolean;
  autoConnect?: boolean;
  reconnection?: boolean;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  timeout?: number;
  [option: string]: unknown;
}

/** `(url, options) => Socket`: socket.io-client's `io` fits. */
export type SocketFactory = (url: string, options: SocketOptions) => SocketLike;

/**
 * What the session asks for unless told otherwise. autoConnect is off so the session
 * attaches its listeners before the first packet; socket.io-client reconnects by itself
 * (0.5 s, doubling up to 5 s) and the session rejoins and resumes on every `connect`.
 */
export const DEFAULT_SOCKET_OPTIONS: Readonly<SocketOptions> = {
  path: '/socket.io/',
  autoConnect: false,
  reconnection: true,
  reconnectionDelay: 500,
  reconnectionDelayMax: 5000,
  timeout: 10000,
};
