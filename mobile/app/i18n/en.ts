import {
  MESSAGE_ERROR,
  RATE_LIMIT_ERROR,
  ROOM_ERROR,
  USERNAME_ERROR,
} from '../services/socket/validation';

/** English strings. Validation errors are the server's own messages, word for word. */
const en = {
  appName: 'TalkRooms',
  login: {
    tagline: 'Real-time chat rooms',
    username: 'Username',
    usernamePlaceholder: 'Your name',
    room: 'Room',
    roomPlaceholder: 'general',
    serverUrl: 'Server',
    suggested: 'Suggested rooms',
    active: 'Active rooms',
    activeNone: 'No active rooms yet',
    activeLoading: 'Loading active rooms…',
    activeFailed: 'Could not load the active rooms',
    refresh: 'Refresh',
    users: { one: '{count} user', other: '{count} users' },
    submit: 'Join the room',
  },
  errors: {
    username: USERNAME_ERROR,
    room: ROOM_ERROR,
    message: MESSAGE_ERROR,
    serverUrl: 'Server URL must start with http:// or https://',
    name_taken: 'This name is already used in this room. Pick another one.',
    rate_limited: RATE_LIMIT_ERROR,
    unavailable: 'The server cannot store messages right now; retrying…',
    not_in_room: 'Not in the room; joining again…',
  },
  chat: {
    online: { one: '{count} online', other: '{count} online' },
    connection: {
      connecting: 'Connecting…',
      online: 'Connected',
      reconnecting: 'Reconnecting…',
      offline: 'Offline',
      left: 'Left',
    },
    leave: 'Leave',
    users: 'Online users',
    you: 'you',
    inputPlaceholder: 'Type a message…',
    send: 'Send',
    empty: 'No messages yet. Say hello!',
    joined: '{name} joined the room',
    left: '{name} left the room',
    typing: {
      one: '{a} is typing…',
      two: '{a} and {b} are typing…',
      many: '{a}, {b} and {count} others are typing…',
    },
    pending: 'Sending…',
    failed: 'Not sent: {error}',
    back: 'Back',
  },
};

export default en;
export type Translations = typeof en;
