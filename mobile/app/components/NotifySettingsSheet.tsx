import { isPrivateRoom } from '@talkrooms/client';
import { useEffect, useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import { NOTIFY_LEVELS, type NotifyLevel, type NotifySettingsTools, type RoomNotifySetting } from '../services/notifications/push';
import { radius, spacing, type ThemeColors } from '../theme';
import { formatTime } from './formatTime';
import { Sheet } from './Sheet';

interface NotifySettingsSheetProps {
  room: string;
  /** How the room is named on screen (#room, or the other person's name). */
  title: string;
  tools: NotifySettingsTools;
  colors: ThemeColors;
  onClose: () => void;
}

/** The mute choices (minutes; 0 lifts the mute), as the web UI offers them. */
const MUTES: readonly { minutes: number; key: 'mute1h' | 'mute8h' | 'mute24h' | 'muteOff' }[] = [
  { minutes: 60, key: 'mute1h' },
  { minutes: 480, key: 'mute8h' },
  { minutes: 1440, key: 'mute24h' },
  { minutes: 0, key: 'muteOff' },
];

const LEVEL_KEY: Record<NotifyLevel, 'all' | 'mentions' | 'none'> = { all: 'all', mentions: 'mentions', none: 'none' };

/** The server's default when nothing is stored: a conversation notifies of all, a room of mentions. */
function defaultSetting(room: string): RoomNotifySetting {
  return { room, level: isPrivateRoom(room) ? 'all' : 'mentions', mutedUntil: null };
}

/**
 * A room's or conversation's notifications: the level (all / mentions / nothing) and a mute
 * (1 h, 8 h, 24 h, off), read from and written to the server (`/api/v1/notifications`).
 */
export function NotifySettingsSheet({ room, title, tools, colors, onClose }: NotifySettingsSheetProps) {
  const t = strings().notifications;
  const [setting, setSetting] = useState<RoomNotifySetting | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let cancelled = false;
    tools.settings().then(
      (all) => {
        if (!cancelled) setSetting(all.find((s) => s.room === room) ?? defaultSetting(room));
      },
      () => {
        if (cancelled) return;
        setSetting(defaultSetting(room));
        setError(t.loadFailed);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [tools, room, t.loadFailed]);

  const change = (patch: { level?: NotifyLevel; muteMinutes?: number }) => {
    setBusy(true);
    setError(null);
    tools.setRoom(room, patch).then(
      (saved) => {
        setSetting(saved);
        setBusy(false);
      },
      () => {
        setError(t.failed);
        setBusy(false);
      },
    );
  };

  // The server lists a muted_until only while the mute runs.
  const muted = setting?.mutedUntil ?? null;
  const chip = (selected: boolean) => [
    styles.chip,
    { borderColor: selected ? colors.accent : colors.border, backgroundColor: selected ? colors.accent : 'transparent' },
  ];
  const chipText = (selected: boolean) => ({ color: selected ? colors.accentText : colors.text });

  return (
    <Sheet testID="notify-sheet" label={format(t.title, { room: title })} colors={colors} onClose={onClose}>
      <Text accessibilityRole="header" style={[styles.heading, { color: colors.text }]}>
        🔔 {format(t.title, { room: title })}
      </Text>
      {setting === null ? (
        <Text style={{ color: colors.textMuted }}>{t.loading}</Text>
      ) : (
        <>
          <Text style={[styles.label, { color: colors.textMuted }]}>{t.level}</Text>
          <View style={styles.row} accessibilityRole="radiogroup">
            {NOTIFY_LEVELS.map((level) => {
              const selected = setting.level === level;
              return (
                <Pressable
                  key={level}
                  testID={`notify-level-${level}`}
                  accessibilityRole="radio"
                  accessibilityState={{ checked: selected, disabled: busy }}
                  disabled={busy}
                  onPress={() => change({ level })}
                  style={chip(selected)}
                >
                  <Text style={chipText(selected)}>{t[LEVEL_KEY[level]]}</Text>
                </Pressable>
              );
            })}
          </View>
          <Text style={[styles.label, { color: colors.textMuted }]}>{t.mute}</Text>
          <View style={styles.row}>
            {MUTES.map(({ minutes, key }) => (
              <Pressable
                key={key}
                testID={`notify-mute-${minutes}`}
                accessibilityRole="button"
                accessibilityState={{ disabled: busy }}
                disabled={busy}
                onPress={() => change({ muteMinutes: minutes })}
                style={chip(false)}
              >
                <Text style={chipText(false)}>{t[key]}</Text>
              </Pressable>
            ))}
          </View>
          <Text testID="notify-muted" style={{ color: colors.textMuted }}>
            {muted ? format(t.mutedUntil, { time: formatTime(muted) }) : t.notMuted}
          </Text>
        </>
      )}
      {error ? (
        <Text testID="notify-error" accessibilityRole="alert" style={{ color: colors.offline }}>
          {error}
        </Text>
      ) : null}
      <Pressable testID="notify-close" accessibilityRole="button" onPress={onClose} style={styles.close} hitSlop={6}>
        <Text style={{ color: colors.accent }}>{t.close}</Text>
      </Pressable>
    </Sheet>
  );
}

const styles = StyleSheet.create({
  heading: { fontSize: 17, fontWeight: '600', marginBottom: spacing.sm },
  label: { marginTop: spacing.sm, fontSize: 13 },
  row: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  chip: { borderWidth: 1, borderRadius: radius.round, paddingHorizontal: spacing.md, paddingVertical: spacing.xs },
  close: { alignSelf: 'flex-end', marginTop: spacing.md },
});
