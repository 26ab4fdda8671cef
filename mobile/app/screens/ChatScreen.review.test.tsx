import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, screen } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import { parseInviteLink, setModerationFetch } from '../services/moderation/api';
import { fakeApi, secureStoreMap } from '../../test/accounts';
import { flushPromises } from '../../test/FakeSocket';
import { BOB_SAYS, fire, longPress, openChat, press, rolesJson, settle, type } from '../../test/moderation';

const KEY = 'device_key_0123456789abcdefghij';
const AT = '2026-12-06T12:00:00Z';

const SETTINGS = {
  room: 'general',
  topic: 'Cats, mostly',
  post: 'everyone',
  slow_mode: 0,
  invite_only: false,
  pins: [] as string[],
  automod: { rules: { words: 'refuse', flood: 'mute', links: 'hold', mentions: 'refuse' } },
};

const QUEUE = {
  room: 'general',
  items: [
    {
      id: 4,
      kind: 'report',
      at: AT,
      rule: null,
      message: { id: BOB_SAYS.id, username: 'bob', message: 'buy cheap pills', timestamp: AT },
      reports: [
        { by: 'dave', reason: 'spam: again', at: AT },
        { by: 'erin', reason: '', at: AT },
      ],
    },
    {
      id: 5,
      kind: 'held',
      at: AT,
      rule: 'links',
      message: { id: null, username: 'mallory', message: 'see http://spam.example', timestamp: AT },
      reports: [],
    },
  ],
};

function auditPage(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: from - i,
    actor: 'carol',
    action: 'kick',
    target: `user${from - i}`,
    reason: '',
    details: {},
    at: AT,
  }));
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
});

