import { useState } from 'react';
import { Pressable, ScrollView, StyleSheet, Text, TextInput, View } from 'react-native';

import { format, plural, strings } from '../i18n';
import type { RoomSummary } from '../services/socket/ChatService';
import { radius, spacing, type ThemeColors } from '../theme';

interface RoomsPanelProps {
  rooms: RoomSummary[];
  colors: ThemeColors;
  onSwitch: (room: string) => void;
  onLeave: (room: string) => void;
  /** Join a room by id; returns the error to show, or null once it is joined. */
  onJoin: (room: string) => string | null;
}

/**
 * The rooms this connection is in (protocol 2): each with its unread and mention counts;
 * a tap shows it, × leaves it; and a field to join another room by id.
 */
export function RoomsPanel({ rooms, colors, onSwitch, onLeave, onJoin }: RoomsPanelProps) {
  const t = strings().rooms;
  const [room, setRoom] = useState('');
  const [error, setError] = useState<string | null>(null);

  const join = () => {
    const failed = onJoin(room);
    setError(failed);
    if (!failed) setRoom('');
  };

  return (
    <View testID="chat-rooms-panel" style={[styles.panel, { backgroundColor: colors.surface, borderColor: colors.border }]}>
      <Text style={[styles.title, { color: colors.textMuted }]}>{t.title}</Text>
      <ScrollView style={styles.list} keyboardShouldPersistTaps="handled">
        {rooms.map((summary) => {
          const parts = [`#${summary.room}`];
          if (summary.unread > 0) parts.push(plural(t.unread, summary.unread));
          if (summary.mentions > 0) parts.push(plural(t.mentions, summary.mentions));
          return (
            <View key={summary.room} style={styles.row}>
              <Pressable
                testID={`room-${summary.room}`}
                accessibilityRole="button"
                accessibilityLabel={parts.join(', ')}
                aria-selected={summary.active}
                onPress={() => onSwitch(summary.room)}
                style={[styles.room, summary.active && { backgroundColor: colors.background }]}
              >
                <Text
                  numberOfLines={1}
                  style={[styles.name, { color: colors.text }, summary.active && styles.nameActive]}
                >
                  #{summary.room}
                </Text>
                {summary.mentions > 0 ? (
                  <Text
                    testID={`room-mentions-${summary.room}`}
                    style={[styles.badge, { backgroundColor: colors.offline, color: colors.headerText }]}
                  >
                    @{summary.mentions}
                  </Text>
                ) : null}
                {summary.unread > 0 ? (
                  <Text
                    testID={`room-unread-${summary.room}`}
                    style={[styles.badge, { backgroundColor: colors.accent, color: colors.accentText }]}
                  >
                    {summary.unread}
                  </Text>
                ) : null}
              </Pressable>
              <Pressable
                testID={`room-leave-${summary.room}`}
                accessibilityRole="button"
                accessibilityLabel={format(t.leave, { room: summary.room })}
                onPress={() => onLeave(summary.room)}
                hitSlop={8}
                style={styles.leave}
              >
                <Text style={[styles.leaveText, { color: colors.textMuted }]}>×</Text>
              </Pressable>
            </View>
          );
        })}
      </ScrollView>
      <View style={styles.joinRow}>
        <TextInput
          testID="rooms-join-input"
          value={room}
          onChangeText={(value) => {
            setRoom(value);
            if (error) setError(null);
          }}
          placeholder={t.joinPlaceholder}
          placeholderTextColor={colors.textMuted}
          accessibilityLabel={t.joinPlaceholder}
          autoCapitalize="none"
          autoCorrect={false}
          onSubmitEditing={join}
          submitBehavior="submit"
          returnKeyType="go"
          style={[styles.input, { backgroundColor: colors.background, color: colors.text, borderColor: colors.border }]}
        />
        <Pressable
          testID="rooms-join"
          accessibilityRole="button"
          accessibilityLabel={t.join}
          onPress={join}
          style={[styles.joinButton, { backgroundColor: colors.accent }]}
        >
          <Text style={[styles.joinText, { color: colors.accentText }]}>{t.join}</Text>
        </Pressable>
      </View>
      {error ? (
        <Text testID="rooms-join-error" accessibilityRole="alert" style={[styles.error, { color: colors.error }]}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  panel: {
    borderBottomWidth: StyleSheet.hairlineWidth,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.sm,
    maxHeight: 320,
  },
  title: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginBottom: spacing.xs },
  list: { flexGrow: 0 },
  row: { flexDirection: 'row', alignItems: 'center' },
  room: {
    flex: 1,
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.sm,
    paddingVertical: spacing.sm,
    paddingHorizontal: spacing.sm,
    borderRadius: radius.sm,
  },
  name: { flex: 1, fontSize: 15 },
  nameActive: { fontWeight: '700' },
  badge: {
    minWidth: 22,
    textAlign: 'center',
    fontSize: 12,
    fontWeight: '700',
    borderRadius: radius.round,
    paddingHorizontal: 6,
    paddingVertical: 1,
    overflow: 'hidden',
  },
  leave: { paddingHorizontal: spacing.sm, paddingVertical: spacing.xs },
  leaveText: { fontSize: 20 },
  joinRow: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, marginTop: spacing.sm },
  input: {
    flex: 1,
    borderWidth: 1,
    borderRadius: radius.round,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.xs,
    fontSize: 15,
    minHeight: 36,
  },
  joinButton: { borderRadius: radius.round, paddingHorizontal: spacing.lg, paddingVertical: spacing.sm },
  joinText: { fontSize: 14, fontWeight: '700' },
  error: { fontSize: 12, marginTop: spacing.xs },
});
