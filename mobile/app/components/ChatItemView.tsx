import { memo } from 'react';
import { StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import type { ChatItem } from '../services/socket/ChatService';
import { radius, spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';
import { formatTime } from './formatTime';

interface ChatItemViewProps {
  item: ChatItem;
  colors: ThemeColors;
}

/** One row of the message list: a message (own or other), a pending one, or a notification. */
export const ChatItemView = memo(function ChatItemView({ item, colors }: ChatItemViewProps) {
  const t = strings().chat;

  if (item.kind === 'notification') {
    const text = format(item.event === 'joined' ? t.joined : t.left, { name: item.username });
    return (
      <View testID={`notification-${item.key}`} style={styles.notification}>
        <Text style={[styles.notificationText, { color: colors.textMuted }]}>
          {item.event === 'joined' ? '→ ' : '← '}
          {text} · {formatTime(item.timestamp)}
        </Text>
      </View>
    );
  }

  const own = item.kind === 'pending' || item.own;
  const username = item.kind === 'pending' ? item.username : item.message.username;
  const body = item.kind === 'pending' ? item.message : item.message.message;
  const timestamp = item.kind === 'pending' ? item.timestamp : item.message.timestamp;
  const testID = item.kind === 'pending' ? `message-pending-${item.clientId}` : `message-${item.message.id}`;
  const failed = item.kind === 'pending' ? item.error : undefined;
  let status = '✓';
  if (item.kind === 'pending') status = failed ? '!' : '🕓';

  return (
    <View testID={testID} style={[styles.row, own ? styles.rowOwn : styles.rowOther]}>
      {!own && <Avatar username={username} size={32} />}
      <View
        style={[
          styles.bubble,
          own
            ? { backgroundColor: colors.ownBubble, borderBottomRightRadius: radius.sm }
            : { backgroundColor: colors.otherBubble, borderBottomLeftRadius: radius.sm },
          item.kind === 'pending' && styles.pendingBubble,
        ]}
      >
        {!own && <Text style={[styles.username, { color: colors.accent }]}>{username}</Text>}
        <Text style={[styles.body, { color: own ? colors.ownText : colors.otherText }]}>{body}</Text>
        <View style={styles.meta}>
          <Text style={[styles.time, { color: own ? colors.ownText : colors.textMuted }]}>
            {formatTime(timestamp)}
          </Text>
          {own && (
            <Text
              accessibilityLabel={item.kind === 'pending' ? t.pending : undefined}
              style={[styles.time, { color: colors.ownText }]}
            >
              {' '}
              {status}
            </Text>
          )}
        </View>
        {failed ? (
          <Text style={[styles.failed, { color: colors.error }]}>
            {format(t.failed, { error: failed })}
          </Text>
        ) : null}
      </View>
    </View>
  );
});

const styles = StyleSheet.create({
  row: {
    flexDirection: 'row',
    alignItems: 'flex-end',
    marginVertical: spacing.xs,
    paddingHorizontal: spacing.md,
    gap: spacing.sm,
  },
  rowOwn: { justifyContent: 'flex-end' },
  rowOther: { justifyContent: 'flex-start' },
  bubble: {
    maxWidth: '78%',
    borderRadius: radius.lg,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
  },
  pendingBubble: { opacity: 0.6 },
  username: { fontSize: 12, fontWeight: '700', marginBottom: 2 },
  body: { fontSize: 16, lineHeight: 21 },
  meta: { flexDirection: 'row', justifyContent: 'flex-end', marginTop: 2 },
  time: { fontSize: 11, opacity: 0.8 },
  failed: { fontSize: 12, marginTop: spacing.xs },
  notification: { alignItems: 'center', marginVertical: spacing.sm, paddingHorizontal: spacing.lg },
  notificationText: { fontSize: 13, fontStyle: 'italic', textAlign: 'center' },
});
