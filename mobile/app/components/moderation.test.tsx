import { act, fireEvent, render, screen } from '@testing-library/react-native';

import { setLanguage } from '../i18n';
import type { QueueItem, RoomSettings, RoomTools } from '../services/moderation/api';
import { lightColors } from '../theme';
import { MessageMenu, reportReason } from './MessageMenu';
import { ModerationSheet, decisionsOf } from './ModerationSheet';
import { RoomSettingsSheet, settingsPatch, wordsFromText } from './RoomSettingsSheet';

const colors = lightColors;
const AT = '2026-12-06T12:00:00Z';

const SETTINGS: RoomSettings = {
  room: 'general',
  topic: 'Cats',
  post: 'everyone',
  slowMode: 0,
  inviteOnly: false,
  pins: [],
  automod: { rules: { words: 'refuse', flood: 'mute', links: 'hold', mentions: 'refuse' }, words: ['pills'] },
};

const HELD: QueueItem = {
  id: 5,
  kind: 'held',
  at: AT,
  rule: 'words',
  message: { id: null, username: 'mallory', message: 'pills', timestamp: AT },
  reports: [],
};

async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  });
}

async function press(testID: string) {
  await act(async () => {
    fireEvent.press(screen.getByTestId(testID));
  });
  await settle();
}

afterEach(() => setLanguage('en'));

describe('the words of a report and of a settings change', () => {
  it('sends the reason’s key and the details', () => {
    expect(reportReason('spam', '  ')).toBe('spam');
    expect(reportReason('harassment', ' calls me names ')).toBe('harassment: calls me names');
  });

  it('reads banned words one a line (or comma), without blanks or repeats', () => {
    expect(wordsFromText('pills\n\n casino , Pills\nbet')).toEqual(['pills', 'casino', 'bet']);
  });

  it('patches only what changed', () => {
    const form = { topic: ' Cats ', post: 'everyone' as const, slowMode: 0, inviteOnly: false, rules: { ...SETTINGS.automod!.rules }, words: 'pills' };
    expect(settingsPatch(SETTINGS, form)).toEqual({});
    expect(settingsPatch(SETTINGS, { ...form, slowMode: 60, rules: { ...form.rules, mentions: 'hold' } })).toEqual({
      slowMode: 60,
      automod: { rules: { mentions: 'hold' } },
    });
    expect(settingsPatch(SETTINGS, { ...form, words: '' })).toEqual({ automod: { words: [] } });
  });

  it('offers the decisions that fit an item', () => {
    expect(decisionsOf(HELD)).toEqual(['approve', 'reject']);
    expect(decisionsOf({ ...HELD, kind: 'report' })).toEqual(['dismiss', 'remove']);
  });
});

describe('ModerationSheet with a fake client', () => {
  function fakeClient() {
    return {
      sanctions: jest.fn(async () => []),
      audit: jest.fn(async () => []),
      lift: jest.fn(async () => undefined),
    };
  }

  it('still lists sanctions and the log when the queue cannot be read', async () => {
    const tools = { queue: jest.fn(async () => Promise.reject(new Error('offline'))), decide: jest.fn() };
    render(<ModerationSheet room="general" title="#general" client={fakeClient()} tools={tools as unknown as Pick<RoomTools, 'queue' | 'decide'>} colors={colors} onClose={() => undefined} />);
    await settle();
    expect(screen.getByTestId('review-error')).toBeTruthy();
    expect(screen.getByTestId('moderation-no-sanctions')).toBeTruthy();
  });

  it('approves a held message and reads the queue again', async () => {
    let items: QueueItem[] = [HELD];
    const tools = {
      queue: jest.fn(async () => items),
      decide: jest.fn(async () => {
        items = [];
        return { id: 5, action: 'approve' as const };
      }),
    };
    render(<ModerationSheet room="general" title="#general" client={fakeClient()} tools={tools} colors={colors} onClose={() => undefined} />);
    await settle();
    expect(screen.getByTestId('review-5')).toHaveTextContent(/Held by the rule “Banned words”/);
    expect(screen.getByTestId('review-approve-5').props.accessibilityLabel).toBe('Approve: mallory’s message');
    await press('review-approve-5');
    expect(tools.decide).toHaveBeenCalledWith('general', 5, 'approve');
    expect(screen.getByTestId('review-empty')).toBeTruthy();
  });
});

describe('RoomSettingsSheet with a fake client', () => {
  it('has no words field for a view without them, and no invite link for an open room', async () => {
    const tools = {
      settings: jest.fn(async () => ({ ...SETTINGS, automod: { rules: SETTINGS.automod!.rules } })),
      updateSettings: jest.fn(),
      renewInvite: jest.fn(),
    };
    render(<RoomSettingsSheet room="general" title="#general" serverUrl="http://x.test" tools={tools as never} colors={colors} onClose={() => undefined} />);
    await settle();
    expect(screen.getByTestId('settings-topic').props.value).toBe('Cats');
    expect(screen.queryByTestId('settings-words')).toBeNull();
    expect(screen.queryByTestId('settings-invite-link')).toBeNull();
    expect(screen.getByTestId('settings-slow-0').props.accessibilityState.selected).toBe(true);
  });

  it('says an ownerless room has no settings', async () => {
    const refusal = Object.assign(new Error('This room has no owner'), { status: 409, code: 'no_owner' });
    const tools = { settings: jest.fn(async () => Promise.reject(refusal)), updateSettings: jest.fn(), renewInvite: jest.fn() };
    render(<RoomSettingsSheet room="general" title="#general" serverUrl="http://x.test" tools={tools as never} colors={colors} onClose={() => undefined} />);
    await settle();
    expect(screen.getByTestId('settings-error')).toHaveTextContent('Only rooms with an owner have settings.');
    expect(screen.queryByTestId('settings-save')).toBeNull();
  });

  it('adds the room’s own slow-mode value to the choices, in French', async () => {
    setLanguage('fr');
    const tools = { settings: jest.fn(async () => ({ ...SETTINGS, slowMode: 45 })), updateSettings: jest.fn(), renewInvite: jest.fn() };
    render(<RoomSettingsSheet room="general" title="#general" serverUrl="http://x.test" tools={tools as never} colors={colors} onClose={() => undefined} />);
    await settle();
    expect(screen.getByTestId('settings-slow-45').props.accessibilityState.selected).toBe(true);
    expect(screen.getByTestId('settings-rule-flood-mute')).toHaveTextContent('Rendre muet');
  });
});

describe('MessageMenu with a fake report', () => {
  it('does not send before the confirmation, and shows the outcome', async () => {
    const onReport = jest.fn(async () => null);
    const item = {
      kind: 'message' as const,
      key: 'm-1',
      own: false,
      message: { id: '000000000001', username: 'bob', message: 'hi', timestamp: AT, room: 'general', type: 'message' as const },
    };
    render(
      <MessageMenu
        item={item}
        colors={colors}
        onReact={jest.fn()}
        onReply={jest.fn()}
        onEdit={jest.fn()}
        onDelete={jest.fn()}
        onClose={jest.fn()}
        onReport={onReport}
      />,
    );
    await press('message-menu-report');
    await press('report-reason-offensive');
    await press('report-next');
    expect(onReport).not.toHaveBeenCalled();
    await press('report-confirm');
    expect(onReport).toHaveBeenCalledWith('offensive');
    expect(screen.getByTestId('report-done')).toBeTruthy();
  });
});
