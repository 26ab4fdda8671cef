import {
  MESSAGE_ERROR,
  ROOM_ERROR,
  USERNAME_ERROR,
  codePointLength,
  validateMessage,
  validateRoom,
  validateServerUrl,
  validateUsername,
} from './validation';

describe('username', () => {
  it.each([
    ['alice', 'alice'],
    ['  Bob  ', 'Bob'],
    ['Jean-Luc Picard', 'Jean-Luc Picard'],
    ['ann.b_c', 'ann.b_c'],
    ['Élodie', 'Élodie'],
    ['李雷', '李雷'],
    ['x'.repeat(32), 'x'.repeat(32)],
    ['7', '7'],
    // NFC: "e" + combining acute becomes one code point.
    ['Zoe\u0301', 'Zoé'],
  ])('accepts %j as %j', (raw, value) => {
    expect(validateUsername(raw)).toEqual({ ok: true, value });
  });

  it.each([
    [''],
    ['   '],
    ['x'.repeat(33)],
    ['...'],
    ['-_ .'],
    ['bob!'],
    ['a@b'],
    ['😀 emoji'],
    ['<script>'],
    ['tab\there'],
  ])('refuses %j with the server message', (raw) => {
    expect(validateUsername(raw)).toEqual({ ok: false, error: USERNAME_ERROR });
  });

  it('uses the exact protocol message', () => {
    expect(USERNAME_ERROR).toBe('Username must be 1-32 characters: letters, digits, spaces, - _ .');
  });
});

describe('room', () => {
  it.each([
    ['general', 'general'],
    ['  Tech ', 'tech'],
    ['my-room_2', 'my-room_2'],
    ['r'.repeat(32), 'r'.repeat(32)],
  ])('accepts %j as %j', (raw, value) => {
    expect(validateRoom(raw)).toEqual({ ok: true, value });
  });

  it.each([[''], ['  '], ['r'.repeat(33)], ['my room'], ['café'], ['a.b'], ['#general']])(
    'refuses %j with the server message',
    (raw) => {
      expect(validateRoom(raw)).toEqual({ ok: false, error: ROOM_ERROR });
    },
  );

  it('uses the exact protocol message', () => {
    expect(ROOM_ERROR).toBe('Room id must be 1-32 characters: a-z, 0-9, - _');
  });
});

describe('message', () => {
  it('trims and accepts 1 to 2000 characters', () => {
    expect(validateMessage('  hi  ')).toEqual({ ok: true, value: 'hi' });
    expect(validateMessage('a'.repeat(2000))).toEqual({ ok: true, value: 'a'.repeat(2000) });
  });

  it('counts code points like the server, not UTF-16 units', () => {
    const emoji = '😀'.repeat(2000);
    expect(emoji.length).toBe(4000);
    expect(codePointLength(emoji)).toBe(2000);
    expect(validateMessage(emoji).ok).toBe(true);
    expect(validateMessage(`${emoji}😀`)).toEqual({ ok: false, error: MESSAGE_ERROR });
  });

  it('refuses empty, blank and too long messages with the server message', () => {
    for (const raw of ['', '   \n ', 'a'.repeat(2001)]) {
      expect(validateMessage(raw)).toEqual({ ok: false, error: MESSAGE_ERROR });
    }
    expect(MESSAGE_ERROR).toBe('Message must be 1-2000 characters');
  });
});

describe('server url', () => {
  it('accepts http and https addresses and drops a trailing slash', () => {
    expect(validateServerUrl('http://192.168.1.20:5000/')).toEqual({
      ok: true,
      value: 'http://192.168.1.20:5000',
    });
    expect(validateServerUrl(' https://chat.example.org ')).toEqual({
      ok: true,
      value: 'https://chat.example.org',
    });
  });

  it('refuses anything else', () => {
    for (const raw of ['', 'localhost:5000', 'ws://x', 'http://', 'http://a b']) {
      expect(validateServerUrl(raw).ok).toBe(false);
    }
  });
});
