/**
 * The stand-in socket.io-client Socket of the client core's tests: records what the app
 * emits and lets a test play the server (connect, drop, push events, answer acks).
 */
export { FakeSocket, flushPromises, joinWith, makeMessage, ok } from '../../client/test/support/FakeSocket';
export type { Emitted } from '../../client/test/support/FakeSocket';
