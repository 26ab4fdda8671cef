import { isPrivateRoom, type Conversation } from '@talkrooms/client';
import { useState } from 'react';
import { Pressable, ScrollView, StyleSheet, Text, TextInput, View } from 'react-native';

import { format, plural, strings } from '../i18n';
import type { RoomSummary } from '../services/socket/ChatService';
import { radius, spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';

interface RoomsPanelProps {
  rooms: RoomSummary[];
  colors: ThemeColors;
  onSwitch: (room: string) => void;
  onLeave: (room: string) => void;
  /** Join a room by id; returns the error to show, or null once it is joined. */
  onJoin: (room: string) => string | null;
  /** Signed in: the private conversations (their rooms are among `rooms` once joined). */
  conversations?: Conversation[];
  /** False for a guest: "New message" says private messages need an account. */
  signedIn?: boolean;
  /** "New message" to a username; resolves to the error to show, or null once it is open. */
  onNewMessage?: (username: string) => Promise<string | null>;
}

/**
 * The rooms this connection is in (protocol 2): each with its unread and mention counts;
 * a tap shows it, × leaves it; and a field to join another room by id.
 */
export function RoomsPanel({
  rooms,
  colors,
  onSwitch,
  onLeave,
  onJoin,
  conversations = [],
  signedIn = false,
  onNewMessage,
}: RoomsPanelProps) {
  const t = strings().rooms;
  const tc = strings().conversations;
  const [room, setRoom] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [composing, setComposing] = useState(false);
  const [recipient, setRecipient] = useState('');
  const [dmError, setDmError] = useState<string | null>(null);
  const [opening, setOpening] = useState(false);
  const publicRooms = rooms.filter((summary) => !isPrivateRoom(summary.room));
  const summaries = new Map(rooms.map((summary) => [summary.room, summary]));

  const newMessage = () => {
    setDmError(null);
    if (!signedIn) {
      setComposing(false);
      setDmError(tc.accountRequired);
      return;
    }
    setComposing((v) => !v);
  };

  const startConversation = async () => {
    const name = recipient.trim();
    if (!name || !onNewMessage || opening) return;
    setOpening(true);
    const failed = await onNewMessage(name);
    setOpening(false);
    setDmError(failed);
    if (!failed) {
      setRecipient('');
      setComposing(false);
    }
  };

  const join = () => {
    const failed = onJoin(room);
    setError(failed);
    if (!failed) setRoom('');
  };

  return (
    <View testID="chat-rooms-panel" style={[styles.panel, { backgroundColor: colors.surface, borderColor: colors.border }]}>
      <Text style={[styles.title, { color: colors.textMuted }]}>{t.title}</Text>
      <ScrollView style={styles.list} keyboardShouldPersistTaps="handled">
        {publicRooms.map((summary) => {
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
        <View style={styles.sectionRow}>
          <Text style={[styles.title, { color: colors.textMuted }]}>{tc.title}</Text>
          <Pressable
            testID="rooms-new-message"
            accessibilityRole="button"
            aria-expanded={composing}
            onPress={newMessage}
            hitSlop={8}
          >
            <Text style={[styles.link, { color: colors.accent }]}>{tc.newMessage}</Text>
          </Pressable>
        </View>
        {composing ? (
          <View style={styles.joinRow}>
            <TextInput
              testID="new-message-username"
              value={recipient}
              onChangeText={(value) => {
                setRecipient(value);
                if (dmError) setDmError(null);
              }}
              placeholder={tc.usernamePlaceholder}
              placeholderTextColor={colors.textMuted}
              accessibilityLabel={tc.usernamePlaceholder}
              autoCapitalize="none"
              autoCorrect={false}
              onSubmitEditing={() => void startConversation()}
              submitBehavior="submit"
              returnKeyType="go"
              style={[styles.input, { backgroundColor: colors.background, color: colors.text, borderColor: colors.border }]}
            />
            <Pressable
              testID="new-message-start"
              accessibilityRole="button"
              accessibilityLabel={tc.start}
              accessibilityState={{ disabled: opening }}
              disabled={opening}
              onPress={() => void startConversation()}
              style={[styles.joinButton, { backgroundColor: colors.accent, opacity: opening ? 0.6 : 1 }]}
            >
              <Text style={[styles.joinText, { color: colors.accentText }]}>{tc.start}</Text>
            </Pressable>
          </View>
        ) : null}
        {dmError ? (
          <Text testID="new-message-error" accessibilityRole="alert" style={[styles.error, { color: colors.error }]}>
            {dmError}
          </Text>
        ) : null}
        {signedIn && conversations.length === 0 ? (
          <Text style={[styles.none, { color: colors.textMuted }]}>{tc.none}</Text>
        ) : null}
        {conversations.map((conversation) => {
          const other = conversation.with;
          const summary = summaries.get(conversation.room);
          const unread = summary?.unread ?? 0;
          const name = other.displayName || other.username;
          const parts = [format(tc.label, { name })];
          if (unread > 0) parts.push(plural(t.unread, unread));
          return (
            <Pressable
              key={conversation.room}
              testID={`conversation-${other.username}`}
              accessibilityRole="button"
              accessibilityLabel={parts.join(', ')}
              aria-selected={summary?.active ?? false}
              onPress={() => onSwitch(conversation.room)}
              style={[styles.room, summary?.active && { backgroundColor: colors.background }]}
            >
              <Avatar username={other.username} color={other.color} size={24} />
              <Text
                numberOfLines={1}
                style={[styles.name, { color: colors.text }, summary?.active && styles.nameActive]}
              >
                {name}
              </Text>
              {unread > 0 ? (
                <Text
                  testID={`conversation-unread-${other.username}`}
                  style={[styles.badge, { backgroundColor: colors.accent, color: colors.accentText }]}
                >
                  {unread}
                </Text>
              ) : null}
            </Pressable>
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
    maxHeight: 420,
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
  sectionRow: {
    flexDirection: 'row',
    justifyContent: 'space-between',
    alignItems: 'center',
    marginTop: spacing.md,
  },
  link: { fontSize: 13, fontWeight: '600', marginBottom: spacing.xs },
  none: { fontSize: 13, paddingVertical: spacing.xs },
});
