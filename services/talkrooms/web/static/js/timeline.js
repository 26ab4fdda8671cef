/**
 * What the message list holds and in which order: the client core's Timeline (merge by id
 * and client_id, notices, pending messages, holes), re-exported for the page's modules.
 */

export { Timeline, formatId, ID_DIGITS } from '../vendor/talkrooms-client/talkrooms-client.js';