afterEach(async () => {
  setModerationFetch(undefined);
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

describe('ChatScreen, reports', () => {
  it('lets a guest report a message: a reason, a confirmation, then thanks', async () => {
    const { socket } = await openChat({ guest: true });
    socket.respond = (emitted) => {
      if (emitted.event === 'report_message') emitted.ack?.({ ok: true, report: 3 });
    };
    await longPress('message-bubble-000000000001');
    // Not staff: no Remove, no Pin; Report is for everyone.
    expect(screen.queryByTestId('message-menu-remove')).toBeNull();
    expect(screen.queryByTestId('message-menu-pin')).toBeNull();
    await press('message-menu-report');
    expect(screen.getByTestId('report-next').props.accessibilityState.disabled).toBe(true);
    await press('report-reason-spam');
    await type('report-details', 'sells pills');
    await press('report-next');
    expect(screen.getByText('Report bob’s message to the moderators?')).toBeTruthy();
    expect(socket.sent('report_message')).toHaveLength(0);
    await press('report-confirm');
    expect(socket.sent('report_message')).toHaveLength(1);
    expect(socket.last('report_message').payload).toEqual({ room: 'general', id: BOB_SAYS.id, reason: 'spam: sells pills' });
    expect(screen.getByTestId('report-done')).toHaveTextContent('Thank you: the moderators will look at it.');
    await press('message-menu-close');
    expect(screen.queryByTestId('message-menu')).toBeNull();
  });

  it('shows a refused report in the server’s words, and offers no Report on one’s own message', async () => {
    const { socket } = await openChat({ you: null });
    socket.respond = (emitted) => {
      if (emitted.event === 'report_message') emitted.ack?.({ ok: false, code: 'rate_limited', error: 'Too many reports: wait a minute' });
    };
    await longPress('message-bubble-000000000001');
    await press('message-menu-report');
    await press('report-reason-other');
    await press('report-next');
    await press('report-confirm');
    expect(socket.last('report_message').payload).toEqual({ room: 'general', id: BOB_SAYS.id, reason: 'other' });
    expect(screen.getByTestId('report-error')).toHaveTextContent('Too many reports: wait a minute');
    await press('message-menu-close');

    socket.respond = (emitted) => {
      if (emitted.event === 'send_message') {
        emitted.ack?.({ ok: true, message: { id: '000000000002', username: 'alice', message: 'mine', timestamp: AT, room: 'general', client_id: emitted.payload.client_id } });
      }
    };
    await type('chat-input', 'mine');
    await press('chat-send');
    await longPress('message-bubble-000000000002');
    expect(screen.queryByTestId('message-menu-report')).toBeNull();
  });
});

describe('ChatScreen, review queue', () => {
  it('badges the moderation button with the live count and decides on the items', async () => {
    const api = fakeApi();
    // Empty at first (read once the screen knows alice moderates), then two items.
    let queue: typeof QUEUE.items = [];
    api.routes['GET /api/v1/rooms/general/queue'] = () => [200, { room: 'general', items: queue }];
    api.routes['GET /api/v1/rooms/general/sanctions'] = [200, { room: 'general', sanctions: [] }];
    api.routes['GET /api/v1/rooms/general/audit'] = [200, { room: 'general', entries: [] }];
    api.routes['POST /api/v1/rooms/general/queue/4'] = (request) => {
      queue = queue.filter((i) => i.id !== 4);
      return [200, { ok: true, id: 4, action: request.body.action }];
    };
    api.routes['POST /api/v1/rooms/general/queue/5'] = [404, { error: 'Not found', code: 'not_found' }];
    const { socket } = await openChat({ api });
    expect(screen.queryByTestId('chat-review-count')).toBeNull();
    queue = QUEUE.items;
    await fire(socket, 'review', { room: 'general', open: 2 });
    expect(screen.getByTestId('chat-review-count')).toHaveTextContent('2');
    expect(screen.getByTestId('chat-moderation').props.accessibilityValue).toEqual({ text: '2 items to review' });

    await press('chat-moderation');
    expect(screen.getByTestId('review-4')).toHaveTextContent(/bob: buy cheap pills/);
    expect(screen.getByTestId('review-4')).toHaveTextContent(/Reported 2 times/);
    expect(screen.getByTestId('review-4-report-0')).toHaveTextContent('dave: spam: again');
    expect(screen.getByTestId('review-4-report-1')).toHaveTextContent('erin: no reason given');
    expect(screen.getByTestId('review-5')).toHaveTextContent(/mallory: see http:\/\/spam.example/);
    expect(screen.getByTestId('review-5')).toHaveTextContent(/Held by the rule “Links”/);
    // The decisions that fit each kind.
    expect(screen.getByTestId('review-dismiss-4')).toBeTruthy();
    expect(screen.queryByTestId('review-approve-4')).toBeNull();
    expect(screen.getByTestId('review-approve-5')).toBeTruthy();
    expect(screen.getByTestId('review-reject-5')).toBeTruthy();

    await press('review-remove-4');
    expect(api.calls('POST', '/api/v1/rooms/general/queue/4')[0].body).toEqual({ action: 'remove' });
    expect(api.calls('POST', '/api/v1/rooms/general/queue/4')[0].headers.Authorization).toBe('Bearer access-alice-1');
    expect(screen.queryByTestId('review-4')).toBeNull();

    // Another moderator approved it first: said so, and the list is read again.
    await press('review-approve-5');
    expect(api.calls('POST', '/api/v1/rooms/general/queue/5')[0].body).toEqual({ action: 'approve' });
    expect(screen.getByTestId('moderation-error')).toHaveTextContent('Already decided by another moderator.');

    // The live count moving reads the queue again.
    const reads = api.calls('GET', '/api/v1/rooms/general/queue').length;
    queue = [];
    await fire(socket, 'review', { room: 'general', open: 0 });
    expect(api.calls('GET', '/api/v1/rooms/general/queue')).toHaveLength(reads + 1);
    expect(screen.getByTestId('review-empty')).toHaveTextContent('Nothing to review.');
    await press('moderation-close');
    expect(screen.queryByTestId('chat-review-count')).toBeNull();
  });

  it('pages the audit log back with “Load more”', async () => {
    const api = fakeApi();
    api.routes['GET /api/v1/rooms/general/queue'] = [200, { room: 'general', items: [] }];
    api.routes['GET /api/v1/rooms/general/sanctions'] = [200, { room: 'general', sanctions: [] }];
    api.routes['GET /api/v1/rooms/general/audit'] = (request) => [
      200,
      { room: 'general', entries: request.query.before ? auditPage(Number(request.query.before) - 1, 10) : auditPage(100, 50) },
    ];
    await openChat({ api });
    await press('chat-moderation');
    expect(screen.getByTestId('audit-100')).toBeTruthy();
    expect(screen.getByTestId('audit-51')).toBeTruthy();
    expect(screen.queryByTestId('audit-50')).toBeNull();
    await press('audit-more');
    const calls = api.calls('GET', '/api/v1/rooms/general/audit');
    expect(calls[0].query).toEqual({ limit: '50' });
    expect(calls[1].query).toEqual({ limit: '50', before: '51' });
    expect(screen.getByTestId('audit-50')).toBeTruthy();
    expect(screen.getByTestId('audit-41')).toBeTruthy();
    // A short page was the last one.
    expect(screen.queryByTestId('audit-more')).toBeNull();
  });
});

describe('ChatScreen, held and refused messages', () => {
  it('keeps a held message marked “Waiting for review”, never sends it again, and shows no error', async () => {
    const { socket } = await openChat({ you: null });
    socket.respond = (emitted) => {
      if (emitted.event === 'send_message') emitted.ack?.({ ok: false, code: 'held', error: 'Your message waits for a moderator' });
    };
    await type('chat-input', 'see http://example.com');
    await press('chat-send');
    expect(screen.getByTestId('message-held-cid-1')).toHaveTextContent('Waiting for review');
    expect(screen.getByText('see http://example.com')).toBeTruthy();
    expect(screen.queryByTestId('chat-error')).toBeNull();
    await act(async () => {
      socket.drop();
      socket.serverConnect();
      await flushPromises();
    });
    await settle();
    expect(socket.sent('send_message')).toHaveLength(1);
  });

  it('shows the automatic refusal in the server’s words', async () => {
    const { socket } = await openChat({ you: null });
    socket.respond = (emitted) => {
      if (emitted.event === 'send_message') {
        emitted.ack?.({ ok: false, code: 'auto_moderated', error: 'Refused: this room does not allow the word “pills”' });
      }
    };
    await type('chat-input', 'pills pills');
    await press('chat-send');
    expect(screen.getAllByText(/this room does not allow the word “pills”/).length).toBeGreaterThan(0);
    expect(screen.queryByTestId('message-held-cid-1')).toBeNull();
  });
});

describe('ChatScreen, room settings', () => {
  it('shows the topic and the pins to everyone, and follows room_settings', async () => {
    const pinned = { ...SETTINGS, pins: [BOB_SAYS.id, '000000000000'] };
    const { socket } = await openChat({ guest: true, join: { settings: pinned } });
    expect(screen.getByTestId('chat-topic')).toHaveTextContent('Cats, mostly');
    expect(screen.getByTestId('chat-pins')).toHaveTextContent('📌 2');
    await press('chat-pins');
    expect(screen.getByTestId(`pinned-${BOB_SAYS.id}`)).toHaveTextContent(/^bob: buy cheap pills/);
    expect(screen.getByTestId('pinned-000000000000')).toHaveTextContent('Message 0: tap to show it');
    expect(screen.queryByTestId(`pinned-unpin-${BOB_SAYS.id}`)).toBeNull();
    await press(`pinned-${BOB_SAYS.id}`);
    expect(screen.queryByTestId('pinned-sheet')).toBeNull();

    await fire(socket, 'room_settings', { ...SETTINGS, topic: 'Dogs now' });
    expect(screen.getByTestId('chat-topic')).toHaveTextContent('Dogs now');
    expect(screen.queryByTestId('chat-pins')).toBeNull();
  });

  it('says above the composer who may write and the slow mode (not to staff)', async () => {
    const { socket } = await openChat({ guest: true, join: { settings: { ...SETTINGS, post: 'registered' } } });
    expect(screen.getByTestId('chat-room-rules')).toHaveTextContent('Only accounts may write in this room: log in to write.');
    await fire(socket, 'room_settings', { ...SETTINGS, slow_mode: 300 });
    expect(screen.getByTestId('chat-room-rules')).toHaveTextContent('Slow mode: one message every 5 min.');
    await act(async () => setLanguage('fr'));
    await fire(socket, 'room_settings', { ...SETTINGS, slow_mode: 30 });
    expect(screen.getByTestId('chat-room-rules')).toHaveTextContent('Mode lent : un message toutes les 30 s.');
    await fire(socket, 'room_settings', SETTINGS);
    expect(screen.queryByTestId('chat-room-rules')).toBeNull();
  });

  it('holds no moderator back', async () => {
    await openChat({ join: { settings: { ...SETTINGS, post: 'members', slow_mode: 60 } } });
    expect(screen.getByTestId('chat-moderation')).toBeTruthy();
    expect(screen.queryByTestId('chat-room-rules')).toBeNull();
  });

  it('lets a moderator pin and unpin from the message menu', async () => {
    const api = fakeApi({
      [`PUT /api/v1/rooms/general/pins/${BOB_SAYS.id}`]: [200, { ...SETTINGS, pins: [BOB_SAYS.id] }],
      [`DELETE /api/v1/rooms/general/pins/${BOB_SAYS.id}`]: [200, { ...SETTINGS, pins: [] }],
    });
    await openChat({ api, join: { settings: SETTINGS } });
    await longPress('message-bubble-000000000001');
    await press('message-menu-pin');
    expect(api.calls('PUT', `/api/v1/rooms/general/pins/${BOB_SAYS.id}`)).toHaveLength(1);
    expect(screen.getByTestId('chat-pins')).toHaveTextContent('📌 1');
    await longPress('message-bubble-000000000001');
    await press('message-menu-unpin');
    expect(api.calls('DELETE', `/api/v1/rooms/general/pins/${BOB_SAYS.id}`)).toHaveLength(1);
    expect(screen.queryByTestId('chat-pins')).toBeNull();

    // And from the list of pins.
    await longPress('message-bubble-000000000001');
    await press('message-menu-pin');
    await press('chat-pins');
    await press(`pinned-unpin-${BOB_SAYS.id}`);
    expect(api.calls('DELETE', `/api/v1/rooms/general/pins/${BOB_SAYS.id}`)).toHaveLength(2);
    expect(screen.queryByTestId('pinned-sheet')).toBeNull();
  });

  it('edits the settings, the rules and the words, and renews the invite link', async () => {
    const api = fakeApi();
    let current: Record<string, unknown> = {
      ...SETTINGS,
      invite_only: true,
      invite_code: 'abc123',
      automod: { ...SETTINGS.automod, words: ['pills'] },
    };
    api.routes['GET /api/v1/rooms/general/settings'] = () => [200, current];
    api.routes['GET /api/v1/rooms/general/queue'] = [200, { room: 'general', items: [] }];
    api.routes['GET /api/v1/rooms/general/sanctions'] = [200, { room: 'general', sanctions: [] }];
    api.routes['GET /api/v1/rooms/general/audit'] = [200, { room: 'general', entries: [] }];
    api.routes['PATCH /api/v1/rooms/general/settings'] = (request) => {
      current = { ...current, ...request.body, automod: { rules: { ...SETTINGS.automod.rules, ...request.body.automod?.rules }, words: request.body.automod?.words } };
      return [200, current];
    };
    api.routes['POST /api/v1/rooms/general/invite'] = () => {
      current = { ...current, invite_code: 'def456' };
      return [200, { ok: true, invite_code: 'def456' }];
    };
    await openChat({ api, join: { settings: SETTINGS } });
    await press('chat-moderation');
    await press('moderation-settings');
    expect(screen.queryByTestId('moderation-sheet')).toBeNull();
    expect(screen.getByTestId('settings-topic').props.value).toBe('Cats, mostly');
    expect(screen.getByTestId('settings-rule-links-hold').props.accessibilityState.selected).toBe(true);
    expect(screen.getByTestId('settings-words').props.value).toBe('pills');
    expect(screen.getByTestId('settings-invite-link')).toHaveTextContent('http://chat.test:5000/?room=general&invite=abc123');

    await type('settings-topic', 'Cats and dogs');
    await press('settings-post-registered');
    await press('settings-slow-30');
    await press('settings-rule-links-off');
    await press('settings-rule-flood-hold');
    await type('settings-words', 'pills\ncasino\n\npills');
    await press('settings-save');
    expect(api.calls('PATCH', '/api/v1/rooms/general/settings')[0].body).toEqual({
      topic: 'Cats and dogs',
      post: 'registered',
      slow_mode: 30,
      automod: { rules: { links: 'off', flood: 'hold' }, words: ['pills', 'casino'] },
    });
    expect(screen.getByTestId('settings-notice')).toHaveTextContent('Settings saved.');
    // Shown at once in the header (the room_settings event says the same).
    expect(screen.getByTestId('chat-topic')).toHaveTextContent('Cats and dogs');

    await press('settings-invite-renew');
    expect(api.calls('POST', '/api/v1/rooms/general/invite')).toHaveLength(1);
    expect(screen.getByTestId('settings-invite-link')).toHaveTextContent(/invite=def456$/);
    expect(screen.getByTestId('settings-notice')).toHaveTextContent('A new link: the old one no longer works.');

    await press('settings-invite-only');
    await press('settings-save');
    expect(api.calls('PATCH', '/api/v1/rooms/general/settings')[1].body).toEqual({ invite_only: false });
    await press('settings-close');
    expect(screen.queryByTestId('room-settings')).toBeNull();
  });

  it('shows a refused change in the server’s words', async () => {
    const api = fakeApi({
      'GET /api/v1/rooms/general/settings': [200, SETTINGS],
      'GET /api/v1/rooms/general/queue': [200, { room: 'general', items: [] }],
      'GET /api/v1/rooms/general/sanctions': [200, { room: 'general', sanctions: [] }],
      'GET /api/v1/rooms/general/audit': [200, { room: 'general', entries: [] }],
      'PATCH /api/v1/rooms/general/settings': [400, { error: 'Topic too long', code: 'invalid' }],
    });
    await openChat({ api });
    await press('chat-moderation');
    await press('moderation-settings');
    await type('settings-topic', 'x');
    await press('settings-save');
    expect(screen.getByTestId('settings-error')).toHaveTextContent('Topic too long');
  });
});

describe('ChatScreen, invite links', () => {
  it('reads the room and the code of an invite link', () => {
    expect(parseInviteLink('http://chat.test:5000/?room=secret&invite=a1b2')).toEqual({ room: 'secret', invite: 'a1b2' });
    expect(parseInviteLink(' https://x.test/?invite=c%2Fd&room=r#top ')).toEqual({ room: 'r', invite: 'c/d' });
    expect(parseInviteLink('secret')).toBeNull();
    expect(parseInviteLink('http://x.test/?room=secret')).toBeNull();
  });

  it('joins an invite-only room from a pasted link, and words the refusal in French', async () => {
    const { socket } = await openChat({ guest: true });
    await press('chat-rooms-toggle');
    await type('rooms-join-input', 'http://chat.test:5000/?room=secret&invite=a1b2');
    await press('rooms-join');
    expect(socket.last('join_room').payload).toMatchObject({ room: 'secret', invite: 'a1b2', username: 'alice' });

    setLanguage('fr');
    await press('chat-rooms-toggle');
    await type('rooms-join-input', 'hidden');
    await press('rooms-join');
    const join = socket.last('join_room');
    expect(join.payload.room).toBe('hidden');
    expect(join.payload.invite).toBeUndefined();
    await act(async () => {
      join.ack?.({ ok: false, code: 'invite_only', error: 'This room is by invitation only' });
      await flushPromises();
    });
    await settle();
    expect(screen.getByTestId('chat-error')).toHaveTextContent('#hidden: Cette room est sur invitation seulement.');
  });
});

describe('ChatScreen, live roles', () => {
  it('follows the roles event: badges and the viewer’s own staff controls', async () => {
    const { socket } = await openChat({ you: null });
    expect(screen.queryByTestId('chat-moderation')).toBeNull();
    await fire(socket, 'roles', {
      room: 'general',
      owner: { username: 'carol', display_name: 'Carol' },
      moderators: [{ username: 'alice', display_name: 'Alice' }],
    });
    expect(screen.getByTestId('chat-moderation')).toBeTruthy();
    await press('chat-users-toggle');
    expect(screen.getByTestId('chat-user-role-alice')).toHaveTextContent('moderator');
    await fire(socket, 'roles', { room: 'general', owner: { username: 'bob', display_name: 'Bob' }, moderators: [] });
    expect(screen.queryByTestId('chat-moderation')).toBeNull();
    expect(screen.queryByTestId('chat-user-role-alice')).toBeNull();
    expect(screen.getByTestId('chat-user-role-bob')).toHaveTextContent('owner');
    expect(screen.queryByTestId('chat-user-role-carol')).toBeNull();
  });

  it('reads the review count when the viewer is made a moderator', async () => {
    const api = fakeApi({ 'GET /api/v1/rooms/general/queue': [200, QUEUE] });
    const { socket } = await openChat({ api, you: null });
    expect(api.calls('GET', '/api/v1/rooms/general/queue')).toHaveLength(0);
    await fire(socket, 'roles', { room: 'general', owner: null, moderators: [{ username: 'alice', display_name: 'Alice' }] });
    expect(api.calls('GET', '/api/v1/rooms/general/queue')).toHaveLength(1);
    expect(screen.getByTestId('chat-review-count')).toHaveTextContent('2');
    // The event says the rest.
    await fire(socket, 'review', { room: 'general', open: 3 });
    expect(screen.getByTestId('chat-review-count')).toHaveTextContent('3');
  });

  it('keeps an administrator one, and lets them hand the room over', async () => {
    const api = fakeApi({ 'PUT /api/v1/rooms/general/owner': [200, { ok: true }] });
    api.routes['GET /api/v1/rooms/general/roles'] = [200, rolesJson('admin')];
    const { socket } = await openChat({ api });
    await fire(socket, 'roles', { room: 'general', owner: { username: 'carol', display_name: 'Carol' }, moderators: [] });
    expect(screen.getByTestId('chat-moderation')).toBeTruthy();
    await press('chat-users-toggle');
    await press('chat-user-bob');
    await press('staff-hand-over');
    expect(screen.getByText('Hand #general to bob? You stay an administrator.')).toBeTruthy();
    await press('staff-hand-over-confirm');
    expect(api.calls('PUT', '/api/v1/rooms/general/owner')[0].body).toEqual({ username: 'bob' });
    expect(screen.getByTestId('profile-notice')).toHaveTextContent('bob now owns the room.');
  });

  it('offers no hand-over to an owner', async () => {
    const api = fakeApi();
    api.routes['GET /api/v1/rooms/general/roles'] = [200, { ...rolesJson('owner'), owner: { username: 'alice', display_name: 'Alice' } }];
    await openChat({ api });
    await press('chat-users-toggle');
    await press('chat-user-bob');
    expect(screen.getByTestId('staff-actions')).toBeTruthy();
    expect(screen.queryByTestId('staff-hand-over')).toBeNull();
  });
});

describe('ChatScreen, moderation in French', () => {
  it('words the report, the queue and the held message in French', async () => {
    setLanguage('fr');
    const { socket } = await openChat({ you: null });
    socket.respond = (emitted) => {
      if (emitted.event === 'send_message') emitted.ack?.({ ok: false, code: 'held', error: 'Held' });
    };
    await type('chat-input', 'voir http://example.com');
    await press('chat-send');
    expect(screen.getByTestId('message-held-cid-1')).toHaveTextContent('En attente de modération');
    await longPress('message-bubble-000000000001');
    expect(screen.getByTestId('message-menu-report')).toHaveTextContent('Signaler');
    await press('message-menu-report');
    expect(screen.getByTestId('report-reason-harassment')).toHaveTextContent('Harcèlement');
  });
});
