/**
 * The validation rules of docs/protocol.md, exactly as the server applies them: the client
 * core's functions, made from the server's facts (services/talkrooms/protocol/facts.json).
 * services/tests/unit/test_pages_js.py checks them against the Python rules.
 */

export {
  USERNAME_ERROR,
  ROOM_ERROR,
  LIMITS,
  messageError,
  strip,
  codePointLength,
  validateUsername,
  validateRoom,
  validateMessage,
} from '../vendor/talkrooms-client/talkrooms-client.js';
